"""Importing offline data into the store, as ratios to baselines measured in the same run.

    python benchmarks/bench_import.py [--n 1000000] [--postgres URL | --no-postgres]

Data: N transitions shaped like a MuJoCo dataset (HalfCheetah's: 17 observation numbers, 6 action
numbers, episodes of 1,000 steps, float32 values), of a small gymnasium environment registered
here with those spaces, so the generic adapter reads it without MuJoCo.

* `wc import`: `Store.datasets.add`, as `wc.datasets.import_dataset` calls it, from a stream of
  wc transitions (encoding, hashing, batches of 50,000, one transaction each);
* baseline, "raw executemany": the same rows into the same table of a wc store with the stdlib's
  sqlite3 (one `executemany`, one transaction), each row encoded naively inside the timed part
  (`json.dumps` of both states and the action per row), as benchmarks/bench_store.py's baseline
  does; the ratio is baseline time / wc's time (>= 0.5 asked);
* the pure driver time (rows encoded before the clock starts), for scale;
* the old way, one `store.runs.add_transition` per step (2,000 steps), for scale;
* end to end: a JSONL file of N lines read, checked against the spaces, encoded and imported;
* PostgreSQL (a server started here from the installed binaries unless `--postgres URL`):
  wc's import (COPY) against asyncpg's `executemany` of the naively encoded rows.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import numpy as np

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # support/pg.py

from wc import envs  # noqa: E402
from wc._store import Store  # noqa: E402
from wc._store.records import DataTransition  # noqa: E402
from wc.datasets import import_dataset, read_jsonl  # noqa: E402

OBS, ACT, EPISODE = 17, 6, 1000


class Shaped(gym.Env):
    """HalfCheetah's spaces without its physics (the benchmark reads data, never steps)."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (OBS,), np.float64)
    action_space = gym.spaces.Box(-1.0, 1.0, (ACT,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(OBS), {}

    def step(self, action):
        return np.zeros(OBS), 0.0, False, False, {}


gym.register("WCBench-Shaped-v0", entry_point=Shaped, max_episode_steps=EPISODE)


def stream(n: int, fields: list[str], seed: int = 0) -> Iterator[DataTransition]:
    """N transitions, generated as they are consumed (both sides consume the same stream)."""
    rng = np.random.default_rng(seed)
    state = None
    for i in range(n):
        episode, step = divmod(i, EPISODE)
        if step == 0:
            state = [{"type": "Observation", **dict(zip(fields, rng.standard_normal(OBS).astype(np.float32).tolist(),
                                                      strict=True))}]
        nxt = [{"type": "Observation", **dict(zip(fields, rng.standard_normal(OBS).astype(np.float32).tolist(),
                                                    strict=True))}]
        action = rng.uniform(-1, 1, ACT).astype(np.float32).tolist()
        last = step == EPISODE - 1 or i == n - 1
        yield DataTransition(state, action, nxt, float(np.float32(rng.standard_normal())), False, episode=episode,
                             step=step, truncated=last)
        state = nxt


def naive_rows(dataset_id: int, transitions: Iterator[DataTransition]) -> Iterator[tuple]:
    for t in transitions:
        yield (dataset_id, t.episode, t.step, json.dumps(t.state), json.dumps(t.action), json.dumps(t.next_state),
               t.reward, t.done, t.truncated)


COLUMNS = "dataset_id, episode, step, state, action, next_state, reward, done, truncated"


async def dataset_row(store, adapter, name: str) -> tuple[int, int, int]:
    env_id = await store.environments.ensure(adapter.name, adapter.env_id, "gym", adapter.api, "value")
    api_id = await store.environments.ensure_api_module(adapter.api)
    record = await store.datasets.add(environment_id=env_id, api_module_id=api_id, name=name, format="jsonl",
                                      location=name, content_hash=name, mission="", transitions=iter(()),
                                      vocabulary=[])
    return env_id, api_id, record.id


async def wc_import(url: str, adapter, n: int, words: list[str]) -> float:
    store = await Store.open(url)
    env_id, api_id, _ = await dataset_row(store, adapter, "placeholder")
    fields = [f.name for f in adapter.layout.fields]
    started = time.perf_counter()
    record = await store.datasets.add(environment_id=env_id, api_module_id=api_id, name="bench", format="jsonl",
                                      location="bench", content_hash="bench", mission="", transitions=stream(n, fields),
                                      vocabulary=words)
    elapsed = time.perf_counter() - started
    assert record.n_transitions == n, record
    await store.close()
    return elapsed


async def sqlite_baselines(path: Path, adapter, n: int) -> tuple[float, float]:
    store = await Store.open(f"sqlite:///{path}")
    _, _, dataset_id = await dataset_row(store, adapter, "baseline")
    await store.close()
    fields = [f.name for f in adapter.layout.fields]
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=NORMAL")
    sql = f"INSERT INTO dataset_transitions ({COLUMNS}) VALUES ({', '.join('?' * 9)})"
    started = time.perf_counter()
    con.executemany(sql, naive_rows(dataset_id, stream(n, fields)))
    con.commit()
    naive = time.perf_counter() - started
    con.execute("DELETE FROM dataset_transitions")
    con.commit()
    rows = list(naive_rows(dataset_id, stream(n, fields)))
    started = time.perf_counter()
    con.executemany(sql, rows)
    con.commit()
    driver = time.perf_counter() - started
    con.close()
    return naive, driver


async def per_step(path: Path, adapter, n: int = 2000) -> float:
    store = await Store.open(f"sqlite:///{path}")
    env_id = await store.environments.ensure(adapter.name, adapter.env_id, "gym", adapter.api, "value")
    run_id = await store.runs.create(env_id, config={}, seed=0, model=None)
    episode_id = await store.runs.start_episode(run_id, 0, 0, "")
    fields = [f.name for f in adapter.layout.fields]
    started = time.perf_counter()
    for i, t in enumerate(stream(n, fields)):
        await store.runs.add_transition(run_id=run_id, episode_id=episode_id, step=i, state=t.state,
                                        action=json.dumps(t.action), next_state=t.next_state, reward=t.reward,
                                        done=t.done, truncated=t.truncated, mission="")
    elapsed = time.perf_counter() - started
    await store.close()
    return n / elapsed


async def end_to_end(tmp: Path, adapter, n: int) -> tuple[float, float]:
    path = tmp / "data.jsonl"
    fields = [f.name for f in adapter.layout.fields]
    with open(path, "w") as f:
        for t in stream(n, fields):
            f.write(json.dumps({"obs": [t.state[0][k] for k in fields], "action": t.action, "reward": t.reward,
                                "next_obs": [t.next_state[0][k] for k in fields], "done": False,
                                "traj_start": t.episode * EPISODE}) + "\n")
    store = await Store.open(f"sqlite:///{tmp / 'e2e.db'}")
    started = time.perf_counter()
    source = read_jsonl(path, adapter)
    record = await import_dataset(store, adapter, source)
    elapsed = time.perf_counter() - started
    assert record.n_transitions == n and record.n_truncated == (n + EPISODE - 1) // EPISODE, record
    await store.close()
    return elapsed, path.stat().st_size / 1e6


async def postgres(url: str, adapter, n: int, words: list[str]) -> tuple[float, float]:
    import asyncpg

    wc_time = await wc_import(url, adapter, n, words)
    store = await Store.open(url)
    _, _, dataset_id = await dataset_row(store, adapter, "baseline")
    await store.close()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    fields = [f.name for f in adapter.layout.fields]
    sql = f"INSERT INTO dataset_transitions ({COLUMNS}) VALUES ({', '.join(f'${i}' for i in range(1, 10))})"
    started = time.perf_counter()
    async with conn.transaction():
        await conn.executemany(sql, list(naive_rows(dataset_id, stream(n, fields))))
    naive = time.perf_counter() - started
    await conn.close()
    return wc_time, naive


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (default: start a server here)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    n = args.n
    adapter = envs.make("WCBench-Shaped-v0")
    from wc.datasets.importing import vocabulary

    words = vocabulary(adapter)
    random.seed(0)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        wc_time = await wc_import(f"sqlite:///{tmp / 'wc.db'}", adapter, n, words)
        naive, driver = await sqlite_baselines(tmp / "plain.db", adapter, n)
        print(f"SQLite, {n:,} transitions (17 + 6 numbers): wc import {wc_time:.1f} s ({n / wc_time:,.0f}/s); "
              f"raw executemany, encoded per row {naive:.1f} s ({n / naive:,.0f}/s); "
              f"driver only (rows encoded beforehand) {driver:.1f} s ({n / driver:,.0f}/s)")
        print(f"RESULT import_sqlite seconds={wc_time:.1f} per_s={n / wc_time:.0f} ratio={naive / wc_time:.3f} "
              f"driver_ratio={driver / wc_time:.3f}")
        old = await per_step(tmp / "steps.db", adapter)
        print(f"the agent's way, a transaction per step: {old:,.0f}/s ({old * wc_time / n:.3f}x the import)")
        e2e, size = await end_to_end(tmp, adapter, n)
        print(f"end to end, a {size:,.0f} MB JSONL file read, checked, encoded and imported: {e2e:.1f} s "
              f"({n / e2e:,.0f}/s)")
        print(f"RESULT import_jsonl_end_to_end seconds={e2e:.1f} per_s={n / e2e:.0f}")
    if args.no_postgres:
        return
    server = None
    url = args.postgres
    if url is None:
        try:
            from support.pg import PostgresServer

            server = PostgresServer().start()
            url = server.new_database()
        except Exception as exc:  # noqa: BLE001 - no binaries: say so and stop
            print(f"PostgreSQL skipped: {exc}")
            return
    try:
        wc_pg, naive_pg = await postgres(url, adapter, n, words)
        print(f"PostgreSQL, {n:,} transitions: wc import (COPY) {wc_pg:.1f} s ({n / wc_pg:,.0f}/s); "
              f"asyncpg executemany, encoded per row {naive_pg:.1f} s ({n / naive_pg:,.0f}/s)")
        print(f"RESULT import_postgres seconds={wc_pg:.1f} per_s={n / wc_pg:.0f} ratio={naive_pg / wc_pg:.3f}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
