"""Fitting a program's PARAMS to the recorded transitions, inside the program's worker.

`fit(program, transitions, declared, ...)` runs `scipy.optimize.least_squares` (trust-region
reflective within the bounds, a soft-L1 robust loss so that a few transitions the structure cannot
explain do not drag the values) on the differences between the program's predictions and the
recorded next states: every numeric field (ints and floats, not bools) of every entity, in the
recorded state's order, and the reward. Each field's differences are divided by the spread of its
recorded values, so that a position in metres and an angle in radians weigh alike.

The fit is bounded by a count and a sample, which decide its result, and by a wall-time cap,
which only keeps a slow program from holding its worker. The count is of evaluations (one
evaluation: the program run on every sampled transition, the Jacobian's included), derived from
the budget's seconds at a nominal rate of program calls (`CALLS_PER_SECOND`), so the same data,
program and settings give the same values on any machine and under any load. The cap, `WALL_FACTOR`
times the budget's seconds, is checked before every transition; a fit stopped by it (`cut` "time")
depends on the machine, and says so. Either way the best values seen so far are kept. The sample of
the transitions is chosen and stored by the parent.

It reports the values, the residuals that remain (in each field's own units, and how many
transitions are within the run's tolerance) and which parameters the data does not determine:
from the singular values of the Jacobian at the fitted values, each column scaled by its
parameter's size, a direction that moves the predictions less than `RANK_TOL` of the strongest
direction is a combination of parameters the data cannot tell apart (a cart-pole's masses and
force, scaled together, predict the same motion).

What it returns is data for the parent (`ParamFit.from_wire` checks it); the parent then writes
the values into the source (`wc._sandbox.params.rewrite`) and judges that program the normal way.
Runs in the worker: imports numpy and scipy when first asked.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

from wc._core.contract import decode_state, encode_state, reward_pair
from wc._core.tolerance import CWMB, Tolerance
from wc._core.values import Transition
from wc._sandbox import timer
from wc._sandbox.params import Declared

PENALTY = 10.0          # a scaled residual for a field the program failed to predict (a call raised, a field missing)
RANK_TOL = 1e-6         # a singular value below this share of the largest: a direction the data does not determine
DIVERGED = 1e9          # a value this many times further from zero than its start (plus one) ran off: diverged
MAX_SAMPLE = 4096       # transitions a fit may be given
CALLS_PER_SECOND = 10_000  # the nominal rate that turns a budget's seconds into its count of evaluations
WALL_FACTOR = 3.0       # a fit still running after this many times its budget's seconds is stopped (cut "time")
MIN_EVALUATIONS = 2     # the declared values, and one more


@dataclass(frozen=True)
class FitBudget:
    """What one fit may use: `seconds` of a program making `CALLS_PER_SECOND` calls (a count of
    evaluations: `evaluations`) and transitions of the data (a sample spread over the data, oldest
    to newest, when there are more). A fit that runs past `wall_seconds` of real time is stopped
    there. The budget and its count are stored with the fit."""

    seconds: float = 10.0
    transitions: int = 500

    def __post_init__(self) -> None:
        if not (self.seconds > 0 and math.isfinite(self.seconds)):
            raise ValueError(f"a fit's time budget must be a positive number of seconds, not {self.seconds!r}")
        if not 1 <= self.transitions <= MAX_SAMPLE:
            raise ValueError(f"a fit's sample must be 1 to {MAX_SAMPLE} transitions, not {self.transitions!r}")

    def evaluations(self, sample: int) -> int:
        """The evaluations of a sample of this many transitions the fit may run: what decides where
        a fit that has not converged stops."""
        return max(MIN_EVALUATIONS, int(self.seconds * CALLS_PER_SECOND) // max(1, sample))

    @property
    def wall_seconds(self) -> float:
        """The wall-time cap: a safety net for a program far slower than the nominal rate."""
        return WALL_FACTOR * self.seconds

    def sample(self, n: int) -> list[int]:
        """Indices of the transitions fitted on: all of them, or `transitions` spread evenly."""
        if n <= self.transitions:
            return list(range(n))
        return sorted({round(i * (n - 1) / (self.transitions - 1)) for i in range(self.transitions)}) \
            if self.transitions > 1 else [n - 1]


def single_threaded() -> None:
    """numpy's BLAS on one thread: a worker may start no thread (and a forked one has none)."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


