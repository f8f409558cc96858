"""Offline data as JSON lines, the form of CWMB's datasets: one transition per line,

    {"obs": [...], "action": 1, "reward": 1.0, "next_obs": [...], "done": false, "traj_start": 0}

`obs` and `next_obs` as gymnasium gives them (a number, a list, or a JSON object for a Dict
space), `action` an index, a name or a list of numbers, `traj_start` any value that stays the
same through an episode (CWMB's: the buffer index where its trajectory starts). A gzipped file
(`.gz`) is read as it is.

**Termination and truncation.** gymnasium separates an episode that ends by its own rules
(`terminated`, what a program predicts as `done`) from one stopped by a step limit
(`truncated`). CWMB's collector recorded `done = terminated or truncated`. A line may say
`terminated` and `truncated` itself, and then they are taken as given. Otherwise wc separates
them by a rule that reads neither the data's values nor any program: a `done` on the step at
which the environment's TimeLimit stops an episode (its `max_episode_steps`, counted from the
episode's first line) is a truncation; any other `done` a termination. In CWMB's data this is
exact: every `done` at the limit is a truncation (MountainCar's final positions are short of the
goal; Taxi's and Acrobot's final rewards are not their success rewards; Reacher and Pusher never
terminate), and no termination falls on the limit's step. An episode could also terminate on
exactly that step, which no such rule can tell from `done` alone: data where that matters must say
`terminated` and `truncated`. An episode that the data ends without `done` (CWMB's collector
stopped at 100 steps) ends truncated: the data stops there.
"""
from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from wc._store.records import DataTransition
from wc.datasets.source import DatasetSource, Encoder, Where, file_hash
from wc.errors import DatasetError

__all__ = ["read_jsonl", "step_limit"]

REQUIRED = ("obs", "action", "reward", "next_obs")
AUTO: Any = object()


def step_limit(adapter: Any) -> int | None:
    """The environment's own step limit (gymnasium's TimeLimit), or None where it has none."""
    from wc.envs.gym.adapter import time_limit

    limit = time_limit(adapter.env)
    if limit is None and getattr(adapter.env, "spec", None) is not None:
        limit = adapter.env.spec.max_episode_steps
    return int(limit) if limit else None


def read_jsonl(path: str | Path, adapter: Any, *, limit: int | None = AUTO) -> DatasetSource:
    """A JSONL dataset of the environment `adapter` plays (see the module docstring). `limit` is
    the step limit that separates truncation from termination (default: the environment's own;
    None: every `done` is a termination). A missing file is a DatasetError here; a malformed line
    (with its number), a value the environment's spaces cannot hold, or a file without any
    transition, when the transitions are read."""
    file = Path(path).expanduser()
    if not file.exists():
        raise DatasetError(f"no dataset file at {file}", path=str(file))
    if not file.is_file():
        raise DatasetError(f"{file} is not a file (a dataset is one JSONL file)", path=str(file))
    encoder = Encoder(adapter)
    steps = step_limit(adapter) if limit is AUTO else limit
    location = str(file.resolve())
    return DatasetSource(
        format="jsonl", location=location, content_hash=file_hash([file]), env_id=adapter.env_id,
        reader=lambda: _transitions(file, location, encoder, steps),
        meta={"step_limit": steps, "file": file.name})


def _open(file: Path) -> IO[str]:
    if file.suffix == ".gz":
        return gzip.open(file, "rt", encoding="utf-8")
    return open(file, encoding="utf-8")


def _transitions(file: Path, location: str, encoder: Encoder, limit: int | None) -> Iterator[DataTransition]:
    lineno = 0

    def where() -> Where:
        return Where(f"{location} line {lineno}", location, lineno)

    episode, step, key = -1, 0, AUTO
    pending: DataTransition | None = None    # the previous line, emitted once its episode's fate is known
    ended = True                             # the previous line ended its episode
    next_raw: Any = AUTO
    next_state: Any = None
    try:
        with _open(file) as f:
            for lineno, text in enumerate(f, 1):  # noqa: B007 - `where` reads it
                if not text.strip():
                    continue
                row = _row(text, where)
                started = ended or ("traj_start" in row and row["traj_start"] != key)
                key = row.get("traj_start", key)
                if started:
                    if pending is not None:
                        yield pending if pending.done or pending.truncated else _cut(pending)
                        pending = None
                    episode, step = episode + 1, 0
                elif pending is not None:
                    yield pending
                state = next_state if (not started and row["obs"] == next_raw) else encoder.state(row["obs"], where)
                action = encoder.action(row["action"], where)
                new_state = encoder.state(row["next_obs"], where)
                reward = row["reward"]
                if isinstance(reward, bool) or not isinstance(reward, (int, float)) or not math.isfinite(reward):
                    raise encoder.error(where, f"reward must be a finite number, not {reward!r}")
                done, truncated = _ending(row, step, limit, encoder, where)
                pending = DataTransition(state, action, new_state, float(reward), done, episode=episode, step=step,
                                         truncated=truncated)
                next_raw, next_state, ended = row["next_obs"], new_state, done or truncated
                step += 1
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {location}: {exc}", path=location) from None
    if pending is not None:
        yield pending if pending.done or pending.truncated else _cut(pending)


def _cut(t: DataTransition) -> DataTransition:
    """The last transition of an episode the data stops without `done`: truncated."""
    return replace(t, done=False, truncated=True)


def _row(text: str, where: Any) -> dict[str, Any]:
    try:
        row = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Encoder.error(where, f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(row, dict):
        raise Encoder.error(where, "each line must be a JSON object with obs, action, reward, next_obs and done")
    missing = [k for k in REQUIRED if k not in row]
    if "done" not in row and "terminated" not in row:
        missing.append("done")
    if missing:
        raise Encoder.error(where, f"the line has no {', '.join(missing)} (a line holds obs, action, reward, "
                                   "next_obs and done)")
    return row


def _flag(row: dict[str, Any], name: str, where: Any) -> bool:
    value = row.get(name, False)
    if not isinstance(value, bool) and value not in (0, 1):
        raise Encoder.error(where, f"{name} must be true or false, not {value!r}")
    return bool(value)


def _ending(row: dict[str, Any], step: int, limit: int | None, encoder: Encoder, where: Any) -> tuple[bool, bool]:
    """(done, truncated) of a line: as the line says them, or separated by the step limit."""
    if "terminated" in row or "truncated" in row:
        return _flag(row, "terminated", where), _flag(row, "truncated", where)
    done = _flag(row, "done", where)
    if done and limit is not None and step + 1 == limit:
        return False, True
    return done, False
