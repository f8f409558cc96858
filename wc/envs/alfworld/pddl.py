"""Checking a PDDL problem before TextWorld sees it (its own errors are a bare KeyError or a
parser position)."""
from __future__ import annotations

import re
from typing import Any


def parse_sexp(text: str) -> list[Any]:
    """The top-level S-expressions of PDDL text (`;` comments dropped), as nested lists."""
    stack: list[list[Any]] = [[]]
    lines: list[int] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for token in re.findall(r"\(|\)|[^\s()]+", line.split(";", 1)[0]):
            if token == "(":
                stack.append([])
                lines.append(lineno)
            elif token == ")":
                if len(stack) == 1:
                    raise ValueError(f"line {lineno}: ')' without a matching '('")
                done = stack.pop()
                lines.pop()
                stack[-1].append(done)
            else:
                stack[-1].append(token)
    if len(stack) > 1:
        raise ValueError(f"line {lines[-1]}: '(' is never closed")
    return stack[0]


def _domain_predicates(domain: str) -> dict[str, int]:
    """Predicate name (lowercase) -> arity, from a PDDL domain's :predicates."""
    predicates: dict[str, int] = {}
    for top in parse_sexp(domain):
        for section in top if isinstance(top, list) else ():
            if isinstance(section, list) and section and str(section[0]).lower() == ":predicates":
                for pred in section[1:]:
                    if isinstance(pred, list) and pred:
                        predicates[str(pred[0]).lower()] = sum(
                            1 for t in pred[1:] if isinstance(t, str) and t.startswith("?"))
    return predicates


def check_problem(problem: str, domain: str) -> None:
    """Raise ValueError saying what is wrong with a PDDL problem, before TextWorld sees it
    (its own errors for these are a bare KeyError or a parser position)."""
    tops = parse_sexp(problem)
    if len(tops) != 1 or not isinstance(tops[0], list) or not tops[0] or str(tops[0][0]).lower() != "define":
        raise ValueError("the problem must be one (define (problem NAME) ...) form")
    sections = {str(s[0]).lower(): s for s in tops[0][1:] if isinstance(s, list) and s}
    for required in (":objects", ":init", ":goal"):
        if required not in sections:
            raise ValueError(f"the problem has no {required} section")
    declared: dict[str, str] = {}
    pending: list[str] = []
    tokens = sections[":objects"][1:]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not isinstance(token, str):
            raise ValueError(":objects must list names and types, not nested forms")
        if token == "-":
            if i + 1 >= len(tokens) or not isinstance(tokens[i + 1], str):
                raise ValueError(":objects ends with '-' and no type")
            for name in pending:
                declared[name.lower()] = str(tokens[i + 1]).lower()
            pending = []
            i += 2
            continue
        pending.append(token)
        i += 1
    if pending:
        raise ValueError(f":objects lists {pending[0]} without a type")
    predicates = _domain_predicates(domain)
    for atom in sections[":init"][1:]:
        if not isinstance(atom, list) or not atom or not isinstance(atom[0], str):
            raise ValueError(f":init holds {atom!r}, which is not a fact")
        name = atom[0].lower()
        if name == "=":
            continue
        if name == "not":
            raise ValueError(":init lists only true facts; drop the (not ...) form")
        if name not in predicates:
            raise ValueError(f":init uses predicate {atom[0]!r}, which the domain does not define")
        if len(atom) - 1 != predicates[name]:
            raise ValueError(f":init fact ({' '.join(map(str, atom))}) has {len(atom) - 1} arguments; "
                             f"{atom[0]} takes {predicates[name]}")
        for arg in atom[1:]:
            if not isinstance(arg, str) or arg.lower() not in declared:
                raise ValueError(f":init fact ({' '.join(map(str, atom))}) uses {arg}, which :objects does not declare")
