"""What makes wc learn with few calls and steps, tested deterministically with scripted answers:
the transitions shown, the stop rule, the timing split, and record/replay."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from helpers import llm_settings as settings
from llm_server import FakeLLMServer, Reply, answer
from wc.api import LearnConfig, Settings, learn, load_replay
from wc.errors import LLMFatalError, WcError
from wc.store import Store
from wc.synth.prompts import choose_informative, effect_signature

A = {"type": "Agent", "x": 1, "y": 1, "direction": 0, "carrying": None}
KEY = {"type": "Key", "x": 2, "y": 1, "color": "yellow"}


def t(action, before, after, reward=0.0, done=False):
    return {"state": before, "action": action, "next_state": after, "reward": reward, "done": done, "mission": "m"}


def test_scratch_prompt_shows_each_kind_of_effect_once_and_every_action():
    turn = t("left", [A], [dict(A, direction=3)])
    turn_again = t("left", [dict(A, direction=3)], [dict(A, direction=2)])
    bump = t("forward", [A, KEY], [A, KEY])
    move = t("forward", [A], [dict(A, x=2)])
    grab = t("pickup", [A, KEY], [dict(A, carrying=dict(KEY, x=None, y=None))])
    noop = t("drop", [A], [A])
    win = t("forward", [A], [dict(A, x=2)], reward=0.9, done=True)
    data = [turn, turn_again, bump, bump, move, move, grab, noop, noop, win]
    shown = choose_informative(data, limit=12)
    kinds = [effect_signature(data[i]) for i in shown]
    assert len(kinds) == len(set(kinds))  # no kind twice
    assert {data[i]["action"] for i in shown} == {"left", "forward", "pickup", "drop"}
    assert 9 in shown and 6 in shown  # the reward and the pickup are shown
    assert shown == sorted(shown)


def test_when_there_are_too_many_kinds_rewards_and_changes_come_first():
    moves = [t(f"a{i}", [A], [dict(A, x=i)]) for i in range(2, 20)]  # 18 actions, each its own kind
    noops = [t(f"n{i}", [A], [A]) for i in range(5)]
    win = t("forward", [A], [dict(A, x=9)], reward=1.0, done=True)
    data = noops + moves + [win]
    shown = choose_informative(data, limit=6)
    assert len(shown) == 6
    assert len(data) - 1 in shown  # the rewarding transition survives the cut
    assert not any(i < len(noops) for i in shown)  # no-ops go first when space is short


@pytest.mark.parametrize("solved, min_episodes, expected", [(3, 1, 3), (3, 5, 5)])
def test_stop_rule(db_url, minigrid_model, solved, min_episodes, expected):
    with FakeLLMServer(lambda r, n: Reply(answer(minigrid_model))) as server:
        summary = asyncio.run(learn(LearnConfig(env="minigrid-doorkey", episodes=12, solved=solved,
                                                min_episodes=min_episodes), settings(server, db_url)))
    assert summary.episodes == expected
    assert all(e.success for e in summary.episode_list[-solved:])


def test_timing_split_is_the_union_of_llm_waits(db_url, minigrid_model):
    wrong = minigrid_model.replace("(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    # one request (0.4 s), then a fan-out of three concurrent ones (0.4 s each, overlapping)
    with FakeLLMServer(lambda r, n: Reply(answer(wrong if n < 3 else minigrid_model), delay=0.4)) as server:
        summary = asyncio.run(learn(LearnConfig(env="minigrid-doorkey", episodes=4, solved=2, concurrency=3,
                                                max_llm_calls=6), settings(server, db_url)))
    calls = summary.llm_call_list
    assert len(calls) >= 4
    total_latency = sum(c.latency_s for c in calls)
    assert summary.llm_wait_seconds >= 0.8  # at least the first request and one concurrent round
    assert summary.llm_wait_seconds < total_latency - 0.3  # overlapping requests are counted once
    assert summary.wall_seconds >= summary.llm_wait_seconds


def record_a_run(db_url, minigrid_model):
    wrong = minigrid_model.replace("(agent.direction - 1) % 4", "(agent.direction + 1) % 4")

    def script(request, n):
        user = request["messages"][-1]["content"]
        return Reply(answer(minigrid_model if "It does not explain" in user else wrong))
    with FakeLLMServer(script) as server:
        return asyncio.run(learn(LearnConfig(env="minigrid-doorkey", episodes=6, solved=3, concurrency=2,
                                             max_llm_calls=8, seed=4), settings(server, db_url)))


def actions_of(url, run_id):
    async def go():
        store = await Store.open(url)
        try:
            return [(r.step, r.action, r.next_state_hash) for r in await store.transitions(run_id)]
        finally:
            await store.close()
    return asyncio.run(go())


def test_a_replay_reproduces_the_recorded_run_without_an_llm(db_url, tmp_path, minigrid_model):
    original = record_a_run(db_url, minigrid_model)
    assert original.llm_calls >= 2
    recording = asyncio.run(load_replay(str(original.id), db_url))
    path = tmp_path / "session.json"
    path.write_text(json.dumps(recording))

    replay_db = f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    replayed = asyncio.run(learn(LearnConfig(env="minigrid-doorkey"), Settings(db=replay_db),
                                 replay=asyncio.run(load_replay(str(path)))))
    assert (replayed.episodes, replayed.successes, replayed.env_steps, replayed.llm_calls) == \
        (original.episodes, original.successes, original.env_steps, original.llm_calls)
    assert actions_of(replay_db, replayed.id) == actions_of(db_url, original.id)
    assert all(c.status == "replayed" and c.cost_usd is None for c in replayed.llm_call_list)


def test_a_replay_miss_is_a_clear_error(db_url, tmp_path, minigrid_model):
    original = record_a_run(db_url, minigrid_model)
    recording = asyncio.run(load_replay(str(original.id), db_url))
    recording["calls"] = recording["calls"][:1]  # the repair's answer is missing
    replay_db = f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    summary = asyncio.run(learn(LearnConfig(env="minigrid-doorkey"), Settings(db=replay_db), replay=recording))
    assert summary.status == "failed" and "no answer" in summary.error and "diverged" in summary.error

    path = tmp_path / "partial.json"
    path.write_text(json.dumps(recording))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WC_"))}
    cli = subprocess.run([sys.executable, "-m", "wc", "learn", "--env", "minigrid-doorkey", "--replay", str(path),
                          "--db", f"sqlite:///{tmp_path / 'cli.db'}"], capture_output=True, text=True, env=env)
    assert cli.returncode == 2 and "Traceback" not in cli.stderr and "no answer" in cli.stderr


def test_replay_refuses_another_environment_and_unknown_recordings(db_url, minigrid_model):
    original = record_a_run(db_url, minigrid_model)
    recording = asyncio.run(load_replay(str(original.id), db_url))
    with pytest.raises(WcError, match="recording is of 'minigrid-doorkey'"):
        asyncio.run(learn(LearnConfig(env="minigrid-empty"), Settings(db=db_url), replay=recording))
    with pytest.raises(WcError, match="no recording 'nope'"):
        asyncio.run(load_replay("nope"))
    assert issubclass(LLMFatalError, WcError)


def test_the_shipped_real_model_session_replays_without_an_api_key(tmp_path):
    """The README's first command: if wc's prompts or exploration change, this recording no longer
    matches and must be recorded again (wc runs export-llm)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WC_"))}
    result = subprocess.run([sys.executable, "-m", "wc", "learn", "--env", "minigrid-doorkey", "--replay",
                             "minigrid-doorkey", "--json", "--db", f"sqlite:///{tmp_path / 'wc.db'}"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    recorded = asyncio.run(load_replay("minigrid-doorkey"))["result"]
    assert summary["status"] == "finished" and summary["llm_calls_failed"] == 0
    for key in ("episodes", "successes", "env_steps", "llm_calls"):
        assert summary[key] == recorded[key], key
