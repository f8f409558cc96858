"""A bounded breadth-first solver: the shortest solution, or what it searched without one (which
says nothing about the level when the budget, not the level, ran out)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

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


Verdict = Literal["solvable", "unsolvable", "unknown"]


@dataclass(frozen=True)
class Solvability:
    """What the bounded check says of a level: solvable (with its shortest solution's length),
    unsolvable (every reachable state searched), or unknown (the budget ran out first, which says
    nothing about the level: real collections hold levels far beyond a breadth-first budget)."""

    verdict: Verdict
    moves: int | None
    states: int
    budget: int

    def describe(self) -> str:
        if self.verdict == "solvable":
            return f"solvable in {self.moves} moves ({self.states} states searched)"
        if self.verdict == "unsolvable":
            return f"unsolvable: all {self.states} reachable states searched"
        return f"unknown: no solution within the solver's budget of {self.budget} states"


def check_level(level: Level, budget: int = DEFAULT_SOLVER_BUDGET) -> Solvability:
    """The bounded breadth-first solver's verdict on a level."""
    result = solve(level, budget)
    if result.actions is not None:
        return Solvability("solvable", len(result.actions), result.states, budget)
    return Solvability("unsolvable" if result.exhausted else "unknown", None, result.states, budget)


def require_solution(level: Level, where: str, budget: int = DEFAULT_SOLVER_BUDGET) -> list[str]:
    """The shortest solution, or a LevelError naming `where`."""
    result = solve(level, budget)
    if result.actions is None:
        how = (f"all {result.states} reachable states searched" if result.exhausted
               else f"budget of {budget} states spent")
        raise LevelError(f"{where}: no solution found within the solver's budget ({how})")
    return result.actions
