"""The knowledge store across runs: lineage through transfer, curricula, concurrent runs, and
resuming after SIGKILL, each against SQLite and a real PostgreSQL server."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import networkx as nx
import pytest
from support.helpers import child_env, replaced, run_wc
from support.helpers import llm_settings as settings

from wc._api import LearnConfig, curriculum, learn, lineage
from wc._store import RunBusy, Store
from wc.events import ProgramTransferred
from wc.testing import Reply, answer

pytestmark = pytest.mark.slow  # whole runs in subprocesses; the fast subset skips them


def wrong_of(model: str) -> str:
    wrong = replaced(model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    assert wrong != model
    return wrong


def fixing_script(model: str, slow_repair: dict | None = None):
    """Wrong program first; a repair of it gets the right `transition`."""
    wrong = wrong_of(model)
    fixed = "def transition" + model.split("def transition", 1)[1].split("def reward", 1)[0]

    def script(request, n):
        user = request["messages"][-1]["content"]
        if "It does not explain" in user and "(agent.direction + 1) % 4" in user:
            delay = 30 if slow_repair and slow_repair.get("slow") else 0.05
            return Reply(answer(fixed, "The turn was inverted."), delay=delay)
        return Reply(answer(wrong), delay=0.05)
    return script


async def query(url: str, fn):
    """Open the store as another process would, ask it one thing, close it."""
    store = await Store.open(url)
    try:
        return await fn(store)
    finally:
        await store.close()


# ------------------------------------------------------------------ lineage and transfer


async def test_lineage_crosses_a_transfer_between_environments(fake_llm, store_url, minigrid_model):
    server = fake_llm(fixing_script(minigrid_model))
    s = settings(server, store_url)
    first = await learn(LearnConfig(env="minigrid-doorkey", episodes=6, solved=2, max_llm_calls=6), s)
    calls_before = len(server.requests)
    second = await learn(LearnConfig(env="minigrid-unlock", episodes=6, solved=2, max_llm_calls=6,
                                           from_program=first.best_program_id), s)
    assert len(server.requests) == calls_before  # the transferred program needed no LLM call
    assert first.successes == 2 and second.successes == 2 and second.llm_calls == 0

    graph = await lineage(first.best_program_id, store_url)
    assert isinstance(graph, nx.DiGraph)
    transferred = second.best_program_id
    assert graph.has_edge(first.best_program_id, transferred)
    assert graph.nodes[transferred]["origin"] == "transfer"
    assert graph.nodes[transferred]["env"] == "minigrid-unlock" and graph.nodes[transferred]["run"] == second.id
    assert graph.nodes[transferred]["is_model"] and graph.nodes[first.best_program_id]["is_model"]
    # the whole history: scratch -> repair -> transfer
    origins = [graph.nodes[n]["origin"] for n in nx.topological_sort(graph)]
    assert origins[0] == "scratch" and origins[-1] == "transfer" and "repair_transition" in origins
    # its scores on the new environment's data are recorded
    record = await query(store_url, lambda st: st.programs.get(transferred))
    rows = await query(store_url, lambda st: st.runs.transitions(second.id))
    distinct = {(t.state_hash, t.action, t.next_state_hash, t.reward, t.done, t.mission) for t in rows}
    assert record.n_transitions == len(distinct) > 0  # every distinct transition of the new run
    assert record.fit == 1.0


async def test_auto_transfer_picks_the_most_similar_environment(fake_llm, store_url, minigrid_model):
    other = replaced(minigrid_model, "# A correct world model", "# Another world model")
    assert other != minigrid_model
    server = fake_llm(lambda r, n: Reply(answer(minigrid_model if n == 0 else other)))
    s = settings(server, store_url)
    doorkey = await learn(LearnConfig(env="minigrid-doorkey", episodes=3, solved=1, max_llm_calls=2), s)
    empty = await learn(LearnConfig(env="minigrid-empty", episodes=3, solved=1, max_llm_calls=2), s)
    events = []
    target = await learn(LearnConfig(env="MiniGrid-DoorKey-6x6-v0", episodes=3, solved=1, max_llm_calls=2,
                                           from_program="auto"), s, on_event=events.append)
    sources = [e.from_program for e in events if isinstance(e, ProgramTransferred)]
    assert sources[0] == doorkey.best_program_id  # DoorKey-5x5 is nearer to DoorKey-6x6 than Empty is
    assert empty.best_program_id in sources
    assert target.successes == 1 and target.llm_calls == 0


async def test_unknown_program_for_transfer_is_a_clear_error(fake_llm, store_url):
    from wc.errors import NotFound

    server = fake_llm(lambda r, n: Reply("no"))
    with pytest.raises(NotFound, match="no program with id 999"):
        await learn(LearnConfig(env="minigrid-empty", from_program=999), settings(server, store_url))


# ------------------------------------------------------------------ curricula


async def test_a_curriculum_of_two_environments(fake_llm, store_url, minigrid_model):
    server = fake_llm(fixing_script(minigrid_model))
    s = settings(server, store_url)
    group = await curriculum(["minigrid-empty", "minigrid-doorkey"],
                                   LearnConfig(env="minigrid-empty", episodes=8, solved=2, max_llm_calls=6), s)
    assert group.status == "finished" and len(group.run_ids) == 2
    runs = [await query(store_url, lambda st, r=r: st.runs.summary(r)) for r in group.run_ids]
    assert [r.env for r in runs] == ["minigrid-empty", "minigrid-doorkey"]
    assert all(r.status == "finished" and r.successes == 2 for r in runs)
    assert [r.curriculum_index for r in runs] == [0, 1]
    second_programs = await query(store_url, lambda st: st.programs.find(run_id=runs[1].id))
    transfer = [p for p in second_programs if p.origin == "transfer"]
    assert transfer and transfer[0].parents == [runs[0].best_program_id]
    listed = await query(store_url, lambda st: st.curricula.all())
    assert [g.id for g in listed] == [group.id]


# ------------------------------------------------------------------ processes



async def wc(*args, env, timeout=240):
    """`wc ...` in a subprocess, waited for in a thread so the test's event loop is not blocked."""
    return await asyncio.to_thread(run_wc, *args, env=env, timeout=timeout)


