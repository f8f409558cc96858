"""Running the agent for a run that exists in the store: the sandbox, the refiner, the
heartbeat, the transferred programs, and how the run ends (finished, failed in one line,
interrupted) with everything up to that point stored."""
from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from wc import envs
from wc._agent import returns
from wc._agent.agent import Agent
from wc._agent.config import LearnConfig
from wc._agent.episode import ResumePoint
from wc._agent.recorder import StoreRecorder
from wc._core.config import Settings
from wc._core.tolerance import CWMB, Tolerance
from wc._core.values import LLMCall, RunStatus
from wc._llm.base import ChatClient, NoLLM
from wc._llm.costs import cost_usd
from wc._sandbox.sandbox import Sandbox, SandboxLimits
from wc._store import ProgramRecord, RunSummary, Store, open_store
from wc._synth.prompts import PromptContext
from wc._synth.refine import CallBudget, Refiner
from wc.envs.base import EnvAdapter
from wc.errors import ConfigError, InvalidInput, LLMFatalError, ReplayMiss, WcError
from wc.events import BudgetStopped, LLMCalled, OnEvent, ProgramTransferred, ReplayServed, SandboxReady

if TYPE_CHECKING:
    from wc._llm.shared import SharedConnection

HEARTBEAT_SECONDS = 5.0

# called after the agent is built and before it acts: puts a resumed run's state back
Restore = Callable[[Agent, Sandbox, Refiner], Awaitable[None]]


def make_llm(settings: Settings, model: str | None = None, *, shared: SharedConnection | None = None) -> ChatClient:
    """The OpenAI-compatible client the settings describe (a ConfigError without a key); with
    `shared`, it sends through that connection and its limit on requests in flight."""
    from wc._llm.openai_backend import OpenAIChat

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return OpenAIChat(model=model or settings.model, api_key=key, base_url=settings.openai_base_url,
                      timeout=settings.llm_timeout, retries=settings.llm_retries,
                      concurrency=settings.llm_concurrency, temperature=settings.temperature,
                      max_failures=settings.llm_max_failures, shared=shared)


def no_llm(from_program: int | str | None = None) -> ConfigError:
    """The error of a run that may send requests and has no LLM configured; `from_program` lets the
    command line add that such a run can play without one (a call budget of 0)."""
    return ConfigError("no LLM is configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a non-OpenAI server "
                       "such as vLLM or Ollama)", missing="llm", from_program=from_program)


def client_for(llm: ChatClient | None, settings: Settings, max_llm_calls: int,
               from_program: int | str | None = None) -> ChatClient:
    """The client a new run asks: the one given, none (NoLLM) when it may send no request, so
    no key is needed and no model is recorded, else one made from the settings; no_llm() when
    requests may be sent and no key is configured."""
    if llm is None and max_llm_calls == 0:
        return NoLLM()
    if llm is None and settings.openai_api_key is None:
        raise no_llm(from_program)
    return llm or make_llm(settings)


def check_price(llm: ChatClient, max_cost_usd: float | None) -> None:
    """A cost limit is kept by pricing every request before it is sent: a model without a known
    price cannot be held to one (ConfigError, before the run is recorded). A client that sends
    nothing (NoLLM) needs none."""
    if max_cost_usd is not None and not isinstance(llm, NoLLM) and cost_usd(llm.model, 1000, 1000) is None:
        raise ConfigError(f"a cost limit needs a price for {llm.model!r}: add it to WC_PRICES, e.g. "
                          f'{{"{llm.model}": [2.5, 10.0]}} (dollars per million prompt and completion tokens)')


def shared_connection(settings: Settings) -> SharedConnection:
    """One HTTP client and one limit of `WC_LLM_CONCURRENCY` requests in flight, for many runs."""
    from wc._llm.shared import SharedConnection

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return SharedConnection(api_key=key, base_url=settings.openai_base_url, timeout=settings.llm_timeout,
                            concurrency=settings.llm_concurrency)


