"""The modules and builtins a program sees: read-only views of an allowlist of the standard
library, with the few names that would evaluate program-controlled text, traverse attributes by
string, or write state unchecked replaced or hidden.

* A program receives a view of a module with its documented public API only (`__all__`, or its
  public names), never a module object and never a name that leads to one.
* `dataclasses.dataclass` and `make_dataclass` generate code from field names: here they first
  check that every name is an identifier and that no code of the program can run while the
  class is processed (no program metaclass, descriptor or `__class__` hook among what
  dataclasses reads), so what is checked is what is compiled.
* `copy` is `wc._sandbox.fastcopy` (no unchecked state writes); `operator.attrgetter`/
  `methodcaller` and `functools.update_wrapper`/`wraps` go through the guard; `str.format`
  cannot traverse `_` attributes.
* Hidden, with the reason: `typing.get_type_hints`/`ForwardRef` and `functools.singledispatch`
  (evaluate annotation strings), `string.Formatter` (returns the objects a format field
  reaches), `collections.UserString` (an unguarded format), `enum`'s global_* helpers (write
  into other modules).
"""
from __future__ import annotations

import _string
import abc
import builtins
import dataclasses
import functools
import importlib
import keyword
import types
import typing
from collections.abc import Callable
from typing import Any

from wc._core.contract import ALLOWED_MODULES, SAFE_BUILTINS
from wc._sandbox import fastcopy, ownership
from wc._sandbox.guard import (
    GUARD_BUILTINS,
    Forbidden,
    ModuleProxy,
    check_attr,
    guarded_getattr,
    guarded_hasattr,
    guarded_setattr,
)

SANDBOX_MODULE = "wc_world"  # the module name of everything the API module and programs define

# public names that are not exposed, per module, and why
HIDDEN: dict[str, dict[str, str]] = {
    "typing": {"get_type_hints": "it evaluates annotation strings as code",
               "ForwardRef": "it evaluates strings as code"},
    "functools": {"singledispatch": "it evaluates annotation strings as code",
                  "singledispatchmethod": "it evaluates annotation strings as code"},
    "string": {"Formatter": "its format fields return the objects they reach"},
    "collections": {"UserString": "its format() is unguarded"},
    "enum": {name: "it writes into other modules" for name in (
        "global_enum", "global_enum_repr", "global_flag_repr", "global_str", "pickle_by_global_name",
        "pickle_by_enum_name")},
}


# --------------------------------------------------------------------------- format


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


def guard_format(value: Any) -> Any:
    """`str.format`/`format_map` (bound or not) replaced by checked versions."""
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


# --------------------------------------------------------------------------- operator, functools


def _attrgetter(*names: str) -> Callable[[Any], Any]:
    paths = []
    for name in names:
        parts = check_attr(name).split(".")
        for part in parts:
            check_attr(part)
        paths.append(parts)

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
    name = check_attr(name)

    def call(obj):
        return guarded_getattr(obj, name)(*args, **kwargs)
    return call


def _update_wrapper(wrapper, wrapped, assigned=functools.WRAPPER_ASSIGNMENTS, updated=functools.WRAPPER_UPDATES):
    if tuple(assigned) != functools.WRAPPER_ASSIGNMENTS or tuple(updated) != functools.WRAPPER_UPDATES:
        raise Forbidden("functools.update_wrapper/wraps take only their default attribute lists in the sandbox")
    return functools.update_wrapper(wrapper, wrapped)


def _wraps(wrapped, assigned=functools.WRAPPER_ASSIGNMENTS, updated=functools.WRAPPER_UPDATES):
    return functools.partial(_update_wrapper, wrapped=wrapped, assigned=assigned, updated=updated)


# --------------------------------------------------------------------------- dataclasses

_DATACLASS_FLAGS = ("init", "repr", "eq", "order", "unsafe_hash", "frozen", "match_args", "kw_only", "slots",
                    "weakref_slot")
