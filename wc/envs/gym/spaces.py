"""gymnasium spaces as wc data: the fields of the observation entity and the kind of action.

An observation of `Discrete`, `Box` (a number or a vector), `MultiDiscrete`, `MultiBinary`, or a
`Tuple`/`Dict` of those (nested too) becomes one flat list of fields in the space's order (Dict: its
keys in the space's order). Box values are Python floats exactly as numpy gives them (a float32
observation is not rounded further), everything discrete is an int. Actions: `Discrete` (a name),
`Box` of one dimension (a list of floats within the bounds), `MultiDiscrete` (a list of ints).

Any other space (an image, text, a graph, a sequence) gets a reason, never a guess.
"""
from __future__ import annotations

import keyword
import math
import random
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from gymnasium import spaces

from wc.envs.gym.names import Known, Named
from wc.errors import EnvError, InvalidAction

ActionValue = str | list[float] | list[int]

__all__ = ["ActionSpace", "ActionValue", "Field", "ObservationLayout", "action_space", "observation_layout",
           "unsupported_action", "unsupported_observation"]


# ---------------------------------------------------------------- what is supported

def _shape_text(space: spaces.Space) -> str:
    return f"{type(space).__name__} of shape {tuple(space.shape or ())}"


def unsupported_observation(space: Any, where: str = "observation") -> str | None:
    """Why an observation space cannot be read as fields, or None when it can."""
    if isinstance(space, spaces.Discrete):
        return None
    if isinstance(space, spaces.Box):
        if len(space.shape) <= 1:
            return None
        image = len(space.shape) == 3 or (len(space.shape) == 2 and min(space.shape) > 1)
        return (f"its {where} is a {_shape_text(space)}" + (", an image or a grid" if image else "")
                + "; wc's generic adapter reads numbers and vectors (1-D Box)")
    if isinstance(space, (spaces.MultiDiscrete, spaces.MultiBinary)):
        if len(space.shape) <= 1:
            return None
        return f"its {where} is a {_shape_text(space)}; wc's generic adapter reads 1-D ones"
    if isinstance(space, spaces.Tuple):
        for i, sub in enumerate(space.spaces):
            reason = unsupported_observation(sub, f"{where}[{i}]")
            if reason:
                return reason
        return None
    if isinstance(space, spaces.Dict):
        for key, sub in space.spaces.items():
            reason = unsupported_observation(sub, f"{where}[{key!r}]")
            if reason:
                return reason
        return None
    return (f"its {where} is a {type(space).__name__} space; wc's generic adapter reads Discrete, Box (1-D), "
            "MultiDiscrete, MultiBinary, and Tuple or Dict of them")


def unsupported_action(space: Any) -> str | None:
    """Why an action space cannot be used, or None when it can."""
    if isinstance(space, spaces.Discrete):
        return None
    if isinstance(space, (spaces.Box, spaces.MultiDiscrete)) and len(space.shape) <= 1:
        return None
    return (f"its action space is {space}; wc's generic adapter acts with Discrete, Box (1-D) and "
            "MultiDiscrete (1-D) actions")


# ---------------------------------------------------------------- observation fields

@dataclass(frozen=True)
class Field:
    """One field of the observation entity: its Python type, bounds (None: unbounded) and unit."""

    name: str
    kind: Literal["int", "float"]
    low: float | None = None
    high: float | None = None
    unit: str = ""
    note: str = ""


@dataclass(frozen=True)
class _Leaf:
    """One scalar of the flattened observation: its kind, bounds and a name from the space's own
    keys ("" for none)."""

    kind: Literal["int", "float"]
    low: float | None
    high: float | None
    label: str


def _bound(value: Any) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


def _is_int(space: Any) -> bool:
    return bool(np.issubdtype(space.dtype, np.integer) or space.dtype == bool)


def _scalars(space: Any, label: str) -> list[_Leaf]:
    """The scalars of a space, in the order `_flatten` reads an observation."""
    def sub(i: Any) -> str:
        return f"{label}_{i}" if label else ""

    if isinstance(space, spaces.Discrete):
        start = int(space.start)
        return [_Leaf("int", start, start + int(space.n) - 1, label)]
    if isinstance(space, spaces.Box):
        kind: Literal["int", "float"] = "int" if _is_int(space) else "float"
        if space.shape == ():
            return [_Leaf(kind, _bound(space.low), _bound(space.high), label)]
        return [_Leaf(kind, _bound(space.low[i]), _bound(space.high[i]), sub(i)) for i in range(int(space.shape[0]))]
    if isinstance(space, spaces.MultiDiscrete):
        starts = np.broadcast_to(space.start, space.nvec.shape)
        return [_Leaf("int", int(starts[i]), int(starts[i] + space.nvec[i] - 1), sub(i))
                for i in range(len(space.nvec))]
    if isinstance(space, spaces.MultiBinary):
        return [_Leaf("int", 0, 1, sub(i)) for i in range(int(space.shape[0]))]
    if isinstance(space, spaces.Tuple):
        return [leaf for i, s in enumerate(space.spaces) for leaf in _scalars(s, sub(i))]
    if isinstance(space, spaces.Dict):
        return [leaf for key, s in space.spaces.items()
                for leaf in _scalars(s, f"{label}_{key}" if label else str(key))]
    raise EnvError(unsupported_observation(space) or f"unsupported space {space}")