def owner() -> str:
    """Who holds a run: this process, as host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def machine() -> str:
    """Where a run is played when no cluster names the node: this host."""
    return socket.gethostname()


# the run's wall time and LLM wait so far, in seconds
Clock = Callable[[], tuple[float, float]]


class Heartbeat:
    """Tells other processes that this one still holds the run, and keeps its wall and LLM-wait
    time up to date: a run killed without a chance to finish (SIGKILL, power loss) keeps the time
    it ran, to within a beat."""

    def __init__(self, store: Store, run_id: int, holder: str, clock: Clock | None = None) -> None:
        self.store, self.run_id, self.holder, self.clock = store, run_id, holder, clock
        self.task: asyncio.Task | None = None

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):  # a missed beat is not worth stopping a run for
                wall, wait = self.clock() if self.clock is not None else (None, None)
                await self.store.runs.heartbeat(self.run_id, self.holder, wall_seconds=wall, llm_wait_seconds=wait)

    def __enter__(self) -> Heartbeat:
        self.task = asyncio.create_task(self._beat())
        return self

    def __exit__(self, *exc) -> None:
        if self.task is not None:
            self.task.cancel()


def internal_error(exc: BaseException, run_id: int) -> str:
    """A one-line account of an unexpected exception, with where it happened (for a bug report)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/wc/" in f.filename.replace("\\", "/")]
    where = ""
    if frames:
        f = frames[-1]
        where = f" at wc/{f.filename.replace(chr(92), '/').rsplit('/wc/', 1)[-1]}:{f.lineno} in {f.name}"
    return (f"internal error in wc ({type(exc).__name__}: {exc}{where}); everything up to it is stored "
            f"and run {run_id} can be resumed")


class CallAccount:
    """What a run's LLM client reports to: every request recorded in the store and counted against
    the run's budget, and told to the caller; asked before each attempt whether it may be sent."""

    def __init__(self, store: Store, run_id: int, budget: CallBudget, emit: OnEvent) -> None:
        self.store, self.run_id, self.budget, self.emit = store, run_id, budget, emit

    async def on_call(self, call: LLMCall) -> None:
        call.meta["id"] = await self.store.calls.add(self.run_id, call)
        self.budget.used += 1
        self.budget.spent_usd += call.cost_usd or 0.0
        self.emit(LLMCalled(status=call.status, latency=call.latency_s, purpose=call.purpose,
                            tokens=call.prompt_tokens + call.completion_tokens))

    def may_send(self, estimate: float | None) -> bool:
        """Retries count against --max-llm-calls; no request may take the cost past --max-cost."""
        allowed = self.budget.allows(estimate)
        if not allowed and self.budget.stopped:
            self.emit(BudgetStopped(reason=self.budget.stopped))
        return allowed


@dataclass
class Ending:
    """How the work of a run ended when nothing interrupted it: its status, its best program, and
    the error and kind of failure (`llm`, `replay`, `internal`) that ended it, if one did."""

    status: str
    best_program_id: int | None = None
    error: str | None = None
    failure: str | None = None


# the work of a run (the agent's episodes, a fit's refinement), given the run's LLM client (counted
# against its budget) and that budget
Work = Callable[[ChatClient, CallBudget], Awaitable[Ending]]


