"""Opening the knowledge store: one object holding an aggregate per concern.

    store = await Store.open("sqlite:///wc.db")
    run_id = await store.runs.create(...)
    await store.programs.add(...)

Aggregates: `environments` (and API modules), `runs` (episodes, transitions, claims), `programs`
(scores, lineage, transfer), `calls` (LLM calls), `curricula`, `sweeps`, `datasets` (offline data),
`measures` (benchmark lines). Each returns values, and every driver error leaves it as `StoreError`.
"""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

from wc._store.base import Database
from wc._store.curricula import Curricula
from wc._store.datasets import Datasets
from wc._store.db import _redact, create_engine, migrate, require_existing, schema_current
from wc._store.environments import Environments
from wc._store.llm_calls import LLMCalls
from wc._store.measures import Measures
from wc._store.programs import Programs
from wc._store.runs import Runs
from wc._store.sweeps import Sweeps
from wc.errors import StoreError


async def open_store(db: str | None, *, create: bool = True) -> Store:
    """The store at `db` (default: the settings'); `create=False` for reading, which never makes one."""
    from wc._core.config import Settings

    return await Store.open(db or Settings().db, create=create)


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.environments = Environments(db)
        self.runs = Runs(db)
        self.programs = Programs(db)
        self.calls = LLMCalls(db)
        self.curricula = Curricula(db)
        self.sweeps = Sweeps(db)
        self.datasets = Datasets(db)
        self.measures = Measures(db)

    @property
    def url(self) -> str:
        return self.db.url

    @classmethod
    async def open(cls, url: str, *, migrate_schema: bool = True, create: bool = True) -> Store:
        """Connect (creating or upgrading the schema unless told not to). With `create=False`, a
        SQLite store that does not exist is a StoreError ("no store at PATH"), not a new file."""
        if not create:
            require_existing(url)
        engine = create_engine(url)
        read_engine = create_engine(url, write=False) if engine.dialect.name == "sqlite" else engine
        try:
            if migrate_schema and not await schema_current(read_engine):
                await migrate(url)
            async with engine.connect():
                pass
        except StoreError:
            await Database(engine, url, read_engine).close()
            raise
        except (OSError, DBAPIError, OperationalError) as exc:
            await Database(engine, url, read_engine).close()
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise StoreError(f"cannot open database {_redact(url)}: {reason}", url=_redact(url)) from None
        return cls(Database(engine, url, read_engine))

    async def close(self) -> None:
        await self.db.close()