_TRUSTED_METACLASSES = (type, abc.ABCMeta)
_PARAMS_TYPE = type(vars(dataclasses.dataclass(type("P", (), {})))["__dataclass_params__"])
_FIELD_KINDS = tuple(getattr(dataclasses, n) for n in ("_FIELD", "_FIELD_CLASSVAR", "_FIELD_INITVAR")
                     if hasattr(dataclasses, n))
# what runs program code when trusted code looks at an object: its class's attribute hooks
_LOOKUP_HOOKS = ("__getattribute__", "__getattr__", "__class__", "__get__", "__set__", "__delete__")


def _quiet(value: Any) -> bool:
    """Whether trusted code can look at `value` (`isinstance`, `.__class__`, a class attribute
    lookup) without running code the program wrote."""
    cls = type(value)
    if ownership.trusted(cls):
        return True
    if not ownership.trusted(type(cls)):
        return False
    return not any(ownership.sandbox_defines(cls, hook) for hook in _LOOKUP_HOOKS)


def _field_name(name: Any, where: str) -> str:
    if type(name) is not str or not name.isidentifier() or keyword.iskeyword(name) or \
            (name.startswith("__") and name.endswith("__")):
        raise Forbidden(f"{where}: {name!r} cannot be a dataclass field name in the sandbox (an identifier that "
                        "is not a dunder)")
    return name


def _check_field(f: Any, where: str) -> None:
    if type(f) is not dataclasses.Field:
        raise Forbidden(f"{where}: dataclass fields must be made with dataclasses.field()")
    if f.name is not None:
        _field_name(f.name, where)
    for attr in ("default", "default_factory", "type"):
        if not _quiet(getattr(f, attr)):
            raise Forbidden(f"{where}: the {attr} of field {f.name!r} runs code when inspected")
    for attr in ("init", "repr", "compare"):
        if type(getattr(f, attr)) is not bool:
            raise Forbidden(f"{where}: field {f.name!r} has a {attr} that is not a bool")
    if f.hash is not None and type(f.hash) is not bool:
        raise Forbidden(f"{where}: field {f.name!r} has a hash that is not None or a bool")
    kw_only = getattr(f, "kw_only", dataclasses.MISSING)
    if kw_only is not dataclasses.MISSING and type(kw_only) is not bool:
        raise Forbidden(f"{where}: field {f.name!r} has a kw_only that is not a bool")
    kind = getattr(f, "_field_type", None)
    if kind is not None and not any(kind is k for k in _FIELD_KINDS):
        raise Forbidden(f"{where}: field {f.name!r} has been tampered with")


def _check_dataclass(cls: Any) -> None:
    """Everything `dataclasses` reads from `cls` while it generates code: names that are
    identifiers, and nothing that would run the program's code meanwhile."""
    if not isinstance(cls, type):
        raise TypeError("dataclass() takes a class")
    if type(cls) not in _TRUSTED_METACLASSES:
        raise Forbidden(f"dataclass {cls.__name__}: a class with a metaclass of its own cannot be a dataclass in "
                        "the sandbox")
    for klass in ownership.mro(cls):
        if ownership.trusted(klass):
            continue
        where = f"dataclass {cls.__name__} (class {klass.__name__})"
        own = ownership.class_dict(klass)
        for name, value in own.items():
            if type(name) is not str:
                raise Forbidden(f"{where}: class attribute names must be str")
            if not _quiet(value):
                raise Forbidden(f"{where}: class attribute {name!r} runs code when inspected")
            if type(value) is dataclasses.Field:
                _check_field(value, where)
        annotations = own.get("__annotations__")
        if annotations is not None:
            if type(annotations) is not dict:
                raise Forbidden(f"{where}: __annotations__ must be a dict")
            for name, annotation in annotations.items():
                _field_name(name, where)
                if not _quiet(annotation):
                    raise Forbidden(f"{where}: the annotation of {name!r} runs code when inspected")
        fields = own.get("__dataclass_fields__")
        if fields is not None:
            if type(fields) is not dict:
                raise Forbidden(f"{where}: __dataclass_fields__ must be a dict")
            for f in fields.values():
                _check_field(f, where)
        params = own.get("__dataclass_params__")
        if params is not None and type(params) is not _PARAMS_TYPE:
            raise Forbidden(f"{where}: __dataclass_params__ has been tampered with")


