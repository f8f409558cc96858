"""The ReAct baseline: one LLM call per action, every call and step in the same store."""
from __future__ import annotations

import json

import pytest
from support.helpers import llm_settings, sqlite_rows

from wc._run.react import NOTHING, parse_action, prompt
from wc.envs import alfworld
from wc.errors import InvalidInput
from wc.testing import Reply


def test_the_action_is_the_last_action_line():
    assert parse_action("Thought: the fridge.\nAction: go to fridge 1") == "go to fridge 1"
    assert parse_action("Action: look\nThought: no, better\nAction: `take apple 1`.") == "take apple 1"
    assert parse_action("I would go to the fridge.") is None
    messages = prompt("put an apple in fridge", [("look", "You see a fridge 1.")], "You see a fridge 1.",
                      ["go to fridge 1", "look"])
    assert messages[0]["role"] == "system" and "Action: <one of the admissible actions>" in messages[0]["content"]
    user = messages[1]["content"]
    assert user.startswith("Task: put an apple in fridge") and "Admissible actions: go to fridge 1, look" in user


@pytest.mark.alfworld
async def test_react_plays_an_alfworld_game_with_a_call_per_action(fake_llm, db_url):
    from wc._api import react, resume

    game = next(p for p in alfworld.shipped_games() if p.name.startswith("pick_and_place_simple"))
    walkthrough = json.loads(game.read_text())["walkthrough"]
    seen = []

    def script(request, n):
        user = request["messages"][-1]["content"]
        seen.append(user)
        if n == 0:
            return Reply("Thought: I am not sure where to start.")  # no action: nothing happens
        return Reply(f"Thought: next step.\nAction: {walkthrough[n - 1]}")
    server = fake_llm(script)
    summary = await react("alfworld", llm_settings(server, db_url), episodes=1, env_options={"games": str(game)})
    assert summary.status == "finished" and summary.successes == 1
    assert summary.llm_calls == len(server.requests) == len(walkthrough) + 1  # one call per step
    assert summary.episode_list[0].steps == len(walkthrough) + 1
    assert sqlite_rows(db_url, "SELECT count(*) FROM transitions")[0][0] == len(walkthrough)
    assert sqlite_rows(db_url, "SELECT count(*) FROM programs")[0][0] == 0  # no world model in ReAct
    # it reads what ReAct reads: TextWorld's own text and the admissible commands
    assert "-= Welcome to TextWorld, ALFRED! =-" in seen[0] and "Admissible actions: " in seen[0]
    assert NOTHING in seen[1]
    assert summary.config["agent"] == "react"
    with pytest.raises(InvalidInput, match="ReAct baseline run"):
        await resume(summary.id, llm_settings(server, db_url))


@pytest.mark.slow
async def test_the_baseline_command_and_a_comparison_with_worldcoder(fake_llm, tmp_path, minigrid_model):
    import asyncio

    from support.helpers import run_wc

    from wc.testing import answer

    db = f"sqlite:///{tmp_path / 'wc.db'}"
    server = fake_llm(lambda r, n: Reply("Thought: straight on.\nAction: forward" if n % 2 else
                                         "Thought: turn.\nAction: right"))
    env = {"WC_DB": db, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url}
    baseline = await asyncio.to_thread(run_wc, "baseline", "react", "--env", "minigrid-empty", "--episodes", "2",
                                       "--max-steps", "8", "--json", env=env)
    assert baseline.returncode == 0, baseline.stderr
    summary = json.loads(baseline.stdout)
    assert summary["llm_calls"] == len(server.requests) == sum(e["steps"] for e in summary["episode_list"]) == 16
    assert sqlite_rows(db, "SELECT count(*) FROM llm_calls WHERE purpose = 'react'")[0][0] == 16

    server = fake_llm(lambda r, n: Reply(answer(minigrid_model)))
    env["OPENAI_BASE_URL"] = server.base_url
    learned = await asyncio.to_thread(run_wc, "learn", "--env", "minigrid-empty", "--episodes", "2", "--solved", "2",
                                      env=env)
    assert learned.returncode == 0, learned.stderr
    compared = await asyncio.to_thread(run_wc, "runs", "compare", "1", "2", env=env)
    assert compared.returncode == 0, compared.stderr
    assert "LLM calls" in compared.stdout and "16" in compared.stdout
