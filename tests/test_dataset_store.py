"""Datasets imported into the store (SQLite and PostgreSQL): marked as imported, read back as
they were, imported once, and nothing left of an import that failed; a run that learns from a
dataset, and the dataset a program's data came from."""
import json
from pathlib import Path

import pytest

from wc import envs
from wc.datasets import import_dataset, read_jsonl
from wc.errors import DatasetError, NotFound

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
FIXTURES = Path(__file__).parent / "fixtures" / "cwmb"


async def counts(store):
    from sqlalchemy import func, select

    from wc._store import tables as t

    async with store.db.read() as s:
        datasets = (await s.execute(select(func.count()).select_from(t.datasets))).scalar_one()
        rows = (await s.execute(select(func.count()).select_from(t.dataset_transitions))).scalar_one()
    return datasets, rows



async def test_an_import_by_database_url_opens_the_store_itself(tmp_path):
    """The README's form: a database URL, no store object; the store is made on first use."""
    from support.helpers import sqlite_rows

    adapter = envs.make("Taxi-v4")
    source = read_jsonl(FIXTURES / "Taxi-v3.jsonl", adapter)
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    record = await import_dataset(db, adapter, source)
    again = await import_dataset(db, adapter, source)
    assert again.id == record.id and record.n_transitions == len(source.read())
    assert sqlite_rows(db, "SELECT count(*) FROM dataset_transitions") == [(record.n_transitions,)]

@pytest.mark.parametrize("env_id, name", [("Taxi-v4", "Taxi-v3"), ("Pendulum-v1", "Pendulum-v1")])
async def test_an_import_is_marked_and_reads_back_as_it_was(store, env_id, name):
    adapter = envs.make(env_id)
    source = read_jsonl(FIXTURES / f"{name}.jsonl", adapter)
    record = await import_dataset(store, adapter, source, batch=64)  # several batches
    data = source.read()
    assert (record.status, record.format, record.location, record.content_hash) == (
        "complete", "jsonl", str((FIXTURES / f"{name}.jsonl").resolve()), source.content_hash)
    assert (record.n_transitions, record.n_episodes, record.n_done, record.n_truncated) == (
        len(data), 1, sum(t.done for t in data), sum(t.truncated for t in data))
    assert record.env_id == env_id and record.api_module == adapter.api.ref and record.mission == adapter.mission
    assert await store.datasets.transitions(record.id) == data
    assert [d.id for d in await store.datasets.all()] == [record.id]
    again = await import_dataset(store, adapter, source)
    assert again.id == record.id and await counts(store) == (1, len(data))
    assert json.dumps(record.to_json())


async def test_bad_data_half_way_leaves_nothing(store, tmp_path):
    good = (FIXTURES / "Taxi-v3.jsonl").read_text().splitlines()
    path = tmp_path / "taxi.jsonl"
    path.write_text("\n".join(good[:150] + ["{broken"] + good[150:]) + "\n")
    adapter = envs.make("Taxi-v4")
    with pytest.raises(DatasetError, match="line 151: not JSON"):
        await import_dataset(store, adapter, read_jsonl(path, adapter), batch=50)  # three batches were written
    assert await counts(store) == (0, 0)


async def test_an_unfinished_import_is_replaced(store):
    """A process that died during an import leaves an "importing" row: readers do not see it, and
    the next import of the same data replaces it."""
    adapter = envs.make("CartPole-v1")
    source = read_jsonl(FIXTURES / "CartPole-v1.jsonl", adapter)
    env_id = await store.environments.ensure(adapter.name, adapter.env_id, "gym", adapter.api, "value")
    api_id = await store.environments.ensure_api_module(adapter.api)

    def dies():
        yield from list(source.transitions())[:10]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await store.datasets.add(environment_id=env_id, api_module_id=api_id, name="x", format="jsonl",
                                 location="x", content_hash=source.content_hash, mission="", transitions=dies(),
                                 batch=5)
    assert await counts(store) == (0, 0)  # the failure removed what it wrote
    from wc._store import models as m
    async with store.db.write() as s:  # as a killed process leaves it
        s.add(m.DatasetRow(environment_id=env_id, api_module_id=api_id, name="x", format="jsonl", location="x",
                           content_hash=source.content_hash, mission="", status="importing", n_transitions=0,
                           n_episodes=0, n_done=0, n_truncated=0, meta={}))
    assert await store.datasets.all() == [] and await store.datasets.find(env_id, api_id, source.content_hash) is None
    record = await import_dataset(store, adapter, source)
    assert await counts(store) == (1, 42) and record.n_transitions == 42


async def test_rows_through_the_redacting_path_are_the_same(store):
    """Without a vocabulary of the rows' strings the import goes through the engine's redaction
    hook: slower, the same rows."""
    adapter = envs.make("Taxi-v4")
    source = read_jsonl(FIXTURES / "Taxi-v3.jsonl", adapter)
    env_id = await store.environments.ensure(adapter.name, adapter.env_id, "gym", adapter.api, "value")
    api_id = await store.environments.ensure_api_module(adapter.api)
    record = await store.datasets.add(environment_id=env_id, api_module_id=api_id, name="taxi", format="jsonl",
                                      location="x", content_hash="h", mission=adapter.mission,
                                      transitions=source.transitions(), batch=70)
    assert await store.datasets.transitions(record.id) == source.read()


async def test_a_run_that_learns_from_a_dataset_shows_where_its_programs_data_came_from(store):
    adapter = envs.make("CartPole-v1")
    record = await import_dataset(store, adapter, read_jsonl(FIXTURES / "CartPole-v1.jsonl", adapter))
    env_id = await store.environments.ensure(adapter.name, adapter.env_id, "gym", adapter.api, "value")
    run_id = await store.runs.create(env_id, config={}, seed=0, model=None, dataset_id=record.id)
    other = await store.runs.create(env_id, config={}, seed=0, model=None)
    assert (await store.runs.get(run_id)).dataset_id == record.id
    api_id = await store.environments.ensure_api_module(adapter.api)
    program = await store.programs.add(run_id=run_id, environment_id=env_id, api_module_id=api_id, source="x = 1",
                                       origin="scratch", parents=[])
    online = await store.programs.add(run_id=other, environment_id=env_id, api_module_id=api_id, source="x = 2",
                                      origin="scratch", parents=[])
    assert (await store.datasets.of_program(program)).id == record.id
    assert await store.datasets.of_program(online) is None
    with pytest.raises(NotFound):
        await store.datasets.of_program(9999)
    with pytest.raises(NotFound):
        await store.datasets.get(9999)