def _dataclass(cls=None, /, **flags):
    for name, value in flags.items():
        if name not in _DATACLASS_FLAGS:
            raise TypeError(f"dataclass() got an unexpected keyword argument {name!r}")
        if type(value) is not bool:
            raise TypeError(f"dataclass({name}=...) takes a bool in the sandbox")

    def wrap(cls):
        _check_dataclass(cls)
        type.__setattr__(cls, "__module__", SANDBOX_MODULE)  # the globals its generated methods see
        return dataclasses.dataclass(cls, **flags)
    return wrap if cls is None else wrap(cls)


def _make_dataclass(cls_name, fields, *, bases=(), namespace=None, **flags):
    if type(cls_name) is not str:
        raise TypeError("make_dataclass() takes the class name as a str")
    body: dict[str, Any] = {}
    if namespace is not None:
        if type(namespace) is not dict:
            raise TypeError("make_dataclass(namespace=...) takes a dict")
        body.update((check_attr(k), v) for k, v in namespace.items())
    annotations: dict[str, Any] = {}
    for item in fields:
        if type(item) is str:
            name, tp, spec = item, typing.Any, dataclasses.MISSING
        elif type(item) in (tuple, list) and len(item) in (2, 3):
            name, tp, spec = (*item, dataclasses.MISSING)[:3]
        else:
            raise TypeError(f"make_dataclass(): invalid field {item!r}")
        name = _field_name(name, f"make_dataclass {cls_name!r}")
        if name in annotations:
            raise TypeError(f"make_dataclass(): field name {name!r} given twice")
        annotations[name] = tp
        if spec is not dataclasses.MISSING:
            body[name] = spec
    body["__annotations__"] = annotations
    body["__module__"] = SANDBOX_MODULE
    if type(bases) is not tuple:
        raise TypeError("make_dataclass(bases=...) takes a tuple")
    cls = types.new_class(cls_name, bases, {}, lambda ns: ns.update(body))
    return _dataclass(cls, **flags)


# --------------------------------------------------------------------------- module views

_REPLACEMENTS: dict[str, dict[str, Any]] = {
    "copy": {"deepcopy": fastcopy.deepcopy, "copy": fastcopy.copy, "Error": fastcopy.CopyError,
             "error": fastcopy.CopyError},
    "operator": {"attrgetter": _attrgetter, "methodcaller": _methodcaller},
    "functools": {"update_wrapper": _update_wrapper, "wraps": _wraps},
    "dataclasses": {"dataclass": _dataclass, "make_dataclass": _make_dataclass},
}


def _public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    return [n for n in names if not n.startswith("_")]


def _make_proxy(name: str, table: dict[str, Any], hidden: frozenset[str]) -> ModuleProxy:
    def __getattr__(self, attr):
        try:
            return table[attr]
        except (KeyError, TypeError):
            pass
        if type(attr) is str and (attr in hidden or attr.startswith("_")):
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
    if type(name) is not str or level != 0 or name not in ALLOWED_MODULES:
        raise Forbidden(f"import of {name!r} is not allowed (allowed: {', '.join(sorted(ALLOWED_MODULES))})")
    if fromlist:
        return module_proxy(name)
    return module_proxy(name.partition(".")[0])


def _quiet_print(*args, **kwargs):
    """Programs may print while debugging; the output goes nowhere."""


def restricted_builtins() -> dict[str, Any]:
    table = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
    table.update(
        __import__=guarded_import, __build_class__=builtins.__build_class__, getattr=guarded_getattr,
        hasattr=guarded_hasattr, setattr=guarded_setattr, print=_quiet_print, **GUARD_BUILTINS,
    )
    return table


__all__ = ["HIDDEN", "SANDBOX_MODULE", "check_format_string", "guard_format", "guarded_import", "module_proxy",
           "restricted_builtins"]
