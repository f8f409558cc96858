"""Offline datasets in the store: imported in bulk, marked as imported, read back for learning.

An import writes the dataset's row first ("importing"), then its transitions in batches of a few
tens of thousands, each batch one transaction (so a long import never holds SQLite's write lock
for long: runs writing to the same store wait seconds, not minutes), then marks the row
"complete" with its counts. An import that dies half-way leaves an "importing" row, which the
next import of the same data deletes before starting again; readers see complete datasets only.

Speed (benchmarks/bench_import.py): rows go to the driver as tuples of JSON text (each state
encoded once, also where it is the next state of the transition before; no per-row hashes: the
sandbox keys states itself when it takes them), through the
driver's own `executemany` on SQLite and `COPY` on PostgreSQL, not through SQLAlchemy's
per-statement machinery. That skips the engine's redaction hook, which on the ~500 characters
of a MuJoCo state costs more than the insert: the strings of these rows are JSON built by wc from
numbers and the environment's field and action names. The caller names those strings
(`vocabulary`); the import checks each, and the first row's texts, against the redactor once, and
sends every row through the hook (slowly) when any is changed by it or no vocabulary is given.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import delete, update

from wc._core.secrets import redact
from wc._store import models as m
from wc._store import tables as t
from wc._store.base import Database
from wc._store.records import DatasetRecord, DataTransition

BATCH = 50_000
COLUMNS = ("dataset_id", "episode", "step", "state", "action", "next_state", "reward", "done", "truncated")
_SQLITE_INSERT = (f"INSERT INTO dataset_transitions ({', '.join(COLUMNS)}) "
                  f"VALUES ({', '.join('?' for _ in COLUMNS)})")

Row = tuple[int, int, int, str, str, str, float, bool, bool]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def encode_rows(dataset_id: int, transitions: Iterable[DataTransition]) -> Iterator[Row]:
    """The rows of `dataset_transitions` for the transitions: each state encoded once, reused
    where a transition starts from the state the one before ended in."""
    last: Any = None
    last_text = ""
    dumps = _dumps
    for tr in transitions:
        state = tr.state
        text = last_text if state is last else dumps(state)
        last = tr.next_state
        last_text = dumps(last)
        yield (dataset_id, tr.episode, tr.step, text, dumps(tr.action), last_text, tr.reward, tr.done, tr.truncated)


class Datasets:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ import

    async def find(self, environment_id: int, api_module_id: int, content_hash: str) -> DatasetRecord | None:
        """The complete dataset with this content for this environment and API module, if any."""
        ids = await self.db.reading(lambda r: r.dataset_with(environment_id, api_module_id, content_hash,
                                                             complete=True))
        return await self.get(ids[0]) if ids else None

    async def add(self, *, environment_id: int, api_module_id: int, name: str, format: str, location: str,
                  content_hash: str, mission: str, transitions: Iterable[DataTransition],
                  data_env_id: str | None = None, meta: dict[str, Any] | None = None,
                  vocabulary: Iterable[str] | None = None, batch: int = BATCH) -> DatasetRecord:
        """Import a dataset: its row, then its transitions in batches (see the module docstring).
        `vocabulary`: every string the states and actions may hold (entity types, field and action
        names). Whatever the transitions raise (bad data) removes what was written and propagates."""
        words = list(vocabulary) if vocabulary is not None else None
        safe = words is not None and all(redact(w) == w for w in words)
        await self._drop_unfinished(environment_id, api_module_id, content_hash)
        async with self.db.write() as s:
            row = m.DatasetRow(environment_id=environment_id, api_module_id=api_module_id, name=name, format=format,
                               location=location, content_hash=content_hash, data_env_id=data_env_id, mission=mission,
                               status="importing", n_transitions=0, n_episodes=0, n_done=0, n_truncated=0,
                               meta=meta or {})
            s.add(row)
            await s.flush()
            dataset_id = row.id
        counts = _Counts()
        try:
            rows = encode_rows(dataset_id, counts.watch(transitions))
            checked = False
            while chunk := list(islice(rows, batch)):
                if not checked:
                    raw = safe and all(redact(v) == v for v in chunk[0] if isinstance(v, str))
                    checked = True
                await self._write(chunk, raw)
        except BaseException:
            await self._drop(dataset_id)
            raise
        async with self.db.write() as s:
            await s.execute(update(m.DatasetRow).where(m.DatasetRow.id == dataset_id).values(
                status="complete", n_transitions=counts.transitions, n_episodes=counts.episodes, n_done=counts.done,
                n_truncated=counts.truncated, finished_at=datetime.now(UTC)))
        return await self.get(dataset_id)

    async def _write(self, rows: list[Row], raw: bool) -> None:
        """One batch in one transaction: the driver's COPY (PostgreSQL) or executemany (SQLite);
        through SQLAlchemy (and its redaction hook) when `raw` is False."""
        async with self.db.write() as s:
            conn = await s.connection()
            if not raw:
                await conn.execute(t.dataset_transitions.insert(), [
                    dict(zip(COLUMNS, r, strict=True), state=json.loads(r[3]), action=json.loads(r[4]),
                         next_state=json.loads(r[5])) for r in rows])
                return
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            if self.db.dialect == "postgresql":
                await driver.copy_records_to_table("dataset_transitions", records=rows, columns=COLUMNS)
            else:
                await driver.executemany(_SQLITE_INSERT, rows)

    async def _drop(self, dataset_id: int) -> None:
        async with self.db.write() as s:
            await s.execute(delete(t.dataset_transitions).where(t.dataset_transitions.c.dataset_id == dataset_id))
            await s.execute(update(m.Run).where(m.Run.dataset_id == dataset_id).values(dataset_id=None))
            await s.execute(delete(m.DatasetRow).where(m.DatasetRow.id == dataset_id))

    async def _drop_unfinished(self, environment_id: int, api_module_id: int, content_hash: str) -> None:
        """An earlier import of the same data that did not finish (its process died)."""
        for dataset_id in await self.db.reading(lambda r: r.dataset_with(environment_id, api_module_id, content_hash,
                                                                         complete=False)):
            await self._drop(dataset_id)

    # ------------------------------------------------------------------ reading

    async def get(self, dataset_id: int) -> DatasetRecord:
        return await self.db.reading(lambda r: r.dataset(dataset_id))

    async def all(self) -> list[DatasetRecord]:
        """Every complete dataset, oldest first."""
        return await self.db.reading(lambda r: r.datasets())

    async def transitions(self, dataset_id: int) -> list[DataTransition]:
        """A dataset's transitions in order (what `wc fit` gives the sandbox)."""
        return await self.db.reading(lambda r: r.dataset_transitions(dataset_id))

    async def of_program(self, program_id: int) -> DatasetRecord | None:
        """The dataset a program's data came from: its run's (None for a program of a run that
        acted in its environment, or of none)."""
        return await self.db.reading(lambda r: r.dataset_of_program(program_id))


class _Counts:
    """Counts of the transitions as they stream past."""

    def __init__(self) -> None:
        self.transitions = self.episodes = self.done = self.truncated = 0

    def watch(self, transitions: Iterable[DataTransition]) -> Iterator[DataTransition]:
        episode = None
        for tr in transitions:
            self.transitions += 1
            if tr.episode != episode:
                self.episodes, episode = self.episodes + 1, tr.episode
            self.done += tr.done
            self.truncated += tr.truncated
            yield tr
