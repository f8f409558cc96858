"""Watching a stored episode: its steps from the store, and the episode played back in its
environment, re-made from the run's configuration and replayed from the episode's seed and
recorded actions, as pictures (an animated GIF, or a PNG sheet of frames) or, for text worlds
such as ALFWorld, a transcript.

    done = await render(run_id=3, episode=0, out=Path("episode.gif"))

Each frame shows the environment after the step, drawn by the environment's own renderer (MiniGrid's;
wc's tiles for Sokoban); the action and where it came from (the plan, exploration, or the LLM for
ReAct); what changed; and, where the program's prediction of the next state was wrong, the state
it predicted beside the real one. A replay that does not reproduce the stored states (the
environment changed since the run) is an error that names the step.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wc import envs
from wc._core.canonical import diff_states, state_key
from wc._core.values import State
from wc._store import EpisodeTrace, StepRecord, open_store
from wc.envs.base import EnvAdapter
from wc.errors import EnvError, InvalidInput

FORMATS = {".gif": "gif", ".png": "png", ".txt": "text", ".md": "text"}
GIF_MS_PER_FRAME = 700
SHEET_COLUMNS = 6
PAD, GAP, LINE = 10, 16, 17   # pixels: margin, space between the two pictures, text line height
TEXT_LINES = 7
MIN_WIDTH = 640
INK, FAINT, WARN, PAPER = (20, 20, 20), (110, 110, 110), (180, 30, 30), (255, 255, 255)
SOURCES = {"plan": "planned", "explore": "explored", "llm": "asked the LLM", None: "source not recorded"}


@dataclass
class Playback:
    """What `render` wrote, and where things are in it (for reading it back)."""

    path: Path
    format: str                            # "gif", "png" or "text"
    steps: int                             # steps of the episode
    frames: int = 0                        # pictures: the start, then one per step
    frame_size: tuple[int, int] | None = None
    picture_box: tuple[int, int, int, int] | None = None  # the environment's picture within a frame
    columns: int = 1                       # frames per row of a PNG sheet
    changed: list[bool] = field(default_factory=list)  # per step: whether the state changed
    mispredicted: list[int] = field(default_factory=list)  # steps whose prediction was wrong


async def trace(run_id: int, episode: int, db: str | None = None) -> EpisodeTrace:
    """Episode `episode` of run `run_id`, step by step (NotFound for either)."""
    store = await open_store(db, create=False)
    try:
        return await store.db.reading(lambda r: r.episode_trace(run_id, episode))
    finally:
        await store.close()


async def render(run_id: int, episode: int, out: Path, db: str | None = None) -> Playback:
    """Write the episode to `out`: .gif (animated), .png (a sheet of frames) or .txt/.md (a
    transcript; the only form for text worlds)."""
    kind = FORMATS.get(out.suffix.lower())
    if kind is None:
        raise InvalidInput(f"cannot tell what to write from {out.name!r}: give a .gif, .png or .txt file")
    found = await trace(run_id, episode, db)
    return await asyncio.to_thread(_render, found, out, kind)


def _render(found: EpisodeTrace, out: Path, kind: str) -> Playback:
    config = found.config or {}
    adapter = envs.make(str(config.get("env") or found.env), **dict(config.get("env_options") or {}))
    try:
        if kind != "text" and not adapter.pictures:
            raise InvalidInput(f"{found.env} is a text world: its episodes are written as a transcript "
                               f"(--out {out.with_suffix('.txt').name})")
        result = Playback(out, kind, len(found.steps),
                          changed=[state_key(s.state) != state_key(s.next_state) for s in found.steps],
                          mispredicted=[s.step for s in found.steps if s.prediction == "failed"])
        part = _writable(out)  # written beside it, then renamed: a replay that fails leaves no file
        try:
            if kind == "text":
                part.write_text(_transcript(found, adapter))
            elif kind == "gif":
                _write_gif(_frames(found, adapter, result), part)
            else:
                _write_sheet(list(_frames(found, adapter, result)), part, result)
            part.replace(out)
        finally:
            part.unlink(missing_ok=True)
        return result
    finally:
        adapter.close()


def _writable(out: Path) -> Path:
    """The file to write `out` through (its folder made), or an InvalidInput saying why not."""
    part = out.with_name(f".{out.name}.part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        part.touch()
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror or exc}") from None
    return part


# ------------------------------------------------------------------------------------------ replay


def _replay(found: EpisodeTrace, adapter: EnvAdapter) -> Iterator[tuple[StepRecord | None, State]]:
    """(None, start), then (step, state after it) for every stored step, from the environment
    itself; an EnvError names the first step it does not reproduce."""
    seed = found.episode.seed
    if seed is None:
        raise EnvError(f"episode {found.episode.index} of run {found.run_id} has no stored seed to replay")
    state, _ = adapter.reset(seed)
    if found.steps and state_key(state) != state_key(found.steps[0].state):
        raise EnvError(f"replaying episode {found.episode.index} of run {found.run_id}: the environment no longer "
                       f"starts as recorded (seed {seed}); it or wc has changed since the run")
    yield None, state
    for step in found.steps:
        state = adapter.step(step.action).state
        if state_key(state) != state_key(step.next_state):
            raise EnvError(f"replaying episode {found.episode.index} of run {found.run_id}: step {step.step} "
                           f"({step.action!r}) does not reproduce the recorded state; the environment or wc has "
                           "changed since the run")
        yield step, state


# ------------------------------------------------------------------------------------------ pictures


def _frames(found: EpisodeTrace, adapter: EnvAdapter, result: Playback) -> Iterator[Any]:
    """The frames, one at a time (a long episode is not held in memory for a GIF)."""
    from PIL import Image, ImageDraw

    font = _font()
    size: tuple[int, int] | None = None
    for step, _ in _replay(found, adapter):
        drawn = adapter.frame()
        assert drawn is not None, f"{found.env} draws no frames"
        picture = drawn.convert("RGB")
        if size is None:
            w, h = picture.size
            width = max(2 * w + GAP + 2 * PAD, MIN_WIDTH)
            size = (width, PAD + LINE + h + PAD + TEXT_LINES * LINE + PAD)
            result.frame_size, result.picture_box = size, (PAD, PAD + LINE, PAD + w, PAD + LINE + h)
        frame = Image.new("RGB", size, PAPER)
        pen = ImageDraw.Draw(frame)
        box = result.picture_box
        assert box is not None
        frame.paste(picture, box[:2])  # every frame of an environment has the size of the first
        pen.text((PAD, PAD), "the environment", fill=FAINT, font=font)
        right = box[2] + GAP
        if step is not None and step.predicted_state is not None:
            predicted = adapter.picture(step.predicted_state)
            pen.text((right, PAD), "what the program predicted", fill=WARN, font=font)
            if predicted is not None:
                predicted = predicted.convert("RGB")
                predicted.thumbnail((box[2] - box[0], box[3] - box[1]))
                frame.paste(predicted, (right, box[1]))
                pen.rectangle((right - 2, box[1] - 2, right + predicted.size[0] + 1, box[1] + predicted.size[1] + 1),
                              outline=WARN, width=2)
            else:
                pen.text((right, box[1]), "(a state that cannot be drawn)", fill=WARN, font=font)
        elif step is not None and step.prediction == "held":
            pen.text((right, PAD), "the program's prediction held", fill=FAINT, font=font)
        y = box[3] + PAD
        for text, colour in _caption(found, step):
            pen.text((PAD, y), _fit(text, size[0] - 2 * PAD, font), fill=colour, font=font)
            y += LINE
        result.frames += 1
        yield frame


def _caption(found: EpisodeTrace, step: StepRecord | None) -> list[tuple[str, tuple[int, int, int]]]:
    e = found.episode
    lines = [(f"run {found.run_id} · episode {e.index} (seed {e.seed}) · {found.env} · "
              f"{'won' if e.success else 'lost' if e.finished else 'unfinished'} in {e.steps} steps", INK),
             (f"task: {e.mission}", FAINT)]
    if step is None:
        return [*lines, ("start", INK)]
    end = " · done" if step.done else " · truncated" if step.truncated else ""
    lines.append((f"step {step.step + 1}/{len(found.steps)}: {step.action}  ({SOURCES.get(step.action_source, '?')})"
                  f"  reward {step.reward:+.2f}{end}", INK))
    changes = diff_states(step.state, step.next_state)
    lines.append(("changed: " + ("; ".join(changes) if changes else "nothing"), INK))
    if step.predicted_state is not None:
        wrong = diff_states(step.next_state, step.predicted_state)
        lines.append(("the program predicted instead (what happened -> what it predicted):", WARN))
        lines += [(f"  {w}", WARN) for w in wrong[:TEXT_LINES - 5]]
    return lines[:TEXT_LINES]


def _font() -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=13)
    except TypeError:  # a Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _fit(text: str, width: int, font: Any) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _palette() -> Any:
    """One palette for every frame of a GIF (a 6×6×6 colour cube and greys), so that the same
    picture is the same pixels in every frame."""
    from PIL import Image

    colours = [(r * 51, g * 51, b * 51) for r in range(6) for g in range(6) for b in range(6)]
    colours += [(v, v, v) for v in range(8, 256, 10) if (v, v, v) not in colours][:40]
    image = Image.new("P", (1, 1))
    image.putpalette([c for rgb in colours for c in rgb] + [0] * (768 - 3 * len(colours)))
    return image


def _write_gif(frames: Iterator[Any], out: Path) -> None:
    from PIL import Image

    palette = _palette()
    quantized = (f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames)
    first = next(quantized)
    first.save(out, format="GIF", save_all=True, append_images=quantized, duration=GIF_MS_PER_FRAME, loop=0,
               optimize=False)


def _write_sheet(frames: list[Any], out: Path, result: Playback) -> None:
    from PIL import Image

    w, h = frames[0].size
    columns = min(SHEET_COLUMNS, len(frames))
    rows = -(-len(frames) // columns)
    sheet = Image.new("RGB", (columns * w, rows * h), PAPER)
    for i, frame in enumerate(frames):
        sheet.paste(frame, ((i % columns) * w, (i // columns) * h))
    sheet.save(out, format="PNG")
    result.columns = columns


# ------------------------------------------------------------------------------------------ text


def _transcript(found: EpisodeTrace, adapter: EnvAdapter) -> str:
    e = found.episode
    out = [f"run {found.run_id}, episode {e.index} of {found.env} (seed {e.seed}): "
           f"{'won' if e.success else 'lost' if e.finished else 'unfinished'} in {e.steps} steps",
           f"task: {e.mission}", ""]
    for step, state in _replay(found, adapter):
        seen = adapter.observation(state).strip()
        if step is None:
            out += ["[start]", _indent(seen), ""]
            continue
        end = "; the episode is done" if step.done else "; truncated" if step.truncated else ""
        out.append(f"> {step.action}    [step {step.step + 1}, {SOURCES.get(step.action_source, '?')}; "
                   f"reward {step.reward:+.2f}{end}]")
        out.append(_indent(seen))
        changes = diff_states(step.state, step.next_state)
        out.append("  changed: " + ("; ".join(changes) if changes else "nothing"))
        if step.predicted_state is not None:
            wrong = diff_states(step.next_state, step.predicted_state)
            out.append("  the program predicted instead (what happened -> what it predicted): " + "; ".join(wrong))
        elif step.prediction == "held":
            out.append("  the program's prediction held")
        out.append("")
    return "\n".join(out)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
