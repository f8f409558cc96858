"""Width-based search for return over discrete actions in a deterministic program: IW(1) over
the state's features, then local search around the best sequence, the first action of the best
whole sequence played.

Random rollouts see what is near: in MountainCar or Acrobot every step costs -1 until a goal that
random play almost never reaches, and UCT's mean values cannot tell the actions apart. Width-based
search (Lipovetzky, Ramirez & Geffner 2015, "Classical planning with simulators") explores by
*novelty* instead: a breadth-first search that keeps a state only when it shows a feature value
no earlier state showed (IW(1)), which pumps MountainCar's velocity higher and swings Acrobot's
links further each level until the goal is in the tree. Here the features are the state's fields:

* numbers are cut into `bins` bins per field, each `1 / bins` of the range the field spanned in
  a few random rollouts from the root (bins extend past that range, so new extremes stay novel);
  a field that did not change in them is compared exactly;
* every other field (and whole discrete states: an int is a category, not a quantity) partitions
  novelty, as BFWS partitions it by goal count: the atoms are (discrete fields, number field,
  bin), so in a world with only discrete fields (Taxi, FrozenLake, CliffWalking) IW(1) is an
  exact breadth-first search over its states.

Every candidate is a whole sequence of `horizon` actions, or shorter when it ends the episode
(done), and is scored by its discounted return in the program, so sequences are compared over
the same span (a short sequence in a world of costs is not better for being short). A node IW
keeps is completed by uniform random actions; the rest of the budget goes to *local search*: a
cut of the best sequence at a random step, completed at random (the prefix's states are kept,
so only the new part costs program steps). `init`, the previous decision's best sequence
shifted by one, is scored first, so in a deterministic program a plan never gets worse from
one decision to the next (tree reuse's benefit at the cost of one sequence). The decision is
the best sequence's first action; `value` is its discounted return.

Pure Python, deterministic given the `random.Random`; stops within one program step of its
own `steps`, the caller's `max_steps` or the deadline. An action whose step raises is skipped
(the error goes to `on_error`).
"""
from __future__ import annotations

import heapq
import math
import random as _random
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from wc._planning.result import ERROR, FOUND
from wc._planning.returns import Counter, OnError, ReturnPlan, Step, cut_reason, finish

# features(state) -> the values of a state's fields, flat, in a fixed order (entity by entity)
Features = Callable[[Any], Sequence[Hashable]]


@dataclass(frozen=True)
class WidthSettings:
    """The search's own parameters (its budgets of steps and time come from the caller)."""

    horizon: int = 200        # the length of every candidate sequence (unless it ends the episode)
    steps: int = 4_000        # program steps per decision
    bins: int = 20            # bins per numeric field, over the range a few random rollouts span
    probes: int = 4           # random rollouts from the root that set those ranges
    width_share: float = 0.6  # at most this share of `steps` goes to width-based search; the rest to local search
    repeat: int = 8           # an action is repeated until the state changes cell, at most this many times
    # while every whole sequence scores the same, the width-based search may go on to `explore`
    # times `steps`, and when its tree runs dry, start again with bins half as wide (`refinements` times)
    explore: int = 8
    refinements: int = 3
    gamma: float = 0.99

    algorithm = "iw"
    kind = "discrete"
    replan_every = 1  # the agent plans again after every action

    def search(self, start: Any, actions: Sequence[Any], step: Step, **budget: Any) -> ReturnPlan:
        return search(start, actions, step, **asdict(self), **budget)


WC = WidthSettings()


class _Best:
    """The best whole sequence so far: its actions, what the program predicted after each, and
    the discounted return up to each step (so a cut of it costs nothing to restart from)."""

    __slots__ = ("score", "actions", "trail", "gains")

    def __init__(self) -> None:
        self.score = -math.inf
        self.actions: list[Any] = []
        self.trail: list[tuple[Any, float, bool]] = []
        self.gains: list[float] = []


