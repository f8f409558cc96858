"""φ1 for random worlds: how probable a program finds what was recorded. Pure: the parent's judge, prompts and
benchmarks call it on JSON data.

* **Likelihood of a transition**: the probability the program's distribution gives to the
  recorded next state, times the probability its `reward` (called with the recorded next state)
  gives to the recorded (reward, done). A next state matches exactly as a multiset of entities
  (what a digest compares), or, in worlds judged within a tolerance, entity by entity in order
  within it; in the second case every outcome within the tolerance counts. Computed from the
  factored form without listing the product (a small dynamic programme over the factors).
* **φ1** holds when every recorded transition is possible: likelihood at least `EPSILON`. A
  deterministic program's likelihoods are 1 or 0, so φ1 is what it always was.
* **Score** for REx: each transition earns `credit(L) = 1 - max(log L, log FLOOR) / log FLOOR`, in
  [0, 1] (1 for certainty, 0 at or below the floor), and the score is their mean, an affine map
  of the floored mean log-likelihood. For a deterministic program it is the fraction of
  transitions explained, the score REx has always used, so the bandit's maths is unchanged. A
  correct random program scores below 1 by the world's own entropy (FrozenLake's slippery moves,
  1/3 each: about 0.92), and more probability on what happened always scores higher.

Where the program's probabilities disagree with the frequencies seen, and where the data itself
is random, is `wc._sandbox.frequencies`.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wc._core.canonical import entity_key
from wc._core.contract import rewards_match
from wc._core.tolerance import CWMB, Tolerance, difference
from wc._sandbox.distribution import Distribution, Factor, OutcomeError, Rewards

EPSILON = 1e-12      # φ1: a transition is possible when the program gives it at least this probability
FLOOR = 1e-9         # the score's floor per transition: one impossible transition costs a bounded amount
UNLIKELY = 1e-3      # shown to the LLM as very unlikely (below this, above EPSILON)
MAX_COVERS = 100_000  # partial covers of a recorded state the likelihood's dynamic programme keeps, at most
# steps (a cover times an option that fits) the programme takes for one transition, at most: a wide layer
# over thousands of factors stays under MAX_COVERS yet would hold the parent for minutes; an honest
# program's own worker, which runs the same programme within its call's time limit (2 s: some 140,000
# steps here), stops first
MAX_WORK = 200_000

__all__ = ["EPSILON", "FLOOR", "UNLIKELY", "Fit", "credit", "mean_log_likelihood", "possible", "prune",
           "reward_probability", "score", "state_probability", "transition_likelihood"]


# --------------------------------------------------------------------------- likelihood


def _matches(predicted: Any, recorded: Any, tolerance: Tolerance) -> bool:
    return difference(predicted, recorded, tolerance).equal


def state_probability(dist: Distribution, recorded: Sequence[dict[str, Any]], *, ordered: bool = False,
                      tolerance: Tolerance = CWMB) -> float:
    """The probability `dist` (JSON entities) gives to the recorded next state: as a multiset of
    entities exactly, or (`ordered`) entity by entity in order within `tolerance`."""
    if ordered:
        return math.fsum(p * _ordered(items, recorded, tolerance) for p, items in dist.branches)
    keys = Counter(entity_key(e) for e in recorded)
    return math.fsum(p * _unordered(items, keys) for p, items in dist.branches)


def _unordered(items: tuple[Any, ...], recorded: Counter[str]) -> float:
    """P(the items make exactly the recorded multiset): the fixed entities must all be there, and
    the factors must cover the rest, one option each (summed over the ways they can)."""
    fixed = Counter(entity_key(e) for e in items if type(e) is not Factor)
    rest = recorded.copy()
    rest.subtract(fixed)
    if any(n < 0 for n in rest.values()):
        return 0.0
    rest = +rest
    factors: list[list[tuple[float, Counter[str]]]] = []
    for item in items:
        if type(item) is Factor:
            fitting = []
            for q, group in item.options:
                need = Counter(entity_key(e) for e in group)
                if all(rest[k] >= n for k, n in need.items()):
                    fitting.append((q, need))
            if not fitting:
                return 0.0
            factors.append(fitting)
    if sum(rest.values()) and not factors:
        return 0.0
    # forward over the factors, by what is left to cover (no recursion: a distribution read from a
    # worker may hold thousands of factors); bounded, since a forged one could make it explode
    layer: dict[frozenset[tuple[str, int]], float] = {frozenset(rest.items()): 1.0}
    work = 0
    for fitting in factors:
        work += len(layer) * len(fitting)
        if work > MAX_WORK:
            raise OutcomeError(f"judging the distribution would take more than {MAX_WORK:,} steps: too entangled "
                               "to judge")
        after: dict[frozenset[tuple[str, int]], float] = {}
        for left_key, w in layer.items():
            left = Counter(dict(left_key))
            for q, need in fitting:
                if all(left[k] >= n for k, n in need.items()):
                    rest_after = left.copy()
                    rest_after.subtract(need)
                    key = frozenset((+rest_after).items())
                    after[key] = after.get(key, 0.0) + w * q
        if not after:
            return 0.0
        if len(after) > MAX_COVERS:
            raise OutcomeError(f"the distribution has more than {MAX_COVERS:,} ways to cover the recorded state "
                               "partially: too entangled to judge")
        layer = after
    return layer.get(frozenset(), 0.0)


def _ordered(items: tuple[Any, ...], recorded: Sequence[dict[str, Any]], tolerance: Tolerance) -> float:
    """P(the items, in order, give the recorded entities in order, each within the tolerance):
    forward over positions, a factor's option taking as many positions as its group has."""
    n = len(recorded)
    reach = {0: 1.0}
    for item in items:
        after: dict[int, float] = {}
        for pos, w in reach.items():
            options = item.options if type(item) is Factor else ((1.0, (item,)),)
            for q, group in options:
                end = pos + len(group)
                if end <= n and all(_matches(e, recorded[pos + k], tolerance) for k, e in enumerate(group)):
                    after[end] = after.get(end, 0.0) + w * q
        if not after:
            return 0.0
        reach = after
    return reach.get(n, 0.0)


