"""Where the store is, without opening it: the URL in use (the `--db` flag, else `WC_DB`, else a
SQLite file in the user data dir), its SQLite file, and the schema head named by the migration
files. Imports neither SQLAlchemy's ORM nor pydantic, so that read-only commands start fast."""
from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from wc.errors import StoreError


def default_db_url() -> str:
    """A SQLite file in the user's data directory."""
    from platformdirs import user_data_dir

    path = Path(user_data_dir("wc", appauthor=False)) / "wc.db"
    return f"sqlite+aiosqlite:///{path}"


def db_url(db: str | None = None) -> str:
    """The store URL in use: `db`, else WC_DB (any case, as Settings reads it), else the default."""
    if db:
        return db
    for key, value in os.environ.items():
        if key.upper() == "WC_DB" and value:
            return value
    return default_db_url()


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    database = parsed.database
    if database.startswith("file:"):  # a SQLite URI filename (?uri=true), e.g. file:/path/wc.db?mode=ro
        database = database[len("file:"):].split("?", 1)[0]
    return Path(database).expanduser()


def require_existing(url: str) -> None:
    """Refuse a SQLite store that does not exist yet: reading must not create one (a typo'd
    path would otherwise show an empty store)."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise StoreError(f"no store at {path}", url=_redact(url))


def _versions_dir() -> Path:
    spec = importlib.util.find_spec("wc._migrations")
    assert spec is not None and spec.origin is not None, "wc._migrations is missing from this installation"
    return Path(spec.origin).parent / "versions"


_REVISION = re.compile(r"^revision(?:\s*:[^=]+)?\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision(?:\s*:[^=]+)?\s*=\s*(.+)$", re.M)


def head_from_files() -> str | None:
    """The newest revision, read from the migration files' `revision` and `down_revision` lines
    without importing alembic (a quarter to half of a read-only command's start-up); None when
    the files do not name a single head, and alembic must decide."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in _versions_dir().glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN.search(text)
        if down:
            parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None
