"""A random program's answers, as a sandbox worker gives them: on a recorded transition (what the
parent's likelihood judge needs) and for a state and action (every outcome, with its reward).

On a recorded transition the worker calls `transition` on the recorded state and reads the
value into a `Distribution` (`wc._sandbox.outcomes`: every rule checked, at most MAX_OUTCOMES
listed), and calls `reward` with the recorded next state, as φ1 always has: `reward` is a
function of (state, action, next state), so its answer on the recorded next state is its answer
for the outcome that matches it. The distribution is pruned to the options that can be part of
the recorded next state (`likelihood.prune`), so a reply stays small however large the product;
the parent computes the likelihood itself from what is sent (`ChancePrediction.from_wire`, then
`likelihood.transition_likelihood`). Where the recorded next state is impossible under the
program, the program's most probable outcomes travel with it for the repair prompt. Asked for a
point prediction (`point`: CWMB's accuracy, `wc._measure.program.predicted`), the worker also
sends the most probable next state of the whole distribution (`mode_state`, before pruning:
the record does not choose it); the parent takes the most probable (reward, done) from the
rewards sent (`mode_reward`).

Pure: no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wc._core.canonical import state_key
from wc._core.contract import MAX_OUTCOMES, decode_state
from wc._core.tolerance import CWMB, Tolerance
from wc._core.values import Transition
from wc._sandbox import likelihood, timer
from wc._sandbox.distribution import (
    Distribution,
    Factor,
    OutcomeError,
    Rewards,
    TooManyOutcomes,
    from_json,
    rewards_from_json,
    rewards_to_json,
)
from wc._sandbox.failures import classify
from wc._sandbox.outcomes import read_reward, read_state
from wc._sandbox.timer import CallTimeout

__all__ = ["ChanceOutcome", "ChancePrediction", "mode_reward", "mode_state", "most_probable", "outcomes_with_rewards",
           "predict_chance"]

SHOWN = 3   # the program's most probable outcomes kept with an impossible transition, for prompts
MODE_LIMIT = 4096   # outcomes of one transition `mode_state` lists and merges, at most (else factor by factor)
TIED = 1e-12        # probabilities this close are a tie for a mode (the same sum added up in another order)


@dataclass
class ChancePrediction:
    """What a program answered on one recorded transition of a random world: its distribution
    of next states (pruned to what can match the record), its reward outcomes for the recorded
    next state, or the classified error of either call; `likely`: its most probable outcomes,
    kept where the recorded next state is impossible under it; `mode`: its most probable next
    state over the whole distribution (`mode_state`), where a point prediction was asked for."""

    distribution: Distribution | None = None
    rewards: Rewards | None = None
    transition_error: dict[str, Any] | None = None
    reward_error: dict[str, Any] | None = None
    likely: list[tuple[float, list[dict[str, Any]]]] | None = None
    mode: list[dict[str, Any]] | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "d": None if self.distribution is None else self.distribution.to_json(),
            "r": None if self.rewards is None else rewards_to_json(self.rewards)}
        for name in ("transition_error", "reward_error", "likely", "mode"):
            value = getattr(self, name)
            if value is not None:
                out[name] = [[p, s] for p, s in value] if name == "likely" else value
        return out

    @classmethod
    def from_wire(cls, data: Any) -> ChancePrediction:
        """A worker's report read in the parent: the distribution and rewards checked again as
        partial (pruned) ones; OutcomeError when they break a rule. Failures are passed on as
        sent: the caller reads them with `verdict.failure_from_wire`."""
        if not isinstance(data, dict):
            raise OutcomeError("a prediction is an object")
        out = cls(distribution=None if data.get("d") is None else from_json(data["d"], partial=True),
                  rewards=None if data.get("r") is None else rewards_from_json(data["r"], partial=True),
                  transition_error=data.get("transition_error"), reward_error=data.get("reward_error"))
        likely = data.get("likely")
        if likely is not None:
            if not isinstance(likely, list) or len(likely) > SHOWN or not all(
                    isinstance(x, list) and len(x) == 2 and type(x[0]) in (int, float) and 0 <= x[0] <= 1
                    and isinstance(x[1], list) for x in likely):
                raise OutcomeError("a prediction's likely outcomes are at most a few [probability, state]")
            out.likely = [(float(p), s) for p, s in likely]
        mode = data.get("mode")
        if mode is not None:
            if not isinstance(mode, list) or not all(type(e) is dict and type(e.get("type")) is str for e in mode):
                raise OutcomeError("a prediction's most probable next state is a list of entities")
            out.mode = mode
        return out

    def likelihood(self, next_state: list[dict[str, Any]], reward: float, done: bool, mode: str, *,
                   ordered: bool = False, tolerance: Tolerance = CWMB) -> float:
        """The recorded transition's likelihood under this prediction (0 where a call failed)."""
        if self.distribution is None or self.rewards is None:
            return 0.0
        return likelihood.transition_likelihood(self.distribution, self.rewards, next_state, reward, done, mode,
                                                ordered=ordered, tolerance=tolerance)


