"""Mean and spread over the seeds of a sweep, per environment: what `wc sweep show`, `wc runs
compare --sweep` and `wc report --sweep` print. Pure: store values in, values out."""
from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any

from wc._core.values import RunStatus
from wc._store.records import RunSummary, SweepSummary


@dataclass(frozen=True)
class Spread:
    """One quantity over the seeds run: mean, population standard deviation, range and count."""

    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            return cls(None, None, None, None, 0)
        return cls(statistics.fmean(values), statistics.pstdev(values), min(values), max(values), len(values))

    def text(self, digits: int = 1) -> str:
        """`mean ± std`, or `-` when no seed has a value."""
        if self.mean is None or self.std is None:
            return "-"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EnvSpread:
    """An environment of a sweep over its seeds (runs that have started; finished ones counted)."""

    env: str
    seeds: int           # seeds the sweep plans for it
    runs: int            # of which have a run
    finished: int        # of which finished
    successes: Spread    # episodes won per run
    success_rate: Spread  # won / played per run
    episodes: Spread
    env_steps: Spread
    steps_to_first_success: Spread  # over the runs that won at least once
    llm_calls: Spread
    tokens: Spread
    wall_seconds: Spread

    def to_json(self) -> dict[str, Any]:
        """The Sweep environment object of docs/JSON.md."""
        return {k: (v.to_json() if isinstance(v, Spread) else v) for k, v in self.__dict__.items()}


def by_env(sweep: SweepSummary, runs: dict[int, RunSummary]) -> list[EnvSpread]:
    """Per environment of the sweep, in its order: each quantity's mean and spread over seeds."""
    out = []
    for env in sweep.envs:
        members = [runs[c.run_id] for c in sweep.cells if c.env == env and c.run_id is not None and c.run_id in runs]
        out.append(EnvSpread(
            env=env, seeds=len(sweep.seeds), runs=len(members),
            finished=sum(1 for r in members if r.status == RunStatus.FINISHED),
            successes=Spread.of([float(r.successes) for r in members]),
            success_rate=Spread.of([r.successes / r.episodes for r in members if r.episodes]),
            episodes=Spread.of([float(r.episodes) for r in members]),
            env_steps=Spread.of([float(r.env_steps) for r in members]),
            steps_to_first_success=Spread.of([float(r.steps_to_first_success) for r in members
                                              if r.steps_to_first_success is not None]),
            llm_calls=Spread.of([float(r.llm_calls) for r in members]),
            tokens=Spread.of([float(r.prompt_tokens + r.completion_tokens) for r in members]),
            wall_seconds=Spread.of([r.wall_seconds for r in members])))
    return out
