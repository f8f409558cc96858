"""The Code World Models Benchmark's environments and datasets (CWMB; Dainese et al., NeurIPS
2024, code at nicoladainese96/code-world-models).

**Where the data lives.** CWMB's 16 shipped datasets (its Humanoid buffers are missing from the
repository) ship inside wc as package data (`wc/datasets/cwmb_data/`, gzipped JSON lines, 1.6 MB,
with CWMB's Apache-2.0 licence and a note of what was changed). The benchmark must run from a
clean install, the data is small and fixed (CWMB's own release, never edited), and a folder
the user must fetch first is a step that fails on machines without the network. A user with
other buffers (Humanoid's, or data of their own collected the same way) points `data_dir` (or
`WC_CWMB_DATA`) at a folder of `<CWMB id>.jsonl[.gz]` files, which is searched first.

**Environments.** The data was collected with gymnasium 0.29.1 and MuJoCo 2.3. gymnasium 1.x
renamed Taxi-v3 to Taxi-v4 and CliffWalking-v0 to CliffWalking-v1 (same dynamics and spaces);
MuJoCo's v4 environments are used where they still run, else v5 (Pusher-v4 refuses MuJoCo >= 3;
Pusher-v5 has its observation layout). docs/RESULTS.md measures how far the live environments
reproduce the data.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from wc.datasets.jsonl import read_jsonl
from wc.datasets.source import DatasetSource
from wc.errors import DatasetError, UnknownEnvironment

__all__ = ["ENVS", "PUBLISHED", "CwmbEnv", "data_dir", "data_file", "dataset", "env", "make"]

PACKAGED = Path(__file__).parent / "cwmb_data"


@dataclass(frozen=True)
class CwmbEnv:
    """One of CWMB's 18 environments."""

    name: str                                  # CWMB's gymnasium id, the name of its data file
    env_ids: tuple[str, ...]                   # gymnasium ids that make it now, tried in order
    planner: Literal["mcts-cwmb", "cem-cwmb"]  # CWMB's planner for its actions
    family: Literal["toy-text", "classic-control", "mujoco"]

    @property
    def discrete(self) -> bool:
        """CWMB's "discrete" group (MCTS): the first six environments."""
        return self.planner == "mcts-cwmb"

    @property
    def exact(self) -> bool:
        """States matched exactly by CWMB (its discrete state spaces); the rest within allclose."""
        return self.family == "toy-text"


def _mujoco(name: str) -> CwmbEnv:
    return CwmbEnv(name, (name, name.replace("-v4", "-v5")), "cem-cwmb", "mujoco")


ENVS: tuple[CwmbEnv, ...] = (
    CwmbEnv("Blackjack-v1", ("Blackjack-v1",), "mcts-cwmb", "toy-text"),
    CwmbEnv("CliffWalking-v0", ("CliffWalking-v1",), "mcts-cwmb", "toy-text"),
    CwmbEnv("Taxi-v3", ("Taxi-v4",), "mcts-cwmb", "toy-text"),
    CwmbEnv("CartPole-v1", ("CartPole-v1",), "mcts-cwmb", "classic-control"),
    CwmbEnv("MountainCar-v0", ("MountainCar-v0",), "mcts-cwmb", "classic-control"),
    CwmbEnv("Acrobot-v1", ("Acrobot-v1",), "mcts-cwmb", "classic-control"),
    CwmbEnv("Pendulum-v1", ("Pendulum-v1",), "cem-cwmb", "classic-control"),
    *(_mujoco(n) for n in ("Reacher-v4", "Pusher-v4", "InvertedPendulum-v4", "InvertedDoublePendulum-v4",
                           "HalfCheetah-v4", "Hopper-v4", "Swimmer-v4", "Walker2d-v4", "Ant-v4", "Humanoid-v4",
                           "HumanoidStandup-v4")),
)

# the published means (accuracy / normalized return) that wc's table stands beside
PUBLISHED: tuple[dict[str, Any], ...] = (
    {"method": "GIF-MCTS, GPT-4-Turbo", "llm_calls": 10, "discrete": (0.91, 0.81), "continuous": (0.40, 0.26)},
    {"method": "WorldCoder (their re-implementation), GPT-4-Turbo", "llm_calls": 10, "discrete": (0.87, 0.79),
     "continuous": (0.24, 0.20)},
    {"method": "GIF-MCTS, Llama-3-70B", "llm_calls": 50, "discrete": (0.84, 0.76), "continuous": (0.35, 0.22)},
)


def env(name: str) -> CwmbEnv:
    """A CWMB environment by CWMB's id or by one of the ids that make it now (Taxi-v3, Taxi-v4)."""
    for e in ENVS:
        if name == e.name or name in e.env_ids:
            return e
    raise UnknownEnvironment(f"{name!r} is not one of CWMB's environments ({', '.join(e.name for e in ENVS)})",
                             name=name)


def data_dir(directory: str | Path | None = None) -> list[Path]:
    """The folders searched for a dataset, in order: `directory`, `WC_CWMB_DATA`, wc's own copy."""
    out = [Path(d).expanduser() for d in (directory, os.environ.get("WC_CWMB_DATA")) if d]
    return out + [PACKAGED]


def data_file(name: str, directory: str | Path | None = None) -> Path:
    """The dataset file of a CWMB environment; DatasetError when no searched folder has it."""
    e = env(name)
    folders = data_dir(directory)
    for folder in folders:
        for suffix in (".jsonl", ".jsonl.gz"):
            path = folder / f"{e.name}{suffix}"
            if path.is_file():
                return path
    searched = ", ".join(str(f) for f in folders)
    missing = " (CWMB's repository does not ship its buffers)" if e.name.startswith("Humanoid") else ""
    raise DatasetError(f"no dataset for {e.name}{missing}: looked for {e.name}.jsonl[.gz] in {searched}",
                       path=str(folders[0] / f"{e.name}.jsonl"))


def make(name: str, **options: Any) -> Any:
    """The environment's adapter, made from the first of its gymnasium ids that runs here."""
    from wc import envs

    e = env(name)
    reasons = []
    for env_id in e.env_ids:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return envs.make(env_id, **options)
        except UnknownEnvironment as exc:
            reasons.append(str(exc))
    hint = " (pip install 'worldcoder[mujoco]')" if e.family == "mujoco" else ""
    raise UnknownEnvironment(f"cannot make {e.name} here{hint}: " + "; ".join(reasons), name=e.name)


def dataset(name: str, adapter: Any, directory: str | Path | None = None) -> DatasetSource:
    """The CWMB dataset of an environment, read for `adapter` (from `make(name)`)."""
    return replace(read_jsonl(data_file(name, directory), adapter), data_env_id=env(name).name)
