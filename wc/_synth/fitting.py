"""A candidate's PARAMS fitted before φ1 judges it, and what refinement prompts say about it.

The LLM writes the form, the data gives the numbers: a program that declares PARAMS
(`wc._sandbox.params`) is fitted to the recorded transitions in its worker (`Sandbox.fit`), the
fitted values are written into its source, and that program, a new version fitted from the
LLM's, is the one φ1 judges the normal way. A declaration that breaks the convention, or a fit
that diverges, fails the program cleanly (its load failure says which entry, or how it diverged),
as any program that cannot be run does.

Pure apart from the sandbox it is given.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from wc._core.tolerance import CWMB, Tolerance
from wc._sandbox.param_fit import FitBudget, ParamFit
from wc._sandbox.params import Declared, ParamsError, declared, rewrite
from wc._sandbox.sandbox import Sandbox


@dataclass
class Fitted:
    """A fit of `declared` that made `source` (the values written in) from `parent_source`."""

    source: str
    parent_source: str
    fit: ParamFit
    budget: FitBudget
    n_transitions: int      # distinct transitions recorded when it ran
    sample: list[int]       # which of them it fitted on

    @property
    def changed(self) -> bool:
        return self.source != self.parent_source


@dataclass
class Unfittable:
    """A program whose PARAMS cannot be fitted: its failure, as a load failure of kind 'params'."""

    failure: dict[str, Any]


async def fit_program(sandbox: Sandbox, source: str, budget: FitBudget) -> Fitted | Unfittable | None:
    """Fit the program's PARAMS to the sandbox's data; None for a program that declares none (or
    when there is no data yet, or its worker could not fit it: then φ1 reports why it fails)."""
    try:
        found: Declared | None = declared(source)
    except ParamsError as exc:
        return Unfittable(exc.failure())
    n = len(sandbox.transitions)
    if found is None or n == 0:
        return None
    fit = await sandbox.fit(source, found, budget)
    if fit.status == "diverged":
        return Unfittable({"kind": "params", "message": fit.message})
    if fit.status == "failed":
        return None
    return Fitted(rewrite(source, fit.values), source, fit, budget, n, budget.sample(n))


def structure(source: str) -> str | None:
    """The program with every PARAMS value set to 0: what its fitted versions share (None for a
    program without a valid declaration)."""
    try:
        found = declared(source)
        return None if found is None else rewrite(source, {n: 0.0 for n in found.values})
    except (ParamsError, SyntaxError):
        return None


def structure_key(source: str) -> str | None:
    """A short name for the program's structure (`structure`): what the refit pacing is kept by,
    in the agent's checkpoint (None where `structure` is None)."""
    found = structure(source)
    return None if found is None else hashlib.sha256(found.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- what the prompts say


def _value(x: float) -> str:
    return f"{x:.6g}"


def describe(fit: ParamFit, tolerance: Tolerance | None = None, *, solved: bool = False) -> str:
    """The fitted values and the misses they leave, for a repair prompt: the LLM changes the
    structure, the fit the numbers. Where the best values still miss, it says so."""
    tol = tolerance or CWMB
    values = ", ".join(f'"{n}": {_value(v)}' for n, v in fit.values.items())
    lines = [f"wc fitted PARAMS to {fit.sample} recorded transitions by least squares: the best values are "
             f"{{{values}}} (the program above already holds them)."]
    if fit.undetermined:
        groups = "; ".join(", ".join(g) for g in fit.undetermined)
        lines.append(f"The data does not determine these separately, only in combination: {groups}. Their "
                     "values are one choice among many that predict the same.")
    worst = sorted(fit.max_error.items(), key=lambda kv: -kv[1])
    misses = [(k, v) for k, v in worst if v > tol.atol]
    if not misses and fit.within == fit.sample and not fit.failed:
        lines.append("With them every sampled transition is predicted within the tolerance.")
    elif not solved:
        shown = ", ".join(f"{_value(v)} in {k}" for k, v in misses[:4])
        lines.append(f"No values of PARAMS fit the data with this structure: the best values still miss by up to "
                     f"{shown}" + (f", and the program fails on {fit.failed} of them" if fit.failed else "")
                     + f"; {fit.within} of {fit.sample} transitions are within the tolerance. Change the equations "
                     "(what depends on what), not the numbers: wc fits the numbers again.")
    return "\n".join(lines)
