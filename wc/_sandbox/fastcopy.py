"""`copy.copy` and `copy.deepcopy` as programs see them: the standard results, fast for the
objects world models copy all the time, and safe for the objects a program makes up.

World models start `transition` with `copy.deepcopy(state)`; the standard deepcopy spends most of
a planner's time in `__reduce_ex__` and `copyreg` for objects that are just a class and a field
dict. For instances of plain classes this copies the instance dict with the same memo, so
aliasing is kept exactly as deepcopy keeps it.

Everything else follows the standard module's algorithm (copier hooks, then the reduce
protocol), with one difference that matters: the standard `_reconstruct` writes whatever state a
`__reduce_ex__` returns into whatever object its callable returns, with the real `setattr` and
`__dict__.update`. A program controls both, so that would be a dunder write (`__class__`) or a
write into any object it can name. Here, state goes only into instances of classes the sandbox
defined (`wc._sandbox.ownership`) or through the new object's own `__setstate__`, and slot
names go through the sandbox's `setattr`.
"""
from __future__ import annotations

import copyreg
import types
import weakref
from typing import Any

from wc._sandbox import ownership

_ATOMIC = frozenset({type(None), bool, int, float, str, bytes, complex, range, type})
_ATOMIC_DEEP = _ATOMIC | frozenset({
    type(Ellipsis), type(NotImplemented), types.BuiltinFunctionType, types.FunctionType, weakref.ref, property,
    types.CodeType,  # never in a program's hands (the guard refuses it); listed as copy.py does
})
_PLAIN: dict[type, bool] = {}
_MISSING = object()


class CopyError(Exception):
    """What `copy.Error` is in the sandbox."""


Error = CopyError


def _plain(cls: type) -> bool:
    known = _PLAIN.get(cls)
    if known is None:
        known = (cls.__new__ is object.__new__ and cls.__reduce_ex__ is object.__reduce_ex__
                 and cls.__reduce__ is object.__reduce__ and cls.__getstate__ is object.__getstate__
                 and getattr(cls, "__deepcopy__", None) is None and getattr(cls, "__setstate__", None) is None
                 and not any("__slots__" in ownership.class_dict(k) for k in ownership.mro(cls)[:-1])
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
    return _deep(x, memo)


def _deep(x: Any, memo: dict[int, Any]) -> Any:
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
                append(_deep(v, memo))
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
            new.__dict__.update({k: _deep(v, memo) for k, v in state.items()})
        if provenance is not None:
            provenance[id(new)] = x
        return new
    y = _deep_other(x, cls, memo)
    if y is not x:
        memo[id(x)] = y
        _keep(x, memo)
    return y


def _deep_other(x: Any, cls: type, memo: dict[int, Any]) -> Any:
    if cls in _ATOMIC_DEEP or issubclass(cls, type):
        return x
    if cls is tuple:
        items = [_deep(v, memo) for v in x]
        done = memo.get(id(x), _MISSING)  # a tuple inside itself (through a list) was copied meanwhile
        if done is not _MISSING:
            return done
        return x if all(a is b for a, b in zip(x, items, strict=True)) else tuple(items)
    if cls is dict:
        out: dict[Any, Any] = {}
        memo[id(x)] = out
        for k, v in x.items():
            out[_deep(k, memo)] = _deep(v, memo)
        return out
    copier = getattr(x, "__deepcopy__", None)
    if copier is not None:
        return copier(memo)
    return _reconstruct(x, memo, _reduce(x, cls), deep=True)


def copy(x: Any) -> Any:
    cls = type(x)
    if cls in _ATOMIC_DEEP or issubclass(cls, type):
        return x
    if cls in (list, dict, set):
        return cls.copy(x)
    if cls in (tuple, frozenset):
        return x
    if cls is bytearray:
        return bytearray(x)
    copier = getattr(cls, "__copy__", None)
    if copier is not None:
        return copier(x)
    return _reconstruct(x, None, _reduce(x, cls), deep=False)


def _reduce(x: Any, cls: type) -> Any:
    reductor = copyreg.dispatch_table.get(cls)
    if reductor is not None:
        return reductor(x)
    reduce_ex = getattr(x, "__reduce_ex__", None)
    if reduce_ex is not None:
        return reduce_ex(4)
    raise CopyError(f"un(deep)copyable object of type {cls.__name__}")


def _reconstruct(x: Any, memo: dict[int, Any] | None, rv: Any, *, deep: bool) -> Any:
    if isinstance(rv, str):
        return x
    if not isinstance(rv, tuple) or not 2 <= len(rv) <= 6:
        raise CopyError(f"__reduce_ex__ of {type(x).__name__} returned {type(rv).__name__}, not a tuple of 2 to 6")
    # a library type reduces itself with the library's code; a class of the sandbox may have
    # written its own __reduce_ex__, so what it returns is checked like the program's own actions
    trusted = ownership.trusted(type(x))
    func, args, state, listiter, dictiter = (*rv, None, None, None)[:5]
    if deep:
        assert memo is not None
        args = _deep(args, memo)
    y = func(*args)
    if deep:
        assert memo is not None
        memo[id(x)] = y
    if state is not None:
        if deep:
            assert memo is not None
            state = _deep(state, memo)
        _set_state(y, state, trusted)
    if listiter is not None:
        for item in listiter:
            y.append(_deep(item, memo) if deep and memo is not None else item)
    if dictiter is not None:
        for key, value in dictiter:
            if deep and memo is not None:
                key, value = _deep(key, memo), _deep(value, memo)
            y[key] = value
    return y


def _set_state(y: Any, state: Any, trusted: bool) -> None:
    """Put a reduce state into the new object as copy.py does: through its `__setstate__`, else
    into its `__dict__` and slots. For a reduce the sandbox wrote, only into an instance of a
    sandbox class (never a module, a class or a library object), slots by the sandbox's setattr."""
    from wc._sandbox.guard import Forbidden, guarded_setattr

    if not trusted and (issubclass(type(y), type) or ownership.trusted(type(y))):
        raise Forbidden(f"copying would write state into a {type(y).__name__} object, which the sandbox does not "
                        "allow")
    setstate = getattr(y, "__setstate__", None)
    if setstate is not None:
        setstate(state)
        return
    slotstate = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slotstate = state
    if state:
        y.__dict__.update(state)
    if slotstate:
        if type(slotstate) is not dict:
            raise CopyError("the slot state to copy must be a dict")
        for key, value in slotstate.items():
            (setattr if trusted else guarded_setattr)(y, key, value)


def _flat(state: dict[str, Any]) -> bool:
    return all(map(_ATOMIC.__contains__, map(type, state.values())))


def _keep(x: Any, memo: dict[int, Any]) -> None:
    """What copy.deepcopy does so that ids in the memo stay unique while it runs."""
    try:
        memo[id(memo)].append(x)
    except KeyError:
        memo[id(memo)] = [x]
