"""Shortening a found plan by shortcuts between its own states.

A greedy or width-based search returns the first plan it meets, detours included (Sokoban's
best-first plans walk around between pushes), and a step limit then cuts plans that a shorter
path would have finished. From each state of the plan, a small breadth-first search in the same
model looks for a later state of the plan, or the goal, that it reaches in fewer steps than the
plan does; the path with the largest saving replaces that stretch, and the pass goes on from
where it lands. A state the plan visits twice is a loop, dropped at no cost. The result is a plan
in the same model, never longer than the one given, with its predictions. Pure, like the
planners: over keys and an expand function.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from wc._planning.result import Actions, BudgetSpent, Expand, Expansions, OnError, unwind

Prediction = tuple[Any, float, bool]


@dataclass
class Shortened:
    actions: list[str]
    predictions: list[Prediction]
    nodes: int = 0
    cuts: list[tuple[int, int, int]] = field(default_factory=list)  # (from step, to step, steps instead)


def shortcut(start: Hashable, actions: Actions, expand: Expand, plan: list[str], predictions: list[Prediction], *,
             nodes_per_state: int = 400, max_nodes: int = 100_000, deadline: float | None = None,
             on_error: OnError | None = None) -> Shortened:
    """`plan` from `start` (its `predictions` as a planner returns them: the key, reward and done
    after each action) with shortcuts spliced in; each search from a state of the plan expands
    at most `nodes_per_state` states, all of them together `max_nodes`."""
    keys: list[Hashable] = [start] + [p[0] for p in predictions]
    n = len(plan)
    last = {key: i for i, key in enumerate(keys)}  # where the plan is last at each of its states
    out = Shortened([], [])
    i = 0
    while i < n:
        if last[keys[i]] > i:  # a loop back to this state: skip it
            out.cuts.append((i, last[keys[i]], 0))
            i = last[keys[i]]
            continue
        best = _search(keys[i], i, n, last, actions, expand, min(nodes_per_state, max_nodes - out.nodes),
                       deadline, on_error, out)
        if best is None:
            out.actions.append(plan[i])
            out.predictions.append(predictions[i])
            i += 1
            continue
        j, path_actions, path_predictions = best
        out.cuts.append((i, j, len(path_actions)))
        out.actions += path_actions
        out.predictions += path_predictions
        i = j
    return out


def _search(origin: Hashable, i: int, n: int, last: dict[Hashable, int], actions: Actions, expand: Expand,
            budget: int, deadline: float | None, on_error: OnError | None,
            out: Shortened) -> tuple[int, list[str], list[Prediction]] | None:
    """The path from the plan's state i to the later plan state (n: the goal) that saves the most
    steps, within `budget` expansions; None when none saves any."""
    if budget <= 0:
        return None
    parents: dict[Hashable, tuple | None] = {origin: None}
    frontier: deque[tuple[Hashable, int]] = deque([(origin, 0)])
    calls = Expansions(expand, budget, deadline, on_error)
    best: tuple[int, list[str], list[Prediction]] | None = None
    saving = 0
    try:
        while frontier:
            key, depth = frontier.popleft()
            if depth + 1 + saving >= n - i:  # no deeper path can save more than the best so far
                break
            for action, child, reward, done in calls.of(key, actions):
                reached = n if reward > 0 and done else last.get(child, -1)
                if reached - i - (depth + 1) > saving:
                    saving = reached - i - (depth + 1)
                    path = unwind(parents, key)
                    best = (reached, path[0] + [action], path[1] + [(child, float(reward), bool(done))])
                if done or child in parents:
                    continue
                parents[child] = (key, action, float(reward), bool(done))
                frontier.append((child, depth + 1))
    except BudgetSpent:
        pass
    finally:
        out.nodes += calls.nodes
    return best