def _flatten(space: Any, obs: Any, out: list[Any]) -> None:
    """Append an observation's scalars to `out` as Python ints and floats (floats exactly as numpy
    holds them: `tolist` widens float32 without rounding)."""
    if isinstance(space, spaces.Discrete):
        out.append(int(obs))
    elif type(obs) is list and isinstance(space, spaces.Box) and len(space.shape) == 1 \
            and len(obs) == space.shape[0] and all(type(v) is float or type(v) is int for v in obs):
        # a plain list of numbers (offline data read from JSON): what the numpy path below gives, without numpy
        out.extend(int(v) for v in obs) if _is_int(space) else out.extend(float(v) for v in obs)
    elif isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        arr = np.asarray(obs)
        if arr.size != max(1, int(np.prod(space.shape))):
            raise ValueError(f"{arr.size} values where the space has shape {space.shape}")
        values = arr.reshape(-1).tolist()
        if isinstance(space, spaces.Box) and not _is_int(space):
            out.extend(float(v) for v in values)
        else:
            out.extend(int(v) for v in values)
    elif isinstance(space, spaces.Tuple):
        if len(obs) != len(space.spaces):
            raise ValueError(f"{len(obs)} parts where the space has {len(space.spaces)}")
        for s, o in zip(space.spaces, obs, strict=True):
            _flatten(s, o, out)
    elif isinstance(space, spaces.Dict):
        for key, s in space.spaces.items():
            _flatten(s, obs[key], out)
    else:
        raise ValueError(f"unsupported space {space}")


_IDENT = re.compile(r"[^0-9a-zA-Z_]+")


def identifier(label: str, taken: set[str]) -> str:
    """A field name from a label: an identifier, not a keyword, not `type` (the entity's class
    in JSON) nor private, and unique among `taken`."""
    name = _IDENT.sub("_", label).strip("_") or "field"
    if name[0].isdigit():
        name = "f_" + name
    if keyword.iskeyword(name) or name == "type":
        name += "_"
    base, k = name, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name


@dataclass(frozen=True)
class ObservationLayout:
    """The observation entity's fields, and how an observation becomes the entity: the space's
    scalars in order, or a Discrete observation decoded into `digits`."""

    fields: tuple[Field, ...]
    space: Any = None                            # the observation space the fields flatten
    digits: tuple[tuple[str, int], ...] = ()     # (name, radix), most significant first
    start: int = 0                               # a Discrete space's start

    def entity(self, obs: Any) -> dict[str, Any]:
        """The observation as the JSON entity `{"type": "Observation", field: value, ...}`."""
        out: dict[str, Any] = {"type": "Observation"}
        try:
            if self.digits:
                value, digits = int(obs) - self.start, []
                for _, radix in reversed(self.digits):
                    value, digit = divmod(value, radix)
                    digits.append(digit)
                out.update(zip((f.name for f in self.fields), reversed(digits), strict=True))
                return out
            values: list[Any] = []
            _flatten(self.space, obs, values)
            out.update(zip((f.name for f in self.fields), values, strict=True))
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            raise EnvError(f"an observation does not match its space ({type(exc).__name__}: {exc}): "
                           f"{str(obs)[:200]}") from None
        return out


def observation_layout(space: Any, known: Known | None = None, unwrapped: Any = None) -> ObservationLayout:
    """The fields of an observation space, named from `known` where it states this layout."""
    reason = unsupported_observation(space)
    if reason:
        raise EnvError(reason)
    if isinstance(space, spaces.Discrete) and known is not None and known.digits is not None:
        digits = known.digits(unwrapped)
        if math.prod(r for _, r in digits) == int(space.n):
            fields = tuple(Field(name, "int", 0, radix - 1, note=known.notes.get(name, ""))
                           for name, radix in digits)
            return ObservationLayout(fields, digits=digits, start=int(space.start))
    leaves = _scalars(space, "")
    if not leaves:
        raise EnvError(f"its observation space {space} holds no values")
    names: tuple[Named, ...] | None = known.layout(len(leaves)) if known is not None else None
    taken: set[str] = set()
    named: list[Field] = []
    for i, leaf in enumerate(leaves):
        if names is not None:
            name, unit = names[i]
        elif isinstance(space, spaces.Discrete) or (isinstance(space, spaces.Box) and space.shape == ()):
            name, unit = "value", ""
        else:
            name, unit = (leaf.label or f"x{i}"), ""
        name = identifier(name, taken)
        note = known.notes.get(name, "") if known is not None else ""
        named.append(Field(name, leaf.kind, leaf.low, leaf.high, unit, note))
    return ObservationLayout(tuple(named), space=space)


# ---------------------------------------------------------------- actions

