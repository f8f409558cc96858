"""Sweeps, curricula and the ReAct baseline replayed from recordings, as `wc learn --replay` does:
each recorded with the scripted server, exported with `wc runs export-llm`, and replayed into a
fresh store without an API key; every run must come out as it was recorded."""
from __future__ import annotations

import asyncio
import json
import threading

import pytest
from support.helpers import llm_settings, replaced, sqlite_rows
from typer.testing import CliRunner

from wc._agent.config import LearnConfig
from wc.cli.main import app
from wc.events import CandidateChecked, CellEnded, Event, RefineRound, SweepStarted
from wc.testing import Reply, answer

pytestmark = pytest.mark.slow  # whole runs, recorded and replayed


def invoke(*args: str, db: str):
    """`wc ARGS` in this process with no LLM configured at all."""
    return CliRunner().invoke(app, [*args, "--db", db], env={"WC_DB": None, "OPENAI_API_KEY": None,
                                                            "OPENAI_BASE_URL": None})


def export(tmp_path, name: str, *args: str, db: str):
    result = invoke("runs", "export-llm", *args, db=db)
    assert result.exit_code == 0, result.stderr
    path = tmp_path / name
    path.write_text(result.stdout)
    return path, json.loads(result.stdout)


def outcome(db: str, run_id: int) -> tuple:
    """What a run did: its episodes (won, steps), its actions, its programs' sources, its calls
    (purpose, sample, whether cancelled before the answer; a round's requests finish in any order)."""
    episodes = sqlite_rows(db, f'SELECT success, steps FROM episodes WHERE run_id = {run_id} ORDER BY "index"')
    actions = [a for (a,) in sqlite_rows(db, f"SELECT action FROM transitions WHERE run_id = {run_id} ORDER BY id")]
    programs = [s for (s,) in sqlite_rows(db, f"SELECT source FROM programs WHERE run_id = {run_id} ORDER BY id")]
    calls = sorted((purpose, sample, status == "cancelled") for purpose, sample, status in
                   sqlite_rows(db, f"SELECT purpose, sample, status FROM llm_calls WHERE run_id = {run_id}"))
    return episodes, actions, programs, calls