class OutOfTime(Exception):
    """The fit's wall-time cap was reached during an evaluation."""


class OutOfEvaluations(Exception):
    """The fit's count of evaluations is used up."""


CUTS = ("evaluations", "time")  # what stopped a fit of status "budget"


@dataclass
class ParamFit:
    """A fit's outcome as the parent reads it."""

    status: str                     # converged | budget | diverged | failed
    values: dict[str, float]
    initial: dict[str, float]
    message: str = ""
    seconds: float = 0.0
    evaluations: int = 0
    sample: int = 0                 # transitions fitted on
    cost_initial: float | None = None
    cost_final: float | None = None
    within: int = 0                 # sampled transitions predicted within the tolerance at the fitted values
    max_error: dict[str, float] = field(default_factory=dict)   # per field (and "reward"): the largest miss
    rms: float | None = None        # root mean square of the scaled residuals
    failed: int = 0                 # sampled transitions a call failed on, at the fitted values
    rank: int | None = None
    undetermined: list[list[str]] = field(default_factory=list)  # groups of names the data cannot tell apart
    std_errors: dict[str, float | None] = field(default_factory=dict)
    cut: str | None = None          # what stopped it short: "evaluations" (reproducible) or "time" (the wall cap)

    @property
    def worst(self) -> tuple[str, float] | None:
        """The field with the largest miss left."""
        if not self.max_error:
            return None
        name = max(self.max_error, key=lambda k: self.max_error[k])
        return name, self.max_error[name]

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "values": self.values, "initial": self.initial, "message": self.message,
                "seconds": self.seconds, "evaluations": self.evaluations, "sample": self.sample,
                "cost_initial": self.cost_initial, "cost_final": self.cost_final, "within": self.within,
                "max_error": self.max_error, "rms": self.rms, "failed": self.failed, "rank": self.rank,
                "undetermined": self.undetermined, "std_errors": self.std_errors, "cut": self.cut}

    @classmethod
    def from_wire(cls, data: Any, declared: Declared, sample: int) -> ParamFit:
        """A worker's reply, checked: the declared names and no other, finite values within their
        bounds, numbers where numbers belong, groups of declared names. ValueError otherwise."""
        if not isinstance(data, dict):
            raise ValueError("a fit's reply must be an object")
        status = data.get("status")
        if status not in ("converged", "budget", "diverged", "failed"):
            raise ValueError(f"unknown fit status {status!r}")
        names = declared.names
        values = _named_numbers(data.get("values"), names, "values", finite=status != "diverged")
        low, high = declared.low_high()
        for n, lo, hi in zip(names, low, high, strict=True):
            if status != "diverged" and not lo <= values[n] <= hi:
                raise ValueError(f"the fitted {n} = {values[n]!r} is outside its bounds")
        max_error = data.get("max_error") or {}
        if not isinstance(max_error, dict) or len(max_error) > 10_000:
            raise ValueError("max_error must be a small object")
        undetermined = data.get("undetermined") or []
        if not isinstance(undetermined, list) or not all(
                isinstance(g, list) and g and all(n in names for n in g) for g in undetermined):
            raise ValueError("undetermined must be groups of declared names")
        std = data.get("std_errors") or {}
        if not isinstance(std, dict) or not set(std) <= set(names):
            raise ValueError("std_errors must name declared parameters")
        cut = data.get("cut")
        if cut is not None and cut not in CUTS:
            raise ValueError(f"unknown cut {cut!r}")
        rank = data.get("rank")
        if rank is not None and (not isinstance(rank, int) or not 0 <= rank <= len(names)):
            raise ValueError("rank must be an int up to the number of parameters")
        return cls(status=status, values=values, initial=dict(declared.values),
                   message=str(data.get("message", ""))[:500],
                   seconds=_num(data.get("seconds")) or 0.0, evaluations=int(_num(data.get("evaluations")) or 0),
                   sample=sample, cost_initial=_num(data.get("cost_initial")), cost_final=_num(data.get("cost_final")),
                   within=max(0, min(sample, int(_num(data.get("within")) or 0))),
                   max_error={str(k)[:100]: float(v) for k, v in max_error.items() if _num(v) is not None},
                   rms=_num(data.get("rms")), failed=max(0, min(sample, int(_num(data.get("failed")) or 0))),
                   rank=rank, undetermined=[[str(n) for n in g] for g in undetermined],
                   std_errors={str(k): _num(v) for k, v in std.items()}, cut=cut)


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return float(x)


