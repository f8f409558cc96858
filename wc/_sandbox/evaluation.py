"""Results of checking a program against the data (φ1) and for optimism (φ2), as values."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from wc._planning.result import PlanResult
from wc._sandbox import likelihood
from wc._sandbox.frequencies import Disagreement, Visits


@dataclass
class Evaluation:
    """Per distinct transition: 'o' explained, 'w' wrong prediction, 'e' error, for each function.

    A random program (one that answered some transition with a Choice) is judged by likelihood
    (`wc._sandbox.likelihood`): `likelihoods` holds each transition's (1 or 0 where it answered
    with one next state), a transition is 'o' when possible (at least EPSILON), and `fit` is the
    mean credit. For a deterministic program `likelihoods` is None and everything is as it always
    was. What prompts of random worlds read: `disagreements` (outcome frequencies the program's
    probabilities do not explain, `frequencies.disagreements`), and `varied` (the (state,
    action)s the data shows with different outcomes, whatever the program); the program's most
    probable outcomes for an impossible transition are in its `failures` detail ("likely")."""

    transition: str
    reward: str
    failures: dict[int, dict[str, Any]] = field(default_factory=dict)
    load_failure: dict[str, Any] | None = None
    likelihoods: tuple[float, ...] | None = None
    disagreements: list[Disagreement] = field(default_factory=list)
    varied: list[Visits] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.transition)

    @property
    def random(self) -> bool:
        """The program answered some transition with a distribution."""
        return self.likelihoods is not None

    @property
    def explained(self) -> int:
        return sum(1 for t, r in zip(self.transition, self.reward, strict=False) if t == "o" and r == "o")

    @property
    def credit(self) -> float:
        """The transitions' credits summed (`likelihood.credit`): how many are explained, for a
        deterministic program."""
        if self.likelihoods is None:
            return self.explained
        return math.fsum(likelihood.credit(L) for L in self.likelihoods)

    @property
    def fit(self) -> float:
        """Fraction of transitions explained by both functions (1.0 with no data, 0.0 for a
        program that does not load); for a random program, the mean credit of its likelihoods."""
        if self.load_failure is not None:
            return 0.0
        return self.credit / self.n if self.n else 1.0

    @property
    def fits(self) -> bool:
        """φ1: every transition explained, and, for a random program, no outcome frequencies its
        probabilities are refuted by (a program that calls everything possible is not thereby
        right: changed slip probabilities pass the first test and fail the second)."""
        return self.load_failure is None and self.explained == self.n and not self.disagreements

    def failing(self, part: str) -> list[int]:
        status = self.transition if part == "transition" else self.reward
        return [i for i, s in enumerate(status) if s != "o"]

    def passing(self) -> list[int]:
        return [i for i, (t, r) in enumerate(zip(self.transition, self.reward, strict=False)) if t == "o" and r == "o"]

    def error_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for detail in self.failures.values():
            for key in ("transition_error", "reward_error"):
                if key in detail:
                    kind = detail[key]["kind"]
                    counts[kind] = counts.get(kind, 0) + 1
        return counts

    @classmethod
    def failed(cls, n: int, failure: dict[str, Any]) -> Evaluation:
        detail = {"transition_error": failure, "reward_error": failure}
        return cls("e" * n, "e" * n, {i: detail for i in range(max(0, n - 1), n)}, failure)


@dataclass
class Optimism:
    """φ2: plans from each recorded start, in the program. A start is *refuted* when a search
    enumerated everything reachable from it without reaching the goal (or the program cannot
    be planned in at all), and *undecided* when a search only ran out of budget: that is no
    evidence against the program."""

    plans: list[PlanResult]

    @property
    def ok(self) -> int:
        return sum(1 for p in self.plans if p.found)

    @property
    def refuted(self) -> int:
        return sum(1 for p in self.plans if not p.found and p.status in ("exhausted", "error"))

    @property
    def undecided(self) -> int:
        return len(self.plans) - self.ok - self.refuted

    @property
    def satisfied(self) -> bool:
        """A plan was found from every start."""
        return all(p.found for p in self.plans)

    @property
    def not_refuted(self) -> bool:
        """No start shown to have no plan: good enough to act with the program."""
        return self.refuted == 0

    def exhausted(self) -> list[int]:
        """Starts from which a complete search found no plan (not a program that failed to run)."""
        return [i for i, p in enumerate(self.plans) if not p.found and p.status == "exhausted"]

    def without(self, indices: set[int]) -> Optimism:
        """The same verdicts, with the starts at `indices` left out."""
        return Optimism([p for i, p in enumerate(self.plans) if i not in indices])

    def describe(self) -> str:
        text = f"{self.ok}/{len(self.plans)}"
        return text + (f" ({self.undecided} undecided)" if self.undecided else "")


def score(evaluation: Evaluation, optimism: Optimism | None) -> float:
    """REx's heuristic h(p) in [0, 1]: the fraction of decided constraints satisfied
    (transitions explained, and starts from which a plan was found, among the starts whose
    search was decided once φ2 is checked); a random program's transitions count by credit."""
    if optimism is None or not optimism.plans:
        return evaluation.fit
    total = evaluation.n + optimism.ok + optimism.refuted
    return (evaluation.credit + optimism.ok) / total if total else 1.0
