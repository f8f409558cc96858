"""A random transition's normal form, and its JSON: what `wc._sandbox.outcomes` reads a
program's value into, and what a worker sends (`Distribution.to_json`, `rewards_to_json`) and the
parent reads back, checked again (`from_json`, `rewards_from_json`). Pure.

A `Distribution` is a mixture of branches (probability, items), the items in the state's order,
each an entity (the same in every outcome of the branch) or a `Factor` (one of its options,
independently of every other factor; an option is a group of entities standing in the factor's
place). `Rewards` lists (probability, (reward, done)). Every rule broken raises `OutcomeError`
(a `MalformedOutput`, so a failure of kind "malformed") whose message says which rule and where.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from wc._core.contract import MAX_OUTCOMES, PROBABILITY_SUM, MalformedOutput

__all__ = ["Branch", "Distribution", "Factor", "OutcomeError", "Rewards", "TooManyOutcomes", "from_json", "pick_option",
           "rewards_from_json", "rewards_to_json", "short"]


class OutcomeError(MalformedOutput):
    """A distribution a program returned breaks the contract; the message says which rule, where."""


class TooManyOutcomes(OutcomeError):
    """More outcomes than may be listed (`MAX_OUTCOMES`), or enumerated (`Distribution.enumerate`)."""


@dataclass(frozen=True, slots=True)
class Factor:
    """An independent random part of a state: one of `options`, (probability, group) pairs whose
    group of entities stands in the factor's place. Probabilities are positive and sum to 1."""

    options: tuple[tuple[float, tuple[Any, ...]], ...]


Branch = tuple[float, tuple[Any, ...]]          # probability, items (entities and Factors)
Rewards = tuple[tuple[float, tuple[float, bool]], ...]   # (probability, (reward, done)) pairs


@dataclass(frozen=True)
class Distribution:
    """The next states of a transition: a mixture of `branches`, (probability, items) with the
    items in the state's order, each an entity or a `Factor`. `listed`: the options listed (the
    factors' and the branches'), what `MAX_OUTCOMES` bounds."""

    branches: tuple[Branch, ...]
    listed: int = 1

    @classmethod
    def certain(cls, state: list[Any]) -> Distribution:
        """One next state, with probability 1 (a deterministic transition)."""
        return cls(((1.0, tuple(state)),), 1)

    @property
    def deterministic(self) -> bool:
        return len(self.branches) == 1 and not any(type(i) is Factor for i in self.branches[0][1])

    @property
    def size(self) -> int:
        """How many outcomes the product has (outcomes that coincide counted apart)."""
        return sum(math.prod(len(i.options) for i in items if type(i) is Factor) for _, items in self.branches)

    def sample(self, rng: random.Random) -> list[Any]:
        """One next state, drawn with the stated probabilities (one draw per branch and factor)."""
        items = pick_option(self.branches, rng.random()) if len(self.branches) > 1 else self.branches[0][1]
        out: list[Any] = []
        for item in items:
            if type(item) is Factor:
                out.extend(pick_option(item.options, rng.random()))
            else:
                out.append(item)
        return out

    def enumerate(self, limit: int = MAX_OUTCOMES) -> list[tuple[float, list[Any]]]:
        """Every outcome of the product with its probability (coinciding outcomes not merged: the
        caller merges by its own key), or TooManyOutcomes past `limit`."""
        if self.size > limit:
            raise TooManyOutcomes(f"the transition has {self.size} outcomes, more than the {limit} that may be "
                                  "enumerated")
        out: list[tuple[float, list[Any]]] = []
        for p, items in self.branches:
            partial: list[tuple[float, list[Any]]] = [(p, [])]
            for item in items:
                if type(item) is Factor:
                    partial = [(q * r, state + list(group)) for q, state in partial for r, group in item.options]
                else:
                    for _, state in partial:
                        state.append(item)
            out.extend(partial)
        return out

    def to_json(self) -> dict[str, Any]:
        """As a worker sends it (entities must be JSON objects): `{"branches": [[p, items], ...]}`,
        an item an entity or `{"choice": [[p, [entity, ...]], ...]}`."""
        return {"branches": [[p, [{"choice": [[q, list(g)] for q, g in i.options]} if type(i) is Factor else i
                                  for i in items]] for p, items in self.branches]}