def _named_numbers(data: Any, names: list[str], what: str, finite: bool) -> dict[str, float]:
    if not isinstance(data, dict) or set(data) != set(names):
        raise ValueError(f"{what} must give exactly the declared parameters {names}")
    out = {}
    for n in names:
        v = data[n]
        if isinstance(v, bool) or not isinstance(v, int | float) or (finite and not math.isfinite(v)):
            raise ValueError(f"{what}[{n!r}] must be a finite number")
        out[n] = float(v)
    return out


# --------------------------------------------------------------------------- in the worker


def _numeric_fields(state: list[dict[str, Any]]) -> list[tuple[int, str, float]]:
    """(entity index, field, value) of every numeric field, in the state's order."""
    out = []
    for i, entity in enumerate(state):
        if not isinstance(entity, dict):
            continue
        for name, value in entity.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                out.append((i, name, float(value)))
    return out


def _label(state: list[dict[str, Any]], index: int, name: str) -> str:
    kind = state[index].get("type") if isinstance(state[index], dict) else None
    return f"{kind or 'entity'}[{index}].{name}" if index else name


class Residuals:
    """The program's misses on the sample, as a function of the parameter vector."""

    def __init__(self, program: Any, transitions: list[Transition], declared: Declared, call_timeout: float,
                 deadline: float, with_reward: bool, max_evaluations: float = math.inf) -> None:
        self.program = program
        self.transitions = transitions
        self.names = declared.names
        self.call_timeout = call_timeout
        self.deadline = deadline
        self.max_evaluations = max_evaluations
        self.with_reward = with_reward
        self.layout = [_numeric_fields(t.next_state) for t in transitions]
        self.labels = sorted({_label(t.next_state, i, n) for t, fields in zip(transitions, self.layout, strict=True)
                              for i, n, _ in fields})
        spread: dict[str, list[float]] = {}
        for t, fields in zip(transitions, self.layout, strict=True):
            for i, n, v in fields:
                spread.setdefault(_label(t.next_state, i, n), []).append(v)
        if with_reward:
            spread["reward"] = [float(t.reward) for t in transitions]
        self.scale = {k: _scale(v) for k, v in spread.items()}
        self.best: tuple[float, list[float]] | None = None  # (cost, x)
        self.evaluations = 0
        self.failed_first: int | None = None  # transitions with a failed call at the first values tried
        self.params = program.namespace.get("PARAMS")
        if type(self.params) is not dict:
            raise TypeError("PARAMS is not a dict when the program has loaded (was it replaced?)")

    def set(self, x: Any) -> None:
        for name, value in zip(self.names, x, strict=True):
            self.params[name] = float(value)   # plain floats: the program never sees a numpy value

    def predict(self, t: Transition) -> tuple[list[dict[str, Any]] | None, float | None]:
        ns = self.program.namespace
        state: list[dict[str, Any]] | None
        reward: float | None = None
        try:
            with timer.limit(self.call_timeout):
                state = encode_state(self.program.transition(decode_state(ns, t.state), t.action))
        except (Exception, timer.CallTimeout):  # noqa: BLE001 - a failed prediction is a large residual
            state = None
        if self.with_reward:
            try:
                with timer.limit(self.call_timeout):
                    reward = reward_pair(self.program.reward(decode_state(ns, t.state), t.action,
                                                             decode_state(ns, t.next_state), t.mission))[0]
            except (Exception, timer.CallTimeout):  # noqa: BLE001
                reward = None
        return state, reward

    def misses(self, x: Any) -> tuple[list[float], list[tuple[str, float, float]], int]:
        """Scaled residuals; (label, predicted, recorded) per entry (predicted NaN where none); and
        how many transitions had a failed call."""
        if self.evaluations >= self.max_evaluations:
            raise OutOfEvaluations
        if time.monotonic() > self.deadline:
            raise OutOfTime
        self.set(x)
        self.evaluations += 1
        out: list[float] = []
        pairs: list[tuple[str, float, float]] = []
        failed = 0
        for t, fields in zip(self.transitions, self.layout, strict=True):
            timer.tick()
            if time.monotonic() > self.deadline:  # a slow program: the budget holds within one call
                raise OutOfTime
            state, reward = self.predict(t)
            failed += state is None or (self.with_reward and reward is None)
            for i, n, recorded in fields:
                label = _label(t.next_state, i, n)
                value = _field(state, i, n)
                pairs.append((label, value, recorded))
                out.append(PENALTY if not math.isfinite(value) else (value - recorded) / self.scale[label])
            if self.with_reward:
                value = reward if reward is not None and math.isfinite(reward) else math.nan
                pairs.append(("reward", value, float(t.reward)))
                out.append(PENALTY if not math.isfinite(value) else (value - t.reward) / self.scale["reward"])
        return out, pairs, failed

    def __call__(self, x: Any) -> Any:
        import numpy as np

        residuals, _, failed = self.misses(x)
        if self.failed_first is None:
            self.failed_first = failed
        r = np.asarray(residuals, dtype=float)
        cost = float(np.dot(r, r))
        if self.best is None or cost < self.best[0]:
            self.best = (cost, [float(v) for v in x])
        return r