def _short(value: float, dtype: Any) -> float:
    """The shortest float that the space's dtype reads as the same bound (float32 0.4, not
    0.4000000059604645)."""
    if np.dtype(dtype) == np.float32:
        return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))
    return float(value)


@dataclass(frozen=True)
class ActionSpace:
    """What an action is: `kind` "discrete" (a name of `names`, in index order), "continuous" (a
    list of floats, `low[i] <= a[i] <= high[i]`; `names` names the dimensions where known) or
    "multidiscrete" (a list of ints, `start[i] <= a[i] < start[i] + nvec[i]`)."""

    kind: Literal["discrete", "continuous", "multidiscrete"]
    names: tuple[str, ...] = ()
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()
    nvec: tuple[int, ...] = ()
    start: tuple[int, ...] = ()
    units: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.low) if self.kind == "continuous" else len(self.nvec) if self.kind == "multidiscrete" else 1

    def sample(self, rng: random.Random) -> ActionValue:
        """A random action of the right kind: uniform within finite bounds; along an unbounded
        dimension, a standard normal draw (clipped to the finite bound if there is one)."""
        if self.kind == "discrete":
            return rng.choice(self.names)
        if self.kind == "multidiscrete":
            return [s + rng.randrange(n) for s, n in zip(self.start, self.nvec, strict=True)]
        out = []
        for lo, hi in zip(self.low, self.high, strict=True):
            if math.isfinite(lo) and math.isfinite(hi):
                out.append(rng.uniform(lo, hi))
            else:
                out.append(min(max(rng.gauss(0.0, 1.0), lo), hi))
        return out


def action_space(space: Any, known: Known | None = None) -> ActionSpace:
    """The ActionSpace of a gymnasium action space (names from `known` where it has them)."""
    reason = unsupported_action(space)
    if reason:
        raise EnvError(reason)
    if isinstance(space, spaces.Discrete):
        n = int(space.n)
        names = known.actions if known is not None and len(known.actions) == n else \
            tuple(f"action_{i}" for i in range(n))
        return ActionSpace("discrete", names=names, start=(int(space.start),))
    if isinstance(space, spaces.MultiDiscrete):
        starts = np.broadcast_to(space.start, space.nvec.shape)
        return ActionSpace("multidiscrete", nvec=tuple(int(n) for n in space.nvec),
                           start=tuple(int(s) for s in starts))
    low = np.broadcast_to(space.low, (max(1, int(np.prod(space.shape))),)).reshape(-1)
    high = np.broadcast_to(space.high, low.shape).reshape(-1)
    dims = known.action_dims if known is not None and len(known.action_dims) == len(low) else ()
    return ActionSpace("continuous", names=tuple(n for n, _ in dims), units=tuple(u for _, u in dims),
                       low=tuple(_short(v, space.dtype) for v in low), high=tuple(_short(v, space.dtype) for v in high))


def decode_action(space: Any, kind: ActionSpace, value: Any) -> Any:
    """The gymnasium action for a wc action value, or InvalidAction saying what is wrong."""
    if kind.kind == "discrete":
        if not isinstance(value, str) or value not in kind.names:
            raise InvalidAction(f"no action {value!r}; actions are {', '.join(kind.names)}", action=value)
        return int(space.start) + kind.names.index(value)
    if not isinstance(value, (list, tuple)) or len(value) != kind.size:
        raise InvalidAction(f"an action is a list of {kind.size} "
                            f"{'floats' if kind.kind == 'continuous' else 'ints'}, not {value!r}"[:300], action=value)
    if kind.kind == "multidiscrete":
        for i, (v, s, n) in enumerate(zip(value, kind.start, kind.nvec, strict=True)):
            if isinstance(v, bool) or not isinstance(v, int) or not s <= v < s + n:
                raise InvalidAction(f"action[{i}] must be an int in [{s}, {s + n - 1}], not {v!r}", action=value)
        return np.asarray(value, dtype=space.dtype)
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InvalidAction(f"action[{i}] must be a finite number, not {v!r}", action=value)
    arr = np.asarray(value, dtype=space.dtype).reshape(space.shape)
    flat = arr.reshape(-1)
    low = np.broadcast_to(space.low, arr.shape).reshape(-1)
    high = np.broadcast_to(space.high, arr.shape).reshape(-1)
    for i in range(flat.size):
        if not low[i] <= flat[i] <= high[i]:
            raise InvalidAction(f"action[{i}] = {value[i]!r} is outside [{kind.low[i]:g}, {kind.high[i]:g}]",
                                action=value)
    return arr


def encode_action(space: Any, kind: ActionSpace, action: Any) -> ActionValue:
    """The wc action value of a gymnasium action (offline data records actions as gymnasium
    gives them: an index, an array)."""
    if kind.kind == "discrete":
        index = int(np.asarray(action).reshape(-1)[0]) - int(space.start)
        if not 0 <= index < len(kind.names):
            raise InvalidAction(f"no action with index {index}; there are {len(kind.names)}", action=action)
        return kind.names[index]
    flat = np.asarray(action).reshape(-1)
    if kind.kind == "multidiscrete":
        return [int(v) for v in flat]
    return [float(v) for v in flat]