def pick_option(options: tuple[tuple[float, Any], ...], u: float) -> Any:
    for p, value in options:
        u -= p
        if u < 0:
            return value
    return options[-1][1]


def short(value: Any) -> str:
    """A value as a message shows it: its repr, cut to 60 characters."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a program's repr may fail
        text = "?"
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- reading a worker's reply


def _entity_json(value: Any, depth: int = 4) -> bool:
    if value is None or type(value) in (bool, int, float, str):
        return True
    if depth <= 0:
        return False
    if type(value) is list:
        return all(_entity_json(v, depth - 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _entity_json(v, depth - 1) for k, v in value.items())
    return False


def _probability(value: Any, what: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or not 0 < value <= 1 + PROBABILITY_SUM:
        raise OutcomeError(f"{what}: a probability is a number in (0, 1], not {short(value)}")
    return float(value)


def _summed(total: float, what: str, partial: bool) -> None:
    if total > 1 + PROBABILITY_SUM or (not partial and total < 1 - PROBABILITY_SUM):
        raise OutcomeError(f"{what}: probabilities sum to {total:.9g}, not 1")


def from_json(data: Any, *, limit: int = MAX_OUTCOMES, partial: bool = False) -> Distribution:
    """A distribution as `Distribution.to_json` wrote it, read in the parent with every rule
    checked again (a worker's reply is data, not a verdict); OutcomeError otherwise. `partial`:
    options that cannot match the recorded outcome may have been left out (`likelihood.prune`),
    so probabilities may sum to less than 1, never more."""
    if not isinstance(data, dict) or not isinstance(data.get("branches"), list) or not data["branches"]:
        raise OutcomeError("a distribution is an object with a non-empty list of branches")
    listed = 0
    branches: list[Branch] = []
    for b in data["branches"]:
        if not isinstance(b, list) or len(b) != 2 or not isinstance(b[1], list):
            raise OutcomeError("a branch is [probability, items]")
        p = _probability(b[0], "a branch")
        items: list[Any] = []
        for item in b[1]:
            if type(item) is dict and "choice" in item and "type" not in item:
                options = item["choice"]
                if not isinstance(options, list) or not options:
                    raise OutcomeError("a choice has a non-empty list of options")
                checked = []
                for o in options:
                    if not isinstance(o, list) or len(o) != 2 or not isinstance(o[1], list) or \
                            not all(type(e) is dict and type(e.get("type")) is str and _entity_json(e) for e in o[1]):
                        raise OutcomeError("a choice's option is [probability, [entity, ...]]")
                    checked.append((_probability(o[0], "a choice"), tuple(o[1])))
                _summed(math.fsum(q for q, _ in checked), "a choice", partial)
                listed += len(checked)
                items.append(Factor(tuple(checked)))
            elif type(item) is dict and type(item.get("type")) is str and _entity_json(item):
                items.append(item)
            else:
                raise OutcomeError("an item of a branch is an entity or a choice")
        branches.append((p, tuple(items)))
    _summed(math.fsum(p for p, _ in branches), "the branches", partial)
    listed += len(branches) if len(branches) > 1 else 0
    if listed > limit:
        raise TooManyOutcomes(f"a distribution lists {listed} outcomes, more than {limit}")
    return Distribution(tuple(branches), max(1, listed))


def rewards_to_json(rewards: Rewards) -> list[list[Any]]:
    return [[p, [r, d]] for p, (r, d) in rewards]


def rewards_from_json(data: Any, *, limit: int = MAX_OUTCOMES, partial: bool = False) -> Rewards:
    """Reward outcomes as `rewards_to_json` wrote them, checked again in the parent."""
    if not isinstance(data, list) or not data or len(data) > limit:
        raise OutcomeError(f"rewards are a non-empty list of at most {limit} [probability, [reward, done]]")
    out = []
    for item in data:
        if not isinstance(item, list) or len(item) != 2 or not isinstance(item[1], list) or len(item[1]) != 2:
            raise OutcomeError("a reward outcome is [probability, [reward, done]]")
        r, done = item[1]
        if type(r) not in (int, float) or not math.isfinite(r) or type(done) is not bool:
            raise OutcomeError("a reward outcome's pair is [finite number, bool]")
        out.append((_probability(item[0], "a reward"), (float(r), done)))
    _summed(math.fsum(p for p, _ in out), "the rewards", partial)
    return tuple(out)
