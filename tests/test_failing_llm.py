"""An LLM that fails is visible and bounded: retries count against the call budget, a server
that never answers stops the run with a one-line error naming it, and the run stays resumable."""
from __future__ import annotations

import asyncio
import json
import socket

import pytest
from support.helpers import run_wc, sqlite_rows

from wc.events import BudgetStopped
from wc.testing import Reply


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



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


@pytest.mark.slow
async def test_every_kind_of_fault_during_a_run_is_retried_or_recorded(fake_llm, db_url, minigrid_model):
    """429 with Retry-After, 500, a timeout, a dropped connection, an empty answer, an answer
    without code, a truncated answer and invalid JSON, then good answers: the run learns, and
    every request the server saw is a recorded LLM call."""
    from support.helpers import llm_settings

    from wc._api import LearnConfig, learn
    from wc.testing import answer

    faults = [
        Reply(status=429, headers={"retry-after": "0"}),
        Reply(status=500),
        Reply(""),                                                     # an empty answer
        Reply(answer(minigrid_model), delay=3.0),                      # longer than the client waits
        Reply(drop=True),                                              # the connection closes unanswered
        Reply("I would rather describe the rules in words."),          # no code
        Reply(status=200, body="{this is not json"),                   # invalid JSON
        Reply(status=200, body="<html>busy</html>", headers={"content-type": "text/html"}),  # 200, not JSON at all
        Reply(answer(minigrid_model)[:400], finish_reason="length"),   # cut off mid-program
    ]

    def script(request, n):
        return faults[n] if n < len(faults) else Reply(answer(minigrid_model))
    server = fake_llm(script)
    settings = llm_settings(server, db_url).model_copy(update={"llm_timeout": 1.0, "llm_retries": 2})
    config = LearnConfig(env="minigrid-doorkey", episodes=6, solved=2, max_llm_calls=15, concurrency=1)
    summary = await learn(config, settings)
    assert summary.status == "finished", summary.error
    assert summary.successes >= 2
    statuses = [c.status for c in summary.llm_call_list]
    assert len(statuses) == len(server.requests) == summary.llm_calls <= 15  # every request accounted for
    html = [status for status, error in sqlite_rows(db_url, "SELECT status, error FROM llm_calls")
            if "not a chat completion: a str" in (error or "")]
    assert html == ["server_error"]  # a failed request like any other: counted, recorded, and the run went on
    for status in ("rate_limited", "server_error", "timeout", "connection_error", "truncated"):
        assert status in statuses, (status, statuses)
    assert sqlite_rows(db_url, "SELECT count(*) FROM llm_calls")[0][0] == len(server.requests)


@pytest.mark.slow
async def test_max_cost_stops_requests_before_they_could_exceed_it(fake_llm, db_url, minigrid_model, monkeypatch):
    """A priced model (WC_PRICES extends the table) and a cost limit: every request is estimated
    before it is sent, none is sent that could take the total past the limit, and the run goes on
    with what it has."""
    from support.helpers import llm_settings, replaced

    from wc._api import LearnConfig, learn
    from wc.errors import ConfigError
    from wc.testing import answer

    wrong = replaced(minigrid_model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    server = fake_llm(lambda r, n: Reply(answer(wrong)))  # never right: it would ask until its budget ends
    settings = llm_settings(server, db_url)
    config = LearnConfig(env="minigrid-doorkey", episodes=3, solved=None, max_llm_calls=20, concurrency=1,
                         max_cost_usd=0.05, max_steps=30)
    with pytest.raises(ConfigError, match="needs a price for 'test-model'"):
        await learn(config, settings)
    monkeypatch.setenv("WC_PRICES", '{"test-model": [2.5, 10.0]}')  # $/Mtok; a request is worth ~$0.05
    events = []
    summary = await learn(config, settings, on_event=events.append)
    assert summary.status == "finished"
    assert 1 <= summary.llm_calls < 20 and len(server.requests) == summary.llm_calls
    assert summary.cost_usd is not None and summary.cost_usd <= 0.05
    stops = [e.reason for e in events if isinstance(e, BudgetStopped)]
    assert stops and "past $0.05" in stops[0]
