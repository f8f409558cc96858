"""Sweeps: a grid of (environment, seed) runs played concurrently by one process, as Ray tasks on
a real two-node local cluster with PostgreSQL, as the two shards of a job array in two processes,
and resumed after SIGKILL, each checked against the store."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.helpers import child_env, run_wc
from support.helpers import llm_settings as settings
from test_json import keys_of

import wc.aio
from wc._agent.config import LearnConfig
from wc._run.sweep import Shard, create_sweep, parse_seeds, resume_sweep, view
from wc._store import Store
from wc.errors import ConfigError, InvalidInput, NotFound
from wc.testing import Reply, answer

pytestmark = pytest.mark.slow  # whole runs; the fast subset skips them

ENVS = ["minigrid-empty", "minigrid-doorkey"]
RUN = ["--episodes", "3", "--solved", "2", "--workers", "1"]


def correct(model: str, delay: float = 0.0):
    return lambda request, n: Reply(answer(model), delay=delay)


async def cells_of(url: str, sweep_id: int):
    store = await Store.open(url, create=False)
    try:
        summary = await store.sweeps.get(sweep_id)
        runs = {c.index: await store.runs.summary(c.run_id) for c in summary.cells if c.run_id is not None}
        return summary, runs
    finally:
        await store.close()


def assert_complete(summary, runs) -> None:
    """Every (environment, seed) has exactly its own finished run."""
    assert summary.status == "finished"
    assert [(c.env, c.seed) for c in summary.cells] == [(e, s) for e in ENVS for s in (0, 1)]
    for cell in summary.cells:
        run = runs[cell.index]
        assert (run.env, run.seed, run.sweep_id, run.sweep_index) == (cell.env, cell.seed, summary.id, cell.index)
        assert run.status == "finished" and run.successes == 2 and run.llm_calls >= 1
        assert run.config["episodes"] == 3 and run.config["seed"] == cell.seed


# ------------------------------------------------------------------ local: one process, asyncio


async def test_a_local_sweep_shares_the_store_and_one_llm_limit(fake_llm, db_url, minigrid_model):
    server = fake_llm(correct(minigrid_model, delay=0.3))
    s = settings(server, db_url).model_copy(update={"llm_concurrency": 1})
    summary = await wc.aio.sweep(",".join(ENVS), "0-1", settings=s, parallel=4, episodes=3, solved=2, workers=1)
    found, runs = await cells_of(db_url, summary.id)
    assert_complete(found, runs)
    assert server.max_in_flight == 1  # four runs at once, one request in flight between them
    assert len(server.requests) == sum(r.llm_calls for r in runs.values())
    # the runs overlapped: each started before another ended
    spans = sorted((r.created_at, r.finished_at) for r in runs.values())
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))

    shown = run_wc("sweep", "show", str(summary.id), "--json", env={"WC_DB": db_url})
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert set(data) == keys_of("Sweep", details=True) and data["status"] == "finished"
    assert all(set(c) == keys_of("Sweep cell") and set(c["run"]) == keys_of("Run") for c in data["cells"])
    assert all(set(e) == keys_of("Sweep environment") for e in data["by_env"])
    assert set(data["by_env"][0]["tokens"]) == keys_of("Spread")
    assert [c["status"] for c in data["cells"]] == ["finished"] * 4
    assert [c["run_id"] for c in data["cells"]] == [runs[i].id for i in range(4)]
    listed = json.loads(run_wc("sweep", "list", "--json", env={"WC_DB": db_url}).stdout)
    assert [set(x) for x in listed] == [keys_of("Sweep")]
    assert listed[0]["run_ids"] == data["run_ids"] == [c["run_id"] for c in data["cells"]]
    by_env = {e["env"]: e for e in data["by_env"]}
    for env in ENVS:
        steps = [float(r.env_steps) for r in runs.values() if r.env == env]
        assert by_env[env]["runs"] == 2 and by_env[env]["env_steps"]["mean"] == pytest.approx(sum(steps) / 2)
        assert by_env[env]["env_steps"]["min"] == min(steps) and by_env[env]["successes"]["std"] == 0.0
    compared = run_wc("runs", "compare", "--sweep", str(summary.id), "--json", env={"WC_DB": db_url})
    assert json.loads(compared.stdout) == data["by_env"]
    table = run_wc("runs", "compare", "--sweep", str(summary.id), env={"WC_DB": db_url}).stdout
    assert "mean ± std" in table and "2.0 ± 0.0" in table


async def test_bad_sweeps_fail_before_anything_is_recorded(db_url, tmp_path):
    config = LearnConfig(env="minigrid-empty")
    with pytest.raises(InvalidInput, match="bad seed range"):
        parse_seeds("3-1")
    assert parse_seeds("0-2,7,1") == [0, 1, 2, 7]
    with pytest.raises(InvalidInput, match="i/n"):
        Shard.parse("2")
    with pytest.raises(InvalidInput, match="0 <= i < n"):
        Shard.parse("2/2")
    with pytest.raises(InvalidInput, match="PostgreSQL"):
        await create_sweep(ENVS, [0], config, settings_for(db_url), engine="ray")
    with pytest.raises(InvalidInput, match="unknown engine"):
        await create_sweep(ENVS, [0], config, settings_for(db_url), engine="slurm")
    assert not Path(db_url.split("///", 1)[1]).exists()  # nothing was created
    sweep_id = await create_sweep(ENVS, [0], config, settings_for(db_url))
    with pytest.raises(NotFound):
        await view(sweep_id + 1, db_url)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):  # the runs would need an LLM
        await resume_sweep(sweep_id, settings_for(db_url))

    env = {"WC_DB": db_url}
    for args, code, needle in (
            (["sweep", "--envs", "minigrid-nope", "--seeds", "0"], 2, "unknown environment"),
            (["sweep", "--envs", "minigrid-empty", "--seeds", "a-b"], 2, "bad seeds"),
            (["sweep", "show", "99"], 3, "`wc sweep list` shows the sweeps"),
            (["sweep", "resume", "1", "--shard", "1/1"], 2, "0 <= i < n"),
            (["sweep", "--envs", "minigrid-empty", "--shard", "0/2"], 2, "--create-only"),
            (["sweep", "resume", "1", "--engine", "ray"], 2, "PostgreSQL")):
        result = run_wc(*args, env=env)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == code and len(lines) == 1 and needle in lines[0], (args, result.stderr)


async def test_a_cell_has_one_run_whoever_starts_it(store):
    from wc.envs.api import load as load_api_module
    from wc.errors import RunBusy

    api = load_api_module("minigrid", 1)
    env_id = await store.environments.ensure("minigrid-empty", "MiniGrid-Empty-5x5-v0", "minigrid", api)
    sweep_id = await store.sweeps.create(["minigrid-empty"], [0, 1], {})
    first = await store.runs.create(env_id, config={}, seed=0, model="m", sweep_id=sweep_id, sweep_index=0)
    with pytest.raises(RunBusy, match="cell 0 of sweep"):  # a second process, a moment later
        await store.runs.create(env_id, config={}, seed=0, model="m", sweep_id=sweep_id, sweep_index=0)
    second = await store.runs.create(env_id, config={}, seed=1, model="m", sweep_id=sweep_id, sweep_index=1)
    plain = [await store.runs.create(env_id, config={}, seed=0, model="m") for _ in range(2)]  # no sweep, no limit
    assert [c.run_id for c in (await store.sweeps.get(sweep_id)).cells] == [first, second] and len(set(plain)) == 2


def settings_for(db_url: str):
    from wc._core.config import Settings

    return Settings(db=db_url, _env_file=None, openai_api_key=None)


# ------------------------------------------------------------------ Ray: a real two-node cluster


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RayCluster:
    """A head node and a worker node on loopback, one CPU each, from `ray start --block`."""

    def __init__(self) -> None:
        import tempfile

        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.tmp = Path(tempfile.mkdtemp(prefix="wcray", dir="/tmp"))  # Ray's socket paths must stay short
        self.log = self.tmp / "ray-start.log"
        self.env = child_env({"RAY_USAGE_STATS_ENABLED": "0"})
        self.procs: list[subprocess.Popen] = []
        self.ray = str(Path(sys.executable).with_name("ray"))

    def _start(self, *args: str) -> None:
        with open(self.log, "a") as log:
            self.procs.append(subprocess.Popen([self.ray, "start", "--block", "--node-ip-address=127.0.0.1",
                                                "--num-cpus=1", *args], env=self.env, start_new_session=True,
                                               stdout=log, stderr=subprocess.STDOUT))

    def nodes(self) -> list[str]:
        status = subprocess.run([self.ray, "status", f"--address={self.address}"], capture_output=True, text=True,
                                env=self.env, timeout=60)
        active = status.stdout.split("Active:", 1)[-1].split("Pending:", 1)[0]
        return re.findall(r"node_([0-9a-f]+)", active)

    def __enter__(self) -> RayCluster:
        self._start("--head", f"--port={self.port}", "--include-dashboard=false", "--disable-usage-stats",
                    f"--temp-dir={self.tmp}")
        self._wait(1)
        self._start(f"--address={self.address}")
        self._wait(2)
        return self

    def _wait(self, n: int) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if len(self.nodes()) >= n:
                return
            assert all(p.poll() is None for p in self.procs), f"ray start exited: {self.log.read_text()[-2000:]}"
            time.sleep(1)
        raise AssertionError(f"the Ray cluster did not reach {n} nodes")

    def __exit__(self, *exc) -> None:
        for p in reversed(self.procs):
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.mark.postgres
def test_a_ray_sweep_on_a_two_node_cluster_with_postgresql(fake_llm, postgres, minigrid_model):
    server = fake_llm(correct(minigrid_model, delay=0.2))
    url = postgres.new_database()
    env = {"WC_DB": url, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test", "WC_MODEL": "test"}
    nowhere = run_wc("sweep", "--envs", ENVS[0], "--engine", "ray", "--address", f"127.0.0.1:{_free_port()}", env=env)
    assert nowhere.returncode == 2 and "no Ray cluster answers at 127.0.0.1:" in nowhere.stderr, nowhere.stderr
    assert json.loads(run_wc("sweep", "list", "--json", env=env).stdout) == []  # nothing recorded
    with RayCluster() as cluster:
        nodes = cluster.nodes()
        assert len(nodes) == 2
        result = run_wc("sweep", "--envs", ",".join(ENVS), "--seeds", "0-1", *RUN, "--engine", "ray",
                        "--address", cluster.address, "--json", env=env, timeout=240)
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
    summary, runs = asyncio.run(cells_of(url, data["id"]))
    assert_complete(summary, runs)
    assert summary.engine == "ray"
    used = {r.node for r in runs.values()}
    assert used <= set(nodes) and len(used) == 2, (used, nodes)  # one CPU each: both nodes played
    assert [c["node"] for c in data["cells"]] == [runs[i].node for i in range(4)]
    assert len(server.requests) == sum(r.llm_calls for r in runs.values())


# ------------------------------------------------------------------ shards: a job array without Ray


def spawn(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wc", *args], env=child_env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_sweep_split_in_two_shards_run_as_two_processes(fake_llm, db_url, minigrid_model):
    server = fake_llm(correct(minigrid_model, delay=0.1))
    env = {"WC_DB": db_url, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test", "WC_MODEL": "test"}
    created = run_wc("sweep", "--envs", ",".join(ENVS), "--seeds", "0-1", *RUN, "--create-only", "--json", env=env)
    assert created.returncode == 0, created.stderr
    sweep_id = json.loads(created.stdout)["id"]
    shards = [spawn("sweep", "resume", str(sweep_id), "--shard", f"{i}/2", env=env) for i in range(2)]
    pids = [p.pid for p in shards]
    for p in shards:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    summary, runs = asyncio.run(cells_of(db_url, sweep_id))
    assert_complete(summary, runs)
    for index, run in runs.items():  # cell k was played by shard k mod 2
        assert run.config["seed"] == summary.cells[index].seed
        assert int(owner_pid(db_url, run.id)) == pids[index % 2]


def owner_pid(db_url: str, run_id: int) -> str:
    from support.helpers import sqlite_rows

    return sqlite_rows(db_url, f"SELECT owner FROM runs WHERE id = {run_id}")[0][0].rsplit(":", 1)[1]


# ------------------------------------------------------------------ SIGKILL, then resume


def test_a_sweep_killed_mid_way_resumes_keeping_its_finished_runs(fake_llm, db_url, minigrid_model):
    server = fake_llm(correct(minigrid_model, delay=1.0))
    env = {"WC_DB": db_url, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test", "WC_MODEL": "test"}
    proc = spawn("sweep", "--envs", ",".join(ENVS), "--seeds", "0-1", *RUN, "--parallel", "1", env=env)

    def state():
        try:
            return asyncio.run(cells_of(db_url, 1))
        except Exception:  # noqa: BLE001 - not created yet
            return None, {}

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # one run finished, the next one under way
        summary, runs = state()
        if summary is not None and any(r.status == "finished" for r in runs.values()) and \
                any(r.status == "running" for r in runs.values()):
            break
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.1)
    else:
        raise AssertionError("the sweep never had a finished run and a running one")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _, before = state()
    finished = {i: r.id for i, r in before.items() if r.status == "finished"}
    interrupted = {i: r.id for i, r in before.items() if r.status != "finished"}
    assert finished and interrupted and all(before[i].status == "interrupted" for i in interrupted)
    listed = run_wc("sweep", "list", "--json", env={"WC_DB": db_url})
    assert json.loads(listed.stdout)[0]["status"] == "interrupted"

    resumed = run_wc("sweep", "resume", "1", "--parallel", "2", env=env, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    summary, after = state()
    assert_complete(summary, after)
    assert all(after[i].id == rid for i, rid in {**finished, **interrupted}.items())  # same runs, none again
    assert all(after[i].finished_at == before[i].finished_at for i in finished)  # finished ones untouched
    assert len(summary.run_ids) == 4 and len(asyncio.run(all_runs(db_url))) == 4
    assert "2 run(s) to play of 4" in resumed.stderr or f"{4 - len(finished)} run(s) to play of 4" in resumed.stderr


async def all_runs(url: str):
    store = await Store.open(url, create=False)
    try:
        return await store.runs.summaries()
    finally:
        await store.close()


def test_a_sweep_whose_llm_is_down_records_every_run_then_resumes(fake_llm, db_url, minigrid_model):
    server = fake_llm(lambda request, n: Reply(status=503))
    env = {"WC_DB": db_url, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test", "WC_MODEL": "test",
           "WC_LLM_RETRIES": "0", "WC_LLM_MAX_FAILURES": "1"}
    down = run_wc("sweep", "--envs", ENVS[0], "--seeds", "0-1", *RUN, env=env)
    last = [line for line in down.stderr.splitlines() if line.strip()][-1]
    assert down.returncode == 5 and "2 run(s) of sweep 1 did not finish" in last, down.stderr
    assert "`wc sweep resume 1`" in last and "Traceback" not in down.stderr
    summary, runs = asyncio.run(cells_of(db_url, 1))
    assert summary.status == "interrupted" and [r.status for r in runs.values()] == ["failed", "failed"]

    server = fake_llm(correct(minigrid_model))
    env["OPENAI_BASE_URL"] = server.base_url
    back = run_wc("sweep", "resume", "1", env=env)
    assert back.returncode == 0, back.stderr
    again, after = asyncio.run(cells_of(db_url, 1))
    assert again.status == "finished" and {i: r.id for i, r in after.items()} == {i: r.id for i, r in runs.items()}
    assert all(r.status == "finished" and r.successes == 2 for r in after.values())
