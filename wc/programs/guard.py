"""The Python layer of the sandbox: what a program can name, import and reach.

It is the inner wall. The outer wall is the operating system (`wc.programs.jail`): a program
that gets past this layer is still a process with no user, no files, no network and no other
processes. This layer keeps well-meant but untrusted code from reaching the interpreter's
machinery, and it makes the errors readable ("import of 'os' is not allowed").

* Imports are limited to `ALLOWED_MODULES`, and what a program receives is a read-only view of
  the module with its documented public API only (`__all__`, or its public names): never a
  module object, never a name that leads to `os`, `sys` or the real builtins.
* Dunder attributes are refused, by an AST screen for source and by guarded `getattr`,
  `hasattr`, `setattr`, `operator.attrgetter`/`methodcaller` and `functools.update_wrapper`
  for names built at run time. Underscore attributes of modules are refused too.
* `str.format`/`format_map` are guarded: a format string cannot traverse `_` attributes
  (`"{0.__class__}"`).
* `__dict__` is available on instances (entities), not on classes (whose dicts hold raw
  functions and descriptors).
* Names that evaluate strings as code (`typing.get_type_hints`, `functools.singledispatch`
  with annotations) or write into other modules (`enum.global_enum`) are not exposed.
"""
from __future__ import annotations

import _string
import ast
import builtins
import functools
import importlib
import types
from collections.abc import Callable
from typing import Any

from wc.contract import ALLOWED_MODULES, SAFE_BUILTINS
from wc.programs import fastcopy

PROGRAM_FILE = "<program>"
API_FILE = "<api>"

SAFE_BUILTIN_NAMES = SAFE_BUILTINS
ALLOWED_DUNDERS = frozenset({
    "__init__", "__post_init__", "__name__", "__qualname__", "__eq__", "__ne__", "__hash__", "__repr__",
    "__str__", "__lt__", "__le__", "__gt__", "__ge__", "__dict__", "__contains__", "__iter__", "__len__",
    "__getitem__", "__setitem__", "__bool__", "__future__", "__copy__", "__deepcopy__",
})
# attributes that lead to frames, code objects or globals without being dunders
FORBIDDEN_ATTRS = frozenset({
    "gi_frame", "gi_code", "cr_frame", "cr_code", "cr_origin", "ag_frame", "ag_code", "f_globals", "f_locals",
    "f_builtins", "f_back", "f_code", "tb_frame", "tb_next", "func_globals", "func_code", "mro",
})
# public names that are not exposed, per module, and why
HIDDEN: dict[str, dict[str, str]] = {
    "typing": {"get_type_hints": "it evaluates annotation strings as code",
               "ForwardRef": "it evaluates strings as code"},
    "functools": {"singledispatch": "it evaluates annotation strings as code",
                  "singledispatchmethod": "it evaluates annotation strings as code"},
    "string": {"Formatter": "its format strings traverse attributes unguarded"},
    "collections": {"UserString": "its format() is unguarded"},
    "enum": {name: "it writes into other modules" for name in (
        "global_enum", "global_enum_repr", "global_flag_repr", "global_str", "pickle_by_global_name",
        "pickle_by_enum_name")},
}
# attribute names whose loads go through `guarded_getattr` (the rest are plain attribute loads)
_GUARDED_LOADS = frozenset({"format", "format_map", "__dict__"})
GETATTR_NAME = "__wc_getattr__"  # the name the rewritten source calls; programs cannot spell it


class Forbidden(ImportError):
    """A program tried something the sandbox does not allow."""


def check_attr(name: Any) -> None:
    if not isinstance(name, str):
        return
    if (name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS) or name in FORBIDDEN_ATTRS:
        raise Forbidden(f"access to attribute {name!r} is not allowed")


# --------------------------------------------------------------------------- module views


class ModuleProxy:
    """Base of the read-only module views programs import; a view holds nothing reachable but
    the names it exposes (they live in a closure, not in attributes)."""

    __slots__ = ()


