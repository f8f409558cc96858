"""Sokoban's rules: positions, moves (pushes and teleport gates) and gym-sokoban's rewards."""
from __future__ import annotations

from dataclasses import dataclass, field

Cell = tuple[int, int]

ACTIONS = ("up", "down", "left", "right")
DELTAS: dict[str, Cell] = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}
MISSION = "push every box onto a target"

REWARD_STEP = -0.1
REWARD_BOX_ON_TARGET = 1.0
REWARD_BOX_OFF_TARGET = -1.0
REWARD_FINISHED = 10.0


@dataclass(frozen=True)
class Level:
    """One Sokoban position: the static board (walls, targets, gates) and where things are."""

    walls: frozenset[Cell]
    targets: frozenset[Cell]
    boxes: frozenset[Cell]
    player: Cell
    gates: tuple[tuple[Cell, str], ...] = ()  # (cell, pair letter), sorted
    title: str = field(default="", compare=False)

    @property
    def gate_pairs(self) -> dict[Cell, str]:
        return dict(self.gates)

    def cells(self) -> set[Cell]:
        return set(self.walls) | set(self.targets) | set(self.boxes) | {self.player} | {c for c, _ in self.gates}

    @property
    def solved(self) -> bool:
        return self.boxes <= self.targets


class Board:
    """The static part of a level and the rules that move the player and boxes on it."""

    def __init__(self, level: Level) -> None:
        self.walls = level.walls
        self.targets = level.targets
        by_pair: dict[str, list[Cell]] = {}
        for cell, pair in level.gates:
            by_pair.setdefault(pair, []).append(cell)
        self.twin: dict[Cell, Cell] = {}
        for cells in by_pair.values():
            if len(cells) == 2:
                self.twin[cells[0]], self.twin[cells[1]] = cells[1], cells[0]

    def move(self, player: Cell, boxes: frozenset[Cell], action: str) -> tuple[Cell, frozenset[Cell]]:
        """The player's position and the boxes after one action (both unchanged when blocked)."""
        dx, dy = DELTAS[action]
        ahead = (player[0] + dx, player[1] + dy)
        if ahead in self.walls:
            return player, boxes
        if ahead in boxes:
            beyond = (ahead[0] + dx, ahead[1] + dy)
            if beyond in self.walls or beyond in boxes:
                return player, boxes
            boxes = (boxes - {ahead}) | {beyond}
        twin = self.twin.get(ahead)
        if twin is not None and twin not in boxes:
            return twin, boxes
        return ahead, boxes


def step_reward(targets: frozenset[Cell], boxes_before: frozenset[Cell],
                boxes_after: frozenset[Cell]) -> tuple[float, bool]:
    """gym-sokoban's reward for one step, and whether every box is now on a target."""
    before = len(boxes_before & targets)
    after = len(boxes_after & targets)
    reward = REWARD_STEP
    if after > before:
        reward += REWARD_BOX_ON_TARGET
    elif after < before:
        reward += REWARD_BOX_OFF_TARGET
    done = after == len(boxes_after)
    if done:
        reward += REWARD_FINISHED
    return round(reward, 6), done
