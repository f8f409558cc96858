"""Breadth-first search with state hashing: the shortest plan in a deterministic model, and a
complete search (exhausted means no plan within the depth limit)."""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable

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


def bfs(start: Hashable, actions: Actions, expand: Expand, *, max_nodes: int = 100_000, max_depth: int = 100,
        deadline: float | None = None, on_error: OnError | None = None) -> PlanResult:
    """Search for an action sequence whose last step has reward > 0 and done.

    A step that says done without reward is a dead end. `expand` may raise: that edge is
    skipped and `on_error` sees the exception.
    """
    started = time.monotonic()
    parents: dict[Hashable, tuple | None] = {start: None}
    frontier: deque[tuple[Hashable, int]] = deque([(start, 0)])
    calls = Expansions(expand, max_nodes, deadline, on_error)
    deepest = 0
    cut = False

    def result(status, reason, found=False, path=((), ())) -> PlanResult:
        return PlanResult(found, list(path[0]), list(path[1]), nodes=calls.nodes, reason=reason, status=status,
                          states=len(parents), depth=deepest, seconds=time.monotonic() - started, planner="bfs")

    while frontier:
        key, depth = frontier.popleft()
        if depth >= max_depth:
            cut = True
            continue
        deepest = max(deepest, depth)
        try:
            for action, child, reward, done in calls.of(key, actions):
                if reward > 0 and done:
                    path = unwind(parents, key)
                    return result(FOUND, "", True, (path[0] + [action], path[1] + [(child, float(reward), True)]))
                if done or child in parents:
                    continue
                parents[child] = (key, action, float(reward), bool(done))
                frontier.append((child, depth + 1))
        except BudgetSpent as spent:
            return result(BUDGET, str(spent))
    return result(EXHAUSTED, f"no plan within {max_depth} steps: all {len(parents)} reachable states searched"
                  if cut else f"no plan: all {len(parents)} reachable states searched")
