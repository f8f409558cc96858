"""Opening the store: engines, SQLite pragmas, and migrations on first use."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from wc._core.location import _redact, _versions_dir, head_from_files, require_existing, sqlite_file
from wc._core.secrets import redact
from wc.errors import StoreError

__all__ = ["_redact", "_versions_dir", "alembic_config", "create_engine", "current_revision", "head_from_files",
           "head_revision", "known_revision", "migrate", "require_existing", "schema_current", "sqlite_file"]


def create_engine(url: str, *, migration: bool = False, write: bool = True) -> AsyncEngine:
    """An async engine for a SQLAlchemy URL; plain `sqlite:///` and `postgresql://` URLs get
    their async drivers.

    SQLite gets real transactions (DDL included: a failed migration leaves nothing half done),
    WAL and a busy timeout. Writing transactions take the write lock at BEGIN (IMMEDIATE), so
    concurrent writers queue instead of failing to upgrade a read lock; a `write=False` engine
    begins deferred transactions for reads, which in WAL mode never block or wait for writers. A
    `migration` engine also turns foreign keys off, as alembic's table rebuilds need."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"cannot parse database URL {url!r}; expected e.g. sqlite+aiosqlite:///wc.db "
                         "or postgresql+asyncpg://user@host/db") from None
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    kwargs: dict = {}
    if parsed.drivername.startswith("sqlite"):
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_async_engine(parsed, **kwargs)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot open database {_redact(url)}: {exc}") from None
    @event.listens_for(engine.sync_engine, "before_cursor_execute", retval=True)
    def _redact_parameters(_conn, _cursor, statement, parameters, _context, executemany):
        """Every string written to the store passes the redactor: no key is stored, whatever a
        server echoed into an error or an answer."""
        return statement, _redacted(parameters, executemany)

    if engine.dialect.name == "sqlite":
        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # the driver's own BEGIN handling skips DDL; ours does not
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute(f"PRAGMA foreign_keys={'OFF' if migration else 'ON'}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if (migration or write) else "BEGIN")
    return engine


def _redacted(parameters, many: bool):
    if many:
        return type(parameters)(_redacted(p, False) for p in parameters)
    if isinstance(parameters, dict):
        return {k: redact(v) if isinstance(v, str) else v for k, v in parameters.items()}
    if isinstance(parameters, (list, tuple)):
        return type(parameters)(redact(v) if isinstance(v, str) else v for v in parameters)
    return parameters


def alembic_config(connection=None):
    from alembic.config import Config

    # the migrations ship as wc._migrations (the source tree's migrations/ folder)
    spec = importlib.util.find_spec("wc._migrations")
    assert spec is not None and spec.origin is not None, "wc._migrations is missing from this installation"
    cfg = Config()
    cfg.set_main_option("script_location", os.path.dirname(spec.origin))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def _current(connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def schema_current(engine: AsyncEngine) -> bool:
    """Whether the database's schema is at this wc's head, asked with one query: a store at head
    opens without alembic. Anything else (empty, older, newer, unreadable) is for `migrate`."""
    from sqlalchemy import inspect, text

    head = head_from_files()
    if head is None:
        return False
    try:
        async with engine.connect() as conn:
            if not await conn.run_sync(lambda c: inspect(c).has_table("alembic_version")):
                return False
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except (OSError, DBAPIError):
        return False
    return list(rows) == [head]


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations have no head revision"
    return head


MIGRATION_LOCK = 0x77630001  # PostgreSQL advisory lock id: one migrator at a time


async def migrate(url: str) -> None:
    """Create or upgrade the schema in one transaction; refuse a database made by a newer wc.

    Several processes may start on a fresh store at once: they take turns (an advisory lock on
    PostgreSQL, the write lock on SQLite) and the later ones find nothing left to do."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    script = ScriptDirectory.from_config(alembic_config())
    engine = create_engine(url, migration=True)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            current = await conn.run_sync(_current)
            if current is not None and not _known(script, current):
                raise StoreError(f"the database schema (revision {current}) is newer than this wc understands; "
                                 "upgrade wc")
            if current != script.get_current_head():
                await conn.run_sync(_upgrade)
    finally:
        await engine.dispose()


def known_revision(revision: str) -> bool:
    """Whether this wc's migrations know a schema revision (an unknown one is from a newer wc)."""
    from alembic.script import ScriptDirectory

    return _known(ScriptDirectory.from_config(alembic_config()), revision)


def _known(script, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises its own resolution errors for unknown ids
        return False


async def current_revision(engine: AsyncEngine) -> str | None:
    """The schema revision of a database, without changing it."""
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    except (OSError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StoreError(f"cannot open database {_redact(str(engine.url))}: {reason}") from None
