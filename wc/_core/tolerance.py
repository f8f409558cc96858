"""How close a predicted value must be to a recorded one: numbers within a tolerance, everything
else exactly.

Continuous worlds (CartPole, Pendulum, MuJoCo) cannot be predicted bit for bit: an environment
computes in float64 and reports float32, and a program that recomputes the same physics lands
within a few ulps. CWMB judges such predictions with `numpy.allclose(rtol=1e-5, atol=1e-5)`, and
so does wc: a predicted number p matches a recorded number r when

    |p - r| <= atol + rtol * |r|

(the recorded value is the reference, as numpy's `b`). Integers are compared exactly (a discrete
field is right or wrong: 1 and 1.0 are equal, 1 and 1.000001 are not), booleans only with
booleans, strings and None exactly. NaN equals NaN (an environment that reports NaN is predicted
by a program that computes it), infinities equal only the same infinity, and -0.0 equals 0.0.
Lists compare item by item, entities (JSON objects) field by field, states entity by entity in
order: for the generic gymnasium domain a state's order is the observation vector's.

Pure: no I/O, no numpy (it runs in the judge and in prompts alike).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from wc.errors import InvalidInput

__all__ = ["CWMB", "EXACT", "Difference", "FieldError", "Tolerance", "close", "difference", "error",
           "state_difference"]


def _valid(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"tolerance {name} must be a number, not {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(f"tolerance {name} must be a finite number >= 0, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class Tolerance:
    """`rtol` relative to the recorded value, `atol` absolute; both finite and >= 0."""

    rtol: float = 1e-5
    atol: float = 1e-5

    def __post_init__(self) -> None:
        object.__setattr__(self, "rtol", _valid("rtol", self.rtol))
        object.__setattr__(self, "atol", _valid("atol", self.atol))

    def allows(self, predicted: float, recorded: float) -> bool:
        """Whether two floats are within this tolerance (NaN, infinities and -0.0 as above)."""
        return _float_close(predicted, recorded, self)

    def describe(self) -> str:
        """The rule in words, for the API module and prompts."""
        if self.rtol == 0 and self.atol == 0:
            return "numbers must be equal"
        return f"|predicted - recorded| <= {self.atol:g} + {self.rtol:g} * |recorded| for every number"


CWMB = Tolerance(rtol=1e-5, atol=1e-5)   # CWMB's allclose, wc's default for continuous worlds
EXACT = Tolerance(rtol=0.0, atol=0.0)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float_close(p: float, r: float, tol: Tolerance) -> bool:
    if math.isnan(p) or math.isnan(r):
        return math.isnan(p) and math.isnan(r)
    if math.isinf(p) or math.isinf(r):
        return p == r
    return abs(p - r) <= tol.atol + tol.rtol * abs(r)


def error(predicted: Any, recorded: Any) -> float:
    """The absolute error between two numbers: 0 for equal values (NaN and NaN, the same
    infinity), inf where they cannot be compared (NaN against a number, different infinities)."""
    if isinstance(predicted, int) and isinstance(recorded, int):
        return float(abs(predicted - recorded)) if abs(predicted - recorded) < 2 ** 1023 else math.inf
    try:
        p, r = float(predicted), float(recorded)
    except OverflowError:  # an int too large for a float
        return math.inf
    if math.isnan(p) or math.isnan(r):
        return 0.0 if math.isnan(p) and math.isnan(r) else math.inf
    if math.isinf(p) or math.isinf(r):
        return 0.0 if p == r else math.inf
    return abs(p - r)


def close(predicted: Any, recorded: Any, tol: Tolerance = CWMB) -> bool:
    """Whether a predicted scalar matches a recorded one: numbers within `tol` (ints exactly),
    bools only with bools, anything else by equality. For lists and entities, `difference`."""
    if isinstance(predicted, bool) or isinstance(recorded, bool):
        return isinstance(predicted, bool) and isinstance(recorded, bool) and predicted == recorded
    if _is_number(predicted) and _is_number(recorded):
        if isinstance(predicted, int) and isinstance(recorded, int):
            return predicted == recorded
        if isinstance(predicted, int) or isinstance(recorded, int):
            # a discrete value: exact, though 1 and 1.0 are the same number (Python compares
            # an int with a float exactly, without rounding the int)
            return bool(predicted == recorded)
        return _float_close(predicted, recorded, tol)
    return type(predicted) is type(recorded) and predicted == recorded


@dataclass(frozen=True)
class FieldError:
    """One place where a prediction is outside the tolerance. `path` reads as Python on the
    value (`state[0].pole_angle`, `len(state)`), `error` is the absolute error (inf where the
    values are not comparable numbers)."""

    path: str
    predicted: Any
    recorded: Any
    error: float

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "predicted": self.predicted, "recorded": self.recorded,
                "error": self.error if math.isfinite(self.error) else None}


@dataclass(frozen=True)
class Difference:
    """How a prediction differs from what was recorded.

    `equal`: every part within the tolerance. `max_error` / `max_path`: the largest absolute error
    over every compared number, even those within the tolerance (0.0 and None when there is no
    number; inf where something could not be compared). `errors`: the places outside the
    tolerance, in the value's order, for repair prompts."""

    equal: bool
    max_error: float
    max_path: str | None
    errors: tuple[FieldError, ...]

    def to_json(self, limit: int = 12) -> dict[str, Any]:
        """As it is kept with a failure and shown to the LLM: the first `limit` places outside the
        tolerance and the largest error."""
        return {"max_error": self.max_error if math.isfinite(self.max_error) else None, "max_path": self.max_path,
                "errors": [e.to_json() for e in self.errors[:limit]], "more": max(0, len(self.errors) - limit)}


