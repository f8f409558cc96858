"""wc's documented entry points, async: `await wc.aio.learn(...)`. `import wc` has the same names
as plain functions (`wc.learn(...)`), as httpx has AsyncClient and Client.

Each takes the store as `db` (a URL; default: `WC_DB`, else SQLite in the user data dir) and
the chat model as `model` (default: `WC_MODEL`); the LLM endpoint and key come from the
environment (`OPENAI_BASE_URL`, `OPENAI_API_KEY`), as for the command line.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the heavy modules load on first use: `import wc` stays light
    import networkx as nx

    from wc._agent.config import LearnConfig
    from wc._core.config import Settings
    from wc._report.report import ReportResult
    from wc._run.evaluate import EvalReport
    from wc._run.fit import FitResult
    from wc._store import CurriculumSummary, ProgramRecord, RunSummary, SweepSummary
    from wc._store import Store as _Store
    from wc.events import OnEvent

__all__ = ["Store", "curriculum", "evaluate", "fit", "learn", "lineage", "load_recording", "report", "resume", "sweep"]


def _settings(db: str | None, model: str | None, settings: Settings | None) -> Settings:
    from wc._core.config import Settings

    values: dict[str, Any] = {k: v for k, v in {"db": db, "model": model}.items() if v is not None}
    if settings is None:
        return Settings(**values)
    return settings.model_copy(update=values) if values else settings


def _config(env: str, env_options: dict[str, Any] | None, config: dict[str, Any]) -> LearnConfig:
    """A LearnConfig from keyword arguments; an unknown keyword is an InvalidInput naming it."""
    from wc._agent.config import LearnConfig
    from wc.errors import InvalidInput

    known = {f.name for f in dataclasses.fields(LearnConfig)} - {"env", "env_options"}
    unknown = sorted(set(config) - known)
    if unknown:
        raise InvalidInput(f"unknown setting {', '.join(unknown)}; settings are {', '.join(sorted(known))}")
    return LearnConfig(env=env, env_options=dict(env_options or {}), **config)


async def learn(env: str, *, replay: dict[str, Any] | None = None, db: str | None = None, model: str | None = None,
                env_options: dict[str, Any] | None = None, settings: Settings | None = None,
                on_event: OnEvent | None = None, **config: Any) -> RunSummary:
    """Learn a world model of `env` by acting and asking the LLM for code; the run's summary
    (with its episodes and LLM calls). `config` sets the run (`episodes=`, `max_llm_calls=`,
    `seed=`, `from_program=`, … as `wc._agent.config.LearnConfig`), `env_options` the environment
    (`{"games": "valid_seen"}`, `{"levels": "file.txt"}`). With `replay` (from `load_recording`),
    the recorded session is reproduced without an LLM, under its own configuration."""
    from wc._run.runner import learn as run

    return await run(_config(env, env_options, config), _settings(db, model, settings), on_event=on_event,
                     replay=replay)


async def fit(env: str, data: str, *, db: str | None = None, model: str | None = None,
              env_options: dict[str, Any] | None = None, settings: Settings | None = None,
              on_event: OnEvent | None = None, **config: Any) -> FitResult:
    """Fit a world model of `env` to recorded transitions alone (no environment step): `data` is a
    JSONL file in CWMB's form (.jsonl or .jsonl.gz), "cwmb" for CWMB's dataset of `env`, or
    "minari:DATASET_ID". `config` sets the fit (`max_llm_calls=`, `concurrency=`, `rtol=`,
    `atol=`, `describe="docs"`, … as `wc._run.fit.FitConfig`). The result holds the run's
    summary, the dataset as stored and whether the program fits every transition."""
    from wc._run.fit import FitConfig
    from wc._run.fit import fit as run
    from wc.errors import InvalidInput

    known = {f.name for f in dataclasses.fields(FitConfig)} - {"env", "data", "env_options", "agent"}
    unknown = sorted(set(config) - known)
    if unknown:
        raise InvalidInput(f"unknown setting {', '.join(unknown)}; settings are {', '.join(sorted(known))}")
    fit_config = FitConfig(env=env, data=str(data), env_options=dict(env_options or {}), **config)
    return await run(fit_config, _settings(db, model, settings), on_event=on_event)


async def resume(run_id: int, *, db: str | None = None, model: str | None = None, settings: Settings | None = None,
                 on_event: OnEvent | None = None) -> RunSummary:
    """Continue an interrupted run (a fit as a fit) from its last checkpoint; its summary."""
    from wc._run.fit import resume as run

    return await run(run_id, _settings(db, model, settings), on_event=on_event)


async def curriculum(envs: list[str] | str, *, db: str | None = None, model: str | None = None,
                     env_options: dict[str, Any] | None = None, settings: Settings | None = None,
                     on_event: OnEvent | None = None, replay: dict[str, Any] | None = None,
                     **config: Any) -> CurriculumSummary:
    """Learn environments in order (names, or a named curriculum), each run starting from the
    previous one's program; the curriculum's summary (its run ids). With `replay` (a curriculum's
    recording, from `load_recording`), its environments and configuration are used and every
    step is served its recorded answers (`envs` may then be empty)."""
    from wc._run.curriculum import expand, run

    names = expand(envs) or [""]
    return await run(names, _config(names[0], env_options, config), _settings(db, model, settings),
                     on_event=on_event, replay=replay)


async def evaluate(env: str, *, from_program: int | str, db: str | None = None, model: str | None = None,
                   episodes: int | None = None, max_llm_calls: int = 0, env_options: dict[str, Any] | None = None,
                   settings: Settings | None = None, on_event: OnEvent | None = None) -> EvalReport:
    """Play every game of the environment's split once (or `episodes` seeds or levels) from a
    learned program; the report by task type (`report.table()`), in the store as a run."""
    from wc._run.evaluate import evaluate as run

    return await run(env, _settings(db, model, settings), from_program=from_program, env_options=env_options,
                     episodes=episodes, max_llm_calls=max_llm_calls, on_event=on_event)


async def sweep(envs: list[str] | str, seeds: list[int] | str, *, engine: str = "local", parallel: int = 4,
                shard: str | None = None, address: str | None = None, db: str | None = None,
                model: str | None = None, env_options: dict[str, Any] | None = None,
                settings: Settings | None = None, replay: dict[str, Any] | None = None,
                on_event: OnEvent | None = None, **config: Any) -> SweepSummary:
    """Every (environment, seed) as a run of one sweep (seeds as a list or `"0-4"`): `engine`
    `"local"` (concurrent runs of this process, at most `parallel`) or `"ray"` (Ray tasks on the
    cluster at `address` or RAY_ADDRESS; the store must be PostgreSQL); `shard="i/n"` plays only
    cell k with k mod n == i. `config` sets every run as for `learn`. With `replay` (a sweep's
    recording), its environments, seeds and configuration are used (`envs` and `seeds` may be
    empty) and every cell is served its recorded answers. `on_event` is told as cells start and end
    (wc.events.CellStarted, CellEnded, …). The sweep's summary."""
    from wc._run.sweep import Shard, parse_seeds
    from wc._run.sweep import sweep as run

    names = [e.strip() for e in envs.split(",")] if isinstance(envs, str) else list(envs)
    chosen = [] if replay else parse_seeds(seeds) if isinstance(seeds, str) else [int(s) for s in seeds]
    return await run(names, chosen, _settings(db, model, settings),
                     config=_config(names[0] if names else "", env_options, config), engine=engine,
                     parallel=parallel, shard=Shard.parse(shard) if shard else None, address=address, replay=replay,
                     on_event=on_event)


