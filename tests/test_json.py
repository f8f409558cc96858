"""Scripting: every listing command's `--json` against the schemas of docs/JSON.md, `wc runs export`
read back with the csv module and pyarrow and compared with the store, `wc db path`, what `wc
learn` ends with, and that the commands that only read import none of the heavy packages."""
from __future__ import annotations

import asyncio
import csv
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from support.helpers import child_env, keys_of, run_wc, schemas

from wc._agent.config import LearnConfig
from wc._core.config import Settings
from wc._report.export import EPISODE_COLUMNS, TRANSITION_COLUMNS
from wc._run.recordings import load as load_recording
from wc._run.runner import learn
from wc._store import Store

pytestmark = pytest.mark.slow  # subprocesses and two replayed runs

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("gymnasium", "minigrid", "numpy", "textworld", "alfworld", "openai", "httpx", "alembic")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> SimpleNamespace:
    """A store with two runs of the shipped recording: one through `wc learn`, one as the first
    step of a two-environment curriculum (the second step not yet run)."""
    folder = tmp_path_factory.mktemp("scripting")
    db = f"sqlite:///{folder / 'wc.db'}"
    learned = run_wc("learn", "--env", "minigrid-doorkey", "--replay", "minigrid-doorkey", "--db", db)
    assert learned.returncode == 0, learned.stderr

    async def curriculum_step() -> None:
        opened = await Store.open(db)
        try:
            cid = await opened.curricula.create(["minigrid-doorkey", "minigrid-empty"],
                                                LearnConfig(env="minigrid-doorkey").to_json())
        finally:
            await opened.close()
        recording = await load_recording("minigrid-doorkey")
        await learn(LearnConfig(env="minigrid-doorkey"), Settings(db=db), replay=recording, curriculum_id=cid,
                    curriculum_index=0)

    asyncio.run(curriculum_step())
    return SimpleNamespace(db=db, folder=folder, learned=learned)


def wc_json(store, *args: str):
    """A command's `--json` output, run in this process (the subprocess path is test_cli's)."""
    from typer.testing import CliRunner

    from wc.cli.main import app

    result = CliRunner().invoke(app, [*args, "--json"], env={"WC_DB": store.db})
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_the_schema_document_names_every_object():
    for name in ("Run", "Episode", "LLM call", "Program", "Environment", "Curriculum", "Curriculum step",
                 "Evaluation", "Export", "API module", "Schema", "Sweep", "Sweep cell", "Sweep environment", "Spread",
                 "Program fit"):
        assert keys_of(name), name
    documented = schemas()
    assert documented["Run"][1] == {"episode_list", "llm_call_list", "unsolvable_list", "fit_list"}
    assert documented["Curriculum"][1] == {"steps"} and documented["Sweep"][1] == {"cells", "by_env"}


def test_every_listing_command_prints_its_documented_objects(store):
    runs = wc_json(store, "runs", "list")
    assert [r["id"] for r in runs] == [1, 2] and all(set(r) == keys_of("Run") for r in runs)
    assert runs[1]["curriculum_id"] == 1 and runs[0]["successes"] == 11

    shown = wc_json(store, "runs", "show", "1")
    assert set(shown) == keys_of("Run", details=True)
    assert all(set(e) == keys_of("Episode") for e in shown["episode_list"]) and len(shown["episode_list"]) == 11
    assert all(set(c) == keys_of("LLM call") for c in shown["llm_call_list"]) and shown["llm_call_list"]
    assert {k: v for k, v in shown.items() if k in keys_of("Run")} == runs[0]

    compared = wc_json(store, "runs", "compare", "1", "2")
    assert compared == runs

    programs = wc_json(store, "programs", "list")
    assert programs and all(set(p) == keys_of("Program") for p in programs)
    program = wc_json(store, "programs", "show", str(runs[0]["best_program_id"]))
    assert program == programs[0] and program["source"].startswith(("def ", "from ", "import ", "#", '"""'))

    envs = wc_json(store, "envs", "list")
    assert all(set(e) == keys_of("Environment") for e in envs)
    assert "minigrid-doorkey" in {e["name"] for e in envs}
    api = wc_json(store, "envs", "show", "minigrid-doorkey")
    assert set(api) == keys_of("API module") and (api["name"], api["version"]) == ("minigrid", 1)
    assert api["source"] == run_wc("envs", "show", "minigrid-doorkey").stdout
    schema = wc_json(store, "db", "current")
    assert set(schema) == keys_of("Schema") and schema["up_to_date"] and schema["revision"] == schema["head"]

    curricula = wc_json(store, "curriculum", "list")
    assert len(curricula) == 1 and set(curricula[0]) == keys_of("Curriculum")
    assert curricula[0]["envs"] == ["minigrid-doorkey", "minigrid-empty"] and curricula[0]["run_ids"] == [2]
    curriculum = wc_json(store, "curriculum", "show", "1")
    assert set(curriculum) == keys_of("Curriculum", details=True)
    first, second = curriculum["steps"]
    assert set(first) == keys_of("Curriculum step") and first["run"] == runs[1] and second["run"] is None


