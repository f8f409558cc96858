"""A program's fitted constants: the `PARAMS` convention, read and checked from the source.

A program may declare, at module level,

    PARAMS = {"gravity": 9.8, "force_mag": 10.0}
    PARAM_BOUNDS = {"gravity": (0.0, 30.0)}          # optional, per name; None for no bound

and read `PARAMS["gravity"]` inside its functions. wc then fits the values to the recorded
transitions (`wc._sandbox.param_fit`, in the program's worker) before φ1 judges the program, and
stores the fitted values as a new version of the source (`rewrite`).

Everything here reads the source as a syntax tree and never runs it: the parent checks a
program's declaration before any worker is asked to fit it, and a declaration that breaks a rule
is a `ParamsError` naming the entry (`PARAMS['g']`, `PARAM_BOUNDS['g']`, `line 12: PARAMS['x']`).
Pure: no I/O.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

PARAMS = "PARAMS"
BOUNDS = "PARAM_BOUNDS"
MAX_PARAMS = 64   # a fit's cost grows with the parameters (a Jacobian column each)


class ParamsError(ValueError):
    """A declaration that breaks the convention; `entry` is the offending entry, as written."""

    def __init__(self, entry: str, message: str) -> None:
        super().__init__(f"{entry}: {message}")
        self.entry = entry

    def failure(self) -> dict[str, Any]:
        """As a program's load failure (what the repair prompt shows)."""
        return {"kind": "params", "message": str(self)}


