"""Every real-model session wc ships replays, without an API key, to the outcome it recorded.

If wc's prompts, exploration or planning change, a recording no longer matches and must be
recorded again (`wc runs export-llm ... --label`); the README's Record and replay section says how.
`minigrid-doorkey` is replayed by tests/test_learning.py; this file replays the others through the
command line, as a user would, and reads the outcome from the store directly (not through wc).
"""
from __future__ import annotations

import importlib.resources
import json
import os
import subprocess
import sys

import pytest
from support.helpers import sqlite_rows

from wc._run import recordings

pytestmark = pytest.mark.slow  # whole runs, replayed

COMMANDS = {
    "minigrid-curriculum": ["curriculum", "--replay", "minigrid-curriculum"],
    "minigrid-sweep": ["sweep", "--replay", "minigrid-sweep"],
    "minigrid-react": ["baseline", "react", "--env", "minigrid-doorkey", "--replay", "minigrid-react"],
    "cartpole": ["learn", "--env", "CartPole-v1", "--replay", "cartpole"],
}


def totals(db: str) -> dict[str, int]:
    """What the runs in a store did, summed over them, in the keys a recording's `result` uses."""
    (runs, finished), = sqlite_rows(db, "SELECT count(*), coalesce(sum(status = 'finished'), 0) FROM runs")
    (episodes, successes, steps), = sqlite_rows(
        db, "SELECT count(*), coalesce(sum(success), 0), coalesce(sum(steps), 0) FROM episodes")
    (calls,), = sqlite_rows(db, "SELECT count(*) FROM llm_calls")
    return {"runs": runs, "finished": finished, "episodes": episodes, "successes": successes,
            "env_steps": steps, "llm_calls": calls}


def test_every_shipped_recording_has_a_replay_test():
    assert set(recordings.shipped()) == set(COMMANDS) | {"minigrid-doorkey"}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_shipped_recording_replays_to_its_recorded_outcome(name, tmp_path):
    recording = json.loads(importlib.resources.files(recordings).joinpath(f"{name}.json").read_text())
    assert recording["label"] and recording["model"]  # a shipped recording says what it is
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WC_"))}
    result = subprocess.run([sys.executable, "-m", "wc", *COMMANDS[name], "--db", db],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    got = totals(db)
    recorded = recording["result"]
    if recording["kind"] == "run":  # one run: its status rather than counts of runs
        assert recorded["status"] == "finished" and got["runs"] == got["finished"] == 1
    for key, value in recorded.items():
        if key != "status":
            assert got[key] == value, (key, got, recorded)