def reward_probability(rewards: Rewards, reward: float, done: bool, mode: str, tolerance: Tolerance = CWMB) -> float:
    """The probability the program's reward outcomes give to the recorded (reward, done), each
    pair judged as φ1 judges a reward (`mode`: sign, exact or value within `tolerance`)."""
    return math.fsum(p for p, pair in rewards if rewards_match(mode, pair, reward, done, tolerance))


def transition_likelihood(dist: Distribution, rewards: Rewards, next_state: Sequence[dict[str, Any]], reward: float,
                          done: bool, mode: str, *, ordered: bool = False, tolerance: Tolerance = CWMB) -> float:
    """A recorded transition's likelihood under a program: its next state's probability times
    its (reward, done)'s (`rewards`: what `reward` gave with the recorded next state)."""
    p = state_probability(dist, next_state, ordered=ordered, tolerance=tolerance)
    return p * reward_probability(rewards, reward, done, mode, tolerance) if p > 0 else 0.0


def prune(dist: Distribution, recorded: Sequence[dict[str, Any]], *, ordered: bool = False,
          tolerance: Tolerance = CWMB) -> Distribution:
    """`dist` without the branches and options that cannot be part of the recorded next state:
    what a worker need send for the parent to compute the same `state_probability` (read it
    with `distribution.from_json(..., partial=True)`). When nothing fits, one of the program's
    outcomes is kept, so the reply still says "impossible" by itself."""
    kept: list[tuple[float, tuple[Any, ...]]] = []
    keys = Counter(entity_key(e) for e in recorded)
    for p, items in dist.branches:
        if ordered:
            fitting = _prune_ordered(items, recorded, tolerance)
        else:
            fitting = _prune_unordered(items, keys)
        if fitting is not None:
            kept.append((p, fitting))
    if not kept:  # nothing can match: one of the program's outcomes (not the recorded one) says so
        p, items = dist.branches[0]
        kept = [(p, tuple(Factor((i.options[0],)) if type(i) is Factor else i for i in items))]
    listed = sum(len(i.options) for _, items in kept for i in items if type(i) is Factor) + \
        (len(kept) if len(kept) > 1 else 0)
    return Distribution(tuple(kept), max(1, listed))


