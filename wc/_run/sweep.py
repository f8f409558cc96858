"""Sweeps: every (environment, seed) of a grid as a run of one sweep recorded in the store, played
concurrently by one process (`local`: asyncio, one store, one LLM connection and one limit on
requests in flight), as Ray tasks on a cluster (`ray`: the store must then be PostgreSQL, shared
by every node), or split between the processes of a job array (`shard`: cell k goes to shard
k mod n). Whatever stopped it, `resume_sweep` keeps the finished runs, resumes the interrupted
ones and starts the cells that never ran.

    summary = await sweep(["minigrid-doorkey", "minigrid-unlock"], [0, 1, 2], settings,
                          config=LearnConfig(env="minigrid-doorkey", episodes=10), parallel=4)
"""
from __future__ import annotations

import asyncio
import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wc._core.values import RunStatus
from wc._report.spread import EnvSpread, by_env
from wc.errors import InvalidInput, RunBusy, WcError
from wc.events import CellBusy, CellEnded, CellEvent, CellKept, CellStarted, OnEvent, SweepCells, SweepStarted

if TYPE_CHECKING:
    from wc._agent.config import LearnConfig
    from wc._core.config import Settings
    from wc._llm.base import ChatClient
    from wc._store import RunSummary, Store, SweepCell, SweepSummary
    from wc._store.reading import Reader

ENGINES = ("local", "ray")
DEFAULT_PARALLEL = 4

@dataclass(frozen=True)
class Shard:
    """Part `index` of `count` of a sweep: the cells k with k mod count == index (`--shard i/n`)."""

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
        if not match:
            raise InvalidInput(f"a shard is i/n, e.g. 0/4 for the first of four, not {text!r}")
        index, count = int(match[1]), int(match[2])
        if count < 1 or index >= count:
            raise InvalidInput(f"shard {text!r}: need 0 <= i < n")
        return cls(index, count)

    def holds(self, cell_index: int) -> bool:
        return cell_index % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_seeds(text: str) -> list[int]:
    """Seeds as `0-4`, `0,3,7` or `0-2,10`: in order, each once."""
    seeds: list[int] = []
    for part in (p.strip() for p in str(text).split(",")):
        match = re.fullmatch(r"(-?\d+)(?:\s*-\s*(-?\d+))?", part)
        if not match:
            raise InvalidInput(f"bad seeds {text!r}: give them as 0-4, 0,3,7 or 0-2,10")
        low, high = int(match[1]), int(match[2]) if match[2] is not None else int(match[1])
        if high < low:
            raise InvalidInput(f"bad seed range {part!r}: the end is below the start")
        seeds += [s for s in range(low, high + 1) if s not in seeds]
    if not seeds:
        raise InvalidInput("a sweep needs at least one seed")
    return seeds


@dataclass
class SweepView:
    """A sweep with its runs and the spread over seeds per environment (`wc sweep show`)."""

    sweep: SweepSummary
    runs: dict[int, RunSummary]

    @property
    def by_env(self) -> list[EnvSpread]:
        return by_env(self.sweep, self.runs)

    def run_of(self, cell: SweepCell) -> RunSummary | None:
        return self.runs.get(cell.run_id) if cell.run_id is not None else None

    def to_json(self) -> dict[str, Any]:
        """The Sweep object of docs/JSON.md with its details (`wc sweep show`)."""
        cells = []
        for c in self.sweep.cells:
            run = self.run_of(c)
            cells.append({"index": c.index, "env": c.env, "seed": c.seed, "run_id": c.run_id,
                          "status": run.status if run else "pending", "node": run.node if run else None,
                          "run": run.to_json(details=False) if run else None})
        return dict(self.sweep.to_json(), cells=cells, by_env=[e.to_json() for e in self.by_env])


# --------------------------------------------------------------------------- reading


async def _open(db: str | None, create: bool = False) -> Store:
    from wc._store import open_store

    return await open_store(db, create=create)


async def view(sweep_id: int, db: str | None = None) -> SweepView:
    """A sweep, its runs and its spread over seeds; NotFound for an unknown id."""
    store = await _open(db)
    try:
        return await store.db.reading(lambda r: view_of(r, sweep_id))
    finally:
        await store.close()


def view_of(reader: Reader, sweep_id: int, *, details: bool = True) -> SweepView:
    """A sweep and its runs from a store reader (wc._store.reading); `details` adds the runs'
    episodes and LLM calls, which the spread over seeds and `sweep show` draw on."""
    summary = reader.sweep(sweep_id)
    runs = reader.run_summaries(summary.run_ids, details=details)
    return SweepView(summary, {r.id: r for r in runs})


async def sweeps(db: str | None = None) -> list[SweepSummary]:
    store = await _open(db)
    try:
        return await store.sweeps.all()
    finally:
        await store.close()


# --------------------------------------------------------------------------- making and running


