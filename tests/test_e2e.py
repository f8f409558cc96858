"""End to end: wc learns MiniGrid DoorKey from a scripted LLM served over HTTP to the real
AsyncOpenAI client, then solves it by planning; the store holds everything it did."""
import json
import threading

import pytest
from support.helpers import llm_settings as settings
from support.helpers import replaced
from support.helpers import sqlite_rows as rows

from wc._api import LearnConfig, learn
from wc.events import EpisodeEnded, PlanSearched
from wc.testing import Reply, answer

BROKEN_SYNTAX = "def transition(state, action:\n    return state\n"
CRASHES = ("def transition(state, action):\n    return state[0].nonexistent\n\n"
           "def reward(state, action, next_state, mission):\n    return 0.0, False\n")


async def test_learns_doorkey_through_bad_answers_and_records_everything(fake_llm, db_url, minigrid_model):
    wrong = replaced(minigrid_model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    assert wrong != minigrid_model
    script_answers = [
        Reply("I am not sure what the environment does."),    # no code
        Reply(answer(BROKEN_SYNTAX)),                            # does not parse
        Reply(status=429, headers={"retry-after": "0"}),        # rate limited, retried
        Reply(answer(CRASHES)),                                  # raises on every transition
        Reply(answer(wrong)),                                    # left turns the wrong way
    ]
    lock = threading.Lock()

    def script(request, n):
        with lock:
            if n < len(script_answers):
                return script_answers[n]
        # only a repair of the wrong program earns the correct `transition`
        user = request["messages"][-1]["content"]
        if "(agent.direction + 1) % 4" in user and "It does not explain" in user:
            fixed = minigrid_model.split("def transition", 1)[1].split("def reward", 1)[0]
            return Reply(answer("def transition" + fixed, "The left turn was inverted; here is the fix."))
        return Reply(answer(wrong))

    events = []
    server = fake_llm(script)
    config = LearnConfig(env="minigrid-doorkey", episodes=8, max_llm_calls=15, concurrency=2, solved=3, seed=0)
    summary = await learn(config, settings(server, db_url), on_event=events.append)

    assert summary.status == "finished"
    assert summary.successes >= 3 and summary.episode_list[-1].success
    assert summary.llm_calls == len(server.requests) <= 15
    assert summary.llm_calls_failed == 1
    assert summary.prompt_tokens > 0 and summary.completion_tokens > 0

    # every step was recorded, in order, with its mission
    [(n_transitions,)] = rows(db_url, "select count(*) from transitions")
    assert n_transitions == summary.env_steps
    steps = rows(db_url, "select e.\"index\", t.step from transitions t join episodes e on e.id = t.episode_id "
                         "order by t.id")
    for (ep, step), (ep2, step2) in zip(steps, steps[1:], strict=False):
        assert (ep2 == ep and step2 == step + 1) or (ep2 == ep + 1 and step2 == 0)
    assert rows(db_url, "select count(distinct mission) from transitions") == [(1,)]

    # every LLM call, including the rate-limited one, with prompt, answer, tokens and status
    calls = rows(db_url, "select status, prompt_tokens, completion_tokens, answer, messages from llm_calls order by id")
    assert [c[0] for c in calls].count("rate_limited") == 1
    assert all(c[1] > 0 and c[3] for c in calls if c[0] == "ok")
    assert all(json.loads(c[4])[0]["role"] == "system" for c in calls)

    # programs: the failures are recorded with their classified errors, and the solution's lineage
    programs = rows(db_url, "select id, origin, fit, errors from programs order by id")
    kinds = [json.loads(p[3] or "{}") for p in programs]
    assert any("no_code" in json.dumps(k) for k in kinds)
    assert any('"syntax"' in json.dumps(k) for k in kinds)
    assert any("exception" in json.dumps(k) for k in kinds)
    best = summary.best_program_id
    [(origin, fit)] = rows(db_url, f"select origin, fit from programs where id = {best}")
    assert origin == "repair_transition" and fit == 1.0
    parents = rows(db_url, f"select parent_id from program_parents where child_id = {best}")
    assert len(parents) == 1
    [(parent_source,)] = rows(db_url, f"select source from programs where id = {parents[0][0]}")
    assert "(agent.direction + 1) % 4" in parent_source  # repaired from the wrong program
    [(best_source,)] = rows(db_url, f"select source from programs where id = {best}")
    assert "(agent.direction - 1) % 4" in best_source and "def reward" in best_source

    # after learning, episodes were solved by planning without more LLM calls
    later = [e for e in events if isinstance(e, EpisodeEnded)][-3:]
    assert len(later) == 3 and all(e.success for e in later)
    assert any(isinstance(e, PlanSearched) and e.found for e in events)


@pytest.mark.slow
async def test_concurrent_candidates_are_requested_at_once(fake_llm, db_url, minigrid_model):
    wrong = replaced(minigrid_model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")

    def script(request, n):
        # the first request and the first fan-out get the wrong program; then the right one
        return Reply(answer(wrong if n < 4 else minigrid_model), delay=0.3)

    server = fake_llm(script)
    config = LearnConfig(env="minigrid-doorkey", episodes=3, max_llm_calls=10, concurrency=3, solved=2)
    summary = await learn(config, settings(server, db_url))
    assert server.max_in_flight == 3
    assert summary.successes >= 2, summary.error
    # the round that found the solution stopped early: cancelled requests are still counted
    assert summary.llm_calls == len(server.requests)


async def test_a_run_without_a_solution_spends_its_budget_and_finishes(fake_llm, db_url):
    server = fake_llm(lambda request, n: Reply(answer(CRASHES)))
    config = LearnConfig(env="minigrid-empty", episodes=2, max_steps=30, max_llm_calls=3, concurrency=2)
    summary = await learn(config, settings(server, db_url))
    assert summary.status == "finished"
    assert summary.llm_calls == 3 and summary.env_steps == 60
    assert summary.best_program_id is not None
