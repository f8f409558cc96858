"""Which classes belong to the sandbox and which to the interpreter and its libraries.

The Python layer lets a program reach the private (`_x`) attributes, the instance `__dict__` and
the state hooks only of what the program itself (or the API module) defined. Everything that
existed before any untrusted code ran — the builtins, the standard library, wc itself — is
*trusted*: its private machinery (`ForwardRef._evaluate`, `Random._randbelow`, …) stays out of
reach, whatever object a program holds.

`freeze()` imports what programs may import, then takes the snapshot: every class alive at that
moment. A sandbox worker calls it before it executes the API module or a program; in-process
users (the tests, the benchmarks) get it on first use. A class created later (by a `class` statement, by
`type(...)`, by `collections.namedtuple` or an Enum on a program's request) is the sandbox's.
"""
from __future__ import annotations

from typing import Any

_TRUSTED: frozenset[int] | None = None
_KEEP: list[type] = []  # the snapshot's classes stay alive, so their ids stay theirs

# the real MRO and class dict, immune to a metaclass that overrides `__mro__` or `__dict__`
_mro = type.__dict__["__mro__"].__get__
_class_dict = type.__dict__["__dict__"].__get__


def freeze() -> None:
    """Record every class that exists now as trusted (idempotent: the first call counts)."""
    global _TRUSTED
    if _TRUSTED is not None:
        return
    from wc._core.contract import ALLOWED_MODULES
    from wc._sandbox.modules import module_proxy

    for name in sorted(ALLOWED_MODULES):  # what programs may import, and its views, are the libraries' own
        module_proxy(name)
    seen: dict[int, type] = {}
    stack: list[type] = [object]
    while stack:
        cls = stack.pop()
        if id(cls) in seen:
            continue
        seen[id(cls)] = cls
        stack.extend(type.__subclasses__(cls))
    _KEEP.extend(seen.values())
    _TRUSTED = frozenset(seen)


def trusted(cls: type) -> bool:
    """Whether `cls` existed before untrusted code ran (a library or interpreter class)."""
    if _TRUSTED is None:
        freeze()
    assert _TRUSTED is not None
    return id(cls) in _TRUSTED


def mro(cls: type) -> tuple[type, ...]:
    return _mro(cls)


def class_dict(cls: type) -> Any:
    return _class_dict(cls)


def defining_class(cls: type, name: str) -> type | None:
    """The class of `cls`'s real MRO whose own dict holds `name`, if any (no code runs)."""
    for klass in _mro(cls):
        if name in _class_dict(klass):
            return klass
    return None


def sandbox_defines(cls: type, name: str) -> bool:
    """Whether `name` on `cls` comes from a class the sandbox created."""
    klass = defining_class(cls, name)
    return klass is not None and not trusted(klass)