def _prune_unordered(items: tuple[Any, ...], recorded: Counter[str]) -> tuple[Any, ...] | None:
    fixed = Counter(entity_key(e) for e in items if type(e) is not Factor)
    rest = recorded.copy()
    rest.subtract(fixed)
    if any(n < 0 for n in rest.values()):
        return None
    out: list[Any] = []
    for item in items:
        if type(item) is Factor:
            options = tuple((q, g) for q, g in item.options
                            if all(rest[k] >= n for k, n in Counter(entity_key(e) for e in g).items()))
            if not options:
                return None
            out.append(Factor(options))
        else:
            out.append(item)
    return tuple(out)


def _prune_ordered(items: tuple[Any, ...], recorded: Sequence[dict[str, Any]],
                   tolerance: Tolerance) -> tuple[Any, ...] | None:
    n = len(recorded)
    reach = {0}
    out: list[Any] = []
    for item in items:
        options = item.options if type(item) is Factor else ((1.0, (item,)),)
        kept, after = [], set()
        for q, group in options:
            ends = {pos + len(group) for pos in reach if pos + len(group) <= n and
                    all(_matches(e, recorded[pos + k], tolerance) for k, e in enumerate(group))}
            if ends:
                kept.append((q, group))
                after |= ends
        if not kept:
            return None
        out.append(Factor(tuple(kept)) if type(item) is Factor else item)
        reach = after
    return tuple(out) if n in reach else None


# --------------------------------------------------------------------------- φ1 and the score


def possible(likelihood: float) -> bool:
    """φ1 on one transition: the program says what happened can happen."""
    return likelihood >= EPSILON


def credit(likelihood: float, floor: float = FLOOR) -> float:
    """One transition's share of the score: 1 - max(log L, log floor) / log floor, in [0, 1]."""
    if likelihood >= 1.0:
        return 1.0
    if likelihood <= floor:
        return 0.0
    return 1.0 - math.log(likelihood) / math.log(floor)


def mean_log_likelihood(likelihoods: Iterable[float], floor: float = FLOOR) -> float:
    """The mean of max(log L, log floor): 0 for certainty, log floor at worst (0 for no data)."""
    values = [math.log(max(min(L, 1.0), floor)) for L in likelihoods]
    return math.fsum(values) / len(values) if values else 0.0


def score(likelihoods: Iterable[float], floor: float = FLOOR) -> float:
    """REx's h(p) from likelihoods: the mean credit, `1 - mean_log_likelihood / log floor` (1.0
    with no data). A deterministic program's is the fraction of transitions it explains."""
    values = list(likelihoods)
    return math.fsum(credit(L, floor) for L in values) / len(values) if values else 1.0


@dataclass(frozen=True)
class Fit:
    """A program's likelihoods on the recorded transitions, and what φ1 and the prompts read off."""

    likelihoods: tuple[float, ...]

    @property
    def fits(self) -> bool:
        return all(possible(L) for L in self.likelihoods)

    @property
    def impossible(self) -> list[int]:
        """Transitions the program says cannot happen (φ1 fails on each)."""
        return [i for i, L in enumerate(self.likelihoods) if not possible(L)]

    def unlikely(self, below: float = UNLIKELY) -> list[int]:
        """Transitions possible but very unlikely under the program, least likely first."""
        found = [i for i, L in enumerate(self.likelihoods) if possible(L) and L < below]
        return sorted(found, key=lambda i: self.likelihoods[i])

    @property
    def mean_log_likelihood(self) -> float:
        return mean_log_likelihood(self.likelihoods)

    @property
    def score(self) -> float:
        return score(self.likelihoods)
