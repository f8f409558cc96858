"""The knowledge store's speed, as ratios to baselines measured in the same run.

    python benchmarks/bench_store.py

* transitions written per second by wc (one transaction per transition, as the agent commits them,
  so a crash loses at most the step in flight) / plain sqlite3 `executemany` of the same rows in one
  transaction: the price of durability per step;
* building the lineage graph (networkx) of a 10,000-program history, from the store.
"""
from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

from wc import envs  # noqa: E402
from wc._core.canonical import state_hash  # noqa: E402
from wc._store import Store  # noqa: E402


def rows(n: int):
    adapter = envs.make("minigrid-doorkey")
    rng = random.Random(0)
    out, episode = [], 0
    while len(out) < n:
        state, mission = adapter.reset(episode)
        for t in range(100):
            action = rng.choice(adapter.actions)
            step = adapter.step(action)
            out.append((episode, t, state, action, step.state, step.reward, step.terminated, step.truncated, mission))
            state = step.state
            if step.terminated or step.truncated or len(out) >= n:
                break
        episode += 1
    return out


async def wc_writes(path: Path, data) -> float:
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    api = envs.make("minigrid-doorkey").api
    env_id = await store.environments.ensure("minigrid-doorkey", "MiniGrid-DoorKey-5x5-v0", "minigrid", api)
    run_id = await store.runs.create(env_id, config={}, seed=0, model="bench")
    episodes: dict[int, int] = {}
    started = time.perf_counter()
    for ep, t, s, a, ns, r, d, tr, mission in data:
        if ep not in episodes:
            episodes[ep] = await store.runs.start_episode(run_id, ep, ep, mission)
        await store.runs.add_transition(run_id=run_id, episode_id=episodes[ep], step=t, state=s, action=a,
                                        next_state=ns,
                                   reward=r, done=d, truncated=tr, mission=mission)
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed


def sqlite_executemany(path: Path, data) -> float:
    con = sqlite3.connect(path)
    con.execute("create table t (run_id int, episode_id int, step int, state text, action text, next_state text, "
                "reward real, done int, truncated int, mission text, state_hash text, next_state_hash text)")
    started = time.perf_counter()
    con.executemany("insert into t values (?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(1, ep, t, json.dumps(s), a, json.dumps(ns), r, d, tr, m, state_hash(s), state_hash(ns))
                     for ep, t, s, a, ns, r, d, tr, m in data])
    con.commit()
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


async def lineage_build(path: Path, n: int = 10_000) -> tuple[float, int]:
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    api = envs.make("minigrid-doorkey").api
    env_id = await store.environments.ensure("minigrid-doorkey", "MiniGrid-DoorKey-5x5-v0", "minigrid", api)
    api_id = await store.environments.ensure_api_module(api)
    run_id = await store.runs.create(env_id, config={}, seed=0, model="bench")
    con = sqlite3.connect(path)  # bulk-load a long history directly; the benchmark times the read
    rng = random.Random(0)
    con.executemany("insert into programs (id, run_id, environment_id, api_module_id, source, source_hash, origin, "
                    "created_at, fit, score) values (?,?,?,?,?,?,?,datetime('now'),?,?)",
                    [(i, run_id, env_id, api_id, f"# {i}", f"{i:064x}", "repair_transition", rng.random(), rng.random())
                     for i in range(1, n + 1)])
    edges = [(i, rng.randrange(max(1, i - 50), i)) for i in range(2, n + 1)]
    edges += [(i, rng.randrange(1, i)) for i in range(3, n + 1, 7)]  # some merges: two parents
    con.executemany("insert or ignore into program_parents (child_id, parent_id) values (?,?)", edges)
    con.commit()
    con.close()
    started = time.perf_counter()
    graph = await store.programs.lineage(1)
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed, graph.number_of_nodes()


async def main() -> None:
    data = rows(2000)
    with tempfile.TemporaryDirectory() as tmp:
        wc_time = await wc_writes(Path(tmp) / "wc.db", data)
        plain = sqlite_executemany(Path(tmp) / "plain.db", data)
        print(f"{len(data)} transitions: wc {len(data) / wc_time:,.0f}/s (a transaction each), "
              f"sqlite3 executemany {len(data) / plain:,.0f}/s (one transaction)")
        print(f"RESULT store_writes ratio={plain / wc_time:.3f} wc_per_s={len(data) / wc_time:.0f} "
              f"executemany_per_s={len(data) / plain:.0f}")
        elapsed, nodes = await lineage_build(Path(tmp) / "lineage.db")
        print(f"lineage graph of {nodes} programs built in {elapsed:.2f} s")
        print(f"RESULT lineage_10k seconds={elapsed:.2f} nodes={nodes}")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