def two_tries(minigrid_model):
    """A script that first answers a model that turns the wrong way, then repairs it."""
    wrong = replaced(minigrid_model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")

    def script(request, n):
        return Reply(answer(minigrid_model if "It does not explain" in request["messages"][-1]["content"] else wrong))
    return script


def test_a_curriculum_replays_from_its_recording(fake_llm, tmp_path, minigrid_model):
    from wc._run.curriculum import run as curriculum

    recorded_db = f"sqlite:///{tmp_path / 'recorded.db'}"
    server = fake_llm(two_tries(minigrid_model))
    group = asyncio.run(curriculum(["minigrid-empty", "minigrid-doorkey"],
                                   LearnConfig(env="minigrid-empty", episodes=4, solved=2, max_llm_calls=4, workers=1),
                                   llm_settings(server, recorded_db)))
    assert group.status == "finished" and len(group.run_ids) == 2 and server.requests
    path, recording = export(tmp_path, "curriculum.json", "--curriculum", str(group.id), db=recorded_db)
    assert recording["kind"] == "curriculum" and [r["index"] for r in recording["runs"]] == [0, 1]

    replay_db = f"sqlite:///{tmp_path / 'replay.db'}"
    done = invoke("curriculum", "--replay", str(path), db=replay_db)
    assert done.exit_code == 0, done.stderr
    assert "replaying a recorded curriculum of minigrid-empty, minigrid-doorkey" in done.stderr
    assert sqlite_rows(replay_db, "SELECT envs, status FROM curricula") == [
        ('["minigrid-empty", "minigrid-doorkey"]', "finished")]
    for original, replayed in zip(group.run_ids, [1, 2], strict=True):
        assert outcome(replay_db, replayed) == outcome(recorded_db, original)
    assert {s for (s,) in sqlite_rows(replay_db, "SELECT status FROM llm_calls")} <= {"replayed", "cancelled"}
    # the second step started from the first step's program, in the new store
    assert sqlite_rows(replay_db, "SELECT origin FROM programs WHERE run_id = 2 ORDER BY id")[0] == ("transfer",)

    wrong_kind = invoke("learn", "--env", "minigrid-empty", "--replay", str(path), db=replay_db)
    assert wrong_kind.exit_code == 2
    assert "the recording is of a curriculum, not of a run" in wrong_kind.stderr
    assert "`wc curriculum --replay RECORDING`" in wrong_kind.stderr
    refused = invoke("curriculum", "--replay", str(path), "--episodes", "2", db=replay_db)
    assert refused.exit_code == 2 and "--episodes would be ignored" in refused.stderr


def test_a_sweep_replays_from_its_recording(fake_llm, tmp_path, minigrid_model):
    from wc._run.sweep import sweep

    recorded_db = f"sqlite:///{tmp_path / 'recorded.db'}"
    server = fake_llm(two_tries(minigrid_model))
    summary = asyncio.run(sweep(["minigrid-empty", "minigrid-doorkey"], [0, 1], llm_settings(server, recorded_db),
                                config=LearnConfig(env="minigrid-empty", episodes=3, solved=2, max_llm_calls=3,
                                                   workers=1), parallel=2))
    assert summary.status == "finished" and len(summary.run_ids) == 4
    path, recording = export(tmp_path, "sweep.json", "--sweep", str(summary.id), db=recorded_db)
    assert recording["kind"] == "sweep" and sorted(r["cell"] for r in recording["runs"]) == [0, 1, 2, 3]
    assert recording["seeds"] == [0, 1] and recording["result"]["runs"] == 4

    replay_db = f"sqlite:///{tmp_path / 'replay.db'}"
    done = invoke("sweep", "--replay", str(path), "--parallel", "2", db=replay_db)
    assert done.exit_code == 0, done.stderr
    cells = dict(sqlite_rows(replay_db, "SELECT sweep_index, id FROM runs"))
    original = {c.index: c.run_id for c in summary.cells}
    assert sorted(cells) == [0, 1, 2, 3]
    for index, run_id in cells.items():
        assert outcome(replay_db, run_id) == outcome(recorded_db, original[index]), index
    assert sqlite_rows(replay_db, "SELECT status FROM sweeps") == [("finished",)]
    refused = invoke("sweep", "--replay", str(path), "--seeds", "0-4", db=replay_db)
    assert refused.exit_code == 2 and "--seeds would be ignored" in refused.stderr

    import wc  # the Python API replays it too, as the README says

    api_db = f"sqlite:///{tmp_path / 'api.db'}"
    events: list[Event] = []
    again = wc.sweep([], [], db=api_db, replay=wc.load_recording(str(path)), parallel=2, on_event=events.append)
    assert again.status == "finished" and len(again.run_ids) == 4
    ended = sorted(e.index for e in events if isinstance(e, CellEnded) and e.status == "finished")
    assert ended == [0, 1, 2, 3] and isinstance(events[0], SweepStarted)
    for cell in again.cells:
        assert outcome(api_db, cell.run_id) == outcome(recorded_db, original[cell.index]), cell.index


def test_a_request_cancelled_when_a_sibling_solved_is_replayed_as_sent_and_cancelled(fake_llm, tmp_path,
                                                                                     minigrid_model):
    """A round's sibling whose answer had not arrived when a candidate solved was sent, cancelled
    and counted; its replay sends it again as cancelled (it was once left out of the recording, so
    the replay made a call fewer, and had a call more of budget, than the recorded run)."""
    from wc._run.runner import learn

    solved = threading.Event()
    script = two_tries(minigrid_model)

    def held(request, n):  # the round's second request waits until the first one's candidate solved
        if n == 2:
            solved.wait(60)
        return script(request, n)

    def seen(event: Event) -> None:
        if isinstance(event, CandidateChecked) and event.solved:
            solved.set()
        if isinstance(event, RefineRound):
            rounds.append(event.arms)
    rounds: list[tuple] = []
    recorded_db = f"sqlite:///{tmp_path / 'recorded.db'}"
    server = fake_llm(held)
    # one request in flight: the sibling is sent when the first answer is in, and waits at the server
    settings = llm_settings(server, recorded_db).model_copy(update={"llm_concurrency": 1})
    run = asyncio.run(learn(LearnConfig(env="minigrid-empty", episodes=3, solved=2, max_llm_calls=3, workers=1),
                            settings, on_event=seen))
    solved.set()
    assert rounds[1][0] == rounds[1][1]  # two samples of one repair: the first solves, the second is cancelled
    assert sqlite_rows(recorded_db, "SELECT purpose, sample, status FROM llm_calls ORDER BY id") == [
        ("scratch", 0, "ok"), ("repair_transition", 0, "ok"), ("repair_transition", 1, "cancelled")]
    path, recording = export(tmp_path, "run.json", str(run.id), db=recorded_db)
    assert [c["status"] for c in recording["calls"]] == ["ok", "ok", "cancelled"]

    replay_db = f"sqlite:///{tmp_path / 'replay.db'}"
    done = invoke("learn", "--env", "minigrid-empty", "--replay", str(path), db=replay_db)
    assert done.exit_code == 0, done.stderr
    assert outcome(replay_db, 1) == outcome(recorded_db, run.id)
    assert sqlite_rows(replay_db, "SELECT status FROM llm_calls ORDER BY id")[2] == ("cancelled",)


def test_the_react_baseline_replays_from_its_recording(fake_llm, tmp_path):
    from wc._run.react import react

    recorded_db = f"sqlite:///{tmp_path / 'recorded.db'}"
    moves = ["left", "forward", "forward", "right", "pickup", "toggle", "jump"]  # "jump": not an action
    server = fake_llm(lambda request, n: Reply(f"Thought: step {n}.\nAction: {moves[n % len(moves)]}"))
    summary = asyncio.run(react("minigrid-doorkey", llm_settings(server, recorded_db), episodes=2, max_steps=6,
                                seed=3))
    assert summary.llm_calls == 12
    path, recording = export(tmp_path, "react.json", str(summary.id), db=recorded_db)
    assert recording["config"]["agent"] == "react"

    replay_db = f"sqlite:///{tmp_path / 'replay.db'}"
    done = invoke("baseline", "react", "--env", "minigrid-doorkey", "--replay", str(path), "--json", db=replay_db)
    assert done.exit_code == 0, done.stderr
    replayed = json.loads(done.stdout)
    assert (replayed["episodes"], replayed["env_steps"], replayed["llm_calls"], replayed["seed"]) == \
        (2, summary.env_steps, 12, 3)
    assert outcome(replay_db, replayed["id"]) == outcome(recorded_db, summary.id)
    wrong_kind = invoke("learn", "--env", "minigrid-doorkey", "--replay", str(path), db=replay_db)
    assert wrong_kind.exit_code == 2 and "ReAct baseline run" in wrong_kind.stderr
    assert "`wc baseline react --replay RECORDING`" in wrong_kind.stderr
