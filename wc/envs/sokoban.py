"""Sokoban as a gymnasium environment, with wc's teleport-gate variant.

No maintained gymnasium package exists (gym-sokoban targets old gym), so wc implements the game
here and registers it with gymnasium on import.

Rules (classic Sokoban)
    Actions are `up`, `down`, `left`, `right` (gymnasium indices 0-3); x grows rightward,
    y downward. The player moves one cell onto floor, a target or a gate; a wall stops it (nothing
    moves). Moving into a box pushes that one box a cell further when the cell beyond it holds no
    wall and no box; otherwise nothing moves. Boxes are never pulled.

Rewards (gym-sokoban's)
    -0.1 every step; +1 when a push puts a box onto a target; -1 when a push takes a box off a
    target; +10 more, and the episode terminates, when every box is on a target. The episode is
    truncated (gymnasium's `truncated`) after `max_steps` steps.

Teleport gates (wc's own rule; the paper's variant is not public)
    Gates come in pairs named by a letter. Player and boxes enter a gate like floor. When a move
    ends with the player entering a gate (by walking, or by pushing a box off it), the player is
    moved to the twin gate of the same pair, unless a box stands on the twin: then the player
    stays on the gate it entered. Arriving on the twin does not teleport again, and a move that
    is blocked does not teleport. Boxes never teleport: a box pushed onto a gate stays there.
    Teleporting adds no reward. A gate is never also a target.

Level text (XSB)
    `#` wall, `@` player, `+` player on a target, `$` box, `*` box on a target, `.` target,
    space floor (`-` and `_` are read as floor too). wc's extension for gates: a lowercase letter
    `a`-`z` is a gate of the pair named by that letter (each letter appears exactly twice in a
    level), the uppercase letter is the player standing on such a gate. A box on a gate has no
    character: levels cannot start with one (state pictures draw it as `$`). The letters make
    the alternative `p`/`P`/`b`/`B` notation unavailable.

    A file holds one or more levels. A board line is one whose first character other than
    floor is `#`; a run of board lines is a level. Blank lines, `;` comments and other text
    (`Title: ...`) separate levels; the last such text line before a level is its title.

Levels of an environment: a level file (or a shipped set: `small`, `teleport`), where reset(seed)
plays level `seed % n`; or levels generated from the seed (`boxes`, `width`, `height`), built by
playing the game backwards (pulls) from the solved state, so each is solvable by construction.
Levels from files are checked with a bounded breadth-first solver when the environment is made.
"""
from __future__ import annotations

import importlib.resources
import os
import random
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import gymnasium as gym
from gymnasium import spaces

from wc.envs.api import load as load_api_module
from wc.envs.base import EnvAdapter, Step
from wc.errors import InvalidAction, LevelError, UnknownEnvironment, WcError
from wc.values import State

Cell = tuple[int, int]

ACTIONS = ("up", "down", "left", "right")
DELTAS: dict[str, Cell] = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}
MISSION = "push every box onto a target"
API = load_api_module("sokoban", 1)

REWARD_STEP = -0.1
REWARD_BOX_ON_TARGET = 1.0
REWARD_BOX_OFF_TARGET = -1.0
REWARD_FINISHED = 10.0

DEFAULT_MAX_STEPS = 120
DEFAULT_SOLVER_BUDGET = 100_000
SHIPPED_SETS = ("small", "teleport")

_FLOOR_CHARS = " -_"
_GATE_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_BOARD_CHARS = frozenset("#@+$*." + _FLOOR_CHARS + _GATE_LETTERS + _GATE_LETTERS.upper())


# --------------------------------------------------------------------------- levels


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


# --------------------------------------------------------------------------- XSB text


