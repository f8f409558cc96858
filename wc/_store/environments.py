"""Environments and the API modules their programs are written against."""
from __future__ import annotations

from sqlalchemy import select

from wc._core.values import ApiModule
from wc._store import models as m
from wc._store.base import Database
from wc.errors import StoreError


class Environments:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def ensure_api_module(self, api: ApiModule) -> int:
        async with self.db.write() as s:
            # several processes may record the same module at once: the first insert wins
            await s.execute(self.db.insert(m.ApiModuleRow).values(name=api.name, version=api.version,
                                                                  source=api.source).on_conflict_do_nothing())
            row = (await s.execute(select(m.ApiModuleRow).where(
                m.ApiModuleRow.name == api.name, m.ApiModuleRow.version == api.version))).scalar_one()
            if row.source != api.source:
                raise StoreError(f"API module {api.ref} in the store differs from this wc's copy; a changed "
                                 "module must get a new version")
            return row.id

    async def ensure(self, name: str, env_id: str, domain: str, api: ApiModule, reward_mode: str | None = None) -> int:
        """The environment's id, recording it (and its API module and reward mode) on first use."""
        api_id = await self.ensure_api_module(api)
        async with self.db.write() as s:
            await s.execute(self.db.insert(m.Environment).values(
                name=name, env_id=env_id, domain=domain, api_module_id=api_id, reward_mode=reward_mode,
                created_at=m.utcnow()).on_conflict_do_nothing())
            row = (await s.execute(select(m.Environment).where(m.Environment.name == name))).scalar_one()
            if row.api_module_id != api_id:
                row.api_module_id = api_id
            if reward_mode is not None and row.reward_mode != reward_mode:
                row.reward_mode = reward_mode
            return row.id

    async def api_module_source(self, ref: str) -> str:
        return await self.db.reading(lambda r: r.api_module_source(ref))