@dataclass(frozen=True)
class Declared:
    """What a program declares: initial values in declaration order, and bounds per name."""

    values: dict[str, float]
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.values)

    def low_high(self) -> tuple[list[float], list[float]]:
        """Lower and upper bounds in the order of `names` (±inf where none is given)."""
        pairs = [self.bounds.get(n, (-math.inf, math.inf)) for n in self.values]
        return [lo for lo, _ in pairs], [hi for _, hi in pairs]

    def to_json(self) -> dict[str, Any]:
        return {"values": dict(self.values),
                "bounds": {n: [_json_bound(lo), _json_bound(hi)] for n, (lo, hi) in self.bounds.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Declared:
        bounds = {str(n): (_read_bound(lo, -math.inf), _read_bound(hi, math.inf))
                  for n, (lo, hi) in dict(data.get("bounds") or {}).items()}
        return cls({str(n): float(v) for n, v in dict(data["values"]).items()}, bounds)


def _json_bound(x: float) -> float | None:
    return None if math.isinf(x) else x


def _read_bound(x: Any, default: float) -> float:
    return default if x is None else float(x)


def _assignment(tree: ast.Module, name: str) -> ast.Assign | None:
    """The module-level `name = ...` (the last one; a second is an error of its own)."""
    found = [node for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
             and any(isinstance(t, ast.Name) and t.id == name for t in _targets(node))]
    if len(found) > 1:
        raise ParamsError(f"line {found[1].lineno}: {name}", f"{name} is assigned more than once; declare it once")
    if not found:
        return None
    node = found[0]
    if isinstance(node, ast.AnnAssign):
        return ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno)  # type: ignore[arg-type]
    if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
        raise ParamsError(f"line {node.lineno}: {name}", f"assign {name} on its own: {name} = {{...}}")
    return node


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    if isinstance(node, ast.AnnAssign):
        return [node.target]
    out: list[ast.expr] = []
    for t in node.targets:
        out += list(t.elts) if isinstance(t, ast.Tuple | ast.List) else [t]
    return out


_MATH = {"pi": math.pi, "e": math.e, "tau": math.tau}
_ARITHMETIC = {ast.Add: float.__add__, ast.Sub: float.__sub__, ast.Mult: float.__mul__, ast.Div: float.__truediv__}


def _arithmetic(node: ast.expr) -> float:
    """A constant written as arithmetic of number literals and math.pi/e/tau (`12 * 2 * math.pi /
    360`, as a model writes an angle), computed from the syntax tree, never by running code."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)  # type: ignore[arg-type]  # an int or a float, checked above
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "math" \
            and node.attr in _MATH:
        return _MATH[node.attr]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        value = _arithmetic(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_arithmetic(node.left), _arithmetic(node.right))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        base, exponent = _arithmetic(node.left), _arithmetic(node.right)
        if abs(exponent) > 64:
            raise ValueError("exponent too large")
        return float(base ** exponent)
    raise ValueError("not arithmetic of numbers")


def _number(node: ast.expr | None, entry: str) -> float:
    """A number written out, with an optional sign, or arithmetic of numbers and math.pi/e/tau;
    finite; bools are not numbers here."""
    value: Any = None
    try:
        value = ast.literal_eval(node) if node is not None else None
    except (ValueError, SyntaxError, TypeError):
        try:
            value = _arithmetic(node) if node is not None else None
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            text = ast.unparse(node) if node is not None else "nothing"
            raise ParamsError(entry, f"must be a number written out (or arithmetic of numbers and math.pi), "
                                     f"not {text}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamsError(entry, f"must be a number, not {type(value).__name__} {value!r}"[:200])
    if not math.isfinite(value):
        raise ParamsError(entry, f"must be a finite number, not {value!r}")
    return float(value)


def _key(node: ast.expr | None, name: str, lineno: int) -> str:
    if isinstance(node, ast.Constant) and type(node.value) is str and node.value.isidentifier():
        return node.value
    text = "**" if node is None else ast.unparse(node)
    raise ParamsError(f"line {lineno}: {name} key {text}", "keys must be names written as strings, e.g. \"gravity\"")


def _dict(node: ast.Assign, name: str) -> ast.Dict:
    if not isinstance(node.value, ast.Dict):
        raise ParamsError(f"line {node.lineno}: {name}",
                          f"must be a dict literal {{\"name\": value, ...}}, not {ast.unparse(node.value)[:80]}")
    return node.value


def declared(source: str) -> Declared | None:
    """The program's declaration, checked; None for a program without PARAMS (or a source that
    does not parse: that is the loader's error to report). ParamsError for a broken rule."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    assign = _assignment(tree, PARAMS)
    bounds_assign = _assignment(tree, BOUNDS)
    if assign is None:
        if bounds_assign is not None:
            raise ParamsError(f"line {bounds_assign.lineno}: {BOUNDS}", f"is given without {PARAMS}")
        return None
    values: dict[str, float] = {}
    for k, v in zip(_dict(assign, PARAMS).keys, _dict(assign, PARAMS).values, strict=True):
        key = _key(k, PARAMS, assign.lineno)
        if key in values:
            raise ParamsError(f"{PARAMS}[{key!r}]", "is declared twice")
        values[key] = _number(v, f"{PARAMS}[{key!r}]")
    if len(values) > MAX_PARAMS:
        raise ParamsError(PARAMS, f"declares {len(values)} parameters; at most {MAX_PARAMS} are fitted")
    bounds: dict[str, tuple[float, float]] = {}
    if bounds_assign is not None:
        node = _dict(bounds_assign, BOUNDS)
        for k, v in zip(node.keys, node.values, strict=True):
            key = _key(k, BOUNDS, bounds_assign.lineno)
            entry = f"{BOUNDS}[{key!r}]"
            if key not in values:
                raise ParamsError(entry, f"bounds a name {PARAMS} does not declare (it declares {_names(values)})")
            bounds[key] = _pair(v, entry)
            low, high = bounds[key]
            if not low <= values[key] <= high:
                raise ParamsError(entry, f"({_show(low)}, {_show(high)}) excludes the initial value "
                                         f"{PARAMS}[{key!r}] = {values[key]!r}")
    _check_reads(tree, assign, values)
    return Declared(values, bounds) if values else None  # `PARAMS = {}`: nothing to fit, not an error


def _pair(node: ast.expr, entry: str) -> tuple[float, float]:
    if not isinstance(node, ast.Tuple | ast.List) or len(node.elts) != 2:
        raise ParamsError(entry, f"must be a pair (low, high), not {ast.unparse(node)[:80]}")
    low_node, high_node = node.elts
    low = -math.inf if _is_none(low_node) else _number(low_node, entry + " low")
    high = math.inf if _is_none(high_node) else _number(high_node, entry + " high")
    if not low < high:
        raise ParamsError(entry, f"low {low!r} must be below high {high!r}")
    return low, high


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _show(x: float) -> str:
    return "None" if math.isinf(x) else repr(x)


def _names(values: dict[str, float]) -> str:
    return ", ".join(values)


def _check_reads(tree: ast.Module, assign: ast.Assign, values: dict[str, float]) -> None:
    """Every `PARAMS["name"]` (and `PARAMS.get("name")`) names a declared parameter, and PARAMS
    is read inside functions only: a value copied at module level would not follow the fit."""
    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if child is assign:
                continue
            if isinstance(child, ast.Name) and child.id == PARAMS:
                if isinstance(child.ctx, ast.Store | ast.Del):
                    raise ParamsError(f"line {child.lineno}: {PARAMS}", "is assigned again; declare it once and "
                                                                        "only read it")
                if not in_function:
                    raise ParamsError(f"line {child.lineno}: {PARAMS}", "is read at module level; read "
                                                                        "PARAMS[\"name\"] inside your functions, "
                                                                        "so that fitted values reach it")
            if _writes(child):
                raise ParamsError(f"line {child.lineno}: {PARAMS}",  # type: ignore[attr-defined]
                                  "is changed by the program; only read it (wc sets its values)")
            key = _read_key(child)
            if key is not None and key not in values:
                raise ParamsError(f"line {child.lineno}: {PARAMS}[{key!r}]",  # type: ignore[attr-defined]
                                  f"is read but not declared ({PARAMS} declares {_names(values)})")
            walk(child, inside)

    walk(tree, False)


MUTATORS = frozenset({"update", "pop", "popitem", "clear", "setdefault", "__setitem__", "__delitem__"})


def _writes(node: ast.AST) -> bool:
    """`PARAMS[...] = ...`, `del PARAMS[...]`, `PARAMS[...] += ...` or `PARAMS.update(...)` and the like."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == PARAMS:
        return isinstance(node.ctx, ast.Store | ast.Del)
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == PARAMS \
        and node.attr in MUTATORS


def _read_key(node: ast.AST) -> str | None:
    """The constant name read by `PARAMS["name"]` or `PARAMS.get("name", ...)`, else None."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == PARAMS:
        if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            return node.slice.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
            and isinstance(node.func.value, ast.Name) and node.func.value.id == PARAMS and node.args \
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def rewrite(source: str, values: dict[str, float]) -> str:
    """The source with PARAMS's values replaced by `values` (the rest of the text, comments and
    layout kept byte for byte): the fitted program's version. Every declared name must be given."""
    tree = ast.parse(source)
    assign = _assignment(tree, PARAMS)
    if assign is None:
        raise ParamsError(PARAMS, "the program declares no PARAMS")
    node = _dict(assign, PARAMS)
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode()))
    data = source.encode()
    edits = []
    for k, v in zip(node.keys, node.values, strict=True):
        key = _key(k, PARAMS, assign.lineno)
        if key not in values:
            raise ParamsError(f"{PARAMS}[{key!r}]", "no fitted value given")
        value = float(values[key])
        if not math.isfinite(value):
            raise ParamsError(f"{PARAMS}[{key!r}]", f"a fitted value must be finite, not {value!r}")
        assert v.end_lineno is not None and v.end_col_offset is not None
        start = offsets[v.lineno - 1] + v.col_offset
        stop = offsets[v.end_lineno - 1] + v.end_col_offset
        edits.append((start, stop, repr(value).encode()))
    for start, stop, text in sorted(edits, reverse=True):
        data = data[:start] + text + data[stop:]
    return data.decode()


def changed(before: dict[str, float], after: dict[str, float]) -> list[tuple[str, float | None, float | None]]:
    """(name, old, new) for every parameter whose value differs (or that only one side has)."""
    names = list(dict.fromkeys([*before, *after]))
    return [(n, before.get(n), after.get(n)) for n in names if before.get(n) != after.get(n)]