def _field(state: list[dict[str, Any]] | None, index: int, name: str) -> float:
    if state is None or index >= len(state) or not isinstance(state[index], dict):
        return math.nan
    value = state[index].get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _scale(values: list[float]) -> float:
    """A field's spread (its standard deviation; its size, or 1, where it does not vary)."""
    n = len(values)
    if not n:
        return 1.0
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    return sd if sd > 1e-12 else max(abs(mean), 1.0)


def fit(program: Any, transitions: list[Transition], declared: Declared, *, evaluations: int, seconds: float,
        call_timeout: float = 2.0, tolerance: Tolerance = CWMB, with_reward: bool = True) -> dict[str, Any]:
    """Fit `declared`'s parameters to `transitions` (the sample) in at most `evaluations` runs of
    the program over them, and at most `seconds` of wall time (the cap); the reply (see
    `ParamFit`). The program's PARAMS holds its declared values again afterwards."""
    single_threaded()
    import numpy as np
    from scipy.optimize import least_squares

    started = time.monotonic()
    x0 = np.array([declared.values[n] for n in declared.names], dtype=float)
    low, high = declared.low_high()
    with timer.installed():
        res = Residuals(program, transitions, declared, call_timeout, started + seconds, with_reward,
                        max_evaluations=evaluations)
        if not with_reward and not any(res.layout):
            res.set(x0)
            return {"status": "failed", "values": dict(declared.values), "evaluations": 0,
                    "message": "the recorded next states hold no number to fit to", "seconds": 0.0}
        status, message, jac, cost0, cut = "converged", "", None, math.nan, None
        try:
            r0 = res(x0)
            cost0 = float(np.dot(r0, r0))
            if cost0 == 0.0:
                message = "the initial values already predict every sampled number exactly"
            else:
                out = least_squares(res, x0, bounds=(low, high), method="trf", loss="soft_l1", f_scale=0.1,
                                    x_scale="jac", max_nfev=200 * (len(x0) + 1))
                message = str(out.message)
                jac = out.jac
                if not out.success:
                    status, cut = "budget", "evaluations"
        except (ValueError, np.linalg.LinAlgError) as exc:  # the optimiser's own refusal: the values as declared
            res.set(x0)
            return {"status": "failed", "values": dict(declared.values), "evaluations": res.evaluations,
                    "message": f"the optimiser stopped: {exc}"[:500], "seconds": time.monotonic() - started}
        except OutOfEvaluations:
            status, cut = "budget", "evaluations"
            message = f"the fit's {evaluations} evaluations were used up; the best values so far are kept"
        except OutOfTime:
            status, cut = "budget", "time"
            message = (f"the fit's wall-time cap ({seconds:g} s) ran out, so where it stopped depends on the "
                       "machine; the best values so far are kept")
        if res.best is None:
            return {"status": "failed", "values": dict(declared.values), "message": message or "no evaluation ran",
                    "seconds": time.monotonic() - started, "evaluations": res.evaluations}
        x = res.best[1]
        res.deadline = res.max_evaluations = math.inf  # the report's own evaluation is not cut short
        used = res.evaluations
        residuals, pairs, failed = res.misses(x)
        reply: dict[str, Any] = {"status": status, "values": dict(zip(declared.names, x, strict=True)),
                                 "message": message, "evaluations": used, "cut": cut,
                                 "cost_initial": cost0 if math.isfinite(cost0) else None,
                                 "cost_final": res.best[0], "failed": failed}
        reply.update(_report(res, pairs, tolerance))
        ran_off = [n for n, v, v0 in zip(declared.names, x, x0, strict=True)
                   if not math.isfinite(v) or abs(v) > DIVERGED * (1 + abs(v0))]
        if ran_off or failed > (res.failed_first or 0):
            reply["status"] = "diverged"
            reply["message"] = "the fit diverged: " + (
                ", ".join(f"{n} ran off to {v:.3g}" for n, v in zip(declared.names, x, strict=True) if n in ran_off)
                or f"at the values it reached the program's calls fail on {failed} sampled transitions "
                   f"({res.failed_first} at the declared values)")
        elif jac is not None:
            reply.update(_identifiability(np.asarray(jac, dtype=float), x, declared.names, residuals))
        reply["seconds"] = time.monotonic() - started
    res.set(x0)  # the worker serves the declared program: its next predictions are the declared values'
    return reply