def _public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    return [n for n in names if not n.startswith("_")]


def _make_proxy(name: str, table: dict[str, Any], hidden: frozenset[str]) -> ModuleProxy:
    def __getattr__(self, attr):
        try:
            return table[attr]
        except KeyError:
            pass
        if attr in hidden or attr.startswith("_"):
            raise Forbidden(f"{name}.{attr} is not available in the sandbox")
        raise AttributeError(f"module {name!r} has no attribute {attr!r}")

    def __setattr__(self, attr, value):
        raise Forbidden(f"modules are read-only in the sandbox ({name}.{attr})")

    def __delattr__(self, attr):
        raise Forbidden(f"modules are read-only in the sandbox ({name}.{attr})")

    def __repr__(self):
        return f"<module {name!r} (sandboxed view)>"

    def __dir__(self):
        return sorted(table)

    cls = type("module", (ModuleProxy,), {"__slots__": (), "__getattr__": __getattr__, "__setattr__": __setattr__,
                                           "__delattr__": __delattr__, "__repr__": __repr__, "__dir__": __dir__})
    return cls()


@functools.cache
def module_proxy(name: str) -> ModuleProxy:
    """The view of an allowed module that programs receive instead of the module."""
    if name not in ALLOWED_MODULES:
        raise Forbidden(f"import of {name!r} is not allowed (allowed: {', '.join(sorted(ALLOWED_MODULES))})")
    module = importlib.import_module(name)
    special = _REPLACEMENTS.get(name, {})
    reasons = HIDDEN.get(name, {})
    table: dict[str, Any] = {}
    hidden: set[str] = set(reasons)
    for attr in _public_names(module):
        if attr in reasons:
            continue
        value = special.get(attr, getattr(module, attr, None))
        if isinstance(value, types.ModuleType):
            hidden.add(attr)
            continue
        table[attr] = value
    for sub in ALLOWED_MODULES:  # allowed submodules appear as views too (collections.abc)
        parent, _, child = sub.rpartition(".")
        if parent == name:
            table[child] = module_proxy(sub)
    # everything else the real module has is hidden, and says so
    hidden.update(n for n in dir(module) if n not in table)
    return _make_proxy(name, table, frozenset(hidden))


def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level != 0 or name not in ALLOWED_MODULES:
        raise Forbidden(f"import of {name!r} is not allowed (allowed: {', '.join(sorted(ALLOWED_MODULES))})")
    if fromlist:
        return module_proxy(name)
    return module_proxy(name.partition(".")[0])


# --------------------------------------------------------------------------- guarded access


def guarded_getattr(obj, name, *default):
    check_attr(name)
    if isinstance(name, str):
        if isinstance(obj, ModuleProxy) and name.startswith("_"):
            raise Forbidden(f"access to attribute {name!r} of a module is not allowed")
        if name == "__dict__" and isinstance(obj, type):
            raise Forbidden("the __dict__ of a class is not available in the sandbox (instances have one)")
    value = getattr(obj, name, *default)
    if name == "format" or name == "format_map":
        return _guard_format(value)
    return value


def guarded_hasattr(obj, name):
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


def guarded_setattr(obj, name, value):
    check_attr(name)
    return setattr(obj, name, value)


def check_format_string(fmt: Any) -> None:
    """Refuse replacement fields that traverse `_` attributes, at any nesting."""
    if not isinstance(fmt, str):
        return
    for _literal, field_name, spec, _conversion in _string.formatter_parser(fmt):
        if field_name:
            _first, rest = _string.formatter_field_name_split(field_name)
            for is_attr, key in rest:
                if is_attr and str(key).startswith("_"):
                    raise Forbidden(f"format field {field_name!r} reaches an attribute that is not allowed")
        if spec:
            check_format_string(spec)


def _format(fmt, /, *args, **kwargs):
    check_format_string(fmt)
    return str.format(fmt, *args, **kwargs)


def _format_map(fmt, mapping, /):
    check_format_string(fmt)
    return str.format_map(fmt, mapping)


