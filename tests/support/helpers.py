"""Small helpers shared by the tests."""
from __future__ import annotations

import os
import random
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from wc._core.config import Settings

ROOT = Path(__file__).resolve().parents[2]


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


def child_env(env: dict | None = None) -> dict:
    """This process's environment without wc's and openai's variables, plus `env`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("WC_", "OPENAI_"))}, **(env or {})}


def run_wc(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m wc ARGS` as a user runs it, in a clean environment plus `env`."""
    return subprocess.run([sys.executable, "-m", "wc", *args], capture_output=True, text=True, timeout=timeout,
                          env=child_env(env))


def record_transitions(adapter, n: int, seed: int = 0) -> list[tuple]:
    """`n` transitions of random play, as (state, action, next_state, reward, done, mission)."""
    rng = random.Random(seed)
    out = []
    episode = 0
    while len(out) < n:
        state, mission = adapter.reset(seed + episode)
        episode += 1
        for _ in range(50):
            action = rng.choice(adapter.actions)
            step = adapter.step(action)
            out.append((state, action, step.state, step.reward, step.terminated, mission))
            state = step.state
            if step.terminated or step.truncated or len(out) >= n:
                break
    return out


def schemas() -> dict[str, tuple[set[str], set[str]]]:
    """docs/JSON.md's objects: name -> (keys always present, keys of the detailed form only)."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    name = None
    for line in (ROOT / "docs" / "JSON.md").read_text().splitlines():
        if line.startswith("## "):
            name = line[3:].strip()
            out[name] = (set(), set())
        elif name and (row := re.match(r"\| `(\w+)` \| [^|]+ \|(.*)\|$", line)):
            detail = "only" in row.group(2) and ("details only" in row.group(2) or "show` only" in row.group(2))
            out[name][1 if detail else 0].add(row.group(1))
    return out


def keys_of(name: str, *, details: bool = False) -> set[str]:
    """The keys docs/JSON.md documents for an object (with its detailed form's, `details`)."""
    always, detailed = schemas()[name]
    return always | detailed if details else always