async def create_sweep(envs: list[str], seeds: list[int], config: LearnConfig, settings: Settings | None = None,
                       *, engine: str = "local", needs_llm: bool = False) -> int:
    """Record a sweep of every (environment, seed) without running it (for a job array, whose
    shards then run `resume_sweep(id, shard=…)`); its id. Unknown environments fail here; with
    `needs_llm` (it is about to be played here), so does a missing LLM key when runs may ask."""
    from wc import envs as registry
    from wc._core.config import Settings

    settings = settings or Settings()
    names = [e.strip() for e in envs if e and e.strip()]
    if not names:
        raise InvalidInput("a sweep needs at least one environment")
    if len(set(names)) != len(names):
        raise InvalidInput(f"an environment is named twice in {', '.join(names)}")
    if not seeds:
        raise InvalidInput("a sweep needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise InvalidInput(f"a seed is named twice in {', '.join(map(str, seeds))}")
    _check_engine(engine, settings)
    for name in names:  # unknown names and bad options fail before anything is recorded
        registry.make(name, **config.env_options).close()
    store = await _open(settings.db, create=True)
    try:
        from wc._run.runner import no_llm
        from wc._run.transfer import named

        await named(store, config.from_program)  # a program every run starts from must exist
        if needs_llm and config.max_llm_calls > 0 and settings.openai_api_key is None:
            raise no_llm(config.from_program)
        return await store.sweeps.create(names, list(seeds), config.to_json(), engine)
    finally:
        await store.close()


async def sweep(envs: list[str], seeds: list[int], settings: Settings | None = None, *,
                config: LearnConfig | None = None, engine: str = "local", parallel: int = DEFAULT_PARALLEL,
                shard: Shard | None = None, address: str | None = None,
                on_event: OnEvent | None = None, replay: dict[str, Any] | None = None) -> SweepSummary:
    """Run every (environment, seed) as a run of one new sweep; the sweep's summary. `config`
    sets every run (its env and seed are the cell's). With `replay` (a recording of a sweep), its
    environments, seeds and configuration are used and each cell's run is served its recorded
    answers, in this process: no LLM or API key is needed."""
    from wc._agent.config import LearnConfig
    from wc._core.config import Settings

    settings = settings or Settings()
    if replay is not None:
        from wc._run import recordings

        recordings.expect(replay, "sweep")
        if engine != "local" or shard is not None:
            raise InvalidInput("a recorded sweep is replayed by this process, whole: engine 'local', no shard")
        envs, seeds = [str(e) for e in replay["envs"]], [int(x) for x in replay["seeds"]]
        config = LearnConfig.from_json(replay["config"])
    config = config or LearnConfig(env=envs[0] if envs else "")
    if engine == "ray":  # an unreachable cluster records no sweep
        from wc._run.cluster import connect_ray

        _check_engine(engine, settings)
        connect_ray(address)
    sweep_id = await create_sweep(envs, seeds, config, settings, engine=engine, needs_llm=replay is None)
    if on_event:
        on_event(SweepStarted(sweep_id=sweep_id))
    return await resume_sweep(sweep_id, settings, engine=engine, parallel=parallel, shard=shard, address=address,
                              on_event=on_event, replay=replay)


async def resume_sweep(sweep_id: int, settings: Settings | None = None, *, engine: str | None = None,
                       parallel: int = DEFAULT_PARALLEL, shard: Shard | None = None, address: str | None = None,
                       on_event: OnEvent | None = None, replay: dict[str, Any] | None = None) -> SweepSummary:
    """Play what is left of a sweep (of this shard's cells): finished runs are kept, interrupted
    or failed ones resumed, cells without a run started; a cell a live process holds is left to
    it. The sweep's summary afterwards. `replay` (from `sweep`) serves each cell's recorded answers."""
    from wc._core.config import Settings

    settings = settings or Settings()
    emit: OnEvent = on_event or (lambda event: None)
    if parallel < 1:
        raise InvalidInput("--parallel must be at least 1")
    store = await _open(settings.db)
    try:
        view = await store.db.reading(lambda r: view_of(r, sweep_id, details=False))
    finally:
        await store.close()
    summary = view.sweep
    engine = engine or summary.engine
    _check_engine(engine, settings)
    config = _base_config(summary)
    part = shard or Shard()
    todo = []
    for cell in summary.cells:
        if not part.holds(cell.index):
            continue
        run = view.run_of(cell)
        if run is not None:
            if run.status == RunStatus.FINISHED:
                emit(_cell_event(CellKept, cell, run))
                continue
            if run.status == RunStatus.RUNNING:  # a live process plays it
                emit(_cell_event(CellBusy, cell, run))
                continue
        todo.append(cell)
    if todo and replay is None and config.max_llm_calls > 0 and settings.openai_api_key is None:
        from wc._run.runner import no_llm

        raise no_llm(config.from_program)
    if todo and engine == "ray":
        from wc._run.cluster import connect_ray, run_ray

        connect_ray(address)
    if todo:
        await _set_status(sweep_id, settings.db, RunStatus.RUNNING)
    emit(SweepCells(sweep_id=sweep_id, todo=len(todo), cells=len(summary.cells), shard=str(part), engine=engine))
    try:
        if engine == "ray":
            await run_ray(sweep_id, todo, settings, parallel=parallel, address=address, emit=emit)
        else:
            await _run_local(sweep_id, todo, settings, parallel=parallel, emit=emit, replay=replay)
    except BaseException:
        await asyncio.shield(_settle(sweep_id, settings.db, interrupted=True))
        raise
    return await _settle(sweep_id, settings.db, interrupted=False)


def _check_engine(engine: str, settings: Settings) -> None:
    if engine not in ENGINES:
        raise InvalidInput(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
    if engine == "ray":
        from wc._run.cluster import require_shared_store

        require_shared_store(settings, "sweep")


def _base_config(summary: SweepSummary) -> LearnConfig:
    from wc._agent.config import LearnConfig

    return LearnConfig.from_json(summary.config)


def _cell_event(kind: type[CellEvent], cell: SweepCell, run: RunSummary | None = None,
                error: str | None = None) -> CellEvent:
    """A cell's event of this kind, with its run's counters once it has a run."""
    if run is None:
        return kind(index=cell.index, env=cell.env, seed=cell.seed, run_id=cell.run_id, error=error)
    return kind(index=cell.index, env=cell.env, seed=cell.seed, run_id=run.id, error=error, status=run.status,
                episodes=run.episodes, successes=run.successes, env_steps=run.env_steps, llm_calls=run.llm_calls,
                node=run.node, failure=run.failure)


async def _set_status(sweep_id: int, db: str, status: str) -> None:
    store = await _open(db)
    try:
        await store.sweeps.set_status(sweep_id, status)
    finally:
        await store.close()


async def _settle(sweep_id: int, db: str, *, interrupted: bool) -> SweepSummary:
    """The sweep's status from its cells: finished when every cell's run finished; interrupted when
    this process stopped early; else running (other shards or processes still play)."""
    store = await _open(db)
    try:
        view = await store.db.reading(lambda r: view_of(r, sweep_id, details=False))
        statuses = [run.status if (run := view.run_of(c)) is not None else "pending" for c in view.sweep.cells]
        if all(s == RunStatus.FINISHED for s in statuses):
            status = RunStatus.FINISHED
        elif interrupted or not any(s == RunStatus.RUNNING for s in statuses):
            status = RunStatus.INTERRUPTED
        else:
            status = RunStatus.RUNNING
        await store.sweeps.set_status(sweep_id, status)
        return await store.sweeps.get(sweep_id)
    finally:
        await store.close()


# --------------------------------------------------------------------------- one cell


async def play_cell(sweep_id: int, index: int, settings: Settings, *, llm: ChatClient | None = None,
                    node: str | None = None) -> RunSummary:
    """Play one cell of a sweep to the end: start its run, or resume the one it has; a finished
    run is returned as it is. Any engine runs a cell through this."""
    from wc._run.runner import learn, resume

    store = await _open(settings.db)
    try:
        summary = await store.sweeps.get(sweep_id)
        if not 0 <= index < len(summary.cells):
            raise InvalidInput(f"sweep {sweep_id} has no cell {index}")
        cell = summary.cells[index]
        existing = await store.runs.summary(cell.run_id) if cell.run_id is not None else None
    finally:
        await store.close()
    if existing is not None and existing.status == RunStatus.FINISHED:
        return existing
    if existing is not None:
        return await resume(existing.id, settings, llm=llm, node=node)
    config = dataclasses.replace(_base_config(summary), env=cell.env, seed=cell.seed)
    return await learn(config, settings, llm=llm, sweep_id=sweep_id, sweep_index=index, node=node)


async def _run_local(sweep_id: int, cells: list[SweepCell], settings: Settings, *, parallel: int,
                     emit: OnEvent, replay: dict[str, Any] | None = None) -> None:
    """The cells as concurrent runs of this process, at most `parallel` at once, sharing one LLM
    connection and its limit of `WC_LLM_CONCURRENCY` requests in flight (or, replaying, each
    served its own recorded answers)."""
    from wc._run import recordings
    from wc._run.runner import make_llm, shared_connection

    key = settings.openai_api_key
    shared = shared_connection(settings) if key is not None and replay is None else None
    gate = asyncio.Semaphore(parallel)

    def client(cell: SweepCell) -> ChatClient | None:
        if replay is not None:
            recorded = recordings.part(replay, "cell", cell.index)
            if recorded is None:
                raise InvalidInput(f"the recording holds no run for {cell.env} seed {cell.seed}")
            return recordings.client(recorded)
        return make_llm(settings, shared=shared) if shared is not None else None

    async def one(cell: SweepCell) -> None:
        async with gate:
            emit(_cell_event(CellStarted, cell))
            try:
                run = await play_cell(sweep_id, cell.index, settings, llm=client(cell))
            except RunBusy as exc:
                emit(_cell_event(CellBusy, cell, error=str(exc)))
            except WcError as exc:  # the run is stored as failed or interrupted; the sweep goes on
                emit(_cell_event(CellEnded, cell, error=str(exc)))
            else:
                emit(_cell_event(CellEnded, cell, run, run.error))

    try:
        await asyncio.gather(*(one(c) for c in cells))
    finally:
        if shared is not None:
            await shared.close()