def parse_level(rows: Sequence[str], title: str = "", where: str = "level") -> Level:
    """One level from its board lines; `where` names it in errors."""
    walls: set[Cell] = set()
    targets: set[Cell] = set()
    boxes: set[Cell] = set()
    players: list[Cell] = []
    gates: list[tuple[Cell, str]] = []
    for y, row in enumerate(rows):
        for x, ch in enumerate(row.rstrip("\n")):
            cell = (x, y)
            if ch in _FLOOR_CHARS:
                continue
            if ch == "#":
                walls.add(cell)
            elif ch == "@":
                players.append(cell)
            elif ch == "+":
                players.append(cell)
                targets.add(cell)
            elif ch == "$":
                boxes.add(cell)
            elif ch == "*":
                boxes.add(cell)
                targets.add(cell)
            elif ch == ".":
                targets.add(cell)
            elif ch in _GATE_LETTERS:
                gates.append((cell, ch))
            elif ch in _GATE_LETTERS.upper():
                gates.append((cell, ch.lower()))
                players.append(cell)
            else:
                raise LevelError(f"{where}: unexpected character {ch!r} in row {y + 1}")
    if len(players) != 1:
        raise LevelError(f"{where}: a level needs exactly one player (@, + or an uppercase gate letter), "
                         f"found {len(players)}")
    if not boxes:
        raise LevelError(f"{where}: the level has no box")
    if len(boxes) != len(targets):
        raise LevelError(f"{where}: {len(boxes)} boxes but {len(targets)} targets; they must be equal")
    counts: dict[str, int] = {}
    for _, pair in gates:
        counts[pair] = counts.get(pair, 0) + 1
    odd = sorted(p for p, n in counts.items() if n != 2)
    if odd:
        raise LevelError(f"{where}: gate {odd[0]!r} appears {counts[odd[0]]} times; each gate letter must "
                         "appear exactly twice (a pair)")
    level = Level(frozenset(walls), frozenset(targets), frozenset(boxes), players[0], tuple(sorted(gates)), title)
    if level.solved:
        raise LevelError(f"{where}: every box is on a target already")
    _check_enclosed(level, where)
    return level


def _check_enclosed(level: Level, where: str) -> None:
    """The player must not be able to walk off the board."""
    cells = level.cells()
    width = max(x for x, _ in cells) + 1
    height = max(y for _, y in cells) + 1
    twin = Board(level).twin
    seen = {level.player}
    todo = [level.player]
    while todo:
        x, y = todo.pop()
        if not (0 < x < width - 1 and 0 < y < height - 1):
            raise LevelError(f"{where}: the walls do not enclose the player (it can walk off the board at "
                             f"x={x}, y={y})")
        nexts = [(x + dx, y + dy) for dx, dy in DELTAS.values()]
        if (x, y) in twin:
            nexts.append(twin[(x, y)])
        for n in nexts:
            if n not in seen and n not in level.walls:
                seen.add(n)
                todo.append(n)


def format_level(level: Level, *, strict: bool = True) -> str:
    """The XSB picture of a level or state. A box on a gate has no XSB character: `strict`
    refuses it, otherwise it is drawn as `$` (the gate is hidden under the box)."""
    return draw(level.walls, level.targets, level.boxes, level.player, level.gate_pairs, strict=strict)


def draw(walls: Iterable[Cell], targets: Iterable[Cell], boxes: Iterable[Cell], player: Cell | None,
         gates: dict[Cell, str], *, strict: bool = False) -> str:
    walls, targets, boxes = set(walls), set(targets), set(boxes)
    cells = walls | targets | boxes | set(gates) | ({player} if player is not None else set())
    if not cells:
        return ""
    width = max(x for x, _ in cells) + 1
    height = max(y for _, y in cells) + 1
    rows = [[" "] * width for _ in range(height)]
    for x, y in cells:
        if x < 0 or y < 0:
            continue
        cell = (x, y)
        if cell in walls:
            ch = "#"
        elif cell in boxes:
            if cell in gates and strict:
                raise LevelError(f"a box on a gate (x={x}, y={y}) has no XSB character")
            ch = "*" if cell in targets else "$"
        elif cell == player:
            ch = gates[cell].upper() if cell in gates else ("+" if cell in targets else "@")
        elif cell in gates:
            ch = gates[cell]
        else:
            ch = "."
        rows[y][x] = ch
    return "\n".join("".join(r).rstrip() for r in rows)


def write_xsb(levels: Iterable[Level]) -> str:
    """Levels as XSB text: each preceded by a `;` title line when it has a title, separated by
    blank lines."""
    parts = []
    for level in levels:
        text = format_level(level)
        parts.append((f"; {level.title}\n" if level.title else "") + text)
    return "\n\n".join(parts) + "\n"


def _is_board_line(line: str) -> bool:
    return line.lstrip(_FLOOR_CHARS).startswith("#")


