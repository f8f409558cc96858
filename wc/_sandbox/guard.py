"""The Python layer of the sandbox: the inner wall. What a program can name, read and write.

The outer wall is the operating system (`wc._sandbox.jail`): a program that gets past this layer
is still a process with no user, no files, no network, no other program in it, and a parent that
judges what it says. This layer keeps untrusted code away from the interpreter's machinery, and
it does so by construction rather than by listing known routes:

* **Every attribute access goes through a guard.** `screen()` rewrites each attribute load,
  store, augmented store and delete of a program into a call (`load`, `guarded_getattr`,
  `guarded_setattr`, …), so there is no unchecked `obj.name` in a program's compiled code.
  Class patterns in `match` (an attribute read the compiler does itself) are refused.
* **Names are exact strings.** A dynamic name (`getattr`, `setattr`, `hasattr`,
  `operator.attrgetter`/`methodcaller`, …) must be a `str` itself, not a subclass whose
  comparisons could lie.
* **Dunder names** are refused except `ALLOWED_DUNDERS` (data and operator protocols), in source
  and at run time; a program cannot define `__del__`, `__getattribute__`, `__reduce_ex__`, ….
* **Private attributes belong to their owner.** `_x` and an instance's `__dict__` can be read
  only where the sandbox defined them (`wc._sandbox.ownership`): a program's own classes, never
  a library's (`ForwardRef._evaluate`, `Random._randbelow`).
* **Some values are inert.** Module, frame, code and traceback objects are never returned by an
  attribute read, and nothing can be read from or written to a module.
* **Libraries are read-only.** Classes of the standard library cannot be assigned to, and
  dunder attributes can be assigned only on classes the program defined.

Modules come through `wc._sandbox.modules` (read-only views, an allowlist, no module that
evaluates program text). Like any hand-written guard this one may have gaps; the jail is why a
gap is not an escape from the machine, and the parent (`wc._sandbox.sandbox`) is why it is not a
forged score.
"""
from __future__ import annotations

import ast
import operator
import types
from typing import Any

from wc._sandbox import ownership

PROGRAM_FILE = "<program>"
API_FILE = "<api>"

# data and operator protocols: names a program may read and define
ALLOWED_DUNDERS = frozenset({
    "__init__", "__post_init__", "__name__", "__qualname__", "__eq__", "__ne__", "__hash__", "__repr__",
    "__str__", "__lt__", "__le__", "__gt__", "__ge__", "__dict__", "__contains__", "__iter__", "__next__",
    "__len__", "__getitem__", "__setitem__", "__delitem__", "__missing__", "__reversed__", "__bool__",
    "__future__", "__copy__", "__deepcopy__", "__call__", "__enter__", "__exit__", "__index__", "__int__",
    "__float__", "__complex__", "__round__", "__trunc__", "__floor__", "__ceil__", "__format__", "__doc__",
    "__neg__", "__pos__", "__abs__", "__invert__",
    *(f"__{p}{op}__" for op in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "divmod", "pow",
                                "lshift", "rshift", "and", "xor", "or") for p in ("", "r", "i")),
})
# attributes that lead to frames, code objects or globals without being dunders
FORBIDDEN_ATTRS = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_origin", "cr_await", "ag_frame", "ag_code",
    "ag_await", "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "f_trace", "tb_frame", "tb_next",
    "func_globals", "func_code", "mro",
})
# the names the rewritten source calls; a program cannot spell them (dunders outside the allowlist)
LOAD, GETATTR, SETATTR, DELATTR, AUGATTR = "__wc_load__", "__wc_getattr__", "__wc_setattr__", "__wc_delattr__", \
    "__wc_augattr__"

_ModuleType = types.ModuleType


def _inert_types() -> frozenset[type]:
    found: set[type] = {types.CodeType, types.FrameType, types.TracebackType}
    stack: list[type] = [types.ModuleType]
    while stack:
        cls = stack.pop()
        found.add(cls)
        stack.extend(type.__subclasses__(cls))
    return frozenset(found)


INERT = _inert_types()


class Forbidden(ImportError):
    """A program tried something the sandbox does not allow."""


class ModuleProxy:
    """Base of the read-only module views programs import (`wc._sandbox.modules`); a view holds
    nothing reachable but the names it exposes."""

    __slots__ = ()


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__") and len(name) > 4


def check_attr(name: Any) -> str:
    """An attribute name a program may use: an exact `str` (not a subclass), not a dunder
    outside the allowlist, not a name that leads to frames or code."""
    if type(name) is not str:
        raise Forbidden(f"attribute names must be plain str in the sandbox, not {type(name).__name__}")
    if (_is_dunder(name) and name not in ALLOWED_DUNDERS) or name in FORBIDDEN_ATTRS:
        raise Forbidden(f"access to attribute {name!r} is not allowed")
    return name


def _refuse_inert(obj: Any, name: str) -> None:
    raise Forbidden(f"attribute {name!r} of a {type(obj).__name__} object is not available in the sandbox")


