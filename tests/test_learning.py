"""What makes wc learn with few calls and steps, tested deterministically with scripted answers:
the transitions shown, the stop rule, the timing split, and record/replay."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from support.helpers import llm_settings as settings
from support.helpers import replaced

from wc._api import LearnConfig, Settings, add_program, learn, load_replay
from wc._core.values import Transition
from wc._store import Store
from wc._synth.prompts import choose_informative, effect_signature
from wc.errors import LLMFatalError, WcError
from wc.testing import Reply, answer

A = {"type": "Agent", "x": 1, "y": 1, "direction": 0, "carrying": None}
KEY = {"type": "Key", "x": 2, "y": 1, "color": "yellow"}


def t(action, before, after, reward=0.0, done=False):
    return Transition(before, action, after, reward, done, "m")


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
    assert {data[i].action for i in shown} == {"left", "forward", "pickup", "drop"}
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
async def test_stop_rule(fake_llm, db_url, minigrid_model, solved, min_episodes, expected):
    server = fake_llm(lambda r, n: Reply(answer(minigrid_model)))
    summary = await learn(LearnConfig(env="minigrid-doorkey", episodes=12, solved=solved,
                                            min_episodes=min_episodes), settings(server, db_url))
    assert summary.episodes == expected
    assert all(e.success for e in summary.episode_list[-solved:])


async def test_timing_split_is_the_union_of_llm_waits(fake_llm, db_url, minigrid_model):
    wrong = replaced(minigrid_model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    # one request (0.4 s), then a fan-out of three concurrent ones, answered 0.4 s after the last of them
    # arrived: they overlap by that much however late the machine's load makes one of them
    fan_out = threading.Barrier(3, timeout=60)

    def script(request, n):
        if 1 <= n <= 3:
            fan_out.wait()
        return Reply(answer(wrong if n < 3 else minigrid_model), delay=0.4)
    server = fake_llm(script)
    summary = await learn(LearnConfig(env="minigrid-doorkey", episodes=4, solved=2, concurrency=3,
                                            max_llm_calls=6), settings(server, db_url))
    calls = summary.llm_call_list
    assert len(calls) >= 4
    total_latency = sum(c.latency_s for c in calls)
    assert summary.llm_wait_seconds >= 0.8  # at least the first request and one concurrent round
    assert summary.llm_wait_seconds < total_latency - 0.3  # overlapping requests are counted once
    assert summary.wall_seconds >= summary.llm_wait_seconds


async def record_a_run(fake_llm, db_url, minigrid_model):
    wrong = replaced(minigrid_model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    assert wrong != minigrid_model

    def script(request, n):
        user = request["messages"][-1]["content"]
        return Reply(answer(minigrid_model if "It does not explain" in user else wrong))
    server = fake_llm(script)
    return await learn(LearnConfig(env="minigrid-doorkey", episodes=6, solved=3, concurrency=2,
                                   max_llm_calls=8, seed=4), settings(server, db_url))


async def actions_of(url, run_id):
    store = await Store.open(url)
    try:
        return [(r.step, r.action, r.next_state_hash) for r in await store.runs.transitions(run_id)]
    finally:
        await store.close()


async def test_a_replay_reproduces_the_recorded_run_without_an_llm(fake_llm, db_url, tmp_path, minigrid_model):
    original = await record_a_run(fake_llm, db_url, minigrid_model)
    assert original.llm_calls >= 2
    recording = await load_replay(str(original.id), db_url)
    path = tmp_path / "session.json"
    path.write_text(json.dumps(recording))

    replay_db = f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    replayed = await learn(LearnConfig(env="minigrid-doorkey"), Settings(db=replay_db),
                                 replay=await load_replay(str(path)))
    assert (replayed.episodes, replayed.successes, replayed.env_steps, replayed.llm_calls) == \
        (original.episodes, original.successes, original.env_steps, original.llm_calls)
    assert await actions_of(replay_db, replayed.id) == await actions_of(db_url, original.id)
    assert all(c.status == "replayed" and c.cost_usd is None for c in replayed.llm_call_list)


@pytest.mark.slow
async def test_a_replay_miss_is_a_clear_error(fake_llm, db_url, tmp_path, minigrid_model):
    original = await record_a_run(fake_llm, db_url, minigrid_model)
    recording = await load_replay(str(original.id), db_url)
    recording["calls"] = recording["calls"][:1]  # the repair's answer is missing
    replay_db = f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    summary = await learn(LearnConfig(env="minigrid-doorkey"), Settings(db=replay_db), replay=recording)
    assert summary.status == "failed" and "no answer" in summary.error and "diverged" in summary.error

    path = tmp_path / "partial.json"
    path.write_text(json.dumps(recording))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WC_"))}
    cli = subprocess.run([sys.executable, "-m", "wc", "learn", "--env", "minigrid-doorkey", "--replay", str(path),
                          "--db", f"sqlite:///{tmp_path / 'cli.db'}"], capture_output=True, text=True, env=env)
    assert cli.returncode == 1 and "Traceback" not in cli.stderr and "no answer" in cli.stderr  # a failed run


async def test_replay_refuses_another_environment_and_unknown_recordings(fake_llm, db_url, minigrid_model):
    original = await record_a_run(fake_llm, db_url, minigrid_model)
    recording = await load_replay(str(original.id), db_url)
    with pytest.raises(WcError, match="recording is of 'minigrid-doorkey'"):
        await learn(LearnConfig(env="minigrid-empty"), Settings(db=db_url), replay=recording)
    with pytest.raises(WcError, match="no recording 'nope'"):
        await load_replay("nope")
    assert issubclass(LLMFatalError, WcError)


@pytest.mark.slow
async def test_the_shipped_real_model_session_replays_without_an_api_key(tmp_path):
    """The README's first command: if wc's prompts or exploration change, this recording no longer
    matches and must be recorded again (wc runs export-llm)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WC_"))}
    result = subprocess.run([sys.executable, "-m", "wc", "learn", "--env", "minigrid-doorkey", "--replay",
                             "minigrid-doorkey", "--json", "--db", f"sqlite:///{tmp_path / 'wc.db'}"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    recorded = (await load_replay("minigrid-doorkey"))["result"]
    assert summary["status"] == "finished" and summary["llm_calls_failed"] == 0
    for key in ("episodes", "successes", "env_steps", "llm_calls"):
        assert summary[key] == recorded[key], key


NO_REWARD = "\n\ndef reward(state, action, next_state, mission):\n    return 0.0, False\n"



async def test_a_refuted_transfer_whose_repair_does_not_load_is_repaired_not_crashed(fake_llm, db_url, minigrid_model):
    """The curriculum crash: a transferred program refuted for optimism before any transition
    was recorded, whose first repair does not load; a repair of that one has no transition to
    show and must not divide by zero."""
    pid = await add_program("minigrid-doorkey", minigrid_model + NO_REWARD, db_url)

    def script(request, n):
        if n == 0:
            return Reply(answer("import os\n" + minigrid_model))  # forbidden import: does not load
        return Reply(answer(minigrid_model))
    server = fake_llm(script)
    config = LearnConfig(env="minigrid-doorkey", from_program=pid, episodes=3, max_llm_calls=6, concurrency=3,
                         solved=2)
    summary = await learn(config, settings(server, db_url))
    assert summary.status == "finished", summary.error
    assert summary.successes >= 2
    assert "no sequence of actions that completes this mission" in server.requests[0]["messages"][-1]["content"]
    assert "This is not a search budget running out" in server.requests[0]["messages"][-1]["content"]


def test_a_repair_of_a_program_that_fails_before_any_data_shows_its_error():
    from wc._sandbox.evaluation import Evaluation
    from wc._synth.prompts import PromptContext
    from wc._synth.refine import Candidate, Refiner
    from wc._synth.rex import Arm

    class NoData:
        transitions: list = []
    failure = {"kind": "forbidden", "message": "import of 'os' is not allowed"}
    broken = Candidate(7, "import os\n", Evaluation.failed(0, failure))
    refiner = Refiner(llm=None, sandbox=NoData(), ctx=PromptContext("API = 1", "sign", str), recorder=None,
                      budget=None)
    for kind in ("transition", "reward", "optimism"):
        messages = refiner._messages(Arm(7, kind, 0.0), broken, [], sample=3)
        assert "It cannot be used: [forbidden] import of 'os' is not allowed" in messages[-1]["content"]


async def test_an_unforeseen_failure_marks_the_run_failed_in_one_line_and_it_resumes(fake_llm, db_url, minigrid_model,
                                                                                     monkeypatch):
    from wc._api import resume, run_summary
    from wc._synth import refine

    calls = {"n": 0}
    real = refine.Refiner._messages

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ZeroDivisionError("integer modulo by zero")
        return real(self, *args, **kwargs)
    monkeypatch.setattr(refine.Refiner, "_messages", flaky)
    server = fake_llm(lambda r, n: Reply(answer(minigrid_model)))
    config = LearnConfig(env="minigrid-doorkey", episodes=3, max_llm_calls=4, solved=2)
    failed = await learn(config, settings(server, db_url))
    assert failed.status == "failed" and "\n" not in failed.error
    assert "internal error in wc (ZeroDivisionError: integer modulo by zero at wc/" in failed.error
    assert failed.env_steps >= 10  # what came before the failure is stored
    resumed = await resume(failed.id, settings(server, db_url))
    assert resumed.status == "finished" and resumed.successes >= 2
    assert (await run_summary(failed.id, db_url)).env_steps >= failed.env_steps


async def test_a_search_stopped_by_its_budget_is_not_taken_against_a_correct_program(fake_llm, db_url, minigrid_model):
    """DoorKey-8x8 with the correct program and a planning budget far too small for its plans:
    every search is undecided, the agent keeps the program and explores, and no optimism repair
    is asked for (the old agent spent every LLM call allowed on exactly this)."""
    server = fake_llm(lambda r, n: Reply(answer(minigrid_model)))
    config = LearnConfig(env="MiniGrid-DoorKey-8x8-v0", episodes=2, solved=None, max_llm_calls=4, max_steps=60,
                         plan_max_nodes=30, min_transitions=5)
    summary = await learn(config, settings(server, db_url))
    assert summary.status == "finished", summary.error
    assert summary.llm_calls == 1 and len(server.requests) == 1  # the first program only, never a repair
    assert not any("complete search of the program" in r["messages"][-1]["content"] for r in server.requests)
    episodes = summary.episode_list
    assert sum(e.plans_undecided for e in episodes) > 0
    assert all(e.plans_undecided <= e.plans for e in episodes)


async def run_record(url: str, run_id: int) -> tuple[list, list, list]:
    """What a run did, independent of timing: its requests, its programs in order, its steps."""
    store = await Store.open(url)
    try:
        calls = await store.calls.of_run(run_id)
        programs = await store.programs.find(run_id=run_id)
        steps = [(t.episode_id - (await store.runs.episodes(run_id))[0].id, t.step, t.action)
                 for t in await store.runs.transitions(run_id)]
    finally:
        await store.close()
    requests = sorted((c.request_hash, c.sample) for c in calls)
    return requests, [(p.origin, p.source_hash) for p in sorted(programs, key=lambda p: p.id)], steps


@pytest.mark.slow
async def test_concurrent_answers_in_any_order_replay_exactly(fake_llm, tmp_path, minigrid_model):
    """--concurrency 4 with random answer latencies: several candidates of a round solve, and the
    lowest-numbered arm wins whatever answers first. Ten replays reproduce the same requests,
    programs and steps."""
    import random

    wrong = replaced(minigrid_model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    fixed = "def transition" + minigrid_model.split("def transition", 1)[1].split("def reward", 1)[0]
    latency = random.Random()  # unseeded: the order of arrival differs from run to run

    def script(request, n):
        user = request["messages"][-1]["content"]
        tag = f"# answer {n}\n"  # distinct programs; after the first repair, every other one is right
        if "It does not explain" in user:
            right = n >= 2 and n % 2 == 1
            return Reply(answer(tag + (fixed if right else wrong.split("def transition", 1)[0])),
                         delay=latency.uniform(0.0, 0.4))
        return Reply(answer(wrong), delay=latency.uniform(0.0, 0.2))
    server = fake_llm(script)
    db = f"sqlite+aiosqlite:///{tmp_path / 'original.db'}"
    original = await learn(LearnConfig(env="minigrid-doorkey", episodes=5, solved=3, concurrency=4, max_llm_calls=12,
                                       seed=3), settings(server, db))
    assert original.status == "finished" and original.llm_calls >= 4  # a fan-out round happened
    expected = await run_record(db, original.id)
    recording = await load_replay(str(original.id), db)
    for attempt in range(10):
        replay_db = f"sqlite+aiosqlite:///{tmp_path / f'replay{attempt}.db'}"
        replayed = await learn(LearnConfig(env="minigrid-doorkey"), Settings(db=replay_db), replay=recording)
        assert replayed.status == "finished", (attempt, replayed.error)
        got = await run_record(replay_db, replayed.id)
        assert got[1] == expected[1], attempt  # the same programs, in the same order
        assert got[2] == expected[2], attempt  # the same steps
        assert set(got[0]) <= set(expected[0]), attempt  # only requests the original asked