async def run_to_end(store: Store, run_id: int, llm: ChatClient, *, max_llm_calls: int, max_cost_usd: float | None,
                     holder: str, emit: OnEvent, continued: bool, work: Work) -> RunSummary:
    """Do a run's work with its budget (the calls and cost it already spent counted), its heartbeat
    and its clock (a continued run's time added to what it had), and end it in the store: as the
    work ended, or interrupted (Ctrl-C, cancellation) or failed by anything it raised, with
    everything up to that point stored. Every kind of run (learn, fit) ends through here."""
    started = time.monotonic()
    before = await store.runs.get(run_id)
    previous, previous_wait = (before.wall_seconds, before.llm_wait_seconds) if continued else (0.0, 0.0)
    budget = CallBudget(max_llm_calls, used=await store.calls.count(run_id), max_usd=max_cost_usd,
                        spent_usd=sum(c.cost_usd or 0.0 for c in await store.calls.of_run(run_id)))
    account = CallAccount(store, run_id, budget, emit)
    llm = llm.with_hooks(on_call=account.on_call, may_send=account.may_send)

    def clock() -> tuple[float, float]:
        return previous + time.monotonic() - started, previous_wait + llm.wait.seconds

    try:
        with Heartbeat(store, run_id, holder, clock):
            ending = await work(llm, budget)
    except BaseException as exc:
        interrupted = isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError))
        wall, wait = clock()
        await asyncio.shield(store.runs.finish(
            run_id, status=RunStatus.INTERRUPTED if interrupted else RunStatus.FAILED, best_program_id=None,
            wall_seconds=wall, llm_wait_seconds=wait,
            error="interrupted" if interrupted else f"{type(exc).__name__}: {exc}"))
        raise
    wall, wait = clock()
    await store.runs.finish(run_id, status=ending.status, best_program_id=ending.best_program_id, wall_seconds=wall,
                            llm_wait_seconds=wait, error=ending.error)
    summary = await store.runs.summary(run_id)
    summary.error, summary.failure = ending.error, ending.failure
    return summary


async def outcome(work: Awaitable[str], run_id: int) -> tuple[str, str | None, str | None]:
    """The status `work` ends with, or the error and kind of failure that ended it: an LLM that
    failed for good (`llm`; a replay that diverged, `replay`, is not the LLM's fault) or a failure
    wc did not foresee (`internal`, in one line with where it happened). wc's other errors are
    raised."""
    try:
        return await work, None, None
    except LLMFatalError as exc:
        return RunStatus.FAILED, str(exc), "replay" if isinstance(exc, ReplayMiss) else "llm"
    except WcError:
        raise
    except Exception as exc:  # noqa: BLE001 - a failure wc did not foresee: one line, run kept
        return RunStatus.FAILED, internal_error(exc, run_id), "internal"


async def execute(store: Store, run_id: int, config: LearnConfig, adapter: EnvAdapter, llm: ChatClient, *,
                  holder: str, emit: OnEvent, sandbox_policy: str, resume_point: ResumePoint | None = None,
                  restore: Restore | None = None, transfer: list[ProgramRecord] | None = None) -> RunSummary:
    """Run (or continue) the agent for a run that exists in the store."""
    limits = SandboxLimits(call_timeout=config.call_timeout, plan=config.plan_budget, jail=sandbox_policy)

    async def play(llm: ChatClient, budget: CallBudget) -> Ending:
        agent: Agent | None = None
        async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=config.workers,
                           limits=limits, action_source=adapter.action_source,
                           tolerance=_tolerance(config, adapter)) as sandbox:
            emit(SandboxReady(jail=sandbox.jail.describe(), active=sandbox.jail.active))
            agent = await _build_agent(store, run_id, config, adapter, llm, sandbox, budget, emit, transfer)
            if restore is not None:
                await restore(agent, sandbox, agent.refiner)
            status, error, failure = await outcome(_status(agent, resume_point), run_id)
        best = agent.current.program_id if agent.current else None
        return Ending(status, best, error, failure)

    return await run_to_end(store, run_id, llm, max_llm_calls=config.max_llm_calls, max_cost_usd=config.max_cost_usd,
                            holder=holder, emit=emit, continued=resume_point is not None, work=play)


