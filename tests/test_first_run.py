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
    from wc.location import default_db_url, sqlite_file

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

    from wc.api import add_program

    db = f"sqlite:///{tmp_path / 'wc.db'}"
    a = asyncio.run(add_program("minigrid-doorkey", minigrid_model, db))
    b = asyncio.run(add_program("minigrid-empty", minigrid_model, db))
    c = asyncio.run(add_program("minigrid-empty", minigrid_model.replace("\n", "\n\n", 1), db))
    same = invoke("programs", "diff", str(a), str(b), "--db", db)
    assert same.exit_code == 0 and same.stdout == "" and f"programs {a} and {b} are identical" in same.stderr
    differ = invoke("programs", "diff", str(a), str(c), "--db", db)
    assert differ.exit_code == 0 and differ.stdout.startswith(f"--- program {a}") and differ.stderr == ""
