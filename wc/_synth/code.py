"""The one code extractor and merger.

The LLM answers in markdown; the program is its fenced python block(s). A repair may return only
the functions it changes: they replace same-named top-level definitions of the parent, and
everything else of the parent is kept (the last definition of each name wins).
"""
from __future__ import annotations

import ast
import re

_FENCE = re.compile(r"^\s*```+\s*([\w+-]*)\s*$")
_PYTHON_TAGS = {"", "python", "py", "python3"}


class NoCode(ValueError):
    """The answer holds no python code block."""


def _blocks(answer: str) -> list[tuple[str, str]]:
    """(language tag, body) for each fenced block, line by line; an unclosed last block counts."""
    blocks: list[tuple[str, str]] = []
    tag: str | None = None
    body: list[str] = []
    for line in (answer or "").splitlines():
        match = _FENCE.match(line)
        if tag is None:
            if match:
                tag, body = match.group(1).lower(), []
        elif match and not match.group(1):
            blocks.append((tag, "\n".join(body)))
            tag = None
        else:
            body.append(line)
    if tag is not None:
        blocks.append((tag, "\n".join(body)))
    return blocks


def extract_code(answer: str) -> str:
    """The python blocks of a markdown answer, joined in order.

    An unterminated final block (a truncated answer) is taken as far as it goes; a block tagged
    with another language is ignored."""
    code = [body.strip("\n") for tag, body in _blocks(answer) if tag in _PYTHON_TAGS and body.strip()]
    if not code:
        raise NoCode("the answer contains no ```python code block")
    return "\n\n".join(code) + "\n"


def _names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def merge(parent: str, patch: str) -> str:
    """The parent with the patch's top-level definitions replacing same-named ones.

    Statements of the patch without a name (imports, expressions) are added after the
    parent's. Both must parse (raises SyntaxError otherwise)."""
    parent_tree = ast.parse(parent)
    patch_tree = ast.parse(patch)
    patch_lines = patch.splitlines()
    parent_lines = parent.splitlines()
    replaced: dict[str, str] = {}
    extra: list[str] = []
    for node in patch_tree.body:
        text = _segment(patch_lines, node)
        names = _names(node)
        if names:
            for name in names:
                replaced[name] = text
        else:
            extra.append(text)
    out: list[str] = []
    used: set[str] = set()
    imports: list[str] = []
    for node in parent_tree.body:
        text = _segment(parent_lines, node)
        names = _names(node)
        hit = [n for n in names if n in replaced]
        if hit:
            name = hit[0]
            if name not in used:
                out.append(replaced[name])
                used.update(n for n in replaced if replaced[n] == replaced[name])
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(text)
        else:
            out.append(text)
    for text in extra:
        if text not in imports and text not in out:
            (imports if text.lstrip().startswith(("import ", "from ")) else out).append(text)
    for name, text in replaced.items():
        if name not in used and text not in out:
            out.append(text)
            used.add(name)
    return "\n\n".join(imports + out).strip() + "\n"


def _segment(lines: list[str], node: ast.stmt) -> str:
    start = node.lineno
    decorators = getattr(node, "decorator_list", [])
    if decorators:
        start = min(d.lineno for d in decorators)
    return "\n".join(lines[start - 1: node.end_lineno])


def defines(code: str, *names: str) -> bool:
    """Whether the code defines all these top-level functions."""
    found = {n for node in ast.parse(code).body for n in _names(node)}
    return all(n in found for n in names)


def program_from_answer(answer: str, parent: str | None, *, parent_loads: bool = True) -> str:
    """The full program an answer gives: its code alone, or merged into the parent's.

    A repair of a parent that does not load, answered with a whole program (both `transition`
    and `reward`), replaces the parent: what made it fail to load (a top-level statement, an
    import) would otherwise survive the merge. Raises NoCode or SyntaxError; the caller records
    the answer as failing."""
    code = extract_code(answer)
    ast.parse(code)
    if parent is None or (not parent_loads and defines(code, "transition", "reward")):
        return code
    return merge(parent, code)
