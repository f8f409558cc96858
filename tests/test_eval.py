"""`wc eval`: every game of a split once, from a learned program, tabulated by task type."""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from support.helpers import replaced, run_wc

from wc._api import add_program
from wc.testing import Reply, answer

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.slow



@pytest.mark.alfworld
@pytest.mark.parametrize("observe", ["full", "observed"])
async def test_real_alfworld_games_by_task_type_without_an_llm(tmp_path, observe):
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    games = str(FIXTURES / "alfworld")
    pid = await add_program("alfworld", (FIXTURES / "alfworld_model.py").read_text(), db, games=games)
    done = await asyncio.to_thread(run_wc, "eval", "--env", "alfworld", "--games", games, "--from-program",
                                   str(pid), "--observe", observe, "--json",
                                   env={"WC_DB": db})  # no API key: nothing is asked
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["observe"] == observe
    assert [(r["group"], r["games"], r["won"]) for r in report["table"]] == [
        ("Pick", 1, 1), ("Clean", 1, 1), ("Heat", 1, 1), ("Cool", 1, 1), ("Look", 1, 1), ("Pick2", 1, 1),
        ("All", 6, 6)]
    assert report["won_without_llm"] == 6 and report["run"]["llm_calls"] == 0
    assert report["run"]["model"] is None  # allowed no call, it asked no model
    assert all(re.fullmatch(r"[\w-]+/trial_T\d+_\d+_\d+", g["game"]) for g in report["games"]), report["games"]
    assert sorted(g["game"].split("-")[0] for g in report["games"]) == sorted(
        ["look_at_obj_in_light", "pick_and_place_simple", "pick_clean_then_place_in_recep",
         "pick_cool_then_place_in_recep", "pick_heat_then_place_in_recep", "pick_two_obj_and_place"])
    if observe == "full":
        # the plans of the observed mode explore: more steps than with every object known
        return
    shown = await asyncio.to_thread(run_wc, "eval", "--env", "alfworld", "--games", games, "--from-program",
                                    str(pid), "--observe", observe, env={"WC_DB": db})
    assert "Pick2" in shown.stdout and "6 of 6 games won without any LLM call" in shown.stdout
    assert "observation mode observed" in shown.stdout


async def test_an_evaluation_may_keep_learning_within_its_budget(fake_llm, tmp_path, minigrid_model):
    """A program that turns the wrong way, evaluated with a call budget: it is repaired during the
    evaluation, and the games played after the repair needed no call."""
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    wrong = replaced(minigrid_model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    pid = await add_program("minigrid-doorkey", wrong, db)
    server = fake_llm(lambda r, n: Reply(answer(minigrid_model)))
    env = {"WC_DB": db, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url}
    done = await asyncio.to_thread(run_wc, "eval", "--env", "minigrid-doorkey", "--from-program", str(pid),
                                   "--episodes", "6", "--max-llm-calls", "3", "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    [row] = report["table"]
    assert row["group"] == "all" and row["games"] == 6 and row["won"] >= 5
    assert 1 <= report["run"]["llm_calls"] <= 3 and len(server.requests) == report["run"]["llm_calls"]
    assert sum(g["llm_calls"] for g in report["games"]) == report["run"]["llm_calls"]
    assert 4 <= report["won_without_llm"] < 6


@pytest.mark.alfworld
async def test_an_unknown_observation_mode_is_a_clear_error(tmp_path):
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    games = str(FIXTURES / "alfworld")
    pid = await add_program("alfworld", (FIXTURES / "alfworld_model.py").read_text(), db, games=games)
    bad = await asyncio.to_thread(run_wc, "eval", "--env", "alfworld", "--games", games, "--from-program", str(pid),
                                  "--observe", "partial", env={"WC_DB": db})
    assert bad.returncode == 2 and "observation mode 'partial' is not one of full, observed" in bad.stderr
    assert "Traceback" not in bad.stderr
    other = await asyncio.to_thread(run_wc, "learn", "--env", "minigrid-doorkey", "--observe", "observed",
                                    env={"WC_DB": db})
    assert other.returncode == 2 and "observe" in other.stderr and "Traceback" not in other.stderr
