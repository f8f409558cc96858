"""Sokoban as a gymnasium environment, registered under wc's gymnasium ids on import."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from wc.envs.sokoban.generator import generate_level
from wc.envs.sokoban.rules import ACTIONS, Board, Cell, Level, step_reward
from wc.envs.sokoban.solver import DEFAULT_SOLVER_BUDGET, Solvability, check_level
from wc.envs.sokoban.xsb import BOARD_CHARS, SHIPPED_SETS, format_level, load_levels, shipped_levels
from wc.errors import InvalidAction, LevelError

DEFAULT_MAX_STEPS = 120


class SokobanEnv(gym.Env):
    """Sokoban (and teleport gates) with gym-sokoban's rewards; see the module docstring.

    `levels`: a shipped set name (`small`, `teleport`), a path to a level file (XSB, or
    Boxoban's `; N` collections), or Level objects; None generates levels from the seed
    (`boxes`, `width`, `height`). reset(seed) plays `level_for(seed)`, level `seed % n` (without
    a seed, one drawn from the env's generator), or the Level in `options["level"]`.
    Observations are the XSB picture of the current position (a Text space; a box on a gate is
    drawn as `$`).

    `check_solvable`: run the bounded breadth-first solver (`solver_budget` states) on every
    level when the env is made; None (the default) checks the shipped sets only, since a real
    collection's levels are mostly beyond such a budget. A level proved unsolvable is a
    LevelError; one the solver cannot decide is "unknown" in `solvability`, never an error."""

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, levels: str | os.PathLike[str] | Sequence[Level] | None = None, *,
                 boxes: int | None = None, width: int | None = None, height: int | None = None,
                 max_steps: int = DEFAULT_MAX_STEPS, check_solvable: bool | None = None,
                 solver_budget: int = DEFAULT_SOLVER_BUDGET, render_mode: str | None = None) -> None:
        if levels is not None and (boxes, width, height) != (None, None, None):
            raise LevelError("boxes, width and height apply to generated levels only, not to a level file")
        if max_steps < 1:
            raise LevelError(f"max_steps must be at least 1, not {max_steps}")
        self.max_steps = int(max_steps)
        self.render_mode = render_mode
        self.generator = None if levels is not None else dict(boxes=boxes or 2, width=width or 7,
                                                             height=height or 7)
        self.levels: list[Level] = []
        self.source = "generated"
        shipped = False
        if isinstance(levels, (str, os.PathLike)):
            name = os.fspath(levels)
            shipped = name in SHIPPED_SETS
            if shipped:
                self.levels, self.source = shipped_levels(name), f"{name}.xsb"
            else:
                self.levels, self.source = load_levels(name), name
        elif levels is not None:
            self.levels, self.source = list(levels), "the given levels"
            if not self.levels:
                raise LevelError("no levels given")
        # per level: the solver's verdict, or None when not checked
        self.solvability: list[Solvability | None] = [None] * len(self.levels)
        if check_solvable if check_solvable is not None else shipped:
            for i, level in enumerate(self.levels):
                verdict = self.solvability[i] = check_level(level, solver_budget)
                if verdict.verdict == "unsolvable":
                    title = f" ({level.title})" if level.title else ""
                    raise LevelError(f"level {i + 1}{title} of {self.source} is {verdict.describe()}",
                                     path=self.source)
        self._generated: dict[int, Level] = {}
        self.action_space = spaces.Discrete(len(ACTIONS))
        self.observation_space = spaces.Text(max_length=65536, min_length=0,
                                             charset=frozenset(BOARD_CHARS | {"\n"}))
        self.level: Level | None = None
        self.board: Board | None = None
        self.player: Cell = (0, 0)
        self.boxes: frozenset[Cell] = frozenset()
        self.step_count = 0

    def level_for(self, seed: int) -> Level:
        """The level that reset(seed) plays."""
        if self.generator is None:
            return self.levels[seed % len(self.levels)]
        if seed not in self._generated:
            if len(self._generated) > 256:
                self._generated.clear()
            self._generated[seed] = generate_level(seed, **self.generator)[0]
        return self._generated[seed]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "level" in options:
            level = options["level"]
        else:
            pick = seed if seed is not None else int(self.np_random.integers(0, 2**31 - 1))
            level = self.level_for(pick)
        self.level = level
        self.board = Board(level)
        self.player, self.boxes = level.player, level.boxes
        self.step_count = 0
        return self._observation(), self._info()

    def step(self, action: int):
        if self.board is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if not self.action_space.contains(action):
            raise InvalidAction(f"Sokoban has no action {action!r}; actions are 0-3 ({', '.join(ACTIONS)})",
                                action=action)
        before = self.boxes
        self.player, self.boxes = self.board.move(self.player, self.boxes, ACTIONS[int(action)])
        reward, terminated = step_reward(self.board.targets, before, self.boxes)
        self.step_count += 1
        truncated = not terminated and self.step_count >= self.max_steps
        return self._observation(), reward, terminated, truncated, self._info()

    def render(self) -> str | None:
        return self._observation() if self.render_mode == "ansi" else None

    def current(self) -> Level:
        """The position now, as a Level (same board, current player and boxes)."""
        assert self.level is not None
        return Level(self.level.walls, self.level.targets, self.boxes, self.player, self.level.gates,
                     self.level.title)

    def _observation(self) -> str:
        return format_level(self.current(), strict=False)

    def _info(self) -> dict[str, Any]:
        assert self.board is not None
        return {"level": self.level.title if self.level else "", "step": self.step_count,
                "boxes_on_targets": len(self.boxes & self.board.targets)}


# gymnasium id -> keyword arguments; the short names in wc.envs point at these
REGISTERED: dict[str, dict[str, Any]] = {
    "WC-Sokoban-v0": {"levels": "small", "max_steps": 60},
    "WC-Sokoban-2Box-v0": {"boxes": 2, "width": 7, "height": 7, "max_steps": 80},
    "WC-Sokoban-3Box-v0": {"boxes": 3, "width": 7, "height": 7, "max_steps": 100},
    "WC-Sokoban-Teleport-v0": {"levels": "teleport", "max_steps": 60},
}


def register_levels(env_id: str, levels: str | os.PathLike[str], **kwargs: Any) -> None:
    """Register a gymnasium id playing the levels of an XSB file (a relative path is taken from
    the current directory now), for `wc learn --env module:EnvId`."""
    name = os.fspath(levels)
    if name not in SHIPPED_SETS:
        name = str(Path(name).resolve())
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point="wc.envs.sokoban:SokobanEnv", kwargs={"levels": name, **kwargs})


for _env_id, _kwargs in REGISTERED.items():
    if _env_id not in gym.registry:
        gym.register(id=_env_id, entry_point="wc.envs.sokoban:SokobanEnv", kwargs=_kwargs)
