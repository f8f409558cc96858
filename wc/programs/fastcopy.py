"""`copy.deepcopy` as programs see it: the same result, without the generic machinery for the
objects world models copy all the time (lists of plain dataclass entities).

World models start `transition` with `copy.deepcopy(state)`; the standard deepcopy spends most of
a planner's time in `__reduce_ex__` and `copyreg` for objects that are just a class and a field
dict. For instances of plain classes (no custom copy, pickle or slots hooks) this copies the
instance dict recursively with the same memo, so aliasing is kept exactly as deepcopy keeps it;
everything else goes to the standard `copy.deepcopy`.
"""
from __future__ import annotations

import copy
from typing import Any

_ATOMIC = frozenset({type(None), bool, int, float, str, bytes, complex, range, type})
_PLAIN: dict[type, bool] = {}
_MISSING = object()


def _plain(cls: type) -> bool:
    known = _PLAIN.get(cls)
    if known is None:
        known = (cls.__new__ is object.__new__ and cls.__reduce_ex__ is object.__reduce_ex__
                 and cls.__reduce__ is object.__reduce__ and cls.__getstate__ is object.__getstate__
                 and getattr(cls, "__deepcopy__", None) is None and getattr(cls, "__setstate__", None) is None
                 and not any("__slots__" in vars(k) for k in cls.__mro__[:-1])
                 and "__dict__" in dir(cls) and type(cls) is type)
        _PLAIN[cls] = known
    return known


# While a planner runs a program, id(copy) -> original for every plain object copied: a hint
# that lets it recognise entities a program copied but did not change (it verifies by value).
provenance: dict[int, Any] | None = None


def deepcopy(x: Any, memo: dict[int, Any] | None = None) -> Any:
    if memo is None:
        memo = {}
    _keep(x, memo)  # x keeps everything inside it alive, so ids in the memo stay unique
    return _copy(x, memo)


def _copy(x: Any, memo: dict[int, Any]) -> Any:
    cls = type(x)
    if cls in _ATOMIC:
        return x
    done = memo.get(id(x), _MISSING)
    if done is not _MISSING:
        return done
    if cls is list:
        out: list[Any] = []
        memo[id(x)] = out
        append = out.append
        for v in x:  # a state: the common case is inlined
            vcls = type(v)
            if vcls in _ATOMIC:
                append(v)
            elif _PLAIN.get(vcls) and id(v) not in memo and _flat(v.__dict__):
                new = object.__new__(vcls)
                memo[id(v)] = new
                new.__dict__.update(v.__dict__)
                if provenance is not None:
                    provenance[id(new)] = v
                append(new)
            else:
                append(_copy(v, memo))
        return out
    plain = _PLAIN.get(cls)
    if plain is None:
        plain = _plain(cls)
    if plain:
        new = object.__new__(cls)
        memo[id(x)] = new
        state = x.__dict__
        if _flat(state):
            new.__dict__.update(state)
        else:
            new.__dict__.update({k: _copy(v, memo) for k, v in state.items()})
        if provenance is not None:
            provenance[id(new)] = x
        return new
    return copy.deepcopy(x, memo)


def _flat(state: dict[str, Any]) -> bool:
    return all(map(_ATOMIC.__contains__, map(type, state.values())))


def _keep(x: Any, memo: dict[int, Any]) -> None:
    """What copy.deepcopy does so that ids in the memo stay unique while it runs."""
    try:
        memo[id(memo)].append(x)
    except KeyError:
        memo[id(memo)] = [x]
