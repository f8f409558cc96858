"""Recordings of LLM sessions: exported from the store, replayed without an LLM, and the
real-model sessions shipped with wc (the JSON files in this package).

A recording is of one of three kinds (its `kind`; recordings without one are runs):

* `run`: one run's answers and configuration (`learn(replay=…)`; a ReAct baseline run, whose
  configuration says `"agent": "react"`, is replayed by `react(replay=…)`);
* `curriculum`: a curriculum's environments and configuration, and the recording of each step's
  run in `runs` (each with its `index`);
* `sweep`: a sweep's environments, seeds and configuration, and the recording of each cell's run
  in `runs` (each with its `cell`).

Each run inside is served its own answers, so a replayed curriculum or sweep reproduces every run.
"""
from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

from wc._agent.config import LearnConfig
from wc._core.values import ANSWERED, CallStatus
from wc._llm.base import ChatClient
from wc._llm.replay import RECORDING_FORMAT, ReplayingChat, load_recording
from wc._store import Store
from wc._store.records import iso_utc
from wc.errors import InvalidInput, NotFound, RecordingMismatch


def shipped() -> list[str]:
    """The names of the recordings shipped with wc."""
    return sorted(p.name[:-5] for p in importlib.resources.files(__name__).iterdir() if p.name.endswith(".json"))


KINDS = ("run", "curriculum", "sweep")


def kind_of(recording: dict[str, Any]) -> str:
    return str(recording.get("kind") or "run")


def agent_of(recording: dict[str, Any]) -> str:
    """The agent a run recording is of: "worldcoder" or "react"."""
    config = recording.get("config")
    return str(config.get("agent", "worldcoder")) if isinstance(config, dict) else "worldcoder"


async def export(store: Store, run_id: int) -> dict[str, Any]:
    """A run's LLM answers with its configuration, as a recording; with the requests cancelled before
    their answer (no answer), which a replay counts as the run did."""
    summary = await store.runs.summary(run_id)
    calls = await store.calls.of_run(run_id)
    return {
        "format": RECORDING_FORMAT, "version": 1, "kind": "run", "run": run_id, "env": summary.env,
        "model": summary.model or "none",
        "config": summary.config, "recorded_at": iso_utc(summary.created_at),
        "result": {"status": summary.status, "episodes": summary.episodes, "successes": summary.successes,
                   "env_steps": summary.env_steps, "llm_calls": summary.llm_calls},
        "calls": [{"purpose": c.purpose, "sample": c.sample, "attempt": c.attempt, "status": c.status,
                   "request_hash": c.request_hash, "messages": c.messages, "answer": c.answer,
                   "prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens,
                   "latency_s": c.latency_s}
                  for c in calls if c.status in ANSWERED + (CallStatus.REPLAYED, CallStatus.CANCELLED)],
    }


def _group_result(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("episodes", "successes", "env_steps", "llm_calls")
    return {"runs": len(runs), "finished": sum(1 for r in runs if r["result"]["status"] == "finished"),
            **{k: sum(int(r["result"][k]) for r in runs) for k in keys}}


async def export_curriculum(store: Store, curriculum_id: int) -> dict[str, Any]:
    """A curriculum's environments and configuration, with the recording of each step's run."""
    group = await store.curricula.get(curriculum_id)
    latest: dict[int, int] = {}
    for run_id in group.run_ids:  # ordered by step, then id: the last run of a step is the one that counts
        summary = await store.runs.summary(run_id)
        if summary.curriculum_index is not None:
            latest[summary.curriculum_index] = run_id
    runs = [dict(await export(store, run_id), index=index) for index, run_id in sorted(latest.items())]
    return {"format": RECORDING_FORMAT, "version": 1, "kind": "curriculum", "curriculum": curriculum_id,
            "envs": list(group.envs), "config": group.config, "model": runs[0]["model"] if runs else "none",
            "recorded_at": iso_utc(group.created_at), "result": _group_result(runs), "runs": runs}


async def export_sweep(store: Store, sweep_id: int) -> dict[str, Any]:
    """A sweep's environments, seeds and configuration, with the recording of each cell's run."""
    summary = await store.sweeps.get(sweep_id)
    runs = [dict(await export(store, cell.run_id), cell=cell.index) for cell in summary.cells
            if cell.run_id is not None]
    return {"format": RECORDING_FORMAT, "version": 1, "kind": "sweep", "sweep": sweep_id, "envs": list(summary.envs),
            "seeds": list(summary.seeds), "config": summary.config, "model": runs[0]["model"] if runs else "none",
            "recorded_at": iso_utc(summary.created_at), "result": _group_result(runs), "runs": runs}


def _check_run(recording: dict[str, Any], ref: str) -> None:
    for key, kind in (("env", str), ("model", str), ("config", dict)):
        if not isinstance(recording.get(key), kind):
            raise InvalidInput(f"cannot read recording {ref!r}: its {key!r} is missing or not a {kind.__name__}")
    try:
        LearnConfig.from_json(recording["config"])
    except InvalidInput as exc:
        raise InvalidInput(f"cannot use recording {ref!r}: {exc}") from None
    load_recording(recording)  # its calls


def _check(recording: dict[str, Any], ref: str) -> None:
    """A recording's header and, for a group, every run inside it; InvalidInput naming what is wrong."""
    kind = kind_of(recording)
    if kind not in KINDS:
        raise InvalidInput(f"cannot read recording {ref!r}: unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
    if kind == "run":
        _check_run(recording, ref)
        return
    for key, expected in (("envs", list), ("config", dict), ("runs", list)) + ((("seeds", list),)
                                                                                if kind == "sweep" else ()):
        if not isinstance(recording.get(key), expected):
            raise InvalidInput(f"cannot read recording {ref!r}: its {key!r} is missing or not a "
                               f"{expected.__name__}")
    slot = "cell" if kind == "sweep" else "index"
    for i, run in enumerate(recording["runs"]):
        if not isinstance(run, dict) or not isinstance(run.get(slot), int):
            raise InvalidInput(f"cannot read recording {ref!r}: run {i} names no {slot}")
        _check_run(run, f"{ref}, run {i}")


def expect(recording: dict[str, Any], kind: str, agent: str = "worldcoder") -> None:
    """Refuse a recording of another kind (a sweep given to learn, …), naming what it is."""
    found, by = kind_of(recording), agent_of(recording) if kind_of(recording) == "run" else "worldcoder"
    if (found, by) != (kind, agent):
        what = "a ReAct baseline run" if (found, by) == ("run", "react") else f"a {found}"
        wanted = "a ReAct baseline run" if (kind, agent) == ("run", "react") else f"a {kind}"
        raise RecordingMismatch(f"the recording is of {what}, not of {wanted}", recording_kind=found, agent=by)


def part(recording: dict[str, Any], slot: str, number: int) -> dict[str, Any] | None:
    """The recording of a group's run at `slot` (`index` of a curriculum, `cell` of a sweep)."""
    return next((r for r in recording["runs"] if r.get(slot) == number), None)


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
        recording = json.loads(text)
        if not isinstance(recording, dict) or recording.get("format") != RECORDING_FORMAT:
            found = recording.get("format") if isinstance(recording, dict) else None
            raise ValueError(f"not a wc LLM recording (format is {found!r})")
        _check(recording, ref)
    except InvalidInput:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"cannot read recording {ref!r}: {exc}") from None
    return recording


def client(recording: dict[str, Any]) -> ChatClient:
    """Serves a recording's answers, in order, for the same requests; any other request is a
    clear error (the run diverged)."""
    _, answers = load_recording(recording)
    return ReplayingChat(None, answers, model=recording["model"], record_hits=True)