def _times(data, path="") -> list[tuple[str, str]]:
    """Every (where, value) of a key ending in `_at` in a JSON value."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key.endswith("_at") and value is not None:
                found.append((f"{path}.{key}", value))
            found += _times(value, f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _times(value, f"{path}[{i}]")
    return found


def test_every_time_printed_in_json_carries_its_utc_offset(store, tmp_path):
    """ISO 8601 with the offset (docs/JSON.md): SQLite hands times back without a zone, and a
    time without one is read as local time by most tools."""
    from datetime import datetime, timedelta

    outputs = {" ".join(args): wc_json(store, *args) for args in (
        ("runs", "list"), ("runs", "show", "1"), ("programs", "list"), ("programs", "show", "1"),
        ("curriculum", "list"), ("curriculum", "show", "1"), ("runs", "compare", "1", "2"))}
    lineage = run_wc("programs", "lineage", "1", "--format", "json", env={"WC_DB": store.db})
    outputs["lineage"] = json.loads(lineage.stdout)
    outputs["recording"] = json.loads(run_wc("runs", "export-llm", "1", env={"WC_DB": store.db}).stdout)
    written = wc_json(store, "runs", "export", "1", "--out", str(tmp_path))
    with open(written["episodes"], newline="") as fh:
        outputs["export"] = list(csv.DictReader(fh))
    for name, data in outputs.items():
        times = _times(data)
        assert times, name
        for where, value in times:
            moment = datetime.fromisoformat(value)
            assert moment.utcoffset() == timedelta(0), f"{name}{where} = {value!r}"
            assert value.endswith("+00:00"), f"{name}{where} = {value!r}"


def test_eval_prints_an_evaluation(store):
    report = wc_json(store, "eval", "--env", "minigrid-doorkey", "--from-program", "1", "--episodes", "2")
    assert set(report) == keys_of("Evaluation") and set(report["run"]) == keys_of("Run", details=True)
    assert len(report["games"]) == 2


def test_learn_says_where_the_run_is_and_what_to_run_next(store):
    err = store.learned.stderr
    assert f"run 1 is stored in {store.db}" in err
    for command in ("wc programs show 1 --db", "wc runs show 1 --db", "wc report 1 --out report-1 --db"):
        assert command in err
    # the stop rule ended the run after 11 of 20 episodes: the bar ends full, at the episodes played
    assert re.search(r"━+ 11/11 ", err), err


def test_db_path_prints_the_store_in_use_with_its_password_masked(tmp_path):
    assert run_wc("db", "path", env={"WC_DB": "sqlite:///x.db"}).stdout == "sqlite:///x.db\n"
    url = "postgresql+asyncpg://wc:hunter2-secret@127.0.0.1:5432/wc"
    shown = run_wc("db", "path", "--db", url)
    assert shown.returncode == 0 and shown.stdout == "postgresql+asyncpg://wc:[redacted]@127.0.0.1:5432/wc\n"
    default = run_wc("db", "path", env={"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")})
    assert default.stdout.strip() == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'wc' / 'wc.db'}"
    assert not (tmp_path / "data").exists()  # saying where the store is creates nothing


async def stored(db: str, run_id: int):
    opened = await Store.open(db, create=False)
    try:
        episodes = {e.id: e for e in await opened.runs.episodes(run_id)}
        return (await opened.runs.summary(run_id)).episode_list, await opened.runs.transitions(run_id), episodes
    finally:
        await opened.close()


def test_runs_export_writes_csv_and_parquet_that_match_the_store(store, tmp_path):
    import pyarrow.parquet as pq

    episodes, transitions, by_id = asyncio.run(stored(store.db, 1))
    expected = [(by_id[t.episode_id].index, t.step, t.action, t.reward, t.done, t.truncated, t.state, t.next_state)
                for t in transitions]
    assert len(expected) == 126

    out = tmp_path / "csv"
    written = run_wc("runs", "export", "1", "--out", str(out), env={"WC_DB": store.db})
    assert written.returncode == 0, written.stderr
    with open(out / "run-1-transitions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(int(r["episode"]), int(r["step"]), r["action"], float(r["reward"]), r["done"] == "True",
             r["truncated"] == "True", json.loads(r["state"]), json.loads(r["next_state"])) for r in rows] == expected
    with open(out / "run-1-episodes.csv", newline="") as fh:
        eps = list(csv.DictReader(fh))
    assert [(int(e["episode"]), int(e["steps"]), e["success"] == "True") for e in eps] == \
        [(e.index, e.steps, e.success) for e in episodes]

    report = wc_json(store, "runs", "export", "1", "--format", "parquet", "--out", str(tmp_path / "pq"))
    assert set(report) == keys_of("Export") and report["n_transitions"] == 126 and report["n_episodes"] == 11
    table = pq.read_table(report["transitions"])
    assert table.column_names == list(TRANSITION_COLUMNS)
    got = table.to_pylist()
    assert [(r["episode"], r["step"], r["action"], r["reward"], r["done"], r["truncated"], json.loads(r["state"]),
             json.loads(r["next_state"])) for r in got] == expected
    ep_table = pq.read_table(report["episodes"])
    assert ep_table.column_names == list(EPISODE_COLUMNS)
    assert str(ep_table.schema.field("success").type) == "bool"
    assert [(r["episode"], r["total_reward"], r["success"]) for r in ep_table.to_pylist()] == \
        [(e.index, e.total_reward, e.success) for e in episodes]


def test_export_columns_are_the_documented_ones():
    doc = (ROOT / "docs" / "JSON.md").read_text().split("## Exported tables", 1)[1]
    episodes_doc, transitions_doc = doc.split("Transitions, in the order", 1)
    columns = [re.findall(r"^\| `(\w+)` \| (\w+) \|", part, re.M) for part in (episodes_doc, transitions_doc)]
    assert columns == [list(EPISODE_COLUMNS.items()), list(TRANSITION_COLUMNS.items())]


def test_runs_export_bad_input_is_one_line(store, tmp_path):
    for args, code, needle in ((["runs", "export", "9"], 3, "no run with id 9"),
                               (["runs", "export", "1", "--format", "xlsx"], 2, "unknown format 'xlsx'")):
        result = run_wc(*args, "--out", str(tmp_path), env={"WC_DB": store.db})
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == code and len(lines) == 1 and needle in lines[0], result.stderr


READ_ONLY = [["runs", "list"], ["runs", "show", "1"], ["programs", "list"], ["programs", "show", "1"],
             ["envs", "list"], ["curriculum", "list"], ["curriculum", "show", "1"], ["db", "path"],
             ["runs", "list", "--json"], ["programs", "lineage", "1"], ["sweep", "list"],
             ["runs", "show", "1", "--episode", "0"]]


def test_commands_that_only_read_import_no_heavy_package(store):
    """Start-up time is benchmarks/bench_startup.py's; this checks its cause: what got imported."""
    code = f"""
import contextlib, io, json, sys
from wc.cli.main import app
heavy = {HEAVY!r}
found = {{}}
for args in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            code = app(args + ["--db", {store.db!r}] if args[0] != "envs" else args, standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
    found[" ".join(args)] = [code or 0, [m for m in heavy if m in sys.modules]]
print(json.dumps(found))
"""
    result = subprocess.run([sys.executable, "-c", code, json.dumps(READ_ONLY)], capture_output=True, text=True,
                            env=child_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {" ".join(a): [0, []] for a in READ_ONLY}  # each command succeeded, and imported none



def test_the_head_read_from_the_migration_files_is_alembics():
    """A store at this head opens without alembic; the files' head must be the one alembic finds."""
    from wc._store.db import head_from_files, head_revision

    assert head_from_files() == head_revision()