class _Walk:
    def __init__(self, tol: Tolerance) -> None:
        self.tol = tol
        self.errors: list[FieldError] = []
        self.max_error = 0.0
        self.max_path: str | None = None

    def note(self, path: str, err: float) -> None:
        if self.max_path is None or err > self.max_error:
            self.max_error, self.max_path = err, path

    def fail(self, path: str, predicted: Any, recorded: Any, err: float = math.inf) -> None:
        self.errors.append(FieldError(path, predicted, recorded, err))
        self.note(path, err)

    def compare(self, p: Any, r: Any, path: str) -> None:
        if isinstance(p, dict) and isinstance(r, dict):
            if set(p) != set(r):
                self.fail(f"{path}.keys()", sorted(map(str, p)), sorted(map(str, r)))
            for key in r:
                if key in p:
                    self.compare(p[key], r[key], f"{path}.{key}")
            return
        if isinstance(p, (list, tuple)) and isinstance(r, (list, tuple)):
            if len(p) != len(r):
                self.fail(f"len({path})", len(p), len(r))
            for i, (pi, ri) in enumerate(zip(p, r, strict=False)):
                self.compare(pi, ri, f"{path}[{i}]")
            return
        if _is_number(p) and _is_number(r):
            err = error(p, r)
            self.note(path, err)
            if not close(p, r, self.tol):
                self.errors.append(FieldError(path, p, r, err))
            return
        if not close(p, r, self.tol):
            self.fail(path, p, r)


def difference(predicted: Any, recorded: Any, tol: Tolerance = CWMB, path: str = "value") -> Difference:
    """Compare any JSON value (numbers, bools, strings, None, lists, objects) with a recorded one."""
    walk = _Walk(tol)
    walk.compare(predicted, recorded, path)
    return Difference(not walk.errors, walk.max_error, walk.max_path, tuple(walk.errors))


def state_difference(predicted: Any, recorded: Any, tol: Tolerance = CWMB) -> Difference:
    """Compare two states (lists of JSON entities) entity by entity, in order; paths read
    `state[i].field`."""
    return difference(predicted, recorded, tol, path="state")