def read_xsb(text: str, source: str = "<text>") -> list[Level]:
    """Every level in XSB text; errors name `source`, the level's number and its first line."""
    levels: list[Level] = []
    rows: list[str] = []
    start = 0
    title = ""
    pending_title = ""

    def finish() -> None:
        nonlocal rows
        if rows:
            where = f"level {len(levels) + 1} of {source} (line {start})"
            levels.append(parse_level(rows, title, where))
            rows = []

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if line and _is_board_line(line):
            bad = sorted(set(line) - _BOARD_CHARS)
            if bad:
                raise LevelError(f"{source}, line {number}: unexpected character {bad[0]!r} in a level "
                                 "(XSB: # @ + $ * . space, gates a-z / A-Z)")
            if not rows:
                start, title, pending_title = number, pending_title, ""
            rows.append(line)
            continue
        finish()
        stripped = line.strip()
        if stripped.startswith(";"):
            pending_title = stripped.lstrip(";").strip() or pending_title
        elif stripped:
            key, sep, value = stripped.partition(":")
            pending_title = value.strip() if sep and key.strip().lower() == "title" else stripped
    finish()
    return levels


def load_levels(path: str | os.PathLike[str]) -> list[Level]:
    """The levels of an XSB file; clear errors for a missing, unreadable or empty file."""
    file = Path(path)
    try:
        text = file.read_text()
    except FileNotFoundError:
        raise LevelError(f"level file {str(path)!r} not found (shipped level sets: {', '.join(SHIPPED_SETS)})") \
            from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LevelError(f"cannot read level file {str(path)!r}: {exc}") from None
    levels = read_xsb(text, source=str(path))
    if not levels:
        raise LevelError(f"level file {str(path)!r} holds no level (a level is a block of lines of # @ + $ * . "
                         "and spaces)")
    return levels


def shipped_levels(name: str) -> list[Level]:
    """A level set that ships with wc (`small`, `teleport`)."""
    if name not in SHIPPED_SETS:
        raise LevelError(f"no shipped level set {name!r} (shipped: {', '.join(SHIPPED_SETS)})")
    text = importlib.resources.files("wc.envs").joinpath("sokoban_levels", f"{name}.xsb").read_text()
    return read_xsb(text, source=f"{name}.xsb")


# --------------------------------------------------------------------------- solver


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


# --------------------------------------------------------------------------- generator


_DIRS: tuple[Cell, ...] = tuple(DELTAS.values())


def generate_level(seed: int, *, boxes: int = 2, width: int = 7, height: int = 7, min_moves: int | None = None,
                   max_states: int = 5_000, attempts: int = 500) -> tuple[Level, list[str]]:
    """A random level and its shortest solution, determined by the arguments alone.

    An open room gets a few random inner walls; boxes start on random targets and the player
    plays backwards (moves that may pull the box behind it) from that solved state, so every
    position reached is solvable. The position with the most boxes off target, farthest from
    the targets, becomes the level. It is kept when its shortest solution has at least
    `min_moves` moves (default 2 + 4 per box: random play rarely solves it) and the
    breadth-first solver needed at most `max_states` states (a planner's budget suffices)."""
    if boxes < 1 or width < 4 or height < 4:
        raise LevelError(f"cannot generate a {width}x{height} room with {boxes} boxes (need boxes >= 1, "
                         "width and height >= 4)")
    if (width - 2) * (height - 2) < 2 * boxes + 4:
        raise LevelError(f"a {width}x{height} room is too small for {boxes} boxes")
    min_moves = 2 + 4 * boxes if min_moves is None else min_moves
    rng = random.Random(f"wc-sokoban:{width}x{height}:{boxes}:{seed}")
    for _ in range(attempts):
        floor = _carve(rng, width, height, boxes)
        found = _reverse_play(rng, floor, boxes, steps=30 * (width + height))
        if found is None:
            continue
        player, box_cells, targets = found
        walls = frozenset(
            (x, y) for y in range(height) for x in range(width)
            if (x, y) not in floor and any((x + dx, y + dy) in floor for dx in (-1, 0, 1) for dy in (-1, 0, 1)))
        level = Level(walls, frozenset(targets), frozenset(box_cells), player,
                      title=f"generated {width}x{height}, {boxes} boxes, seed {seed}")
        solution = solve(level, budget=max_states).actions
        if solution is not None and len(solution) >= min_moves:
            return level, solution
    raise LevelError(f"could not generate a {width}x{height} level with {boxes} boxes whose solution takes at "
                     f"least {min_moves} moves and at most {max_states} search states ({attempts} attempts)")


