"""Minari datasets (Farama's format for offline RL data) as wc transitions.

`minari` (the `minari` extra) reads a dataset from the local Minari root: `root` when given,
else `MINARI_DATASETS_PATH`, else `~/.minari/datasets`. wc never downloads one: a dataset that
is not there is an error naming the root and what it holds. Minari records `terminations` and
`truncations` apart, so they are taken as they are. The dataset's observation and action spaces
must have the shape of the environment's (the same kinds of space, sizes and number of
choices); every value is then checked as JSONL data is (`wc.datasets.source.Encoder`).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wc._store.records import DataTransition
from wc.datasets.source import DatasetSource, Encoder, Where, file_hash
from wc.errors import DatasetError

__all__ = ["minari_root", "read_minari", "space_mismatch"]


def minari_root(root: str | Path | None = None) -> Path:
    """Where Minari keeps local datasets (its own rule)."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("MINARI_DATASETS_PATH")
    return Path(env).expanduser() if env else Path.home() / ".minari" / "datasets"


def _import_minari() -> Any:
    try:
        import minari
    except ImportError:
        raise DatasetError("reading Minari datasets needs the minari package: pip install 'worldcoder[minari]'") \
            from None
    return minari


def read_minari(dataset_id: str, adapter: Any, *, root: str | Path | None = None) -> DatasetSource:
    """The local Minari dataset `dataset_id` (e.g. "mujoco/hopper/expert-v0") for the environment
    `adapter` plays; DatasetError when it is not in the local root, when its spaces differ from
    the environment's, or (when read) when it is empty or a value does not fit."""
    minari = _import_minari()
    base = minari_root(root)
    data_path = base / dataset_id / "data"
    if not data_path.is_dir():
        there = sorted(str(p.parent.relative_to(base)) for p in base.glob("**/data") if p.is_dir()) \
            if base.is_dir() else []
        raise DatasetError(f"no Minari dataset {dataset_id!r} in the local Minari root {base} "
                           f"({'it holds ' + ', '.join(there[:10]) if there else 'it holds none'}); wc does not "
                           "download datasets", path=str(data_path))
    try:
        dataset = minari.MinariDataset(str(data_path))
    except Exception as exc:  # noqa: BLE001 - minari raises many kinds for a broken dataset
        raise DatasetError(f"Minari cannot read dataset {dataset_id!r} at {data_path}: {type(exc).__name__}: "
                           f"{str(exc)[:300]}", path=str(data_path)) from None
    env = adapter.env
    for what, data_space, env_space in (("observation", dataset.spec.observation_space, env.observation_space),
                                        ("action", dataset.spec.action_space, env.action_space)):
        reason = space_mismatch(data_space, env_space)
        if reason:
            raise DatasetError(f"Minari dataset {dataset_id!r} does not match {adapter.env_id}: its {what} space "
                               f"{data_space} is not the environment's {env_space} ({reason})", path=str(data_path))
    spec = dataset.spec.env_spec
    files = sorted(p for p in data_path.rglob("*") if p.is_file())
    encoder = Encoder(adapter)
    return DatasetSource(
        format="minari", location=dataset_id, content_hash=file_hash(files), env_id=adapter.env_id,
        reader=lambda: _transitions(dataset, dataset_id, encoder), data_env_id=spec.id if spec is not None else None,
        meta={"root": str(base), "episodes": int(dataset.total_episodes), "steps": int(dataset.total_steps)})


def space_mismatch(data: Any, env: Any) -> str | None:
    """Why a dataset's space cannot hold the environment's values (None when it can): the kind of
    space, a Box's shape, a Discrete's number of choices and start, nested parts alike. Bounds and
    dtypes may differ (a dataset recorded in float64, or with wider bounds); each value is checked."""
    from gymnasium import spaces

    if type(data) is not type(env):
        return f"a {type(data).__name__} where the environment has a {type(env).__name__}"
    if isinstance(env, spaces.Discrete):
        if int(data.n) != int(env.n) or int(data.start) != int(env.start):
            return f"{int(data.n)} choices from {int(data.start)} where it has {int(env.n)} from {int(env.start)}"
        return None
    if isinstance(env, (spaces.Box, spaces.MultiBinary)):
        return None if tuple(data.shape) == tuple(env.shape) else f"shape {tuple(data.shape)}, not {tuple(env.shape)}"
    if isinstance(env, spaces.MultiDiscrete):
        return None if list(data.nvec) == list(env.nvec) else f"sizes {list(data.nvec)}, not {list(env.nvec)}"
    if isinstance(env, spaces.Tuple):
        if len(data.spaces) != len(env.spaces):
            return f"{len(data.spaces)} parts, not {len(env.spaces)}"
        for i, (d, e) in enumerate(zip(data.spaces, env.spaces, strict=True)):
            reason = space_mismatch(d, e)
            if reason:
                return f"part {i}: {reason}"
        return None
    if isinstance(env, spaces.Dict):
        if list(data.spaces) != list(env.spaces):
            return f"keys {list(data.spaces)}, not {list(env.spaces)}"
        for key in env.spaces:
            reason = space_mismatch(data.spaces[key], env.spaces[key])
            if reason:
                return f"{key!r}: {reason}"
        return None
    return None if data == env else "they differ"


def _at(values: Any, t: int) -> Any:
    """Step `t` of an episode's observations or actions (arrays, or dicts and tuples of them)."""
    if isinstance(values, dict):
        return {k: _at(v, t) for k, v in values.items()}
    if isinstance(values, tuple):
        return tuple(_at(v, t) for v in values)
    return values[t]


def _transitions(dataset: Any, dataset_id: str, encoder: Encoder) -> Iterator[DataTransition]:
    for index, episode in enumerate(dataset.iterate_episodes()):
        n = len(episode.rewards)
        step = 0

        def where() -> Where:
            return Where(f"Minari dataset {dataset_id!r} episode {episode.id} step {step}", dataset_id)  # noqa: B023

        state = encoder.state(_at(episode.observations, 0), where) if n else None
        for step in range(n):
            action = encoder.action(_at(episode.actions, step), where)
            next_state = encoder.state(_at(episode.observations, step + 1), where)
            reward = float(episode.rewards[step])
            if reward - reward != 0.0:
                raise encoder.error(where, f"reward {reward!r} is not a finite number")
            done, truncated = bool(episode.terminations[step]), bool(episode.truncations[step])
            assert state is not None
            yield DataTransition(state, action, next_state, reward, done, episode=index, step=step, truncated=truncated)
            state = next_state
