"""Curricula: environments learned in order, each run starting from the previous one's program."""
from __future__ import annotations

from typing import Any

from sqlalchemy import update

from wc._core.values import RunStatus
from wc._store import models as m
from wc._store.base import Database
from wc._store.records import CurriculumSummary


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
        return await self.db.reading(lambda r: r.curriculum(curriculum_id))

    async def all(self) -> list[CurriculumSummary]:
        return await self.db.reading(lambda r: r.curricula())