def _carve(rng: random.Random, width: int, height: int, boxes: int) -> set[Cell]:
    """An open room: the interior minus a few random wall cells that keep the floor connected."""
    floor = {(x, y) for y in range(1, height - 1) for x in range(1, width - 1)}
    blocks = round(len(floor) * rng.uniform(0.1, 0.25))
    for cell in rng.sample(sorted(floor), len(floor)):
        if blocks <= 0 or len(floor) <= 2 * boxes + 4:
            break
        rest = floor - {cell}
        if _connected(rest):
            floor = rest
            blocks -= 1
    return floor


def _connected(cells: set[Cell]) -> bool:
    start = next(iter(cells))
    seen = {start}
    todo = [start]
    while todo:
        x, y = todo.pop()
        for dx, dy in _DIRS:
            n = (x + dx, y + dy)
            if n in cells and n not in seen:
                seen.add(n)
                todo.append(n)
    return len(seen) == len(cells)


def _reverse_play(rng: random.Random, floor: set[Cell], n_boxes: int, steps: int):
    cells = sorted(floor)
    targets = rng.sample(cells, n_boxes)
    boxes = list(targets)  # box i started on targets[i]
    free = [c for c in cells if c not in targets]
    player = rng.choice(free)
    best: tuple[tuple[int, int], Cell, tuple[Cell, ...]] | None = None
    names = list(DELTAS)
    name = rng.choice(names)
    for _ in range(steps):
        if rng.random() < 0.5:  # keep going the same way half the time: pulls then carry boxes far
            name = rng.choice(names)
        dx, dy = DELTAS[name]
        ahead = (player[0] + dx, player[1] + dy)
        if ahead not in floor or ahead in boxes:
            continue
        behind = (player[0] - dx, player[1] - dy)
        if behind in boxes and rng.random() < 0.75:
            boxes[boxes.index(behind)] = player
        player = ahead
        off = sum(1 for b in boxes if b not in targets)
        # pushes still needed, at least: each box's distance to the nearest target
        away = sum(min(abs(b[0] - t[0]) + abs(b[1] - t[1]) for t in targets) for b in boxes)
        score = (off, away)
        if off and (best is None or score > best[0]):
            best = (score, player, tuple(boxes))
    if best is None or best[0][0] < min(n_boxes, 2):
        return None
    _, player, final_boxes = best
    return player, final_boxes, targets


# --------------------------------------------------------------------------- gymnasium env


class SokobanEnv(gym.Env):
    """Sokoban (and teleport gates) with gym-sokoban's rewards; see the module docstring.

    `levels`: a shipped set name (`small`, `teleport`), a path to an XSB file, or Level
    objects; None generates levels from the seed (`boxes`, `width`, `height`). reset(seed)
    plays `level_for(seed)` (without a seed, one drawn from the env's generator), or the Level
    in `options["level"]`. Observations are the XSB picture of the current position (a Text
    space; a box on a gate is drawn as `$`)."""

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, levels: str | os.PathLike[str] | Sequence[Level] | None = None, *,
                 boxes: int | None = None, width: int | None = None, height: int | None = None,
                 max_steps: int = DEFAULT_MAX_STEPS, check_solvable: bool = True,
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
        if isinstance(levels, (str, os.PathLike)):
            name = os.fspath(levels)
            if name in SHIPPED_SETS:
                self.levels, self.source = shipped_levels(name), f"{name}.xsb"
            else:
                self.levels, self.source = load_levels(name), name
        elif levels is not None:
            self.levels, self.source = list(levels), "the given levels"
            if not self.levels:
                raise LevelError("no levels given")
        if check_solvable:
            for i, level in enumerate(self.levels):
                title = f" ({level.title})" if level.title else ""
                require_solution(level, f"level {i + 1}{title} of {self.source}", solver_budget)
        self._generated: dict[int, Level] = {}
        self.action_space = spaces.Discrete(len(ACTIONS))
        self.observation_space = spaces.Text(max_length=65536, min_length=0,
                                             charset=frozenset(_BOARD_CHARS | {"\n"}))
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


# --------------------------------------------------------------------------- wc adapter