def _guard_format(value: Any) -> Any:
    if value is str.format:
        return _format
    if value is str.format_map:
        return _format_map
    if isinstance(value, types.BuiltinMethodType) and isinstance(getattr(value, "__self__", None), str):
        if value.__name__ == "format":
            return functools.partial(_format, value.__self__)
        if value.__name__ == "format_map":
            return functools.partial(_format_map, value.__self__)
    return value


def _attrgetter(*names: str) -> Callable[[Any], Any]:
    paths = []
    for name in names:
        if not isinstance(name, str):
            raise TypeError("attribute name must be a string")
        for part in name.split("."):
            check_attr(part)
        paths.append(name.split("."))

    def get(obj):
        values = []
        for path in paths:
            value = obj
            for part in path:
                value = guarded_getattr(value, part)
            values.append(value)
        return values[0] if len(values) == 1 else tuple(values)
    return get


def _methodcaller(name: str, /, *args, **kwargs) -> Callable[[Any], Any]:
    check_attr(name)

    def call(obj):
        return guarded_getattr(obj, name)(*args, **kwargs)
    return call


def _update_wrapper(wrapper, wrapped, assigned=functools.WRAPPER_ASSIGNMENTS, updated=functools.WRAPPER_UPDATES):
    if tuple(assigned) != functools.WRAPPER_ASSIGNMENTS or tuple(updated) != functools.WRAPPER_UPDATES:
        raise Forbidden("functools.update_wrapper/wraps take only their default attribute lists in the sandbox")
    return functools.update_wrapper(wrapper, wrapped)


def _wraps(wrapped, assigned=functools.WRAPPER_ASSIGNMENTS, updated=functools.WRAPPER_UPDATES):
    return functools.partial(_update_wrapper, wrapped=wrapped, assigned=assigned, updated=updated)


_REPLACEMENTS: dict[str, dict[str, Any]] = {
    "copy": {"deepcopy": fastcopy.deepcopy},  # the same result, faster for plain entities
    "operator": {"attrgetter": _attrgetter, "methodcaller": _methodcaller},
    "functools": {"update_wrapper": _update_wrapper, "wraps": _wraps},
}


def _quiet_print(*args, **kwargs):
    """Programs may print while debugging; the output goes nowhere."""


def restricted_builtins() -> dict[str, Any]:
    table = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}
    table.update(
        __import__=guarded_import, __build_class__=builtins.__build_class__, getattr=guarded_getattr,
        hasattr=guarded_hasattr, setattr=guarded_setattr, print=_quiet_print,
    )
    table[GETATTR_NAME] = guarded_getattr
    return table


# --------------------------------------------------------------------------- source screen


class _GuardLoads(ast.NodeTransformer):
    """`x.format`, `x.format_map`, `x.__dict__` and `x._name` loads become guarded calls."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        name = node.attr
        private = name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
        if isinstance(node.ctx, ast.Load) and (name in _GUARDED_LOADS or private):
            call = ast.Call(func=ast.Name(id=GETATTR_NAME, ctx=ast.Load()),
                            args=[node.value, ast.Constant(name)], keywords=[])
            return ast.copy_location(call, node)
        return node


def screen(source: str, filename: str = PROGRAM_FILE) -> ast.Module:
    """Parse, refuse dunder names and attributes, and route guarded attribute loads."""
    tree = ast.parse(source, filename=filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            check_attr(node.attr)
        elif isinstance(node, ast.Name) and node.id.startswith("__") and node.id.endswith("__"):
            if node.id not in ALLOWED_DUNDERS:
                raise Forbidden(f"use of name {node.id!r} is not allowed")
    tree = _GuardLoads().visit(tree)
    return ast.fix_missing_locations(tree)


__all__ = ["ALLOWED_MODULES", "API_FILE", "Forbidden", "ModuleProxy", "PROGRAM_FILE", "check_attr",
           "guarded_getattr", "module_proxy", "restricted_builtins", "screen"]
