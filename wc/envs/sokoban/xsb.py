"""Level text: the XSB format (and wc's teleport-gate letters), read and written; level files and
the level sets shipped with wc."""
from __future__ import annotations

import importlib.resources
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from wc.envs.sokoban.rules import DELTAS, Board, Cell, Level
from wc.errors import LevelError

SHIPPED_SETS = ("small", "teleport")

_FLOOR_CHARS = " -_"
_GATE_LETTERS = "abcdefghijklmnopqrstuvwxyz"
BOARD_CHARS = frozenset("#@+$*." + _FLOOR_CHARS + _GATE_LETTERS + _GATE_LETTERS.upper())


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
    """Every level in XSB text, and Boxoban's collections (a `; N` line, then the rows);
    errors name `source`, the level's number, its title and its first line."""
    levels: list[Level] = []
    rows: list[str] = []
    start = 0
    title = ""
    pending_title = ""

    def where() -> str:
        named = f" ({title})" if title else ""
        return f"level {len(levels) + 1}{named} of {source} (line {start})"

    def finish() -> None:
        nonlocal rows
        if rows:
            levels.append(parse_level(rows, title, where()))
            rows = []

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if line and _is_board_line(line):
            if not rows:
                start, title, pending_title = number, pending_title, ""
            bad = sorted(set(line) - BOARD_CHARS)
            if bad:
                raise LevelError(f"{where()}, line {number}: unexpected character {bad[0]!r} in a level "
                                 "(XSB: # @ + $ * . space, gates a-z / A-Z)", path=source)
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
    text = importlib.resources.files("wc.envs.sokoban").joinpath("levels", f"{name}.xsb").read_text()
    return read_xsb(text, source=f"{name}.xsb")