async def _build_agent(store: Store, run_id: int, config: LearnConfig, adapter: EnvAdapter, llm: ChatClient,
                       sandbox: Sandbox, budget: CallBudget, emit: OnEvent,
                       transfer: list[ProgramRecord] | None) -> Agent:
    """The agent with its refiner and recorder, and the programs transferred from other runs
    (stored as this run's, checked on no data yet; the first is adopted)."""
    environment_id = await envs.record_environment(store, adapter)
    api_module_id = await store.environments.ensure_api_module(adapter.api)
    recorder = StoreRecorder(store, run_id, environment_id, api_module_id, emit)
    ctx = PromptContext(adapter.api.source, adapter.reward_mode, adapter.render_state,
                        tolerance=_tolerance(config, adapter))
    from wc.envs.gym.docs import (
        description,  # here: the gym package imports gymnasium, which reading commands never need
    )

    ctx = replace(ctx, description=description(adapter, config.describe))  # --describe docs: the env's documentation
    refiner = Refiner(llm=llm, sandbox=sandbox, ctx=ctx, recorder=recorder, budget=budget,
                      concurrency=config.concurrency, c=config.c, seed=config.seed, max_shown=config.max_shown,
                      fit_budget=config.fit_budget)
    transferred = []
    for source in transfer or ():
        pid = await recorder.program(source.source, "transfer", [source.id], None)
        transferred.append(await refiner.assess(pid, source.source, []))
        emit(ProgramTransferred(from_program=source.id, program_id=pid, env=source.environment))
    agent = Agent(config=config, adapter=adapter, store=store, sandbox=sandbox, refiner=refiner, recorder=recorder,
                  budget=budget, run_id=run_id, transferred=transferred, on_event=emit)
    if transferred:
        await agent.adopt(transferred[0])
    return agent


def _tolerance(config: LearnConfig, adapter: EnvAdapter) -> Tolerance | None:
    """The run's tolerance where numbers are judged by value, else None (exact and sign modes)."""
    return config.tolerance if adapter.reward_mode == "value" else None


def prepare(config: LearnConfig, adapter: EnvAdapter) -> LearnConfig:
    """The configuration with the planner the domain chooses (or the one named, if it fits),
    and the adapter set to judge within the run's tolerance."""
    config = returns.resolve_planner(config, adapter)
    if config.reward_threshold is not None:
        if returns.action_space(adapter) is None or not hasattr(adapter, "set_reward_threshold"):
            raise InvalidInput(f"--reward-threshold applies to worlds scored by their return; {config.env} is a goal "
                               f"world (an episode succeeds when it reaches its goal)")
        adapter.set_reward_threshold(config.reward_threshold)
    if adapter.reward_mode == "value" and hasattr(adapter, "set_tolerance"):
        adapter.set_tolerance(config.tolerance)
    elif config.tolerance != CWMB:
        raise InvalidInput(f"--rtol and --atol apply to worlds whose numbers are judged by value; {config.env}'s "
                           f"rewards are judged {adapter.reward_mode!r}")
    stated_params(adapter, config.fit_params)
    return config


def stated_params(adapter: EnvAdapter, fit_params: bool) -> None:
    """Without fitting PARAMS (and for a run or fit stored before them), the API module that does
    not state the convention: the one its prompts were asked with."""
    if not fit_params and hasattr(adapter, "set_version"):
        adapter.set_version(2)


async def _status(agent: Agent, resume_point: ResumePoint | None) -> str:
    return (await agent.run(resume_point)).status


# --------------------------------------------------------------------------- learn and resume