def level_entities(level: Level) -> State:
    """A position as API-module entities (JSON form)."""
    state: State = [{"type": "Wall", "x": x, "y": y} for x, y in sorted(level.walls, key=lambda c: (c[1], c[0]))]
    state += [{"type": "Target", "x": x, "y": y} for x, y in sorted(level.targets, key=lambda c: (c[1], c[0]))]
    # the API module calls gates Markers: a neutral name, so the rule is learned, not read
    state += [{"type": "Marker", "x": x, "y": y, "letter": pair} for (x, y), pair in level.gates]
    state += [{"type": "Box", "x": x, "y": y} for x, y in sorted(level.boxes, key=lambda c: (c[1], c[0]))]
    state.append({"type": "Player", "x": level.player[0], "y": level.player[1]})
    return state


def render_state(state: State) -> str:
    """The XSB picture of a state, then every entity except walls.

    A box on a gate is drawn as `$`; the entity list shows the gate."""
    cells: dict[str, set[Cell]] = {"Wall": set(), "Target": set(), "Box": set()}
    gates: dict[Cell, str] = {}
    player: Cell | None = None
    for e in state:
        x, y = e.get("x"), e.get("y")
        if not (isinstance(x, int) and isinstance(y, int)) or x < 0 or y < 0:
            continue
        kind = e.get("type")
        if kind in cells:
            cells[kind].add((x, y))
        elif kind == "Marker":
            gates[(x, y)] = str(e.get("letter", "?"))[:1].lower() or "?"
        elif kind == "Player":
            player = (x, y)
    picture = draw(cells["Wall"], cells["Target"], cells["Box"], player, gates)
    others = [_entity_text(e) for e in state if e.get("type") != "Wall"]
    return picture + "\n" + "\n".join(others)


def _entity_text(entity: dict[str, Any]) -> str:
    fields = ", ".join(f"{k}={v!r}" for k, v in entity.items() if k != "type")
    return f"{entity.get('type')}({fields})"


ENV_OPTIONS = ("levels", "boxes", "width", "height", "max_steps", "check_solvable", "solver_budget")
_GENERATOR_OPTIONS = ("boxes", "width", "height")


class SokobanAdapter(EnvAdapter):
    domain = "sokoban"
    reward_mode = "exact"
    actions = ACTIONS
    api = API

    def __init__(self, name: str, env_id: str, env: Any) -> None:
        self.name = name
        self.env_id = env_id
        self.env = env
        self.max_steps = int(env.unwrapped.max_steps)

    @classmethod
    def from_env(cls, name: str, env_id: str, env: Any, options: dict[str, Any]) -> "SokobanAdapter":
        """Wrap a made env; options (`levels=`, `boxes=`, `max_steps=`, ...) rebuild it with those
        keyword arguments over the registered ones."""
        if not options:
            return cls(name, env_id, env)
        unknown = sorted(set(options) - set(ENV_OPTIONS))
        if unknown:
            env.close()
            raise UnknownEnvironment(f"{name} has no option {unknown[0]!r} (Sokoban options: "
                                     f"{', '.join(ENV_OPTIONS)})", name=name)
        kwargs = dict(env.spec.kwargs) if env.spec is not None else {}
        if "levels" in options:
            kwargs = {k: v for k, v in kwargs.items() if k not in _GENERATOR_OPTIONS}
        elif any(k in options for k in _GENERATOR_OPTIONS):
            kwargs.pop("levels", None)
        kwargs.update(options)
        env.close()
        return cls(name, env_id, SokobanEnv(**kwargs))

    def reset(self, seed: int | None = None) -> tuple[State, str]:
        self.env.reset(seed=seed)
        return level_entities(self.env.unwrapped.current()), MISSION

    def step(self, action: str) -> Step:
        index = self.check_action(action)
        _, reward, terminated, truncated, _ = self.env.step(index)
        return Step(level_entities(self.env.unwrapped.current()), float(reward), bool(terminated), bool(truncated))

    def render_state(self, state: State) -> str:
        return render_state(state)

    def close(self) -> None:
        self.env.close()


# --------------------------------------------------------------------------- registration

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
        gym.register(id=env_id, entry_point=SokobanEnv, kwargs={"levels": name, **kwargs})


for _env_id, _kwargs in REGISTERED.items():
    if _env_id not in gym.registry:
        gym.register(id=_env_id, entry_point="wc.envs.sokoban:SokobanEnv", kwargs=_kwargs)