def search(start: Any, actions: Sequence[Any], step: Step, *, features: Features | None = None,
           horizon: int = WC.horizon, steps: int = WC.steps, bins: int = WC.bins, probes: int = WC.probes,
           width_share: float = WC.width_share, repeat: int = WC.repeat, explore: int = WC.explore,
           refinements: int = WC.refinements, gamma: float = WC.gamma, init: Sequence[Any] | None = None,
           rng: _random.Random | None = None, deadline: float | None = None, max_steps: int | None = None,
           on_error: OnError | None = None) -> ReturnPlan:
    """IW(1) and local search from `start` (module docstring). `features(state)` gives a
    state's numbers and the rest (default: the state itself, a hashable key, as the rest)."""
    started = time.monotonic()
    rng = rng or _random.Random(0)
    random = rng.random
    acts = list(actions)
    width = len(acts)
    hard = steps * max(1, explore) if max_steps is None else min(steps * max(1, explore), max_steps)
    calls = Counter(step, hard, deadline, on_error)
    cap = min(steps, hard)  # the steps this search means to make (more while all sequences score the same)
    lowest = math.inf       # the lowest score of a whole sequence (the best's is best.score)
    feats: Features = features or (lambda key: (key,))
    best = _Best()
    seen: list[Any] = []   # states met by the probes, whose numbers set the bins
    discounts = [gamma ** i for i in range(horizon + 1)]
    failures = 0

    def fail(exc: BaseException, action: Any) -> None:
        nonlocal failures
        failures += 1
        calls.failed(exc, action)

    def play(state: Any, done: bool, prefix: list[Any], trail: list[tuple[Any, float, bool]], gains: list[float],
             plan: Sequence[Any] = (), keep: list[Any] | None = None) -> bool:
        """Complete a sequence (the given prefix, then `plan`, then random actions) to the
        horizon or done; it becomes the best if it scores higher. False when the budget ran out."""
        nonlocal lowest
        prefix, trail, gains = list(prefix), list(trail), list(gains)
        gain = gains[-1] if gains else 0.0
        steps_, most, deadline_at, monotonic = calls.steps, cap, calls.deadline, time.monotonic
        ok = True
        planned = iter(plan)
        while not done and len(prefix) < horizon:
            if steps_ >= most or monotonic() > deadline_at:
                ok = False
                break
            action = next(planned, None)
            if action is None:
                action = acts[int(random() * width)]
            steps_ += 1
            try:
                state, reward, done = step(state, action)
            except Exception as exc:  # noqa: BLE001 - the program is untrusted; timeouts propagate
                fail(exc, action)
                continue  # not available here: another (random) action
            gain += discounts[len(prefix)] * reward
            prefix.append(action)
            trail.append((state, reward, bool(done)))
            gains.append(gain)
            if keep is not None:
                keep.append(state)
        calls.steps = steps_
        if not ok:
            calls.left()
            if prefix and not best.actions:  # cut short, but better than nothing
                best.score, best.actions, best.trail, best.gains = gain, prefix, trail, gains
            return False
        lowest = min(lowest, gain)
        if prefix and gain > best.score:
            best.score, best.actions, best.trail, best.gains = gain, prefix, trail, gains
        return True

    def path(node: int) -> tuple[list[Any], list[tuple[Any, float, bool]], list[float]]:
        """The actions, predictions and gains from the root to a node of the tree."""
        chain = []
        while node > 0:
            chain.append(node)
            node = parents[node]
        chain.reverse()
        return ([edges[n] for n in chain], [(tree_states[n], rewards[n], dones[n]) for n in chain],
                [gains[n] for n in chain])

    # 1. the previous plan, shifted; then a few random rollouts, whose states set the bins
    running = True
    if init:
        running = play(start, False, [], [], [], plan=list(init)[:horizon], keep=seen)
    for _ in range(probes):
        if not running:
            break
        running = play(start, False, [], [], [], keep=seen)
    cut = _binning([feats(s) for s in seen], bins)

    def cell(state: Any) -> list[Hashable]:
        """A state's atoms: (its other fields, a number field, its bin) per number field."""
        values = feats(state)
        numbers = [i for i, x in enumerate(values) if type(x) is float]
        rest = tuple(x for x in values if type(x) is not float)
        if not numbers:
            return [rest]
        return [(rest, i, _bin(values[i], cut.get(i))) for i in numbers]  # type: ignore[arg-type]

    def novelty(singles: list[Hashable]) -> int:
        """1 when a state shows an atom no state showed before, 2 a pair of atoms, else 3 (its
        atoms are recorded as seen)."""
        w = 3
        for atom in singles:
            if atom not in seen1:
                seen1.add(atom)
                w = 1
        for j in range(1, len(singles)):
            for i in range(j):
                pair = (singles[i], singles[j])
                if pair not in seen2:
                    seen2.add(pair)
                    if w > 2:
                        w = 2
        return w

    # 2. width-based search: states of novelty 1 expanded first, then of novelty 2, shallower first;
    # a state of neither is pruned (IW(2), best-first as BFWS); each state kept may be completed
    # at random into a whole sequence below
    seen1: set[Hashable] = set()
    seen2: set[Hashable] = set()
    tree_states, parents, edges, rewards, dones, depths, gains = [start], [-1], [None], [0.0], [False], [0], [0.0]
    kept: list[int] = []
    usual = share = int(width_share * cap)
    rows = [feats(s) for s in seen]
    for level in range(refinements + 1):
        if not running:
            break
        if level:  # the tree ran dry and told the actions apart nowhere: again, with bins half as wide
            if lowest < best.score or not cut:
                break
            cut = _binning(rows, bins << level)
            seen1.clear()
            seen2.clear()
        cells = {0: cell(start)}
        novelty(cells[0])
        heap = [(1, 0, 0)]  # (novelty, depth, node)
        while heap and running:
            _, _, node = heapq.heappop(heap)
            for action in acts:
                # the action repeated until the state leaves its parent's cell (at most `repeat`
                # times): one step of a slow world changes no bin, and would be pruned
                at, done = node, False
                atoms = cells[node]
                for _ in range(repeat):
                    if calls.steps >= usual:
                        # while every whole sequence so far scores the same, nothing tells the
                        # actions apart yet: the width-based search goes on (to `explore` times the
                        # steps), and stops as soon as something does
                        share = max(usual, hard - (cap - usual)) if lowest == best.score else usual
                    if calls.steps >= share or not calls.left():
                        running = False
                        break
                    calls.steps += 1
                    try:
                        child, reward, done = step(tree_states[at], action)
                    except Exception as exc:  # noqa: BLE001
                        fail(exc, action)
                        break
                    index = len(tree_states)
                    tree_states.append(child)
                    parents.append(at)
                    edges.append(action)
                    rewards.append(reward)
                    dones.append(bool(done))
                    depths.append(depths[at] + 1)
                    gains.append(gains[at] + discounts[depths[at]] * reward)
                    at = index
                    if done or depths[at] >= horizon:
                        break
                    atoms = cell(child)
                    if atoms != cells[node]:
                        break
                if not running:
                    break
                if at == node:
                    continue  # the action fails here
                if done or depths[at] >= horizon:
                    lowest = min(lowest, gains[at])
                    if gains[at] > best.score:
                        best.score = gains[at]
                        best.actions, best.trail, best.gains = path(at)
                    continue
                w = novelty(atoms)
                if w > 2:
                    continue
                cells[at] = atoms
                kept.append(at)
                heapq.heappush(heap, (w, depths[at], at))
    cap = min(hard, max(cap, calls.steps + cap - usual))  # local search gets its share after an extension
    running = calls.left() and calls.steps < cap


    # 3. local search until the budget ends, in turn: a kept state completed at random; the best
    # sequence cut at a random step and completed at random; the best sequence with one action
    # changed and the rest of it played after (a shorter way to a goal, a better swing)
    turn = 0
    while running and calls.steps < cap and calls.left():
        turn += 1
        kind = turn % 3
        if kind == 1 and kept or not best.actions:
            if kept:
                index = kept[int(random() * len(kept))]
                running = play(tree_states[index], False, *path(index))
            else:
                running = play(start, False, [], [], [])
            continue
        k = int(random() * len(best.actions))
        state = best.trail[k - 1][0] if k else start
        rest: list[Any] = []
        if kind == 0 and width > 1:
            other = int(random() * (width - 1))
            other += other >= acts.index(best.actions[k]) if best.actions[k] in acts else 0
            rest = [acts[other]] + best.actions[k + 1:]
        running = play(state, False, best.actions[:k], best.trail[:k], best.gains[:k], plan=rest)

    plan = ReturnPlan(gamma=gamma, steps=calls.steps, rollouts=turn, planner="iw")
    if best.actions:
        plan.action, plan.actions, plan.predictions = best.actions[0], best.actions, best.trail
        plan.value, plan.status = best.score, FOUND
        # running to its own `steps` is how it ends; the caller's step budget or deadline is a cut
        if calls.cut == "time" or (max_steps is not None and calls.steps >= max_steps):
            plan.cut = calls.cut or "steps"
            plan.reason = cut_reason(plan.cut, max_steps)
    elif not width:
        plan.status, plan.reason = ERROR, "no actions to choose from"
    elif calls.steps and failures == calls.steps:
        plan.status, plan.reason = ERROR, "every action fails from the start"
    else:
        calls.stopped(plan, "no sequence was played")
    return finish(plan, started)


def _binning(rows: list[Sequence[Hashable]], bins: int) -> dict[int, tuple[float, float]]:
    """Per position of a float field, (low, bin width): 1/`bins` of the range its values span in
    `rows` (a field that did not change there is compared exactly)."""
    spans: dict[int, list[float]] = {}
    for row in rows:
        for i, x in enumerate(row):
            if type(x) is float and x - x == 0.0:
                span = spans.setdefault(i, [x, x])
                if x < span[0]:
                    span[0] = x
                elif x > span[1]:
                    span[1] = x
    return {i: (lo, (hi - lo) / bins) for i, (lo, hi) in spans.items() if hi > lo}


def _bin(x: float, cut: tuple[float, float] | None) -> Hashable:
    """A float's bin (itself when its field has no bins, or it is not finite)."""
    if cut is None or x - x != 0.0:
        return x
    return math.floor((x - cut[0]) / cut[1])