def _report(res: Residuals, pairs: list[tuple[str, float, float]], tolerance: Tolerance) -> dict[str, Any]:
    """The misses left: the largest per field, the scaled RMS, transitions within the tolerance."""
    max_error: dict[str, float] = {}
    squares, count = 0.0, 0
    k = 0
    within = 0
    for fields in res.layout:
        ok = True
        width = len(fields) + (1 if res.with_reward else 0)
        for label, predicted, recorded in pairs[k:k + width]:
            if not math.isfinite(predicted):
                ok = False
                continue
            miss = abs(predicted - recorded)
            max_error[label] = max(max_error.get(label, 0.0), miss)
            squares += (miss / res.scale[label]) ** 2
            count += 1
            ok = ok and miss <= tolerance.atol + tolerance.rtol * abs(recorded)
        within += ok
        k += width
    return {"max_error": max_error, "rms": math.sqrt(squares / count) if count else None, "within": within}


def _identifiability(jac: Any, x: list[float], names: list[str], residuals: list[float]) -> dict[str, Any]:
    """Rank of the Jacobian with columns scaled by the parameters' sizes, the groups of parameters
    along its weak directions, and standard errors (None for an undetermined parameter)."""
    import numpy as np

    scale = np.array([abs(v) if abs(v) > 1e-12 else 1.0 for v in x])
    js = jac * scale
    if not np.all(np.isfinite(js)) or js.shape[0] == 0:
        return {"rank": None}
    _, s, vt = np.linalg.svd(js, full_matrices=False)
    top = float(s[0]) if s.size else 0.0
    if top == 0.0:
        return {"rank": 0, "undetermined": [list(names)], "std_errors": {n: None for n in names}}
    weak = [i for i, v in enumerate(s) if v < RANK_TOL * top]
    rank = len(s) - len(weak)
    groups: list[list[str]] = []
    for i in weak:
        direction = np.abs(vt[i])
        groups.append([n for n, c in zip(names, direction, strict=True) if c > 0.1 * direction.max()])
    for j in range(len(names), len(s), -1):  # more parameters than residuals: the rest are free too
        groups.append([names[j - 1]])
    groups = _merged(groups, names)
    undetermined = {n for g in groups for n in g}
    m, p = js.shape
    r = np.asarray(residuals, dtype=float)
    sigma2 = float(np.dot(r, r)) / max(1, m - p)
    std: dict[str, float | None] = {}
    if rank:
        keep = s >= RANK_TOL * top
        cov = (vt[keep].T / s[keep] ** 2) @ vt[keep] * sigma2
        for k, n in enumerate(names):
            std[n] = None if n in undetermined else float(math.sqrt(max(0.0, cov[k, k])) * scale[k])
    return {"rank": rank, "undetermined": groups, "std_errors": std}


def _merged(groups: list[list[str]], names: list[str]) -> list[list[str]]:
    """Groups that share a name joined into one (two weak directions over the same parameters are
    one set the data cannot split), each in declaration order."""
    merged: list[set[str]] = []
    for group in groups:
        joined = set(group)
        for other in [m for m in merged if m & joined]:
            joined |= other
            merged.remove(other)
        merged.append(joined)
    return [[n for n in names if n in m] for m in merged]
