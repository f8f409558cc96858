"""What a run's program measured outside the run: `wc bench cwmb`'s line of an environment, kept
under the settings it was measured with, so that a benchmark run again measures nothing twice and
`wc report` draws the benchmark from the store."""
from __future__ import annotations

from typing import Any

from wc._store import models as m
from wc._store.base import Database
from wc._store.records import MeasureRecord


class Measures:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, run_id: int, program_id: int | None, kind: str, settings: dict[str, Any],
                  result: dict[str, Any]) -> int:
        async with self.db.write() as s:
            row = m.MeasureRow(run_id=run_id, program_id=program_id, kind=kind, settings=dict(settings),
                               result=dict(result))
            s.add(row)
            await s.flush()
            return row.id

    async def find(self, run_id: int, program_id: int | None, kind: str,
                   settings: dict[str, Any]) -> MeasureRecord | None:
        """The latest measure of this run's program of this kind under exactly these settings."""
        found = [x for x in await self.db.reading(lambda r: r.measures(kind, run_id=run_id))
                 if x.program_id == program_id and x.settings == settings]
        return found[-1] if found else None

    async def all(self, kind: str) -> list[MeasureRecord]:
        return await self.db.reading(lambda r: r.measures(kind))
