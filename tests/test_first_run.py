"""What a new user meets first (issue 25): listings before any run, `--version`, the order of the
checks, `programs diff` of twin programs. In-process through the command line (typer's runner)
where that suffices; subprocesses live in test_cli.py."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from wc.cli.main import app


def invoke(*args: str, env: dict[str, str | None] | None = None):
    return CliRunner().invoke(app, list(args), env={"WC_DB": None, "OPENAI_API_KEY": None, **(env or {})})


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    """A user data directory where no store has been created yet (the default store's folder)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("WC_DB", raising=False)
    from wc._core.location import default_db_url, sqlite_file

    path = sqlite_file(default_db_url())
    assert path is not None and str(path).startswith(str(tmp_path)) and not path.exists()
    return path


@pytest.mark.parametrize("listing, what", [(("runs", "list"), "runs"), (("programs", "list"), "programs"),
                                           (("curriculum", "list"), "curricula"), (("sweep", "list"), "sweeps")])
def test_a_listing_before_the_first_run_is_empty_not_an_error(fresh_home, listing, what):
    as_json = invoke(*listing, "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == []
    as_text = invoke(*listing)
    assert as_text.exit_code == 0 and as_text.stdout == "" and f"no {what} yet" in as_text.stderr
    assert not fresh_home.exists()  # listing creates nothing


def test_a_named_store_that_does_not_exist_is_still_an_error(fresh_home, tmp_path):
    typo = tmp_path / "wc-typo.db"
    for args in (("runs", "list", "--db", f"sqlite:///{typo}"), ("sweep", "list", "--json")):
        env = {"WC_DB": f"sqlite:///{typo}"} if "--db" not in args else None
        result = invoke(*args, env=env)
        assert result.exit_code == 4 and f"no store at {typo}" in result.stderr
    # a run named with --run must exist, store or not
    assert invoke("programs", "list", "--run", "3").exit_code == 4


def test_version():
    import wc

    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout == f"wc {wc.__version__}\n"


def test_diff_of_twin_programs_says_they_are_identical(tmp_path, minigrid_model):
    import asyncio

    from wc._api import add_program

    db = f"sqlite:///{tmp_path / 'wc.db'}"
    a = asyncio.run(add_program("minigrid-doorkey", minigrid_model, db))
    b = asyncio.run(add_program("minigrid-empty", minigrid_model, db))
    c = asyncio.run(add_program("minigrid-empty", minigrid_model.replace("\n", "\n\n", 1), db))
    same = invoke("programs", "diff", str(a), str(b), "--db", db)
    assert same.exit_code == 0 and same.stdout == "" and f"programs {a} and {b} are identical" in same.stderr
    differ = invoke("programs", "diff", str(a), str(c), "--db", db)
    assert differ.exit_code == 0 and differ.stdout.startswith(f"--- program {a}") and differ.stderr == ""


async def _a_run(db: str, status: str, config: dict) -> int:
    """A run row as a run that ended with `status` leaves it (no play needed to test what comes first)."""
    from wc._store import Store
    from wc.envs.api import load as load_api_module

    store = await Store.open(db)
    try:
        env_id = await store.environments.ensure("minigrid-empty", "MiniGrid-Empty-5x5-v0", "minigrid",
                                                 load_api_module("minigrid", 1))
        run_id = await store.runs.create(env_id, config=config, seed=0, model="gpt-4o", owner="gone:1")
        await store.runs.finish(run_id, status=status, best_program_id=None, wall_seconds=1.0, llm_wait_seconds=0.0)
        return run_id
    finally:
        await store.close()


def test_input_errors_come_before_asking_for_a_key(tmp_path, minigrid_model):
    """Without OPENAI_API_KEY, what is wrong with the input is said first; the key is asked for only
    when a request may be sent, and `--max-llm-calls 0` is named where it would help."""
    import asyncio

    from wc._api import add_program

    db = f"sqlite:///{tmp_path / 'wc.db'}"
    finished = asyncio.run(_a_run(db, "finished", {"env": "minigrid-empty"}))
    result = invoke("resume", str(finished), "--db", db)
    assert result.exit_code == 2 and f"run {finished} is already finished" in result.stderr, result.stderr
    assert "OPENAI_API_KEY" not in result.stderr

    result = invoke("learn", "--env", "minigrid-doorkey", "--from-program", "99", "--db", db)
    assert result.exit_code == 3 and "no program with id 99" in result.stderr, result.stderr
    result = invoke("curriculum", "--envs", "minigrid-empty,minigrid-doorkey", "--from-program", "99", "--db", db)
    assert result.exit_code == 3 and "no program with id 99" in result.stderr, result.stderr

    program = asyncio.run(add_program("minigrid-doorkey", minigrid_model, db))
    for args in (["learn", "--env", "minigrid-doorkey"], ["curriculum", "--envs", "minigrid-doorkey,minigrid-empty"],
                 ["sweep", "--envs", "minigrid-doorkey", "--seeds", "0-1"]):
        result = invoke(*args, "--from-program", str(program), "--db", db)
        assert result.exit_code == 2, result.stderr
        assert "no LLM is configured" in result.stderr and f"play from program {program}" in result.stderr
        assert "--max-llm-calls 0" in result.stderr
        plain = invoke(*args, "--db", db)  # from scratch the flag would not help: it is not offered
        assert plain.exit_code == 2 and "OPENAI_API_KEY" in plain.stderr and "--max-llm-calls" not in plain.stderr
    from support.helpers import sqlite_rows

    # nothing recorded that could not run
    assert sqlite_rows(db, "SELECT count(*) FROM curricula") == sqlite_rows(db, "SELECT count(*) FROM sweeps") == [(0,)]


async def test_a_run_that_may_send_no_request_resumes_without_a_key(tmp_path):
    from wc._core.config import Settings
    from wc._run.runner import resume

    db = f"sqlite:///{tmp_path / 'wc.db'}"
    config = {"env": "minigrid-empty", "episodes": 1, "max_steps": 3, "max_llm_calls": 0, "workers": 1}
    run_id = await _a_run(db, "interrupted", config)
    summary = await resume(run_id, Settings(db=db, openai_api_key=None))
    assert summary.status == "finished" and summary.episodes == 1 and summary.llm_calls == 0


def test_an_evaluation_names_each_dataset_game_by_its_trial(tmp_path):
    """One ALFWorld task folder holds several trials (134 unseen games share 47 folder names): a lost
    game must be traceable to its trial."""
    from pathlib import Path
    from types import SimpleNamespace

    from wc._run.evaluate import _names

    root = Path("json_2.1.1/valid_unseen/pick_and_place_simple-Pencil-None-Shelf-308")
    order = [root / "trial_T20190908_121952_610012" / "game.tw-pddl",
             root / "trial_T20190908_121955_219584" / "game.tw-pddl",
             Path("wc/envs/alfworld/games/look_at_obj_in_light-AlarmClock-None-DeskLamp-bedroom2.tw-pddl")]
    names = _names(SimpleNamespace(order=order), 3)
    assert names == [("pick_and_place_simple-Pencil-None-Shelf-308/trial_T20190908_121952_610012", "Pick"),
                     ("pick_and_place_simple-Pencil-None-Shelf-308/trial_T20190908_121955_219584", "Pick"),
                     ("look_at_obj_in_light-AlarmClock-None-DeskLamp-bedroom2", "Look")]
