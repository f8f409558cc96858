"""Curricula: environments learned in order, each run starting from the previous one's program."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select, update

from wc.errors import NotFound
from wc.store import models as m
from wc.store.base import Database
from wc.store.records import CurriculumSummary
from wc.values import RunStatus


class Curricula:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, envs: list[str], config: dict[str, Any]) -> int:
        async with self.db.write() as s:
            row = m.Curriculum(envs=envs, config=config, status=RunStatus.RUNNING)
            s.add(row)
            await s.flush()
            return row.id

    async def set_status(self, curriculum_id: int, status: str) -> None:
        async with self.db.write() as s:
            await s.execute(update(m.Curriculum).where(m.Curriculum.id == curriculum_id).values(status=status))

    async def get(self, curriculum_id: int) -> CurriculumSummary:
        found = await self._summaries([curriculum_id])
        if not found:
            raise NotFound(f"no curriculum with id {curriculum_id}", kind="curriculum", id=curriculum_id)
        return found[0]

    async def all(self) -> list[CurriculumSummary]:
        async with self.db.read() as s:
            ids = list((await s.execute(select(m.Curriculum.id).order_by(m.Curriculum.id))).scalars())
        return await self._summaries(ids)

    async def _summaries(self, ids: list[int]) -> list[CurriculumSummary]:
        if not ids:
            return []
        async with self.db.read() as s:
            rows = list((await s.execute(select(m.Curriculum).where(m.Curriculum.id.in_(ids))
                                         .order_by(m.Curriculum.id))).scalars())
            runs: dict[int, list[int]] = defaultdict(list)
            for run_id, curriculum_id in (await s.execute(
                    select(m.Run.id, m.Run.curriculum_id).where(m.Run.curriculum_id.in_(ids))
                    .order_by(m.Run.curriculum_index, m.Run.id))).all():
                if curriculum_id is not None:
                    runs[curriculum_id].append(run_id)
        return [CurriculumSummary(r.id, list(r.envs), r.status, r.created_at, r.config, runs.get(r.id, []))
                for r in rows]