def _checked(value: Any, name: str) -> Any:
    if type(value) in INERT:
        raise Forbidden(f"attribute {name!r} leads to a {type(value).__name__} object, which is not available "
                        "in the sandbox")
    return value


def load(obj: Any, name: str, _type=type, _getattr=getattr, _inert=INERT) -> Any:
    """`obj.name` for a public name written in the program's source (the common case)."""
    if _type(obj) in _inert:
        _refuse_inert(obj, name)
    value = _getattr(obj, name)
    if _type(value) in _inert:
        return _checked(value, name)
    return value


def _is_class(obj: Any) -> bool:
    """Whether `obj` is a class, by its real type (a program's `__class__` property cannot say)."""
    return issubclass(type(obj), type)


def _private_allowed(obj: Any, name: str) -> bool:
    """`obj._x` is readable where the sandbox defined it: on a program's class or its instances."""
    if _is_class(obj):
        klass = ownership.defining_class(obj, name)
        if klass is None:  # an attribute of its metaclass
            klass = ownership.defining_class(type(obj), name)
        return klass is None or not ownership.trusted(klass)
    cls = type(obj)
    if ownership.trusted(cls):
        return False
    klass = ownership.defining_class(cls, name)
    return klass is None or not ownership.trusted(klass)


def guarded_getattr(obj: Any, name: Any, *default: Any) -> Any:
    """`getattr` as programs have it, and every attribute read the screen cannot decide by name."""
    name = check_attr(name)
    if type(obj) in INERT:
        _refuse_inert(obj, name)
    if name[0] == "_":
        if issubclass(type(obj), ModuleProxy):
            raise Forbidden(f"access to attribute {name!r} of a module is not allowed")
        if name == "__dict__":
            if _is_class(obj):
                raise Forbidden("the __dict__ of a class is not available in the sandbox (instances have one)")
            if ownership.trusted(type(obj)):
                raise Forbidden(f"the __dict__ of a {type(obj).__name__} object is not available in the sandbox")
        elif not _is_dunder(name) and not _private_allowed(obj, name):
            raise Forbidden(f"private attribute {name!r} of a {type(obj).__name__} object is not available in "
                            "the sandbox")
    value = _checked(getattr(obj, name, *default), name)
    if name == "format" or name == "format_map":
        from wc._sandbox.modules import guard_format

        return guard_format(value)
    return value


def guarded_hasattr(obj: Any, name: Any) -> bool:
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


def _check_write(obj: Any, name: Any) -> str:
    name = check_attr(name)
    if type(obj) in INERT or issubclass(type(obj), ModuleProxy):
        raise Forbidden(f"modules are read-only in the sandbox (attribute {name!r})")
    owner = obj if _is_class(obj) else type(obj)
    if _is_class(obj) and ownership.trusted(obj):
        raise Forbidden(f"the library class {obj.__name__} is read-only in the sandbox")
    if ownership.trusted(owner) and (_is_dunder(name) or name[0] == "_"):
        raise Forbidden(f"attribute {name!r} of a {owner.__name__} object cannot be set in the sandbox")
    return name


def guarded_setattr(obj: Any, name: Any, value: Any) -> None:
    setattr(obj, _check_write(obj, name), value)


def guarded_delattr(obj: Any, name: Any) -> None:
    delattr(obj, _check_write(obj, name))


_INPLACE = {
    ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul, ast.MatMult: operator.imatmul,
    ast.Div: operator.itruediv, ast.FloorDiv: operator.ifloordiv, ast.Mod: operator.imod, ast.Pow: operator.ipow,
    ast.LShift: operator.ilshift, ast.RShift: operator.irshift, ast.BitAnd: operator.iand, ast.BitXor: operator.ixor,
    ast.BitOr: operator.ior,
}
_INPLACE_BY_NAME = {cls.__name__: fn for cls, fn in _INPLACE.items()}


def guarded_augattr(obj: Any, name: str, op: str, value: Any) -> None:
    """`obj.name <op>= value`."""
    guarded_setattr(obj, name, _INPLACE_BY_NAME[op](guarded_getattr(obj, name), value))


# --------------------------------------------------------------------------- source screen


def _refuse_name(name: str | None, what: str) -> None:
    if name is not None and _is_dunder(name) and name not in ALLOWED_DUNDERS:
        raise Forbidden(f"{what} {name!r} is not allowed")


