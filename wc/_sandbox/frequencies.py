"""What the data of a random world says, and whether a program's probabilities agree with its
frequencies. Pure.

* **Nondeterminism in the data**: the same state and action seen with different outcomes, found
  from the records alone (`varied`), so a deterministic program can be told so plainly.
* **Frequencies**: per (state, action, mission) visited at least `MIN_VISITS` times, the counts
  of each distinct recorded outcome against the program's probabilities (the rest pooled), by a
  chi-square test, or an exact binomial test when two categories are left; Holm's correction
  over the pairs tested keeps a correct program from being called wrong by chance when many
  are tested (each test at `ALPHA` alone would flag one in a hundred).
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wc._core.canonical import state_key
from wc._core.values import Transition
from wc._sandbox.likelihood import EPSILON

MIN_VISITS = 20      # visits of one (state, action) before its frequencies are tested
ALPHA = 0.01         # family-wise significance of the frequency tests (Holm)
MIN_EXPECTED = 5.0   # categories expected fewer times than this are pooled (the chi-square rule of thumb)

__all__ = ["ALPHA", "MIN_VISITS", "Disagreement", "FrequencyTest", "VisitCounter", "Visits", "binomial_p_value",
           "chi_square_sf", "disagreements", "frequency_test", "group_visits", "tested", "varied"]


# --------------------------------------------------------------------------- what the data says


@dataclass(frozen=True)
class Visits:
    """One (state, action, mission) of the records and what followed it: `outcomes` are the
    indices of the transitions, grouped by distinct outcome (next state, reward, done), most
    frequent first."""

    action: Any
    outcomes: tuple[tuple[int, ...], ...]

    @property
    def count(self) -> int:
        return sum(len(o) for o in self.outcomes)

    @property
    def first(self) -> int:
        """A transition that shows the state and action."""
        return self.outcomes[0][0]


def group_visits(transitions: Sequence[Transition]) -> list[Visits]:
    """The records grouped by (state, action, mission), each group's outcomes by (next state,
    reward, done), compared exactly (canonical state keys), in order of first appearance."""
    groups: dict[tuple[str, str, str], dict[tuple[str, float, bool], list[int]]] = {}
    for i, t in enumerate(transitions):
        where = (state_key(t.state), json.dumps(t.action), t.mission)
        what = (state_key(t.next_state), float(t.reward), bool(t.done))
        groups.setdefault(where, {}).setdefault(what, []).append(i)
    out = []
    for (_, action, _), outcomes in groups.items():
        ordered = sorted(outcomes.values(), key=lambda ix: (-len(ix), ix[0]))
        out.append(Visits(json.loads(action), tuple(tuple(ix) for ix in ordered)))
    return out


def varied(transitions: Sequence[Transition]) -> list[Visits]:
    """The (state, action, mission)s the records show with different outcomes: no deterministic
    program explains them all. Most visited first."""
    found = [v for v in group_visits(transitions) if len(v.outcomes) > 1]
    return sorted(found, key=lambda v: (-v.count, v.first))


# --------------------------------------------------------------------------- frequencies


def _gamma_q(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x) (Numerical Recipes' series and
    continued fraction), for the chi-square distribution's tail."""
    if x <= 0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:  # the series for P(a, x)
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300  # Lentz's continued fraction for Q(a, x)
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_front) * h)


def chi_square_sf(statistic: float, df: int) -> float:
    """P(X >= statistic) for X chi-square distributed with `df` degrees of freedom."""
    if df < 1:
        raise ValueError("a chi-square test needs at least one degree of freedom")
    return _gamma_q(df / 2.0, statistic / 2.0)


def binomial_p_value(k: int, n: int, p: float) -> float:
    """The exact two-sided binomial test: the probability, with success probability `p`, of
    `n` trials giving a count at most as probable as `k`."""
    if not 0 <= k <= n:
        raise ValueError("0 <= k <= n")
    if p <= 0 or p >= 1:
        return 1.0 if (p <= 0 and k == 0) or (p >= 1 and k == n) else 0.0
    log_p, log_q = math.log(p), math.log1p(-p)

    def log_pmf(j: int) -> float:
        return math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * log_p + (n - j) * log_q

    observed = log_pmf(k)
    total = math.fsum(math.exp(log_pmf(j)) for j in range(n + 1) if log_pmf(j) <= observed + 1e-7)
    return min(1.0, total)


@dataclass(frozen=True)
class FrequencyTest:
    """Observed counts of the outcome categories against the program's probabilities.

    `categories` are (label, observed, expected) after pooling: a label is the index of a
    transition showing the outcome, "rest" (outcomes never seen, by the program's probability)
    or "pooled" (categories expected fewer than MIN_EXPECTED times, merged)."""

    visits: int
    categories: tuple[tuple[int | str, int, float], ...]
    method: str            # "chi-square" or "binomial"
    statistic: float       # the chi-square statistic, or the count of the first category
    df: int
    p_value: float


