"""Sweeps: every (environment, seed) of a grid as one run, recorded under one sweep id, so a
sweep can be shown, compared over seeds and resumed wherever it stopped."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from wc.errors import NotFound
from wc.store import models as m
from wc.store.base import Database
from wc.store.records import SweepCell, SweepSummary
from wc.store.runs import live_status
from wc.values import RunStatus


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
        found = await self._summaries([sweep_id])
        if not found:
            raise NotFound(f"no sweep with id {sweep_id}", kind="sweep", id=sweep_id)
        return found[0]

    async def all(self) -> list[SweepSummary]:
        async with self.db.read() as s:
            ids = list((await s.execute(select(m.Sweep.id).order_by(m.Sweep.id))).scalars())
        return await self._summaries(ids)

    async def _summaries(self, ids: list[int]) -> list[SweepSummary]:
        if not ids:
            return []
        async with self.db.read() as s:
            rows = list((await s.execute(select(m.Sweep).where(m.Sweep.id.in_(ids)).order_by(m.Sweep.id))).scalars())
            started: dict[tuple[int, int], int] = {}
            live: set[int] = set()  # sweeps a live process is playing
            for run_id, sweep_id, index, status, owner, beat in (await s.execute(
                    select(m.Run.id, m.Run.sweep_id, m.Run.sweep_index, m.Run.status, m.Run.owner, m.Run.heartbeat_at)
                    .where(m.Run.sweep_id.in_(ids)).order_by(m.Run.id))).all():
                if sweep_id is not None and index is not None:
                    started.setdefault((sweep_id, index), run_id)  # the first run of a cell plays it
                    if live_status(status, owner, beat) == RunStatus.RUNNING:
                        live.add(sweep_id)
        out = []
        for r in rows:
            # read from its runs: running while any is live (another shard may still play when this
            # one stopped); a sweep whose process was killed still says 'running' in its row
            if r.id in live:
                status = RunStatus.RUNNING
            else:
                status = RunStatus.INTERRUPTED if r.status == RunStatus.RUNNING else r.status
            seeds = [int(x) for x in r.seeds]
            cells = [SweepCell(i * len(seeds) + j, env, seed, started.get((r.id, i * len(seeds) + j)))
                     for i, env in enumerate(r.envs) for j, seed in enumerate(seeds)]
            out.append(SweepSummary(r.id, list(r.envs), seeds, r.engine, status, r.created_at, dict(r.config or {}),
                                    cells))
        return out