def spawn(*args, env):
    return subprocess.Popen([sys.executable, "-m", "wc", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=child_env(env))


async def test_two_concurrent_runs_share_one_store(fake_llm, store_url, minigrid_model):
    await query(store_url, lambda st: st.runs.summaries())  # schema ready, as `wc db upgrade` would leave it
    server = fake_llm(fixing_script(minigrid_model))
    env = {"WC_DB": store_url, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url}
    procs = [spawn("learn", "--env", name, "--episodes", "6", "--solved", "2", "--max-llm-calls", "6", env=env)
             for name in ("minigrid-doorkey", "minigrid-empty")]
    outputs = [await asyncio.to_thread(p.communicate, timeout=240) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err.lower()
    runs = await query(store_url, lambda st: st.runs.summaries())
    assert sorted(r.env for r in runs) == ["minigrid-doorkey", "minigrid-empty"]
    for r in runs:
        assert r.status == "finished" and r.successes == 2
        rows = await query(store_url, lambda st, r=r: st.runs.transitions(r.id))
        assert len(rows) == r.env_steps and len({(t.episode_id, t.step) for t in rows}) == len(rows)


async def snapshot(url: str, run_id: int) -> dict:
    async def fn(st: Store):
        rows = await st.runs.transitions(run_id)
        programs = await st.programs.find(run_id=run_id)
        episodes = await st.runs.episodes(run_id)
        calls = await st.calls.of_run(run_id)
        return {
            "transitions": {t.id: (t.episode_id, t.step, t.action, t.state_hash, t.next_state_hash) for t in rows},
            "programs": {p.id: p.source_hash for p in programs},
            "episodes": {e.id: e.index for e in episodes},
            "calls": {c.id: (c.request_hash, c.sample, c.status) for c in calls},
        }
    return await query(url, fn)


async def check_invariants(url: str, run_id: int, before: dict) -> dict:
    now = await snapshot(url, run_id)
    for part in ("transitions", "programs", "episodes", "calls"):
        for key, value in before[part].items():
            assert now[part].get(key) == value, f"{part} {key} changed or vanished after a resume"
    steps: dict[int, list[int]] = {}
    for episode_id, step, *_ in now["transitions"].values():
        steps.setdefault(episode_id, []).append(step)
    for episode_id, seen in steps.items():
        assert sorted(seen) == list(range(len(seen))), f"episode {episode_id} has gaps or repeats: {sorted(seen)}"
    assert len(set(now["programs"].values())) == len(now["programs"])
    assert len(set(now["episodes"].values())) == len(now["episodes"])
    return now


async def wait_for(predicate, timeout=60.0):
    """Poll `predicate` (plain or async) while the event loop, and so the LLM server, runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


async def test_sigkill_at_several_points_then_resume(fake_llm, store_url, minigrid_model):
    slow = {"slow": True}
    server = fake_llm(fixing_script(minigrid_model, slow))
    env = {"WC_DB": store_url, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url}
    # --solved 20: at least twenty episodes, so that a kill during the third lands well before the end
    args = ("--episodes", "30", "--solved", "20", "--max-llm-calls", "8", "--concurrency", "2")

    async def count(part):
        if not await query(store_url, lambda st: st.runs.summaries()):
            return 0
        return len((await snapshot(store_url, 1))[part])

    # 1. during the first random exploration, before any LLM call
    await query(store_url, lambda st: st.runs.summaries())
    proc = spawn("learn", "--env", "minigrid-doorkey", *args, env=env)
    async def enough_transitions():
        return await count("transitions") >= 4
    await wait_for(enough_transitions)
    proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait)
    before = await check_invariants(store_url, 1, await snapshot(store_url, 1))
    assert (await query(store_url, lambda st: st.runs.summary(1))).status == "interrupted"

    # 2. in the middle of a refinement: the first answer is recorded, the repair request in flight
    proc = spawn("resume", "1", env=env)
    await wait_for(lambda: any("It does not explain" in r["messages"][-1]["content"] for r in server.requests), 120)
    await wait_for(lambda: server.in_flight >= 1)
    proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait)
    before = await check_invariants(store_url, 1, before)

    def scratch_requests():
        return sum(1 for r in server.requests if r["messages"][-1]["content"].startswith("Here are"))
    scratch_asked = scratch_requests()
    assert scratch_asked >= 1

    # 3. while acting with a learned program
    slow["slow"] = False
    proc = spawn("resume", "1", env=env)
    async def three_episodes():
        return await count("episodes") >= 3
    await wait_for(three_episodes, 120)
    proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait)
    out, err = await asyncio.to_thread(proc.communicate)
    before = await check_invariants(store_url, 1, before)
    # the refinement was redone with the same choices; its recorded answers came from the store
    assert scratch_requests() == scratch_asked

    # 4. to the end
    done = await wc("resume", "1", "--json", env=env)
    assert done.returncode == 0, done.stderr
    await check_invariants(store_url, 1, before)
    assert scratch_requests() == scratch_asked
    summary = json.loads(done.stdout)
    assert summary["status"] == "finished" and summary["successes"] >= 20
    assert summary["episode_list"][-1]["success"]
    assert "served from the store" in done.stderr
    # nothing recorded twice: one transition per (episode, step), env steps = rows
    final = await snapshot(store_url, 1)
    assert summary["env_steps"] == len(final["transitions"])


async def test_resume_refuses_a_finished_run_and_a_live_one(fake_llm, store_url, minigrid_model):
    server = fake_llm(lambda r, n: Reply(answer(minigrid_model), delay=20 if n == 1 else 0.05))
    env = {"WC_DB": store_url, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url}
    finished = await wc("learn", "--env", "minigrid-empty", "--episodes", "2", "--solved", "1", env=env)
    assert finished.returncode == 0, finished.stderr
    refused = await wc("resume", "1", env=env)
    assert refused.returncode == 2 and "already finished" in refused.stderr and "Traceback" not in refused.stderr

    live = spawn("learn", "--env", "minigrid-doorkey", "--episodes", "2", env=env)
    await wait_for(lambda: server.in_flight >= 1, 60)
    busy = await wc("resume", "2", env=env)
    live.send_signal(signal.SIGKILL)
    await asyncio.to_thread(live.wait)
    assert busy.returncode == 2 and "another live process" in busy.stderr
    assert (await wc("resume", "77", env=env)).returncode == 3


async def test_ctrl_c_marks_the_run_interrupted_and_says_how_to_resume(fake_llm, db_url, minigrid_model):
    server = fake_llm(lambda r, n: Reply(answer(minigrid_model), delay=30))
    env = {"WC_DB": db_url, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url}
    proc = subprocess.Popen([sys.executable, "-m", "wc", "learn", "--env", "minigrid-doorkey"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=child_env(env), preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    await wait_for(lambda: server.in_flight >= 1, 60)
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 130
    assert "wc resume 1" in err and "Traceback" not in err
    summary = await query(db_url, lambda st: st.runs.summary(1))
    assert summary.status == "interrupted" and summary.env_steps >= 10


async def test_db_commands(store_url):
    fresh = await wc("db", "current", env={"WC_DB": store_url})
    if store_url.startswith("sqlite"):  # no file yet: reading does not create one
        assert fresh.returncode == 4 and "no store at" in fresh.stderr and "Traceback" not in fresh.stderr
        assert not os.path.exists(store_url.split("///", 1)[1])
    else:  # an empty PostgreSQL database
        assert fresh.returncode == 0 and "none" in fresh.stdout
    upgraded = await wc("db", "upgrade", env={"WC_DB": store_url})
    assert upgraded.returncode == 0
    current = await wc("db", "current", env={"WC_DB": store_url})
    assert "up to date" in current.stdout


async def test_claiming_a_run_is_exclusive(store):
    from wc.envs.api import load as load_api_module
    api = load_api_module("minigrid", 1)
    env_id = await store.environments.ensure("minigrid-empty", "MiniGrid-Empty-5x5-v0", "minigrid", api)
    run_id = await store.runs.create(env_id, config={"env": "minigrid-empty"}, seed=0, model="m",
                                     owner="elsewhere:1")
    await store.runs.finish(run_id, status="interrupted", best_program_id=None, wall_seconds=0,
                            llm_wait_seconds=0)
    results = await asyncio.gather(store.runs.claim(run_id, "a:1"), store.runs.claim(run_id, "b:2"),
                                   return_exceptions=True)
    busy = [r for r in results if isinstance(r, RunBusy)]
    claimed = [r for r in results if not isinstance(r, BaseException)]
    assert len(busy) == 1 and len(claimed) == 1, results  # one claim is refused, and the other one holds
    assert claimed[0].status == "running" and claimed[0].owner in ("a:1", "b:2")
    assert (await store.runs.get(run_id)).owner == claimed[0].owner  # the store agrees with the winner


async def test_killed_at_ten_random_points_and_resumed_each_time(fake_llm, db_url, minigrid_model):
    """SIGKILL at ten random moments of a scripted run, a resume after each: the store's
    invariants hold every time (contiguous steps, no duplicated rows, rows from before the kill
    unchanged), no answer is paid for twice, and the run still finishes."""
    import random

    server = fake_llm(lambda r, n: Reply(answer(minigrid_model if "It does not explain" in
                                                r["messages"][-1]["content"] else wrong_of(minigrid_model)),
                                         delay=0.3))
    env = {"WC_DB": db_url, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url}
    await query(db_url, lambda st: st.runs.summaries())  # the schema, as `wc db upgrade` leaves it
    rng = random.Random(20261202)
    args = ("--episodes", "40", "--solved", "30", "--max-llm-calls", "8", "--concurrency", "2")  # long enough
    before: dict = {"transitions": {}, "programs": {}, "episodes": {}, "calls": {}}
    proc = spawn("learn", "--env", "minigrid-doorkey", *args, env=env)
    kills = 0
    while kills < 10:
        await asyncio.sleep(rng.uniform(0.5, 2.5))
        if proc.poll() is not None:  # finished before this kill: nothing left to interrupt
            break
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait)
        kills += 1
        if (await query(db_url, lambda st: st.runs.summaries())):
            before = await check_invariants(db_url, 1, before)
            paid = [v for v in before["calls"].values() if v[2] == "ok"]
            assert len(paid) == len({(h, s) for h, s, _ in paid}), "an answer was paid for twice"
        proc = spawn("resume", "1", env=env) if await query(db_url, lambda st: st.runs.summaries()) else \
            spawn("learn", "--env", "minigrid-doorkey", *args, env=env)
    out, err = await asyncio.to_thread(proc.communicate, timeout=240)
    if proc.returncode != 0:  # the last process was a resume of a run a kill left finished, or failed
        assert "already finished" in err, err
    final = await check_invariants(db_url, 1, before)
    summary = await query(db_url, lambda st: st.runs.summary(1))
    if summary.status != "finished":
        done = await wc("resume", "1", "--json", env=env)
        assert done.returncode == 0, done.stderr
        final = await check_invariants(db_url, 1, final)
        summary = await query(db_url, lambda st: st.runs.summary(1))
    assert summary.status == "finished" and summary.successes >= 30
    assert kills == 10, kills  # every kill landed while the run was going
    assert summary.env_steps == len(final["transitions"])
