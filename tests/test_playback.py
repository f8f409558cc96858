"""Watching an episode: the per-step trace the agent stores (where each action came from, what the
program predicted), `wc runs show --episode`, and `wc runs render`, whose GIFs and PNG sheets are
read back with Pillow and held against the store's own rows."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from support.helpers import replaced, sqlite_rows
from typer.testing import CliRunner

from wc._api import LearnConfig, Settings, add_program, learn
from wc._core.canonical import state_key
from wc.cli.main import app

pytestmark = pytest.mark.slow  # whole (short) runs, then their episodes played back
FIXTURES = Path(__file__).parent / "fixtures"


def documented(name: str) -> set[str]:
    """The keys docs/JSON.md lists for an object."""
    import re

    text = (FIXTURES.parent.parent / "docs" / "JSON.md").read_text()
    section = text.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", section, re.M))


def invoke(*args: str, db: str):
    return CliRunner().invoke(app, [*args, "--db", db], env={"WC_DB": None, "OPENAI_API_KEY": None})


async def _run_from(env: str, source: str, db: str, **options) -> int:
    """A short run of a stored program, allowed no LLM call (nothing to repair it with)."""
    pid = await add_program(env, source, db, **options.get("env_options", {}))
    summary = await learn(LearnConfig(env=env, from_program=pid, max_llm_calls=0, workers=1, **options),
                          Settings(db=db))
    return summary.id


@pytest.fixture(scope="module")
def wrong_way(tmp_path_factory) -> tuple[str, int]:
    """DoorKey played with a program that turns the wrong way: its plans' predictions fail."""
    db = f"sqlite:///{tmp_path_factory.mktemp('playback') / 'wc.db'}"
    model = (FIXTURES / "minigrid_model.py").read_text()
    wrong = replaced(model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    run_id = asyncio.run(_run_from("minigrid-doorkey", wrong, db, episodes=1, max_steps=14))
    return db, run_id


def test_each_step_records_where_its_action_came_from_and_what_was_predicted(wrong_way):
    db, run_id = wrong_way
    rows = sqlite_rows(db, "SELECT action, action_source, predicted_hash, next_state_hash, predicted_state, "
                           f"next_state FROM transitions WHERE run_id = {run_id} ORDER BY step")
    assert {r[1] for r in rows} <= {"plan", "explore"} and any(r[1] == "plan" for r in rows)
    planned = [r for r in rows if r[1] == "plan"]
    assert all(r[2] is not None for r in planned)  # a planned step has the program's prediction
    assert all(r[2] is None and r[4] is None for r in rows if r[1] == "explore")
    failed = [r for r in planned if r[2] != r[3]]
    held = [r for r in planned if r[2] == r[3]]
    assert failed, "a program that turns the wrong way must mispredict a turn"
    for _, _, _, _, predicted, actual in failed:  # the state itself is kept where it was wrong
        assert predicted is not None and state_key(json.loads(predicted)) != state_key(json.loads(actual))
    assert all(r[4] is None for r in held)  # nothing kept where the program was right
    assert any(action in ("left", "right") for action, *_ in failed)


def test_runs_show_episode_is_the_trace(wrong_way):
    db, run_id = wrong_way
    shown = invoke("runs", "show", str(run_id), "--episode", "0", "--json", db=db)
    assert shown.exit_code == 0, shown.stderr
    trace = json.loads(shown.stdout)
    assert set(trace) == documented("Episode trace") and trace["episode"]["index"] == 0
    assert set(trace["episode"]) == documented("Episode")
    steps = trace["steps"]
    assert len(steps) == trace["episode"]["steps"] == len(sqlite_rows(
        db, f"SELECT id FROM transitions WHERE run_id = {run_id}"))
    assert all(set(s) == documented("Step") for s in steps)
    for s in steps:
        assert s["prediction"] in ("held", "failed", None)
        assert (s["prediction"] == "failed") == (s["predicted_state"] is not None) == bool(s["predicted_changes"])
        assert (s["action_source"] == "plan") == (s["prediction"] is not None)
    turn = next(s for s in steps if s["prediction"] == "failed" and s["action"] in ("left", "right"))
    assert any("direction" in line for line in turn["predicted_changes"])
    text = invoke("runs", "show", str(run_id), "--episode", "0", db=db)
    assert text.exit_code == 0 and "wrong:" in text.stdout and "plan" in text.stdout
    missing = invoke("runs", "show", str(run_id), "--episode", "7", db=db)
    assert missing.exit_code == 3 and "has no episode 7 (it has episodes 0-0)" in missing.stderr


def _frames(path: Path) -> list[Image.Image]:
    with Image.open(path) as gif:
        out = []
        for i in range(gif.n_frames):
            gif.seek(i)
            out.append(gif.convert("RGB"))
        return out


def test_an_episode_as_a_gif_and_a_png_sheet(wrong_way, tmp_path):
    from wc.envs.minigrid import picture

    db, run_id = wrong_way
    trace = json.loads(invoke("runs", "show", str(run_id), "--episode", "0", "--json", db=db).stdout)
    steps = trace["steps"]
    done = invoke("runs", "render", str(run_id), "--episode", "0", "--out", str(tmp_path / "ep.gif"), "--json",
                  db=db)
    assert done.exit_code == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == documented("Playback")
    assert report["frames"] == len(steps) + 1 and report["steps"] == len(steps)
    assert report["mispredicted"] == [s["step"] for s in steps if s["prediction"] == "failed"]

    from wc._report.playback import render

    result = asyncio.run(render(run_id, 0, tmp_path / "again.gif", db))
    frames = _frames(tmp_path / "again.gif")
    assert len(frames) == result.frames == len(steps) + 1
    assert all(f.size == result.frame_size for f in frames)
    box = result.picture_box
    pictures = [f.crop(box) for f in frames]
    for t, step in enumerate(steps):  # the environment's picture changes exactly when the state does
        moved = ImageChops.difference(pictures[t], pictures[t + 1]).getbbox() is not None
        assert moved == (state_key(step["state"]) != state_key(step["next_state"])) == result.changed[t], t
    # beside a wrong prediction, the predicted state is drawn; beside a right one, nothing
    w = box[2] - box[0]
    beside = (box[2] + 16, box[1], box[2] + 16 + w, box[3])
    for t, step in enumerate(steps):
        region = frames[t + 1].crop(beside)
        drawn = region.getcolors(maxcolors=1 << 16)
        assert (len(drawn) > 2) == (step["prediction"] == "failed"), t

    sheet_result = asyncio.run(render(run_id, 0, tmp_path / "ep.png", db))
    with Image.open(tmp_path / "ep.png") as sheet:
        sheet = sheet.convert("RGB")
        fw, fh = sheet_result.frame_size
        cols = sheet_result.columns
        assert sheet.size == (cols * fw, -(-sheet_result.frames // cols) * fh)
        for t, step in enumerate(steps):  # PNG keeps MiniGrid's own pixels: the state after each step, exactly
            i = t + 1
            x, y = (i % cols) * fw, (i // cols) * fh
            shown = sheet.crop((x + box[0], y + box[1], x + box[2], y + box[3]))
            assert ImageChops.difference(shown, picture(step["next_state"]).convert("RGB")).getbbox() is None, t


def test_a_sokoban_episode_renders(tmp_path):
    from wc.envs.sokoban.picture import draw

    db = f"sqlite:///{tmp_path / 'wc.db'}"
    run_id = asyncio.run(_run_from("sokoban", (FIXTURES / "sokoban_model.py").read_text(), db, episodes=1))
    done = asyncio.run(__import__("wc._report.playback", fromlist=["render"]).render(run_id, 0, tmp_path / "s.png", db))
    steps = json.loads(invoke("runs", "show", str(run_id), "--episode", "0", "--json", db=db).stdout)["steps"]
    assert done.frames == len(steps) + 1 >= 2
    with Image.open(tmp_path / "s.png") as sheet:
        sheet = sheet.convert("RGB")
        fw, fh = done.frame_size
        box = done.picture_box
        last = done.frames - 1
        x, y = (last % done.columns) * fw, (last // done.columns) * fh
        shown = sheet.crop((x + box[0], y + box[1], x + box[2], y + box[3]))
        assert ImageChops.difference(shown, draw(steps[-1]["next_state"])).getbbox() is None


def test_a_replay_that_diverges_says_where(wrong_way, tmp_path):
    import shutil
    import sqlite3

    db, run_id = wrong_way
    copy = tmp_path / "tampered.db"
    shutil.copy(db.split("///", 1)[1], copy)
    con = sqlite3.connect(copy)
    rows = con.execute(f"SELECT id, action FROM transitions WHERE run_id = {run_id} ORDER BY step").fetchall()
    step_id, action = next((i, a) for i, a in rows[1:] if a in ("left", "right"))
    con.execute("UPDATE transitions SET action = ? WHERE id = ?", ("right" if action == "left" else "left", step_id))
    con.commit()
    con.close()
    result = invoke("runs", "render", str(run_id), "--out", str(tmp_path / "x.gif"), db=f"sqlite:///{copy}")
    assert result.exit_code == 2 and "does not reproduce the recorded state" in result.stderr
    assert list(tmp_path.glob("*x.gif*")) == []  # nothing half-written is left behind
    bad = invoke("runs", "render", str(run_id), "--out", str(tmp_path / "x.mp4"), db=db)
    assert bad.exit_code == 2 and "give a .gif, .png or .txt file" in bad.stderr


@pytest.mark.alfworld
def test_an_alfworld_episode_is_a_transcript(tmp_path):
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    games = str(FIXTURES / "alfworld")
    run_id = asyncio.run(_run_from("alfworld", (FIXTURES / "alfworld_model.py").read_text(), db, episodes=1,
                                   env_options={"games": games}))
    done = invoke("runs", "render", str(run_id), "--episode", "0", "--out", str(tmp_path / "ep.txt"), db=db)
    assert done.exit_code == 0, done.stderr
    text = (tmp_path / "ep.txt").read_text()
    actions = [a for (a,) in sqlite_rows(db, f"SELECT action FROM transitions WHERE run_id = {run_id} ORDER BY step")]
    assert actions and [line[2:].split("    [")[0] for line in text.splitlines() if line.startswith("> ")] == actions
    assert "-= Welcome to TextWorld, ALFRED! =-" in text  # the game's own words, replayed
    assert "won in" in text.splitlines()[0] and "planned" in text
    picture = invoke("runs", "render", str(run_id), "--out", str(tmp_path / "ep.gif"), db=db)
    assert picture.exit_code == 2 and "text world" in picture.stderr and "ep.txt" in picture.stderr
