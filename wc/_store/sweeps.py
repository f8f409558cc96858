"""Sweeps: every (environment, seed) of a grid as one run, recorded under one sweep id, so a
sweep can be shown, compared over seeds and resumed wherever it stopped."""
from __future__ import annotations

from typing import Any

from sqlalchemy import update

from wc._store import models as m
from wc._store.base import Database
from wc._store.records import SweepSummary


class Sweeps:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, envs: list[str], seeds: list[int], config: dict[str, Any], engine: str = "local") -> int:
        async with self.db.write() as s:
            row = m.Sweep(envs=list(envs), seeds=list(seeds), config=config, engine=engine, status="pending")
            s.add(row)
            await s.flush()
            return row.id

    async def set_status(self, sweep_id: int, status: str) -> None:
        async with self.db.write() as s:
            await s.execute(update(m.Sweep).where(m.Sweep.id == sweep_id).values(status=status))

    async def get(self, sweep_id: int) -> SweepSummary:
        """A sweep with its cells, each with the run that plays it (status read from its runs)."""
        return await self.db.reading(lambda r: r.sweep(sweep_id))

    async def all(self) -> list[SweepSummary]:
        return await self.db.reading(lambda r: r.sweeps())
