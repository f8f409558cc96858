"""Sokoban positions as pictures (PIL images) for watching an episode: a tile per cell, drawn
from the API-module entities (so a program's predicted state draws the same way)."""
from __future__ import annotations

from typing import Any

from wc._core.values import State

TILE = 32
FLOOR, WALL, TARGET = (236, 229, 206), (88, 78, 68), (200, 60, 60)
BOX, BOX_ON_TARGET, PLAYER, GATE = (176, 120, 56), (80, 160, 72), (40, 90, 200), (130, 70, 170)


def draw(state: State, tile: int = TILE) -> Any | None:
    """The picture of a position; None when the entities do not describe one (no positions)."""
    from PIL import Image, ImageDraw

    cells: list[tuple[dict[str, Any], int, int]] = [
        (e, e["x"], e["y"]) for e in state
        if isinstance(e, dict) and isinstance(e.get("x"), int) and isinstance(e.get("y"), int)
        and e["x"] >= 0 and e["y"] >= 0]
    if not cells:
        return None
    width, height = max(x for _, x, _ in cells) + 1, max(y for _, _, y in cells) + 1
    if width * height > 10_000:  # a prediction with a stray coordinate: not a picture worth drawing
        return None
    image = Image.new("RGB", (width * tile, height * tile), FLOOR)
    pen = ImageDraw.Draw(image)
    targets = {(x, y) for e, x, y in cells if e.get("type") == "Target"}
    pad = tile // 8
    for kind in ("Wall", "Target", "Marker", "Box", "Player"):  # lower layers first
        for e, x, y in cells:
            if e.get("type") != kind:
                continue
            box = (x * tile, y * tile, (x + 1) * tile - 1, (y + 1) * tile - 1)
            inner = (box[0] + pad, box[1] + pad, box[2] - pad, box[3] - pad)
            if kind == "Wall":
                pen.rectangle(box, fill=WALL)
            elif kind == "Target":
                pen.ellipse((box[0] + 2 * pad, box[1] + 2 * pad, box[2] - 2 * pad, box[3] - 2 * pad), outline=TARGET,
                            width=max(2, tile // 12))
            elif kind == "Marker":
                pen.ellipse(inner, outline=GATE, width=max(2, tile // 10))
                pen.text((box[0] + tile // 2, box[1] + tile // 2), str(e.get("letter", "?"))[:1], fill=GATE,
                         anchor="mm")
            elif kind == "Box":
                pen.rectangle(inner, fill=BOX_ON_TARGET if (x, y) in targets else BOX, outline=(60, 40, 20))
            else:
                pen.ellipse(inner, fill=PLAYER)
    return image
