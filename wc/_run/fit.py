"""`wc fit`: a world-model program synthesised and refined from recorded transitions alone.

The dataset (a JSONL file in CWMB's form, CWMB's own shipped data, or a local Minari dataset) is
imported into the store (or found there) and the run records it (`runs.dataset_id`), so a
program's lineage says where its data came from. Every distinct transition goes into the sandbox
at once, and REx (`wc._synth.refine`) runs offline: a candidate is done when φ1 holds within the
tolerance (CWMB's rtol = atol = 1e-5 by default); there is no φ2 and no environment step. Programs,
scores, LLM calls and lineage are stored as for `wc learn`, so `wc learn --from-program` continues
online and `wc eval` plays the program.

A fit interrupted half-way is resumed (`wc resume`) from the programs it stored: they are checked
again on the data, and REx goes on from them with the calls left.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from wc import envs
from wc._agent.config import fit_budget
from wc._agent.recorder import StoreRecorder
from wc._core.config import Settings
from wc._core.tolerance import Tolerance
from wc._core.values import RunStatus, Transition
from wc._llm.base import ChatClient, NoLLM
from wc._run.resume import fit_of
from wc._run.runner import Ending, check_price, client_for, machine, outcome, owner, run_to_end, stated_params
from wc._sandbox.param_fit import FitBudget
from wc._sandbox.sandbox import Sandbox, SandboxLimits
from wc._store import DatasetRecord, RunSummary, Store, open_store
from wc._synth.prompts import PromptContext
from wc._synth.refine import CallBudget, Candidate, Refiner
from wc.envs.gym.docs import DESCRIBE, description
from wc.errors import InvalidInput, UnknownEnvironment
from wc.events import DatasetReady, OnEvent, RefineEnded, RefineStarted, SandboxReady

__all__ = ["FitConfig", "FitResult", "fit", "open_data", "resume_fit"]

AGENT = "fit"  # a fit run's configuration says so: `wc resume` continues it as a fit


@dataclass
class FitConfig:
    """What decides a fit; stored with its run (`"agent": "fit"`)."""

    env: str
    data: str                          # a JSONL file (.jsonl, .jsonl.gz), "cwmb", or "minari:DATASET_ID"
    env_options: dict[str, Any] = field(default_factory=dict)
    max_llm_calls: int = 10
    max_cost_usd: float | None = None
    concurrency: int = 4
    seed: int = 0
    c: float = 5.0                     # REx exploration constant
    max_shown: int = 12                # transitions shown when writing from scratch
    rtol: float = 1e-5                 # how near a predicted number must be (CWMB's allclose)
    atol: float = 1e-5
    describe: str = "data"             # "docs": the environment's documentation in the prompt too
    workers: int = 2
    call_timeout: float = 2.0
    # a program's PARAMS fitted to the data before φ1 judges it (as LearnConfig's)
    fit_params: bool = True
    fit_seconds: float = 10.0
    fit_transitions: int = 500
    agent: str = AGENT

    def __post_init__(self) -> None:
        if self.describe not in DESCRIBE:
            raise InvalidInput(f"unknown --describe {self.describe!r}; use {' or '.join(DESCRIBE)}")
        if self.rtol < 0 or self.atol < 0:
            raise InvalidInput("--rtol and --atol cannot be negative")
        self.fit_budget  # noqa: B018 - a bad fit budget is an InvalidInput at once

    @property
    def fit_budget(self) -> FitBudget | None:
        return fit_budget(self.fit_params, self.fit_seconds, self.fit_transitions)

    @property
    def tolerance(self) -> Tolerance:
        return Tolerance(rtol=self.rtol, atol=self.atol)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FitConfig:
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        if "fit_params" not in data:  # stored before PARAMS were fitted: nothing was, and prompts did not say so
            values["fit_params"] = False
        return cls(**values)


@dataclass
class FitResult:
    """A fit's run (its summary, as `wc learn` gives one), the dataset it learned from, and how
    well its program fits: `fits` when φ1 holds on every transition."""

    run: RunSummary
    dataset: DatasetRecord
    program_id: int | None
    fits: bool
    explained: int
    transitions: int   # distinct transitions the program was held to

    @property
    def status(self) -> str:
        return self.run.status

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run.to_json(), "dataset": self.dataset.to_json(), "program_id": self.program_id,
                "fits": self.fits, "explained": self.explained, "transitions": self.transitions}


# --------------------------------------------------------------------------- the data


def make_env(name: str, options: dict[str, Any]) -> Any:
    """The adapter of `name`: CWMB's ids (Taxi-v3, CliffWalking-v0) are made by the ids that make
    them now, any other name as `wc learn` makes it."""
    from wc.datasets import cwmb

    try:
        cwmb.env(name)
    except UnknownEnvironment:
        return envs.make(name, **options)
    return cwmb.make(name, **options)


def fit_adapter(config: FitConfig) -> Any:
    """The environment's adapter, its API module the one the fit's prompts use: without fitting
    PARAMS (and for a fit stored before them), the version that does not state the convention."""
    adapter = make_env(config.env, config.env_options)
    stated_params(adapter, config.fit_params)
    return adapter


def open_data(config: FitConfig) -> tuple[Any, Any]:
    """The environment's adapter and the dataset read for it (nothing is read yet: bad data is a
    DatasetError when it is imported)."""
    from wc.datasets import cwmb, read_jsonl, read_minari

    adapter = fit_adapter(config)
    try:
        if config.data == "cwmb":
            return adapter, cwmb.dataset(config.env, adapter)
        if config.data.startswith("minari:"):
            return adapter, read_minari(config.data.removeprefix("minari:"), adapter)
        return adapter, read_jsonl(config.data, adapter)
    except BaseException:
        adapter.close()
        raise


def data_transitions(rows: list[Any], mission: str) -> list[Transition]:
    """A dataset's transitions as the sandbox holds them, with the dataset's mission."""
    return [Transition(t.state, t.action, t.next_state, t.reward, t.done, mission) for t in rows]


# --------------------------------------------------------------------------- a fit


async def fit(config: FitConfig, settings: Settings | None = None, *, llm: ChatClient | None = None,
              on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None,
              node: str | None = None) -> FitResult:
    """Fit a program to a dataset, recording the run, its dataset, programs and calls in the store
    (`node`: the machine it runs on, a Ray node id; default this host)."""
    from wc._sandbox import jail as jails
    from wc.datasets import import_dataset

    settings = settings or Settings()
    emit: OnEvent = on_event or (lambda event: None)
    jails.select(settings.sandbox)
    adapter, source = open_data(config)
    store: Store | None = None
    client: ChatClient | None = None
    try:
        text = description(adapter, config.describe)  # an environment without documentation: said first
        store = await open_store(settings.db)
        before = len(await store.datasets.all())
        record = await import_dataset(store, adapter, source)
        emit(DatasetReady(dataset_id=record.id, name=record.name, transitions=record.n_transitions,
                          episodes=record.n_episodes, imported=len(await store.datasets.all()) > before))
        client = client_for(llm, settings, config.max_llm_calls)
        check_price(client, config.max_cost_usd)
        environment_id = await envs.record_environment(store, adapter)
        holder = owner()
        run_id = await store.runs.create(environment_id, config=config.to_json(), seed=config.seed,
                                         model=None if isinstance(client, NoLLM) else client.model, owner=holder,
                                         node=node or machine(), dataset_id=record.id)
        if on_start:
            on_start(run_id)
        return await _execute(store, run_id, config, adapter, record, client, holder=holder, emit=emit,
                              sandbox_policy=settings.sandbox, description_text=text)
    finally:
        adapter.close()
        close = getattr(client, "close", None) if llm is None else None  # a client given is the caller's
        if close is not None:
            await close()
        if store is not None:
            await store.close()


async def _execute(store: Store, run_id: int, config: FitConfig, adapter: Any, record: DatasetRecord,
                   llm: ChatClient, *, holder: str, emit: OnEvent, sandbox_policy: str,
                   description_text: str | None, resumed: bool = False) -> FitResult:
    """Refine offline for a run that exists in the store, and end it as runner's runs end
    (`runner.run_to_end`: finished, failed in one line, interrupted) with everything up to that
    point stored."""
    best: Candidate | None = None
    distinct = 0
    limits = SandboxLimits(call_timeout=config.call_timeout, jail=sandbox_policy)

    async def refine(llm: ChatClient, budget: CallBudget) -> Ending:
        nonlocal best, distinct
        async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=config.workers,
                           limits=limits, action_source=adapter.action_source,
                           tolerance=config.tolerance) as sandbox:
            emit(SandboxReady(jail=sandbox.jail.describe(), active=sandbox.jail.active))
            for t in data_transitions(await store.datasets.transitions(record.id), record.mission):
                sandbox.add(t)
            distinct = len(sandbox.transitions)

            async def work() -> str:
                nonlocal best
                best = await _refine(store, run_id, config, adapter, llm, sandbox, budget, emit, description_text,
                                     resumed)
                return RunStatus.FINISHED
            status, error, failure = await outcome(work(), run_id)
        return Ending(status, best.program_id if best else None, error, failure)

    summary = await run_to_end(store, run_id, llm, max_llm_calls=config.max_llm_calls,
                               max_cost_usd=config.max_cost_usd, holder=holder, emit=emit, continued=resumed,
                               work=refine)
    return FitResult(summary, record, best.program_id if best else None, bool(best and best.evaluation.fits),
                     best.evaluation.explained if best else 0, distinct)


async def _refine(store: Store, run_id: int, config: FitConfig, adapter: Any, llm: ChatClient, sandbox: Sandbox,
                  budget: CallBudget, emit: OnEvent, description_text: str | None, resumed: bool) -> Candidate | None:
    """REx offline: from scratch, or (a resumed fit) from the programs the run stored."""
    environment_id = await envs.record_environment(store, adapter)
    api_module_id = await store.environments.ensure_api_module(adapter.api)
    recorder = StoreRecorder(store, run_id, environment_id, api_module_id, emit)
    ctx = PromptContext(adapter.api.source, adapter.reward_mode, adapter.render_state, tolerance=config.tolerance,
                        description=description_text)
    refiner = Refiner(llm=llm, sandbox=sandbox, ctx=ctx, recorder=recorder, budget=budget,
                      concurrency=config.concurrency, c=config.c, seed=config.seed, max_shown=config.max_shown,
                      offline=True, fit_budget=config.fit_budget)
    stored = []
    if resumed:
        for program in await store.programs.find(run_id=run_id):
            stored.append(await refiner.assess(program.id, program.source, [], fit_of(program.fitted)))
    fitting = [c for c in stored if c.solved]
    if fitting:  # interrupted after a program that fits was stored
        found = max(fitting, key=lambda c: (c.score, -c.program_id))
        emit(RefineEnded(solved=True, calls=0, program_id=found.program_id, fit=found.evaluation.fit))
        return found
    emit(RefineStarted(reason="data", transitions=len(sandbox.transitions), calls_left=budget.remaining))
    result = await refiner.refine(None, [], others=stored)
    best = result.best
    emit(RefineEnded(solved=result.solved, calls=result.calls, program_id=best.program_id if best else None,
                     fit=best.evaluation.fit if best else None))
    return best


async def resume_fit(run_id: int, settings: Settings | None = None, *, llm: ChatClient | None = None,
                     on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None,
                     node: str | None = None) -> FitResult:
    """Continue an interrupted fit from the programs it stored, with the calls it has left."""
    from wc._sandbox import jail as jails

    settings = settings or Settings()
    emit: OnEvent = on_event or (lambda event: None)
    jails.select(settings.sandbox)
    store = await open_store(settings.db, create=False)
    adapter = None
    client: ChatClient | None = None
    try:
        row = await store.runs.get(run_id)
        store.runs.check_claimable(row)
        config = FitConfig.from_json(row.config)
        if row.dataset_id is None:
            raise InvalidInput(f"run {run_id} is a fit whose dataset is no longer in the store; fit again")
        record = await store.datasets.get(row.dataset_id)
        adapter = fit_adapter(config)
        text = description(adapter, config.describe)
        spent = config.max_llm_calls - await store.calls.count(run_id) <= 0
        client = (NoLLM(row.model or "none") if llm is None and spent
                  else client_for(llm, settings, config.max_llm_calls))
        check_price(client, config.max_cost_usd)
        holder = owner()
        await store.runs.claim(run_id, holder, node or machine())
        if on_start:
            on_start(run_id)
        return await _execute(store, run_id, config, adapter, record, client, holder=holder, emit=emit,
                              sandbox_policy=settings.sandbox, description_text=text, resumed=True)
    finally:
        if adapter is not None:
            adapter.close()
        if llm is None and client is not None:
            close = getattr(client, "close", None)
            if close is not None:
                await close()
        await store.close()


async def resume(run_id: int, settings: Settings | None = None, *, llm: ChatClient | None = None,
                 on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None) -> RunSummary:
    """`wc resume`: a fit continues as a fit (its run's summary), any other run as `wc learn`'s."""
    from wc._run import runner

    settings = settings or Settings()
    store = await open_store(settings.db, create=False)
    try:
        agent = ((await store.runs.get(run_id)).config or {}).get("agent")
    finally:
        await store.close()
    if agent == AGENT:
        return (await resume_fit(run_id, settings, llm=llm, on_event=on_event, on_start=on_start)).run
    return await runner.resume(run_id, settings, llm=llm, on_event=on_event, on_start=on_start)