def frequency_test(counts: Sequence[int], probabilities: Sequence[float],
                   labels: Sequence[int] | None = None) -> FrequencyTest | None:
    """Whether observed outcome counts agree with a program's probabilities for them (the rest
    of the program's probability is a category of its own, observed 0 times). None when nothing
    can be tested: an outcome the program calls impossible (φ1 says so already), or a single
    category left after pooling."""
    if len(counts) != len(probabilities) or not counts:
        raise ValueError("one probability per observed outcome")
    if any(p < EPSILON for p in probabilities):
        return None
    n = sum(counts)
    names: list[int | str] = list(labels) if labels is not None else list(range(len(counts)))
    cells: list[tuple[int | str, int, float]] = [(names[i], counts[i], n * min(1.0, p))
                                                 for i, p in enumerate(probabilities)]
    rest = max(0.0, 1.0 - math.fsum(probabilities))
    if rest * n > 1e-9:
        cells.append(("rest", 0, n * rest))
    cells.sort(key=lambda c: c[2])
    while len(cells) > 1 and cells[0][2] < MIN_EXPECTED:
        (_, o1, e1), (_, o2, e2) = cells[0], cells[1]
        cells = sorted([("pooled", o1 + o2, e1 + e2), *cells[2:]], key=lambda c: c[2])
    if len(cells) < 2:
        return None
    if len(cells) == 2:
        label, observed, expected = cells[0]
        p_value = binomial_p_value(observed, n, min(1.0, expected / n))
        return FrequencyTest(n, tuple(cells), "binomial", float(observed), 1, p_value)
    statistic = math.fsum((o - e) ** 2 / e for _, o, e in cells)
    df = len(cells) - 1
    return FrequencyTest(n, tuple(cells), "chi-square", statistic, df, chi_square_sf(statistic, df))


@dataclass(frozen=True)
class Disagreement:
    """A (state, action) whose recorded frequencies the program's probabilities do not explain."""

    visits: Visits
    test: FrequencyTest
    probabilities: tuple[float, ...]   # the program's, per outcome of `visits.outcomes`
    tested: int                        # how many (state, action)s were tested (Holm's family)


def disagreements(transitions: Sequence[Transition], likelihoods: Sequence[float], *,
                  min_visits: int = MIN_VISITS, alpha: float = ALPHA) -> list[Disagreement]:
    """The (state, action)s visited at least `min_visits` times whose outcome frequencies are
    significantly unlike the program's probabilities, by `frequency_test`, with Holm's
    correction over the pairs tested at family-wise level `alpha`. `likelihoods[i]` is the
    program's likelihood of transition i (the probability of its outcome: every transition of
    one outcome has the same). Most significant first."""
    return tested([v for v in group_visits(transitions) if v.count >= min_visits], likelihoods, alpha=alpha)


def tested(visits: Sequence[Visits], likelihoods: Sequence[float], *, alpha: float = ALPHA) -> list[Disagreement]:
    """`disagreements` on visits already grouped (each visited often enough to test), their
    outcomes' indices into `likelihoods`."""
    tests: list[tuple[Visits, FrequencyTest, tuple[float, ...]]] = []
    for v in visits:
        probabilities = tuple(float(likelihoods[o[0]]) for o in v.outcomes)
        test = frequency_test([len(o) for o in v.outcomes], probabilities, [o[0] for o in v.outcomes])
        if test is not None:
            tests.append((v, test, probabilities))
    tests.sort(key=lambda t: t[1].p_value)
    m = len(tests)
    found = []
    for rank, (v, test, probabilities) in enumerate(tests):
        if test.p_value > alpha / (m - rank):
            break
        found.append(Disagreement(v, test, probabilities, m))
    return found


class VisitCounter:
    """Visits counted one record at a time (what `group_visits` finds from a list of records,
    kept up to date as the sandbox's data grows): per (state, action, mission), each distinct
    transition that followed it and how often. A `Visits` it gives names a distinct transition
    once per time it was recorded, so indices are into the distinct transitions and `len` of an
    outcome is its count."""

    def __init__(self, min_visits: int = MIN_VISITS) -> None:
        self.min_visits = min_visits
        self._groups: dict[Any, dict[int, int]] = {}   # where -> {distinct transition: times recorded}
        self._actions: dict[Any, Any] = {}
        self._counts: dict[Any, int] = {}
        self._varied: dict[Any, None] = {}              # wheres seen with more than one outcome, in order
        self._frequent: dict[Any, None] = {}            # wheres visited at least min_visits times

    def add(self, where: Any, action: Any, index: int) -> None:
        group = self._groups.setdefault(where, {})
        group[index] = group.get(index, 0) + 1
        self._actions.setdefault(where, action)
        self._counts[where] = n = self._counts.get(where, 0) + 1
        if len(group) > 1:
            self._varied[where] = None
        if n >= self.min_visits:
            self._frequent[where] = None

    def _visits(self, where: Any) -> Visits:
        ordered = sorted(self._groups[where].items(), key=lambda item: (-item[1], item[0]))
        return Visits(self._actions[where], tuple((index,) * count for index, count in ordered))

    def varied(self, limit: int | None = None) -> list[Visits]:
        """As `varied`: the (state, action, mission)s seen with different outcomes, most visited
        first (the `limit` most visited, when given)."""
        wheres = sorted(self._varied, key=lambda w: (-self._counts[w], min(self._groups[w])))
        return [self._visits(w) for w in wheres[:limit]]

    def frequent(self) -> list[Visits]:
        """The (state, action, mission)s visited at least `min_visits` times."""
        return [self._visits(w) for w in self._frequent]
