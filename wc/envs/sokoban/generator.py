"""Generated levels: played backwards (pulls) from the solved position, so each is solvable."""
from __future__ import annotations

import random

from wc.envs.sokoban.rules import DELTAS, Cell, Level
from wc.envs.sokoban.solver import solve
from wc.errors import LevelError

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
