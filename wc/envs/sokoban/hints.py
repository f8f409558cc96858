"""Sokoban's trusted search hint: how far a position looks from solved, and which are dead.

Trusted code that wc sends to the sandbox worker as source and runs there beside the program,
which stays a black box: the hint never predicts a transition or a reward, it only orders and
prunes the states the program's own transitions reach. It reads the JSON states the program
predicts defensively (they may be odd), and imports only the standard library.

`estimator(state, mission)` is called once per search with the start state and returns
`estimate(state) -> float | None`:

* None when the position is dead, provably unsolvable under Sokoban's rules: a box off target
  on a square from which no push sequence reaches any target (non-target corners, wall edges
  without targets, and the like, computed from the walls and targets of the start), or a box off
  target frozen in a 2x2 block of walls and boxes;
* otherwise the least total number of pushes that could bring the boxes to distinct targets,
  each box pushed alone (a minimum-cost matching of boxes to targets, on push distances that
  ignore the other boxes): a lower bound, and 0 when every box is on a target.

The walls and targets are read from the start; a program that moves them is simply judged by
the start's board, so a wrong program can mislead the hint but never the environment. wc's
planner follows a search with the hint that finds nothing by one without it.
"""
from itertools import permutations

_DIRECTIONS = ((0, -1), (0, 1), (-1, 0), (1, 0))
_EXACT_MATCHING_UP_TO = 7  # boxes: beyond, the sum of each box's nearest target


def _cells(state, kind):
    out = set()
    for e in state if isinstance(state, list) else ():
        if isinstance(e, dict) and e.get("type") == kind:
            x, y = e.get("x"), e.get("y")
            if type(x) is int and type(y) is int:
                out.add((x, y))
    return out


def push_distances(walls, targets, player, twins=None):
    """For each target, the pushes a lone box needs from each floor square to reach it (squares
    from which it cannot are absent). Floor: the squares the player can walk (or teleport, by
    `twins`: gate -> its twin) to from `player`."""
    twins = twins or {}
    floor = {player}
    todo = [player]
    while todo:
        x, y = todo.pop()
        steps = [(x + dx, y + dy) for dx, dy in _DIRECTIONS]
        if (x, y) in twins:
            steps.append(twins[(x, y)])
        for nxt in steps:
            if nxt not in floor and nxt not in walls and len(floor) < 100_000:
                floor.add(nxt)
                todo.append(nxt)
    tables = []
    for target in sorted(targets):
        if target not in floor:
            tables.append({})
            continue
        dist = {target: 0}
        frontier = [target]
        while frontier:
            following = []
            for x, y in frontier:
                for dx, dy in _DIRECTIONS:
                    box = (x - dx, y - dy)      # the box was here and was pushed by (dx, dy) …
                    behind = (x - 2 * dx, y - 2 * dy)  # … by the player standing here
                    if box in floor and behind in floor and box not in dist:
                        dist[box] = dist[(x, y)] + 1
                        following.append(box)
            frontier = following
        tables.append(dist)
    return floor, tables


def estimator(state, mission):
    """The estimate function for searches from `state` (see the module docstring)."""
    walls = _cells(state, "Wall")
    targets = _cells(state, "Target")
    players = _cells(state, "Player")
    if len(players) != 1 or not targets:
        return None
    pairs = {}
    for e in state:
        if isinstance(e, dict) and e.get("type") == "Marker" and type(e.get("x")) is int and type(e.get("y")) is int:
            pairs.setdefault(str(e.get("letter")), []).append((e["x"], e["y"]))
    twins = {}
    for cells in pairs.values():
        if len(cells) == 2:
            twins[cells[0]], twins[cells[1]] = cells[1], cells[0]
    floor, tables = push_distances(walls, targets, next(iter(players)), twins)
    live = set()
    for dist in tables:
        live.update(dist)
    target_list = sorted(targets)
    cache = {}

    def blocked(box, axis, boxes, fixed):
        """The box cannot move along this axis: a wall beside it, dead squares on both sides, or
        a box beside it that is itself frozen (with this one held as a wall)."""
        (x, y), (dx, dy) = box, axis
        sides = ((x - dx, y - dy), (x + dx, y + dy))
        if sides[0] in walls or sides[1] in walls or sides[0] in fixed or sides[1] in fixed:
            return True
        if sides[0] not in live and sides[1] not in live:
            return True
        held = fixed | {box}
        return any(side in boxes and frozen(side, boxes, held) for side in sides)

    def frozen(box, boxes, fixed=frozenset()):
        return blocked(box, (1, 0), boxes, fixed) and blocked(box, (0, 1), boxes, fixed)

    def estimate(current):
        boxes = frozenset(_cells(current, "Box"))
        if boxes in cache:
            return cache[boxes]
        value = None
        off = [b for b in boxes if b not in targets]
        if all(b in live for b in off) and not any(frozen(b, boxes) for b in off):
            listed = sorted(boxes)
            costs = [[dist.get(b) for dist in tables] for b in listed]
            if len(listed) <= _EXACT_MATCHING_UP_TO and len(listed) <= len(target_list):
                best = None
                for chosen in permutations(range(len(target_list)), len(listed)):
                    total = 0
                    for row, col in zip(costs, chosen, strict=True):
                        c = row[col]
                        if c is None or (best is not None and total + c >= best):
                            total = None
                            break
                        total += c
                    if total is not None and (best is None or total < best):
                        best = total
                value = None if best is None else float(best)
            else:
                nearest = [min((c for c in row if c is not None), default=None) for row in costs]
                value = None if None in nearest else float(sum(nearest))
        cache[boxes] = value
        return value

    return estimate
