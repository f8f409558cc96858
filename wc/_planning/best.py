"""Greedy best-first search on an estimate and the reward's own progress, with dead states pruned.

For worlds where blind and width-based search drown (Sokoban rooms whose solutions need dozens of
pushes), a trusted domain hint may give `estimate(key) -> float | None`: how far a state looks
from the goal (lower is closer), or None for a state from which the goal is provably out of reach
(a box in a corner without a target), which is pruned. States are expanded in order of (estimate,
more reward progress first, shallower first): among states the estimate cannot tell apart the
search is breadth-first, so the walks between the steps that matter stay short. Reward progress
is counted as in `width.py`: a step above the usual step reward (a box onto a target) raises the
level, a step below it lowers it. Without an estimate the search is best-first on that progress
alone (a goal count from the program's own reward).

Pruning makes the search incomplete by design: its "exhausted" only says that nothing was found
among the states the hint let through, so the caller decides what that means (wc's planner falls
back to a search without the hint).

With a `weight` w, states are ordered by depth + w · estimate instead (weighted A*): plans come
out shorter, at more expansions, which is what a plan too long for the steps left needs. With a
`bound`, a state whose depth plus estimate exceeds it is pruned too: the estimate counts what
must still happen (Sokoban: pushes, a step each), so no plan within the bound is lost by it.
"""
from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any

from wc._planning.result import (
    BUDGET,
    EXHAUSTED,
    FOUND,
    Actions,
    BudgetSpent,
    Expand,
    Expansions,
    OnError,
    PlanResult,
    unwind,
)

Estimate = Callable[[Any], "float | None"]


def best_first(start: Hashable, actions: Actions, expand: Expand, *, max_nodes: int = 100_000,
               max_depth: int = 100, deadline: float | None = None, on_error: OnError | None = None,
               estimate: Estimate | None = None, weight: float | None = None,
               bound: int | None = None) -> PlanResult:
    """Search for an action sequence whose last step has reward > 0 and done; see the module
    docstring for the order (and `weight`, `bound`). `estimate` may raise: the state is then
    kept with no estimate."""
    started = time.monotonic()
    # key -> (parent key, action, reward, done, depth, level)
    parents: dict[Hashable, tuple[Any, ...] | None] = {start: None}
    base: float | None = None
    calls = Expansions(expand, max_nodes, deadline, on_error)
    seq = deepest = pruned = 0
    cut = False

    def result(status, reason, found=False, path=((), ())) -> PlanResult:
        return PlanResult(found, list(path[0]), list(path[1]), nodes=calls.nodes, reason=reason, status=status,
                          states=len(parents), depth=deepest, seconds=time.monotonic() - started,
                          planner="best-first")

    h0 = _value(estimate, start)
    if h0 is _PRUNED:
        return result(EXHAUSTED, "no plan: the hint marks the start as dead")
    heap: list = [(h0, 0, 0, 0, start)]
    closed: set = set()  # expanded states are not reopened: a shorter way to one is not worth its calls
    while heap:
        _h, level, depth, _, key = heapq.heappop(heap)
        level = -level
        record = parents[key]
        if key in closed or (record is not None and record[4] != depth):
            continue  # expanded already, or reached by a shorter way after this entry was queued
        closed.add(key)
        if depth >= max_depth:
            cut = True
            continue
        deepest = max(deepest, depth)
        children = []
        try:
            for action, child, reward, done in calls.of(key, actions):
                if reward > 0 and done:
                    path = unwind(parents, key)
                    return result(FOUND, "", True, (path[0] + [action], path[1] + [(child, float(reward), True)]))
                if done or child == key:
                    continue
                children.append((action, child, float(reward)))
        except BudgetSpent as spent:
            return result(BUDGET, str(spent))
        if not children:
            continue
        if base is None:
            base = Counter(r for _, _, r in children).most_common(1)[0][0]
        child_depth = depth + 1
        for action, child, reward in children:
            if child in parents:
                known = parents[child]
                if known is None or known[4] <= child_depth or known[5] is _PRUNED or child in closed:
                    continue
            child_level = level + (1 if reward > base + 1e-9 else -1 if reward < base - 1e-9 else 0)
            h = _value(estimate, child)
            if h is not _PRUNED and bound is not None and child_depth + h > bound:
                h = _PRUNED  # cannot reach the goal within the bound
            if h is _PRUNED:
                parents[child] = (key, action, reward, False, child_depth, _PRUNED)
                pruned += 1
                continue
            parents[child] = (key, action, reward, False, child_depth, child_level)
            seq += 1
            priority = h if weight is None else child_depth + weight * (h or 0.0)  # h is not None here
            heapq.heappush(heap, (priority, -child_level, child_depth, seq, child))
    what = f"{len(parents)} states, {pruned} of them pruned as dead" if pruned else f"{len(parents)} states"
    if cut:
        return result(EXHAUSTED, f"no plan within {max_depth} steps among the states searched ({what})")
    return result(EXHAUSTED, f"no plan among the states searched ({what})")


_PRUNED: Any = None  # the estimate of a dead state


def _value(estimate: Estimate | None, key: Any) -> float | None:
    """The estimate of a state (0.0 without a hint, or when the hint fails on it)."""
    if estimate is None:
        return 0.0
    try:
        h = estimate(key)
    except Exception:  # noqa: BLE001 - a hint that cannot read a state does not decide it
        return 0.0
    return None if h is None else float(h)
