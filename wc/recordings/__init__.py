"""Recordings of LLM sessions: exported from a run, replayed by `learn(replay=...)`, and the
real-model sessions shipped with wc (the JSON files in this package)."""
from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

from wc.agent import LearnConfig
from wc.errors import InvalidInput, NotFound
from wc.llm.base import ChatClient
from wc.llm.replay import RECORDING_FORMAT, ReplayingChat, load_recording
from wc.store import Store
from wc.store.records import iso_utc
from wc.values import ANSWERED, CallStatus


def shipped() -> list[str]:
    """The names of the recordings shipped with wc."""
    return sorted(p.name[:-5] for p in importlib.resources.files(__name__).iterdir() if p.name.endswith(".json"))


async def export(store: Store, run_id: int) -> dict[str, Any]:
    """A run's LLM answers with its configuration, as a recording."""
    summary = await store.runs.summary(run_id)
    calls = await store.calls.of_run(run_id)
    return {
        "format": RECORDING_FORMAT, "version": 1, "run": run_id, "env": summary.env, "model": summary.model or "none",
        "config": summary.config, "recorded_at": iso_utc(summary.created_at),
        "result": {"status": summary.status, "episodes": summary.episodes, "successes": summary.successes,
                   "env_steps": summary.env_steps, "llm_calls": summary.llm_calls},
        "calls": [{"purpose": c.purpose, "sample": c.sample, "attempt": c.attempt, "status": c.status,
                   "request_hash": c.request_hash, "messages": c.messages, "answer": c.answer,
                   "prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens,
                   "latency_s": c.latency_s}
                  for c in calls if c.status in ANSWERED + (CallStatus.REPLAYED,)],
    }


async def load(ref: str, store: Store | None = None) -> dict[str, Any]:
    """A recording: a run id in the store, a file written by `export`, or a shipped name."""
    if ref.isdigit():
        if store is None:
            raise InvalidInput(f"recording {ref!r} is a run id, and no store is open")
        return await export(store, int(ref))
    path = Path(ref).expanduser()
    if path.exists():
        text = path.read_text()
    else:
        resource = importlib.resources.files(__name__).joinpath(f"{ref}.json")
        if not resource.is_file():
            raise NotFound(f"no recording {ref!r}: give a run id, a recording file, or a shipped recording "
                           f"({', '.join(shipped()) or 'none'})", kind="recording", id=ref)
        text = resource.read_text()
    try:
        recording = load_recording(json.loads(text))[0]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"cannot read recording {ref!r}: {exc}") from None
    for key, kind in (("env", str), ("model", str), ("config", dict)):
        if not isinstance(recording.get(key), kind):
            raise InvalidInput(f"cannot read recording {ref!r}: its {key!r} is missing or not a {kind.__name__}")
    try:
        LearnConfig.from_json(recording["config"])
    except InvalidInput as exc:
        raise InvalidInput(f"cannot use recording {ref!r}: {exc}") from None
    return recording


def client(recording: dict[str, Any]) -> ChatClient:
    """Serves a recording's answers, in order, for the same requests; any other request is a
    clear error (the run diverged)."""
    _, answers = load_recording(recording)
    return ReplayingChat(None, answers, model=recording["model"], record_hits=True)
