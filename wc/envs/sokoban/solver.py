"""A bounded breadth-first solver: the shortest solution, or what it searched without one (which
says nothing about the level when the budget, not the level, ran out)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from wc.envs.sokoban.rules import ACTIONS, Board, Cell, Level
from wc.errors import LevelError

DEFAULT_SOLVER_BUDGET = 100_000


@dataclass
class Solution:
    """What the bounded breadth-first solver found: the shortest plan, or None."""

    actions: list[str] | None
    states: int           # distinct states reached
    exhausted: bool       # every reachable state was seen (no budget cut)


def solve(level: Level, budget: int = DEFAULT_SOLVER_BUDGET) -> Solution:
    """Breadth-first search over (player, boxes) for the shortest action sequence that puts
    every box on a target, within `budget` distinct states."""
    board = Board(level)
    start = (level.player, level.boxes)
    parents: dict[tuple[Cell, frozenset[Cell]], tuple[Any, str] | None] = {start: None}
    frontier = deque([start])
    while frontier:
        state = frontier.popleft()
        player, boxes = state
        for action in ACTIONS:
            nxt = board.move(player, boxes, action)
            if nxt in parents:
                continue
            parents[nxt] = (state, action)
            if nxt[1] != boxes and nxt[1] <= level.targets:
                plan = [action]
                back = parents[state]
                while back is not None:
                    plan.append(back[1])
                    back = parents[back[0]]
                plan.reverse()
                return Solution(plan, len(parents), False)
            if len(parents) >= budget:
                return Solution(None, len(parents), False)
            frontier.append(nxt)
    return Solution(None, len(parents), True)


def require_solution(level: Level, where: str, budget: int = DEFAULT_SOLVER_BUDGET) -> list[str]:
    """The shortest solution, or a LevelError naming `where`."""
    result = solve(level, budget)
    if result.actions is None:
        how = (f"all {result.states} reachable states searched" if result.exhausted
               else f"budget of {budget} states spent")
        raise LevelError(f"{where}: no solution found within the solver's budget ({how})")
    return result.actions
