from __future__ import annotations

import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=UserWarning)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def minigrid_model() -> str:
    return (FIXTURES / "minigrid_model.py").read_text()


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'wc.db'}"


@pytest.fixture(scope="session")
def postgres():
    from support.pg import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    """The same test against SQLite and against a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'wc.db'}"
    return request.getfixturevalue("postgres").new_database()
