"""Shared fixtures: session-scoped servers (PostgreSQL, the local LLM), function-scoped stores."""
from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from wc._store import Store
from wc.testing import FakeLLMServer

warnings.filterwarnings("ignore", category=UserWarning)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def minigrid_model() -> str:
    return (FIXTURES / "minigrid_model.py").read_text()


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'wc.db'}"


@pytest.fixture(scope="session")
def postgres() -> Iterator:
    """One real PostgreSQL server per test process (each xdist worker starts its own)."""
    from support.pg import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    """The same test against SQLite and against a real PostgreSQL server (a fresh database each)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'wc.db'}"
    return request.getfixturevalue("postgres").new_database()


@pytest_asyncio.fixture
async def store(store_url) -> AsyncIterator[Store]:
    """An open store on a fresh database, closed after the test."""
    opened = await Store.open(store_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def llm_server() -> AsyncIterator[FakeLLMServer]:
    """One local OpenAI-compatible server for the whole session; each test gives it its own script."""
    async with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_llm(llm_server) -> Iterator[Callable]:
    """`server = fake_llm(script)`: the session's LLM server, answering this test with `script`."""
    yield llm_server.serve
    llm_server.serve(None)
