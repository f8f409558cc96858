"""Breadth-first search with state hashing: shortest plans in a deterministic model."""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Sequence, Union


@dataclass
class PlanResult:
    """A plan to the goal, or the reason none was found within the budget."""

    found: bool
    actions: list[str] = field(default_factory=list)
    # what the model predicts after each action: (state key, reward, done)
    predictions: list[tuple[str, float, bool]] = field(default_factory=list)
    nodes: int = 0
    reason: str = ""
    first_error: dict[str, Any] | None = None


# expand(state, action) -> (next_state, key, reward, done)
Expand = Callable[[Any, str], tuple[Any, Hashable, float, bool]]
# a fixed action list, or a function giving the actions worth trying in a state
Actions = Union[Sequence[str], Callable[[Any], Sequence[str]]]


def bfs(
    start: Any,
    start_key: Hashable,
    actions: Actions,
    expand: Expand,
    *,
    max_nodes: int = 20_000,
    max_depth: int = 100,
    deadline: float | None = None,
    on_error: Callable[[BaseException, str], None] | None = None,
) -> PlanResult:
    """Search for an action sequence whose last step has reward > 0 and done.

    A state whose step says done without reward is a dead end. `expand` may raise: that edge
    is skipped and `on_error` sees the exception (programs are fallible).
    """
    parents: dict[Hashable, tuple[Hashable, str, float, bool] | None] = {start_key: None}
    frontier: deque[tuple[Any, Hashable, int]] = deque([(start, start_key, 0)])
    nodes = 0
    while frontier:
        state, key, depth = frontier.popleft()
        if depth >= max_depth:
            continue
        for action in (actions(state) if callable(actions) else actions):
            if nodes >= max_nodes:
                return PlanResult(False, nodes=nodes, reason=f"node budget of {max_nodes} spent")
            if deadline is not None and time.monotonic() > deadline:
                return PlanResult(False, nodes=nodes, reason="time budget spent")
            nodes += 1
            try:
                nxt, nkey, reward, done = expand(state, action)
            except Exception as exc:  # noqa: BLE001 - the program is untrusted; timeouts propagate
                if on_error is not None:
                    on_error(exc, action)
                continue
            if reward > 0 and done:
                actions_out, predictions = _unwind(parents, key)
                actions_out.append(action)
                predictions.append((str(nkey), float(reward), bool(done)))
                return PlanResult(True, actions_out, predictions, nodes=nodes)
            if done or nkey in parents:
                continue
            parents[nkey] = (key, action, float(reward), bool(done))
            frontier.append((nxt, nkey, depth + 1))
    return PlanResult(False, nodes=nodes, reason="no plan exists in the model within the depth limit")


def _unwind(parents, key) -> tuple[list[str], list[tuple[str, float, bool]]]:
    actions: list[str] = []
    predictions: list[tuple[str, float, bool]] = []
    while parents[key] is not None:
        prev, action, reward, done = parents[key]
        actions.append(action)
        predictions.append((str(key), reward, done))
        key = prev
    actions.reverse()
    predictions.reverse()
    return actions, predictions
