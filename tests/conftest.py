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