def predict_chance(program: Any, t: Transition, call_timeout: float = 2.0, *, ordered: bool = False,
                   tolerance: Tolerance = CWMB, prune: bool = True, point: bool = False) -> ChancePrediction:
    """The program's answers on one recorded transition. `ordered`/`tolerance`: how next states are compared (as
    multisets exactly, or in order within the tolerance), which pruning must agree with. `point`: with the
    most probable next state of the whole distribution (`ChancePrediction.mode`)."""
    out = ChancePrediction()
    if program.failure is not None:
        out.transition_error = out.reward_error = program.failure
        return out
    ns = program.namespace
    try:
        with timer.limit(call_timeout):
            dist = read_state(program.transition(decode_state(ns, t.state), t.action), program.chance)
            if likelihood.state_probability(dist, t.next_state, ordered=ordered, tolerance=tolerance) <= 0:
                out.likely = most_probable(dist)
            if point:
                out.mode = mode_state(dist)
            out.distribution = likelihood.prune(dist, t.next_state, ordered=ordered, tolerance=tolerance) \
                if prune else dist
    except (Exception, CallTimeout) as exc:  # noqa: BLE001
        out.transition_error = classify(exc, program.source)
    try:
        with timer.limit(call_timeout):
            out.rewards = read_reward(program.reward(decode_state(ns, t.state), t.action,
                                                     decode_state(ns, t.next_state), t.mission), program.chance)
    except (Exception, CallTimeout) as exc:  # noqa: BLE001
        out.reward_error = classify(exc, program.source)
    return out


def _merged(dist: Distribution, limit: int) -> list[tuple[float, str, list[dict[str, Any]]]]:
    """Every outcome of a distribution of at most `limit` outcomes, those that coincide (the same
    canonical state) merged: (probability, canonical key, state), in the order first met."""
    merged: dict[str, tuple[float, list[dict[str, Any]]]] = {}
    for p, state in dist.enumerate(limit):
        key = state_key(state)
        q, _ = merged.get(key, (0.0, state))
        merged[key] = (q + p, state)
    return [(p, key, state) for key, (p, state) in merged.items()]


def most_probable(dist: Distribution, k: int = SHOWN, limit: int = 256) -> list[tuple[float, list[dict[str, Any]]]]:
    """The `k` most probable next states of a distribution (JSON entities), outcomes that
    coincide merged: exactly when the product has at most `limit` outcomes, else the most
    probable option of every factor in each of the most probable branches."""
    if dist.size <= limit:
        found = sorted(((p, state) for p, _, state in _merged(dist, limit)), key=lambda x: -x[0])
    else:
        found = []
        for p, items in sorted(dist.branches, key=lambda b: -b[0]):
            mode: list[dict[str, Any]] = []
            for item in items:
                if type(item) is Factor:
                    q, group = max(item.options, key=lambda o: o[0])
                    p *= q
                    mode.extend(group)
                else:
                    mode.append(item)
            found.append((p, mode))
        found.sort(key=lambda x: -x[0])
    return found[:k]


