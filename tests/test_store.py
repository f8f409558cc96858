import sqlite3

import pytest

from wc._core.values import LLMCall
from wc._store import Store
from wc._store.db import head_revision
from wc.envs.api import load as load_api_module
from wc.errors import NotFound, StoreError

API = load_api_module("minigrid", 1)


async def _seed(store):
    env_id = await store.environments.ensure("minigrid-doorkey", "MiniGrid-DoorKey-5x5-v0", "minigrid", API)
    api_id = await store.environments.ensure_api_module(API)
    run_id = await store.runs.create(env_id, config={"env": "minigrid-doorkey"}, seed=0, model="m")
    return env_id, api_id, run_id


@pytest.fixture
async def sqlite_store(db_url):
    store = await Store.open(db_url)
    yield store
    await store.close()


@pytest.fixture
async def seeded(sqlite_store):
    """A SQLite store with one environment, its API module and one run."""
    return (sqlite_store, *await _seed(sqlite_store))


async def test_schema_is_created_on_first_use_and_reopened(db_url):
    store = await Store.open(db_url)
    await _seed(store)
    await store.close()
    store = await Store.open(db_url)  # no second migration, same data
    try:
        runs = await store.runs.summaries()
    finally:
        await store.close()
    assert [r.id for r in runs] == [1]
    path = db_url.split("///", 1)[1]
    con = sqlite3.connect(path)
    assert con.execute("select version_num from alembic_version").fetchall() == [(head_revision(),)]
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"


async def test_programs_are_stored_once_per_run_with_their_lineage(seeded):
    store, env_id, api_id, run_id = seeded
    common = dict(run_id=run_id, environment_id=env_id, api_module_id=api_id)
    a = await store.programs.add(source="A", origin="scratch", parents=[], **common)
    b = await store.programs.add(source="B", origin="repair_transition", parents=[a], **common)
    again = await store.programs.add(source="B", origin="repair_reward", parents=[a], **common)
    c = await store.programs.add(source="C", origin="merge", parents=[a, b, b], **common)
    records = await store.programs.find(run_id=run_id)
    assert again == b
    by_id = {r.id: r for r in records}
    assert by_id[b].parents == [a] and by_id[c].parents == [a, b]
    assert by_id[a].api_module == "minigrid_v1" and by_id[a].environment == "minigrid-doorkey"


async def test_llm_calls_are_counted_in_the_summary(seeded):
    store, env_id, api_id, run_id = seeded
    await store.calls.add(run_id, LLMCall("scratch", "m", [{"role": "user", "content": "x"}], answer="y",
                                             prompt_tokens=10, completion_tokens=5))
    await store.calls.add(run_id, LLMCall("scratch", "m", [{"role": "user", "content": "x"}], status="timeout",
                                             error="timed out"))
    s = await store.runs.summary(run_id)
    assert (s.llm_calls, s.llm_calls_failed, s.prompt_tokens, s.completion_tokens) == (2, 1, 10, 5)
    assert {"id", "env", "status", "episodes", "successes", "env_steps", "llm_calls", "prompt_tokens",
            "completion_tokens", "programs", "best_program_id"} <= set(s.to_json())


async def test_missing_records_raise_not_found(sqlite_store):
    with pytest.raises(NotFound, match="no run with id 42"):
        await sqlite_store.runs.summary(42)
    with pytest.raises(NotFound, match="no program with id 7"):
        await sqlite_store.programs.get(7)


@pytest.mark.parametrize("url, message", [
    ("nosuchdriver://x/y", "cannot open database"),
    ("not a url at all", "cannot parse database URL"),
    ("postgresql+asyncpg://wc:secretpw@127.0.0.1:1/wc", "cannot open database"),
])
async def test_bad_urls_give_clear_errors_without_passwords(url, message):
    with pytest.raises(StoreError, match=message) as info:
        await Store.open(url)
    assert "secretpw" not in str(info.value)


async def test_a_schema_from_a_newer_wc_is_refused(db_url):
    await (await Store.open(db_url)).close()
    con = sqlite3.connect(db_url.split("///", 1)[1])
    con.execute("update alembic_version set version_num = '9999_future'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer than this wc"):
        await Store.open(db_url)


async def test_a_corrupt_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"this is not a sqlite database" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        await Store.open(f"sqlite+aiosqlite:///{bad}")


