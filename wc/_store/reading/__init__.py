"""What the store holds, read with SQLAlchemy Core over its tables: runs with their counters,
programs, curricula and sweeps (`summaries.py`), and the records the library reads back (a run's
row, transitions, episodes and LLM calls, lineage, transfer candidates, datasets, API modules:
`records.py`), as the values of `wc._store.records`. Every read of the store is here; the
aggregates of `wc._store` write, and read through a Reader.

One implementation serves two callers. The async store runs these functions on its own read
session (`Database.reading`), and a read-only command on a SQLite store runs them on a plain
synchronous connection (`open_sqlite`), which spares it the ORM, the async drivers and asyncio:
most of what such a command would otherwise spend starting up.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from wc._core.location import _redact, head_from_files, require_existing, sqlite_file
from wc._store.reading.queries import STALE_AFTER, aware, holder_alive, live_status
from wc._store.reading.records import Records
from wc.errors import StoreError

__all__ = ["STALE_AFTER", "Reader", "aware", "holder_alive", "live_status", "open_sqlite", "read"]

T = TypeVar("T")


class Reader(Records):
    """Every query that reads, on one synchronous connection (or the sync face of an async
    session): the summaries, and the records."""


# --------------------------------------------------------------------------- SQLite, synchronously


@contextmanager
def open_sqlite(url: str) -> Iterator[Reader | None]:
    """A Reader on a SQLite store at this wc's schema, on a plain synchronous connection; None
    for any other store (or a schema to upgrade: the async store does that). A missing file is
    a StoreError ("no store at PATH"), as for every read."""
    path = sqlite_file(url)
    if path is None:
        yield None
        return
    require_existing(url)
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
    try:
        with engine.connect() as conn:
            head = head_from_files()
            try:
                found = [r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()]
            except SQLAlchemyError:
                found = []
            if head is None or found != [head]:
                conn.rollback()
                yield None
                return
            yield Reader(conn)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise StoreError(f"the store at {_redact(url)} failed: {reason}", url=_redact(url)) from None
    finally:
        engine.dispose()


def read(url: str, fn: Callable[[Reader], T]) -> T:
    """`fn` on a Reader of the store at `url`: synchronously for a SQLite file at this wc's schema,
    else through the async store (which may upgrade an old schema, as every command does)."""
    with open_sqlite(url) as reader:
        if reader is not None:
            return fn(reader)
    import asyncio

    return asyncio.run(_read_async(url, fn))


async def _read_async(url: str, fn: Callable[[Reader], T]) -> T:
    from wc._store.store import Store

    store = await Store.open(url, create=False)
    try:
        return await store.db.reading(fn)
    finally:
        await store.close()
