"""Small helpers shared by the tests."""
from __future__ import annotations

import sqlite3

from wc.config import Settings


def llm_settings(server, db_url: str) -> Settings:
    """Settings pointing wc at a local scripted LLM server and a store."""
    return Settings(db=db_url, openai_api_key="sk-test", openai_base_url=server.base_url, model="test-model")


def sqlite_rows(db_url: str, sql: str) -> list[tuple]:
    """Rows of a query on a SQLite store, read directly (not through wc)."""
    con = sqlite3.connect(db_url.split("///", 1)[1])
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def replaced(text: str, old: str, new: str, count: int = -1) -> str:
    """`text.replace(old, new)` that fails when `old` is not there: a test that changes a program
    by string replacement must not silently test the unchanged program."""
    assert old in text, f"the text to replace is not there: {old!r}"
    out = text.replace(old, new, count)
    assert out != text
    return out