def _has_attribute_target(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return True
    if isinstance(node, (ast.Tuple, ast.List)):
        return any(_has_attribute_target(e) for e in node.elts)
    if isinstance(node, ast.Starred):
        return _has_attribute_target(node.value)
    return False


def _check(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            check_attr(node.attr)
        elif isinstance(node, ast.Name):
            _refuse_name(node.id, "use of name")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _refuse_name(node.name, "defining")
        elif isinstance(node, ast.arg):
            _refuse_name(node.arg, "parameter")
        elif isinstance(node, ast.keyword):
            _refuse_name(node.arg, "keyword")
        elif isinstance(node, ast.alias):
            _refuse_name(node.asname, "import as")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                _refuse_name(name, "use of name")
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)):
            _refuse_name(node.name, "use of name")
        elif isinstance(node, ast.ExceptHandler):
            _refuse_name(node.name, "use of name")
        elif isinstance(node, ast.MatchClass):
            raise Forbidden("class patterns in match statements are not supported in the sandbox "
                            "(use isinstance() and attributes)")
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and _has_attribute_target(node.target):
            raise Forbidden("a loop cannot assign to an attribute in the sandbox")
        elif isinstance(node, (ast.With, ast.AsyncWith)) and any(
                item.optional_vars is not None and _has_attribute_target(item.optional_vars) for item in node.items):
            raise Forbidden("`with … as` cannot assign to an attribute in the sandbox")


def _call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=func, ctx=ast.Load()), args=list(args), keywords=[])


def _plain_name(name: str) -> bool:
    return name[0] != "_" and name != "format" and name != "format_map"


class _Rewrite(ast.NodeTransformer):
    """Attribute loads, stores and deletes become calls of the guard."""

    def __init__(self) -> None:
        self.temps = 0

    def _temp(self) -> str:
        self.temps += 1
        return f"__wc_t{self.temps}__"

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load):
            return node
        call = _call(LOAD if _plain_name(node.attr) else GETATTR, node.value, ast.Constant(node.attr))
        return ast.copy_location(call, node)

    def _detach(self, target: ast.expr, after: list[ast.stmt]) -> ast.expr:
        """`target` with every attribute store replaced by a temporary name, and the guarded
        stores of those temporaries appended to `after`."""
        if isinstance(target, ast.Attribute):
            temp = self._temp()
            after.append(ast.Expr(_call(SETATTR, target.value, ast.Constant(target.attr),
                                        ast.Name(id=temp, ctx=ast.Load()))))
            after.append(ast.Delete(targets=[ast.Name(id=temp, ctx=ast.Del())]))
            return ast.Name(id=temp, ctx=ast.Store())
        if isinstance(target, (ast.Tuple, ast.List)):
            target.elts = [self._detach(e, after) for e in target.elts]
        elif isinstance(target, ast.Starred):
            target.value = self._detach(target.value, after)
        return target

    def visit_Assign(self, node: ast.Assign) -> Any:
        self.generic_visit(node)
        if not any(_has_attribute_target(t) for t in node.targets):
            return node
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute):
            target = node.targets[0]
            return ast.copy_location(ast.Expr(_call(SETATTR, target.value, ast.Constant(target.attr), node.value)),
                                     node)
        after: list[ast.stmt] = []
        targets = [self._detach(t, after) for t in node.targets]
        out = [ast.copy_location(ast.Assign(targets=targets, value=node.value), node), *after]
        return [ast.copy_location(stmt, node) for stmt in out]

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        self.generic_visit(node)
        if not isinstance(node.target, ast.Attribute):
            return node
        target = node.target
        call = _call(AUGATTR, target.value, ast.Constant(target.attr), ast.Constant(type(node.op).__name__),
                     node.value)
        return ast.copy_location(ast.Expr(call), node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        self.generic_visit(node)
        if not isinstance(node.target, ast.Attribute):
            return node
        if node.value is None:
            return ast.copy_location(ast.Pass(), node)
        target = node.target
        return ast.copy_location(ast.Expr(_call(SETATTR, target.value, ast.Constant(target.attr), node.value)), node)

    def visit_Delete(self, node: ast.Delete) -> Any:
        self.generic_visit(node)
        out: list[ast.stmt] = []
        for target in node.targets:
            if isinstance(target, ast.Attribute):
                out.append(ast.Expr(_call(DELATTR, target.value, ast.Constant(target.attr))))
            else:
                out.append(ast.Delete(targets=[target]))
        return [ast.copy_location(stmt, node) for stmt in out]


def screen(source: str, filename: str = PROGRAM_FILE) -> ast.Module:
    """Parse, refuse what the sandbox does not allow, and route every attribute access through
    the guard."""
    tree = ast.parse(source, filename=filename)
    _check(tree)
    tree = _Rewrite().visit(tree)
    return ast.fix_missing_locations(tree)


GUARD_BUILTINS = {LOAD: load, GETATTR: guarded_getattr, SETATTR: guarded_setattr, DELATTR: guarded_delattr,
                  AUGATTR: guarded_augattr}

__all__ = ["ALLOWED_DUNDERS", "API_FILE", "FORBIDDEN_ATTRS", "Forbidden", "GUARD_BUILTINS", "INERT", "ModuleProxy",
           "PROGRAM_FILE", "check_attr", "guarded_getattr", "guarded_hasattr", "guarded_setattr", "load", "screen"]