def mode_state(dist: Distribution, limit: int = MODE_LIMIT) -> list[dict[str, Any]]:
    """The most probable next state of a distribution (JSON entities): a random program's point
    prediction. Outcomes that coincide (the same canonical state) are merged first; of outcomes
    whose probabilities tie (within TIED), the one with the smallest canonical key
    (`state_key`), so the same distribution gives the same state however its options are
    listed. Where the product has more than `limit` outcomes: in each branch the most probable
    option of every factor (a branch's factors are independent, so that is the branch's mode
    unless different options coincide), and the most probable of those."""
    if dist.size <= limit:
        candidates = _merged(dist, limit)
    else:
        candidates = []
        for p, items in dist.branches:
            modes: list[dict[str, Any]] = []
            for item in items:
                if type(item) is Factor:
                    best = max(q for q, _ in item.options)
                    q, group = min(((q, g) for q, g in item.options if q >= best - TIED),
                                   key=lambda o: state_key(list(o[1])))
                    p *= q
                    modes.extend(group)
                else:
                    modes.append(item)
            candidates.append((p, state_key(modes), modes))
    best = max(p for p, _, _ in candidates)
    return min((c for c in candidates if c[0] >= best - TIED), key=lambda c: c[1])[2]


def mode_reward(rewards: Rewards) -> tuple[float, bool]:
    """The most probable (reward, done) of reward outcomes (equal pairs merged); of pairs whose
    probabilities tie (within TIED), the smallest reward, then done False before True."""
    merged: dict[tuple[float, bool], float] = {}
    for p, pair in rewards:
        merged[pair] = merged.get(pair, 0.0) + p
    best = max(merged.values())
    return min(pair for pair, p in merged.items() if p >= best - TIED)


@dataclass(frozen=True)
class ChanceOutcome:
    """One outcome of an action: its probability, the next state (JSON), the reward and done."""

    probability: float
    next_state: list[dict[str, Any]]
    reward: float
    done: bool


def outcomes_with_rewards(program: Any, state: list[dict[str, Any]], action: Any, mission: str, *,
                          call_timeout: float = 2.0, limit: int = MAX_OUTCOMES) -> list[ChanceOutcome]:
    """Every outcome of `action` in `state` under the program, with its reward: `reward` is
    called once per distinct next state (and may itself give several (reward, done) outcomes);
    outcomes that coincide are merged; most probable first. TooManyOutcomes when the product has
    more than `limit` outcomes (sample with `Distribution.sample` instead); OutcomeError (a
    MalformedOutput) when the program breaks a rule; the program's own exceptions and
    `CallTimeout` pass through to the caller, which classifies them."""
    ns = program.namespace
    with timer.limit(call_timeout):
        dist = read_state(program.transition(decode_state(ns, state), action), program.chance)
    merged: dict[str, tuple[float, list[dict[str, Any]]]] = {}
    for p, nxt in dist.enumerate(limit):
        key = state_key(nxt)
        q, _ = merged.get(key, (0.0, nxt))
        merged[key] = (q + p, nxt)
    out: dict[tuple[str, float, bool], ChanceOutcome] = {}
    for key, (p, nxt) in merged.items():
        with timer.limit(call_timeout):
            rewards = read_reward(program.reward(decode_state(ns, state), action, decode_state(ns, nxt), mission),
                                  program.chance)
        for q, (r, done) in rewards:
            tag = (key, r, done)
            seen = out.get(tag)
            out[tag] = ChanceOutcome((seen.probability if seen else 0.0) + p * q, nxt, r, done)
    if len(out) > limit:
        raise TooManyOutcomes(f"the transition has {len(out)} outcomes with their rewards, more than {limit}")
    return sorted(out.values(), key=lambda o: -o.probability)