async def test_upgrading_a_store_with_data_keeps_it(tmp_path):
    """A store made by the first schema, with runs and programs in it, is upgraded in place."""
    from alembic import command
    from sqlalchemy import create_engine as sync_engine

    from wc._store.db import alembic_config

    path = tmp_path / "old.db"
    engine = sync_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.exec_driver_sql("insert into api_modules (id, name, version, source) values (1, 'minigrid', 1, ?)",
                             (API.source,))
        conn.exec_driver_sql("insert into environments (id, name, env_id, domain, api_module_id, created_at) "
                             "values (1, 'minigrid-doorkey', 'MiniGrid-DoorKey-5x5-v0', 'minigrid', 1, '2026-01-01')")
        conn.exec_driver_sql("insert into runs (id, environment_id, status, config, seed, model, created_at, "
                             "wall_seconds, llm_wait_seconds) "
                             "values (1, 1, 'finished', '{}', 0, 'm', '2026-01-01', 1, 0)")
        conn.exec_driver_sql("insert into programs (id, run_id, environment_id, api_module_id, source, source_hash, "
                             "origin, created_at) values (1, 1, 1, 1, 'x', 'h', 'scratch', '2026-01-01')")
    engine.dispose()

    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    try:
        summary, program = await store.runs.summary(1), await store.programs.get(1)
    finally:
        await store.close()
    assert summary.status == "finished" and summary.programs == 1 and program.source == "x"
    con = sqlite3.connect(path)
    assert con.execute("select version_num from alembic_version").fetchall() == [(head_revision(),)]
    assert con.execute("pragma foreign_key_check").fetchall() == []


@pytest.mark.slow
async def test_a_failed_upgrade_leaves_the_store_as_it_was(tmp_path):
    """Migrations run in one transaction, DDL included: a failure late in an upgrade undoes it all."""
    from alembic import command
    from sqlalchemy import create_engine as sync_engine

    from wc._store.db import alembic_config

    path = tmp_path / "old.db"
    engine = sync_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.exec_driver_sql("insert into api_modules (id, name, version, source) values (1, 'minigrid', 1, 's')")
        conn.exec_driver_sql("insert into environments (id, name, env_id, domain, api_module_id, created_at) "
                             "values (1, 'e', 'E-v0', 'minigrid', 1, '2026-01-01')")
        for i in (1, 2):  # the same source twice in one run: the upgrade's last step (a unique index) fails
            conn.exec_driver_sql("insert into programs (id, run_id, environment_id, api_module_id, source, "
                                 f"source_hash, origin, created_at) values ({i}, null, 1, 1, 'x', 'h', 'scratch', "
                                 "'2026-01-01')")
    engine.dispose()
    # NULL run ids do not collide in a unique index; give both rows the same run to make it fail
    con = sqlite3.connect(path)
    con.execute("insert into runs (id, environment_id, status, config, seed, model, created_at, wall_seconds, "
                "llm_wait_seconds) values (1, 1, 'finished', '{}', 0, 'm', '2026-01-01', 0, 0)")
    con.execute("update programs set run_id = 1")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="cannot open database .*UNIQUE"):
        await Store.open(f"sqlite+aiosqlite:///{path}")
    con = sqlite3.connect(path)
    assert con.execute("select version_num from alembic_version").fetchall() == [("0001",)]
    tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
    assert "curricula" not in tables
    columns = {r[1] for r in con.execute("pragma table_info(runs)")}
    assert "owner" not in columns and "checkpoint" not in columns
    assert con.execute("select count(*) from programs").fetchone() == (2,)


async def test_a_program_stored_outside_runs_is_kept_per_environment(tmp_path):
    from wc._api import add_program, program

    db = f"sqlite:///{tmp_path / 'wc.db'}"
    source = "def transition(state, action):\n    return state\n\n\ndef reward(state, action, next_state, mission):\n" \
             "    return 0.0, False\n"
    first = await add_program("minigrid-empty", source, db)
    assert await add_program("minigrid-empty", source, db) == first
    other = await add_program("minigrid-doorkey", source, db)
    assert other != first and (await program(other, db)).environment == "minigrid-doorkey"


async def test_the_migrations_build_the_schema_the_models_describe(store_url):
    """Every table, column and index of wc/_store/models.py, as the migrations leave them (SQLite
    and PostgreSQL): a model changed without its migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from wc._store.models import Base

    store = await Store.open(store_url)
    try:
        async with store.db.engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    finally:
        await store.close()
    assert diff == []


async def test_the_heartbeat_keeps_a_runs_time_should_it_die_unannounced(seeded, monkeypatch):
    """A run killed without a chance to finish (SIGKILL, power loss, `timeout -s KILL`) keeps the
    wall and LLM-wait time it ran, to within a beat, instead of 0."""
    import asyncio

    from wc._run import runner

    store, _, _, run_id = seeded
    await store.runs.claim(run_id, "here:1")
    monkeypatch.setattr(runner, "HEARTBEAT_SECONDS", 0.02)
    with runner.Heartbeat(store, run_id, "here:1", lambda: (12.5, 3.25)):
        for _ in range(200):
            await asyncio.sleep(0.02)
            row = await store.runs.get(run_id)
            if row.wall_seconds:
                break
    assert (row.wall_seconds, row.llm_wait_seconds) == (12.5, 3.25)
    with runner.Heartbeat(store, run_id, "someone-else:2", lambda: (99.0, 99.0)):  # not the holder: no write
        await asyncio.sleep(0.1)
    assert (await store.runs.get(run_id)).wall_seconds == 12.5
