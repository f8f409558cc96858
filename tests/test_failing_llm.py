"""An LLM that fails is visible and bounded: retries count against the call budget, a server
that never answers stops the run with a one-line error naming it, and the run stays resumable."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys

import pytest
from support.helpers import sqlite_rows

from wc.testing import Reply


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_wc(*args, env, timeout=240):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WC_", "OPENAI_"))}
    return subprocess.run([sys.executable, "-m", "wc", *args], capture_output=True, text=True, timeout=timeout,
                          env={**clean, **env})


@pytest.mark.slow
async def test_an_unreachable_server_stops_the_run_within_its_budget_and_names_the_url(tmp_path):
    port = closed_port()
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    env = {"WC_DB": db, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1"}
    done = await asyncio.to_thread(run_wc, "learn", "--env", "minigrid-doorkey", "--max-llm-calls", "2",
                                   "--episodes", "20", env=env)
    assert done.returncode == 5 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0] and "call budget is spent" in errors[0]
    assert sqlite_rows(db, "SELECT count(*) FROM llm_calls")[0][0] == 2  # retries counted, none beyond
    status, episodes = sqlite_rows(db, "SELECT status, (SELECT count(*) FROM episodes) FROM runs")[0]
    assert status == "failed" and episodes <= 2  # it did not play on for 20 episodes without a model
    shown = await asyncio.to_thread(run_wc, "runs", "show", "1", "--json", env=env)
    assert json.loads(shown.stdout)["status"] == "failed" and f"127.0.0.1:{port}" in json.loads(shown.stdout)["error"]
    table = await asyncio.to_thread(run_wc, "runs", "show", "1", env=env)
    assert "error" in table.stdout and f"127.0.0.1:{port}" in table.stdout  # a failed run shows why


@pytest.mark.slow
async def test_failures_in_a_row_stop_the_run_and_it_resumes_once_the_server_is_back(fake_llm, tmp_path,
                                                                                      minigrid_model):
    from wc.testing import answer

    healthy = {"up": False}
    server = fake_llm(lambda r, n: Reply(answer(minigrid_model)) if healthy["up"] else Reply(status=503))
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    env = {"WC_DB": db, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url,
           "WC_LLM_MAX_FAILURES": "3", "WC_LLM_RETRIES": "1"}
    failed = await asyncio.to_thread(run_wc, "learn", "--env", "minigrid-doorkey", "--max-llm-calls", "10",
                                     "--episodes", "4", "--solved", "2", "--concurrency", "1", env=env)
    assert failed.returncode == 5 and "3 LLM request(s) in a row failed" in failed.stderr
    assert "wc resume 1" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert len(server.requests) == 3 and sqlite_rows(db, "SELECT count(*) FROM llm_calls")[0][0] == 3
    assert sqlite_rows(db, "SELECT status FROM runs")[0][0] == "failed"
    healthy["up"] = True
    resumed = await asyncio.to_thread(run_wc, "resume", "1", "--json", env=env)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["status"] == "finished" and summary["successes"] >= 2