async def learn(config: LearnConfig, settings: Settings | None = None, *, llm: ChatClient | None = None,
                on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None,
                curriculum_id: int | None = None, curriculum_index: int | None = None,
                sweep_id: int | None = None, sweep_index: int | None = None,
                replay: dict | None = None, node: str | None = None) -> RunSummary:
    """Run the WorldCoder agent on an environment, recording everything in the store.

    With `replay` (a recording), the recording's configuration is used and its answers are served
    instead of asking an LLM: the run reproduces the recorded one exactly, without an API key.
    `node` names the machine it runs on (a Ray node id; default: the host name)."""
    from wc._run import recordings, transfer
    from wc._sandbox import jail as jails

    settings = settings or Settings()
    emit: OnEvent = on_event or (lambda event: None)
    if replay is not None:
        recordings.expect(replay, "run")
        if config.env != replay["env"]:
            raise InvalidInput(f"the recording is of {replay['env']!r}, not {config.env!r}")
        config = LearnConfig.from_json(replay["config"])
        llm = recordings.client(replay)
    jails.select(settings.sandbox)  # a strict policy without a jail fails before anything is recorded
    adapter = envs.make(config.env, **config.env_options)
    store = None
    try:
        config = prepare(config, adapter)
        # what the user gave comes first (the environment above, the store, the programs named),
        # then the LLM, and a key only when a request may be sent
        store = await open_store(settings.db)
        sources = await transfer.sources(store, config.from_program, adapter)
        llm = client_for(llm, settings, config.max_llm_calls, config.from_program)
        if replay is None:  # a replay pays for nothing
            check_price(llm, config.max_cost_usd)
        environment_id = await envs.record_environment(store, adapter)
        holder = owner()
        model = None if isinstance(llm, NoLLM) else llm.model  # a run allowed no call asked no model
        run_id = await store.runs.create(environment_id, config=config.to_json(), seed=config.seed, model=model,
                                         owner=holder, curriculum_id=curriculum_id, curriculum_index=curriculum_index,
                                         sweep_id=sweep_id, sweep_index=sweep_index, node=node or machine())
        if on_start:
            on_start(run_id)
        if config.from_program is not None and not sources:
            emit(ProgramTransferred(from_program=None, program_id=None, env=None))
        return await execute(store, run_id, config, adapter, llm, holder=holder, emit=emit, transfer=sources,
                             sandbox_policy=settings.sandbox)
    finally:
        adapter.close()
        close = getattr(llm, "close", None)
        if close is not None:
            await close()
        if store is not None:
            await store.close()


async def resume(run_id: int, settings: Settings | None = None, *, llm: ChatClient | None = None,
                 on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None,
                 node: str | None = None) -> RunSummary:
    """Continue an interrupted run from what the store holds (on `node`, default this host).
    Answers already recorded for the same request and sample are served from the store, never
    paid for twice."""
    from wc._llm.replay import ReplayingChat
    from wc._run.resume import restore_agent, resume_point
    from wc._sandbox import jail as jails

    settings = settings or Settings()
    emit: OnEvent = on_event or (lambda event: None)
    jails.select(settings.sandbox)
    store = await open_store(settings.db, create=False)  # the run must be in it: never a new store
    adapter = None
    inner: ChatClient | None = None
    try:
        row = await store.runs.get(run_id)
        if (row.config or {}).get("agent") == "react":
            raise InvalidInput(f"run {run_id} is a ReAct baseline run; only WorldCoder runs can be resumed")
        store.runs.check_claimable(row)  # finished, or held: said before asking for a key
        config = LearnConfig.from_json(row.config)
        adapter = envs.make(config.env, **config.env_options)
        config = prepare(config, adapter)
        if llm is None and config.max_llm_calls - await store.calls.count(run_id) <= 0:
            llm = NoLLM(row.model or "none")  # no request may be sent: no key needed
        if llm is None and settings.openai_api_key is None:
            raise no_llm()
        inner = llm or make_llm(settings, model=row.model)
        check_price(inner, config.max_cost_usd)
        llm_client = ReplayingChat(inner, await store.calls.recorded_answers(run_id), model=row.model)
        holder = owner()
        await store.runs.claim(run_id, holder, node or machine())
        if on_start:
            on_start(run_id)
        point = await resume_point(store, run_id)

        async def restore(agent: Agent, sandbox: Sandbox, refiner: Refiner) -> None:
            await restore_agent(store, run_id, agent, sandbox, refiner, point)
        summary = await execute(store, run_id, config, adapter, llm_client, holder=holder, emit=emit,
                                resume_point=point, restore=restore, sandbox_policy=settings.sandbox)
        emit(ReplayServed(hits=llm_client.hits, misses=llm_client.misses))
        return summary
    finally:
        if adapter is not None:
            adapter.close()
        if llm is None and inner is not None:
            close = getattr(inner, "close", None)
            if close is not None:
                await close()
        await store.close()
