"""The store's connection to its database, and the one boundary where driver errors become
`StoreError`: every aggregate reads and writes through `Database.read()` and `.write()`."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from wc._store.db import _redact
from wc._store.reading import Reader
from wc.errors import StoreError, WcError

T = TypeVar("T")


class Database:
    """Engines and sessions: writes in short transactions, reads on a separate engine (SQLite:
    deferred transactions, which in WAL mode never wait for the writer)."""

    def __init__(self, engine: AsyncEngine, url: str, read_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self.read_engine = read_engine or engine
        self.url = url
        self._writer = async_sessionmaker(engine, expire_on_commit=False)
        self._reader = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction, committed on leaving."""
        with self._translated():
            async with self._writer.begin() as session:
                yield session

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        with self._translated():
            async with self._reader() as session:
                yield session

    async def reading(self, fn: Callable[[Reader], T]) -> T:
        """`fn` on a Reader of the read session: the store's queries (wc/_store/reading.py) are
        synchronous Core, shared with the fast path of read-only commands."""
        with self._translated():
            async with self._reader() as session:
                return await session.run_sync(lambda sync: fn(Reader(sync)))

    @contextlib.contextmanager
    def _translated(self):
        try:
            yield
        except WcError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
            raise StoreError(f"the store at {_redact(self.url)} failed: {reason}", url=_redact(self.url)) from None

    def insert(self, model):
        """An INSERT that can skip conflicts, in the dialect's own syntax."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(model)

    async def close(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
