"""A run's episodes and transitions as two tables for pandas (or any dataframe tool): CSV with
the standard library, Parquet with pyarrow (the `parquet` extra).

    wc runs export 3 --format parquet --out data/
    pandas.read_parquet("data/run-3-transitions.parquet")

Transitions carry their episode's index (`episode`), so the two tables join on (`run_id`,
`episode`); states are JSON text (`json.loads` gives the stored entity lists back), as the store
holds them. The columns are listed in docs/JSON.md ("Exported tables").
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wc._store import open_store
from wc._store.records import iso_utc, stored_action
from wc.errors import InvalidInput

FORMATS = ("csv", "parquet")

# column -> pyarrow type name; the order is the files' column order
EPISODE_COLUMNS: dict[str, str] = {
    "run_id": "int64", "episode": "int64", "seed": "int64", "mission": "string", "steps": "int64",
    "total_reward": "float64", "success": "bool", "finished": "bool", "plans": "int64", "plans_undecided": "int64",
    "plan_seconds": "float64", "started_at": "string", "finished_at": "string",
}
TRANSITION_COLUMNS: dict[str, str] = {
    "run_id": "int64", "episode": "int64", "step": "int64", "action": "string", "reward": "float64",
    "done": "bool", "truncated": "bool", "mission": "string", "state": "string", "next_state": "string",
    "state_hash": "string", "next_state_hash": "string", "transition_id": "int64",
}


@dataclass(frozen=True)
class ExportedRun:
    """What `export_run` wrote."""

    run_id: int
    format: str
    episodes: Path
    transitions: Path
    n_episodes: int
    n_transitions: int


async def run_tables(run_id: int, db: str | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of a run's two tables (episodes, transitions), as `export_run` writes them."""
    store = await open_store(db, create=False)
    try:
        summary = await store.runs.summary(run_id)  # NotFound for an unknown run
        index_of = {e.id: e.index for e in await store.runs.episodes(run_id)}
        transitions = await store.runs.transitions(run_id)
    finally:
        await store.close()
    episodes = [{"run_id": run_id, "episode": e.index, "seed": e.seed, "mission": e.mission, "steps": e.steps,
                 "total_reward": e.total_reward, "success": e.success, "finished": e.finished, "plans": e.plans,
                 "plans_undecided": e.plans_undecided, "plan_seconds": e.plan_seconds,
                 "started_at": iso_utc(e.started_at), "finished_at": iso_utc(e.finished_at)}
                for e in summary.episode_list]
    rows = [{"run_id": run_id, "episode": index_of[t.episode_id], "step": t.step,
             "action": stored_action(t.action),
             "reward": t.reward, "done": t.done, "truncated": t.truncated, "mission": t.mission,
             "state": json.dumps(t.state), "next_state": json.dumps(t.next_state), "state_hash": t.state_hash,
             "next_state_hash": t.next_state_hash, "transition_id": t.id} for t in transitions]
    return episodes, rows


async def export_run(run_id: int, out_dir: str | Path = ".", fmt: str = "csv", db: str | None = None) -> ExportedRun:
    """Write `run-ID-episodes.EXT` and `run-ID-transitions.EXT` into `out_dir` (made if missing)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; use {' or '.join(FORMATS)}")
    if fmt == "parquet":
        _pyarrow()  # before reading the store: a missing extra is said at once
    episodes, transitions = await run_tables(run_id, db)
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot write to {folder}: {exc.strerror}") from None
    paths = folder / f"run-{run_id}-episodes.{fmt}", folder / f"run-{run_id}-transitions.{fmt}"
    write = _write_csv if fmt == "csv" else _write_parquet
    for path, rows, columns in zip(paths, (episodes, transitions), (EPISODE_COLUMNS, TRANSITION_COLUMNS),
                                   strict=True):
        try:
            write(path, rows, columns)
        except OSError as exc:
            raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    return ExportedRun(run_id, fmt, paths[0], paths[1], len(episodes), len(transitions))


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)


def _write_parquet(path: Path, rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    pa, pq = _pyarrow()
    schema = pa.schema([(name, getattr(pa, "bool_" if kind == "bool" else kind)()) for name, kind in columns.items()])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InvalidInput("Parquet needs pyarrow: pip install 'worldcoder[parquet]' (or use --format csv)") from None
    return pa, pq