async def lineage(program_id: int, *, db: str | None = None) -> nx.DiGraph:
    """A program's ancestors and descendants across runs and environments (edges parent -> child,
    nodes with origin, env, run, fit and score)."""
    async with Store(db) as store:
        return await store.lineage(program_id)


async def report(run_ids: list[int], out: str | Path, *, sweep_id: int | None = None, bench: bool = False,
                 db: str | None = None) -> ReportResult:
    """`wc report`: these runs' (and a sweep's runs') figures as PNGs in `out`, with an index.md;
    `bench`: also every stored `wc bench cwmb` run set beside CWMB's published rows. The result's
    figures keep the arrays they drew (`figure.get("LLM calls", label).x`)."""
    from wc._report.report import report as write_report

    return await write_report(list(run_ids), Path(out), sweep_id=sweep_id, bench=bench, db=db)


async def load_recording(ref: str, *, db: str | None = None) -> dict[str, Any]:
    """A recorded LLM session for `learn(replay=...)`: a shipped name (`minigrid-doorkey`), a file
    from `wc runs export-llm`, or a run id in the store."""
    from wc._run import recordings

    if str(ref).isdigit():
        async with Store(db) as store:
            return await recordings.load(str(ref), store._store)
    return await recordings.load(str(ref))


class Store:
    """What the knowledge store holds, for queries: `async with wc.aio.Store(db) as store:`.
    It never creates a store (a missing SQLite file is a StoreError), and it changes nothing."""

    def __init__(self, db: str | None = None) -> None:
        self.db = db
        self._opened: _Store | None = None

    @property
    def _store(self) -> _Store:
        if self._opened is None:
            raise RuntimeError("the store is not open: use `async with Store(db) as store:`")
        return self._opened

    @property
    def url(self) -> str:
        """The store's URL, its password masked."""
        from wc._core.secrets import redact

        return redact(self._store.url)

    async def open(self) -> Store:
        from wc._store import open_store

        if self._opened is None:
            self._opened = await open_store(self.db, create=False)
        return self

    async def close(self) -> None:
        if self._opened is not None:
            await self._opened.close()
            self._opened = None

    async def __aenter__(self) -> Store:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def runs(self) -> list[RunSummary]:
        """Every run with its counters (without per-episode lists)."""
        return await self._store.runs.summaries()

    async def run(self, run_id: int) -> RunSummary:
        """One run with its episodes and LLM calls."""
        return await self._store.runs.summary(run_id)

    async def programs(self, *, env: str | None = None, run_id: int | None = None) -> list[ProgramRecord]:
        return await self._store.programs.find(env=env, run_id=run_id)  # NotFound for an unknown run

    async def program(self, program_id: int) -> ProgramRecord:
        return await self._store.programs.get(program_id)

    async def lineage(self, program_id: int) -> nx.DiGraph:
        return await self._store.programs.lineage(program_id)

    async def curricula(self) -> list[CurriculumSummary]:
        return await self._store.curricula.all()

    async def sweeps(self) -> list[SweepSummary]:
        return await self._store.sweeps.all()

    async def sweep(self, sweep_id: int) -> SweepSummary:
        return await self._store.sweeps.get(sweep_id)

