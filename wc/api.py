"""The public façade: learn, resume, curricula, and what the store knows. Everything the CLI does
goes through here."""
from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import socket
import time
from dataclasses import replace
from typing import Any, Callable

import networkx as nx

from wc import envs
from wc.agent import Agent, LearnConfig, OnEvent, OpenEpisode, ResumePoint, StoreRecorder
from wc.config import Settings
from wc.values import RunStatus
from wc.errors import InvalidInput, LLMFatalError, NotFound, WcError
from wc.llm.base import ChatClient
from wc.values import LLMCall
from wc.llm.replay import ReplayingChat
from wc.planning import PLANNERS
from wc.programs import jail as jails
from wc.programs.sandbox import Sandbox, SandboxLimits
from wc.store import CurriculumSummary, ProgramRecord, RunSummary, Store
from wc.synth.prompts import PromptContext
from wc.synth.refine import CallBudget, Refiner

__all__ = ["LearnConfig", "Settings", "learn", "resume", "curriculum", "resume_curriculum", "run_summary",
           "list_runs", "program", "programs", "lineage", "api_module_source", "doctor", "CURRICULA"]

HEARTBEAT_SECONDS = 5.0

CURRICULA: dict[str, list[str]] = {
    # the paper's MiniGrid curriculum
    "minigrid": ["minigrid-empty", "minigrid-doorkey", "minigrid-unlock", "minigrid-fetch",
                 "minigrid-unlockpickup", "minigrid-blockedunlockpickup"],
}


def make_llm(settings: Settings, model: str | None = None) -> ChatClient:
    from wc.llm.openai_backend import OpenAIChat

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return OpenAIChat(model=model or settings.model, api_key=key, base_url=settings.openai_base_url,
                      timeout=settings.llm_timeout, retries=settings.llm_retries,
                      concurrency=settings.llm_concurrency, temperature=settings.temperature)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t and t not in {"v0", "minigrid", "wc"}}


def similarity(a: tuple[str, str], b: tuple[str, str]) -> float:
    """How alike two environments are by name: Jaccard overlap of the words in their names and ids."""
    ta, tb = _tokens(" ".join(a)), _tokens(" ".join(b))
    return len(ta & tb) / len(ta | tb) if ta | tb else 0.0


async def _transfer_sources(store: Store, config: LearnConfig, adapter) -> list[ProgramRecord]:
    if config.from_program is None:
        return []
    if str(config.from_program).lower() == "auto":
        found = await store.transfer_candidates(adapter.api.name, adapter.name)
        found.sort(key=lambda item: (similarity((item[0], item[1]), (adapter.name, adapter.env_id)),
                                     item[2].score or 0.0), reverse=True)
        return [program for _, _, program in found[:3]]
    try:
        program_id = int(config.from_program)
    except (TypeError, ValueError):
        raise InvalidInput(f"from_program takes a program id or 'auto', not {config.from_program!r}") from None
    return [await store.program(program_id)]


class _Heartbeat:
    """Tells other processes that this one still holds the run."""

    def __init__(self, store: Store, run_id: int, owner: str) -> None:
        self.store, self.run_id, self.owner = store, run_id, owner
        self.task: asyncio.Task | None = None

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):  # a missed beat is not worth stopping a run for
                await self.store.heartbeat(self.run_id, self.owner)

    def __enter__(self) -> "_Heartbeat":
        self.task = asyncio.create_task(self._beat())
        return self

    def __exit__(self, *exc) -> None:
        if self.task is not None:
            self.task.cancel()


async def _execute(store: Store, run_id: int, config: LearnConfig, adapter, llm: ChatClient, *, owner: str,
                   emit: OnEvent, sandbox_policy: str, resume_point: ResumePoint | None = None,
                   transfer: list[ProgramRecord] = ()) -> RunSummary:
    """Run (or continue) the agent for a run that exists in the store."""
    started = time.monotonic()
    previous = (await store.run_row(run_id)).wall_seconds if resume_point else 0.0
    previous_wait = (await store.run_row(run_id)).llm_wait_seconds if resume_point else 0.0
    environment_id = await store.ensure_environment(adapter.name, adapter.env_id, envs.domain_of(adapter), adapter.api)
    api_module_id = await store.ensure_api_module(adapter.api)
    budget = CallBudget(config.max_llm_calls, used=await store.count_llm_calls(run_id))

    async def on_call(call: LLMCall) -> None:
        call.meta["id"] = await store.add_llm_call(run_id, call)
        budget.used += 1
        emit("llm_call", {"status": call.status, "latency": call.latency_s, "purpose": call.purpose,
                          "tokens": call.prompt_tokens + call.completion_tokens})

    llm.on_call = on_call
    limits = SandboxLimits(call_timeout=config.call_timeout, plan=config.plan_budget, jail=sandbox_policy)
    status, error, agent = RunStatus.FAILED, None, None
    try:
        with _Heartbeat(store, run_id, owner):
            async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=config.workers,
                               limits=limits, action_source=adapter.action_source) as sandbox:
                emit("sandbox", {"jail": sandbox.jail.describe(), "active": sandbox.jail.active})
                recorder = StoreRecorder(store, run_id, environment_id, api_module_id, emit)
                ctx = PromptContext(adapter.api.source, adapter.reward_mode, adapter.render_state)
                refiner = Refiner(llm=llm, sandbox=sandbox, ctx=ctx, recorder=recorder, budget=budget,
                                  concurrency=config.concurrency, c=config.c, rng=random.Random(config.seed),
                                  max_shown=config.max_shown)
                agent = Agent(config=config, adapter=adapter, store=store, sandbox=sandbox, refiner=refiner,
                              recorder=recorder, budget=budget, run_id=run_id, on_event=emit)
                for source in transfer:
                    pid = await recorder.program(source.source, "transfer", [source.id], None)
                    cand = await refiner.assess(pid, source.source, [])
                    agent.transferred.append(cand)
                    emit("transfer", {"from_program": source.id, "program_id": pid, "env": source.environment})
                if agent.transferred:
                    await agent.adopt(agent.transferred[0])
                if resume_point is not None:
                    await _restore_agent(store, run_id, agent, sandbox, refiner, resume_point)
                try:
                    status = await agent.run(resume_point)
                except LLMFatalError as exc:
                    status, error = RunStatus.FAILED, str(exc)
                except WcError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a failure wc did not foresee: one line, run kept
                    status, error = RunStatus.FAILED, _internal_error(exc, run_id)
    except BaseException as exc:
        interrupted = isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError))
        await asyncio.shield(store.finish_run(
            run_id, status=RunStatus.INTERRUPTED if interrupted else RunStatus.FAILED, best_program_id=None,
            wall_seconds=previous + time.monotonic() - started, llm_wait_seconds=previous_wait + llm.wait.seconds,
            error="interrupted" if interrupted else f"{type(exc).__name__}: {exc}"))
        raise
    best = agent.current.program_id if agent and agent.current else None
    await store.finish_run(run_id, status=status, best_program_id=best,
                           wall_seconds=previous + time.monotonic() - started,
                           llm_wait_seconds=previous_wait + llm.wait.seconds, error=error)
    summary = await store.run_summary(run_id)
    summary.error = error
    return summary


def _internal_error(exc: BaseException, run_id: int) -> str:
    """A one-line account of an unexpected exception, with where it happened (for a bug report)."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/wc/" in f.filename.replace("\\", "/")]
    where = ""
    if frames:
        f = frames[-1]
        where = f" at wc/{f.filename.replace(chr(92), '/').rsplit('/wc/', 1)[-1]}:{f.lineno} in {f.name}"
    return (f"internal error in wc ({type(exc).__name__}: {exc}{where}); everything up to it is stored "
            f"and run {run_id} can be resumed")


async def _restore_agent(store: Store, run_id: int, agent: Agent, sandbox: Sandbox, refiner: Refiner,
                         point: ResumePoint) -> None:
    for row in await store.transitions(run_id):
        sandbox.add(row.state, row.action, row.next_state, row.reward, row.done, row.mission)
        if row.step == 0:
            agent._remember_start(row.state, row.mission)
    agent.restore_checkpoint(point.checkpoint)
    run = await store.run_row(run_id)
    if run.best_program_id is not None:
        record = await store.program(run.best_program_id)
        agent.current = await refiner.assess(record.id, record.source, agent._recent_starts())
    transferred = [p for p in await store.run_programs(run_id) if p.origin == "transfer"]
    for record in transferred:
        if agent.current is None or record.id != agent.current.program_id:
            agent.transferred.append(await refiner.assess(record.id, record.source, agent._recent_starts()))


async def _resume_point(store: Store, run_id: int) -> ResumePoint:
    episodes = await store.episodes(run_id)
    rows = await store.transitions(run_id)
    by_episode: dict[int, list] = {}
    for row in rows:
        by_episode.setdefault(row.episode_id, []).append(row)
    finished = [e for e in episodes if e.finished]
    open_eps = [e for e in episodes if not e.finished]
    streak = 0
    for e in sorted(finished, key=lambda e: e.index):
        streak = streak + 1 if e.success else 0
    open_ep = None
    if open_eps:
        e = open_eps[-1]
        open_ep = OpenEpisode(e.id, e.index, e.seed, e.mission, sorted(by_episode.get(e.id, []), key=lambda r: r.step))
    next_episode = (max(e.index for e in episodes) + (0 if open_ep else 1)) if episodes else 0
    run = await store.run_row(run_id)
    return ResumePoint(next_episode, streak, open_ep, run.checkpoint or {})


async def load_replay(ref: str, db: str | None = None) -> dict:
    """A recording to replay: a run id in the store, a file written by `wc runs export-llm`, or the
    name of a recording shipped with wc (`wc/recordings/NAME.json`)."""
    import importlib.resources
    import json
    from pathlib import Path

    from wc.llm.replay import load_recording

    if ref.isdigit():
        return await _with_store(db, lambda s: s.export_llm(int(ref)))
    path = Path(ref).expanduser()
    if not path.exists():
        shipped = importlib.resources.files("wc.recordings").joinpath(f"{ref}.json")
        if not shipped.is_file():
            raise NotFound(f"no recording {ref!r}: give a run id, a recording file, or a shipped "
                           f"recording ({', '.join(shipped_recordings()) or 'none'})", kind="recording", id=ref)
        text = shipped.read_text()
    else:
        text = path.read_text()
    try:
        return load_recording(json.loads(text))[0]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"cannot read recording {ref!r}: {exc}") from None


def shipped_recordings() -> list[str]:
    import importlib.resources

    return sorted(p.name[:-5] for p in importlib.resources.files("wc.recordings").iterdir() if p.name.endswith(".json"))


def replay_client(recording: dict) -> ChatClient:
    """Serves a recording's answers, in order, for the same requests; any other request is a clear error."""
    from wc.llm.replay import load_recording

    _, answers = load_recording(recording)
    return ReplayingChat(None, answers, model=recording["model"], record_hits=True)


async def learn(config: LearnConfig, settings: Settings | None = None, *, llm: ChatClient | None = None,
                on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None,
                curriculum_id: int | None = None, curriculum_index: int | None = None,
                replay: dict | None = None) -> RunSummary:
    """Run the WorldCoder agent on an environment, recording everything in the store.

    With `replay` (a recording), the recording's configuration is used and its answers are served
    instead of asking an LLM: the run reproduces the recorded one exactly, without an API key."""
    settings = settings or Settings()
    emit = on_event or (lambda kind, data: None)
    if replay is not None:
        if config.env != replay["env"]:
            raise InvalidInput(f"the recording is of {replay['env']!r}, not {config.env!r}")
        config = LearnConfig.from_json(replay["config"])
        llm = replay_client(replay)
    jails.select(settings.sandbox)  # a strict policy without a jail fails before anything is recorded
    if config.planner not in PLANNERS:
        raise InvalidInput(f"unknown planner {config.planner!r}; planners: {', '.join(sorted(PLANNERS))}")
    adapter = envs.make(config.env, **config.env_options)
    store = None
    try:
        llm = llm or make_llm(settings)  # fails early with a clear message when no LLM is configured
        store = await Store.open(settings.db)
        transfer = await _transfer_sources(store, config, adapter)
        environment_id = await store.ensure_environment(adapter.name, adapter.env_id, envs.domain_of(adapter),
                                                        adapter.api)
        owner = _owner()
        run_id = await store.create_run(environment_id, config=config.to_json(), seed=config.seed, model=llm.model,
                                        owner=owner, curriculum_id=curriculum_id, curriculum_index=curriculum_index)
        if on_start:
            on_start(run_id)
        if config.from_program is not None and not transfer:
            emit("transfer", {"from_program": None, "program_id": None, "env": None})
        return await _execute(store, run_id, config, adapter, llm, owner=owner, emit=emit, transfer=transfer,
                              sandbox_policy=settings.sandbox)
    finally:
        adapter.close()
        close = getattr(llm, "close", None)
        if close is not None:
            await close()
        if store is not None:
            await store.close()


async def resume(run_id: int, settings: Settings | None = None, *, llm: ChatClient | None = None,
                 on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None) -> RunSummary:
    """Continue an interrupted run from what the store holds. Answers already recorded for the
    same request and sample are served from the store, never paid for twice."""
    settings = settings or Settings()
    emit = on_event or (lambda kind, data: None)
    jails.select(settings.sandbox)
    store = await Store.open(settings.db)
    adapter = None
    try:
        row = await store.run_row(run_id)
        config = LearnConfig.from_json(row.config)
        adapter = envs.make(config.env, **config.env_options)
        inner = llm or make_llm(settings, model=row.model)
        llm_client = ReplayingChat(inner, await store.recorded_answers(run_id), model=row.model)
        owner = _owner()
        await store.claim_run(run_id, owner)
        if on_start:
            on_start(run_id)
        point = await _resume_point(store, run_id)
        summary = await _execute(store, run_id, config, adapter, llm_client, owner=owner, emit=emit,
                                 resume_point=point, sandbox_policy=settings.sandbox)
        emit("replay", {"hits": llm_client.hits, "misses": llm_client.misses})
        return summary
    finally:
        if adapter is not None:
            adapter.close()
        if llm is None and "inner" in locals():
            close = getattr(inner, "close", None)
            if close is not None:
                await close()
        await store.close()


async def curriculum(env_names: list[str], config: LearnConfig, settings: Settings | None = None, *,
                     on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None,
                     llm_factory: Callable[[], ChatClient] | None = None) -> CurriculumSummary:
    """Learn environments in order, each run starting from the previous run's final program."""
    settings = settings or Settings()
    for name in env_names:  # unknown names fail before anything is recorded
        envs.make(name, **config.env_options).close()
    store = await Store.open(settings.db)
    try:
        curriculum_id = await store.create_curriculum(env_names, config.to_json())
    finally:
        await store.close()
    return await resume_curriculum(curriculum_id, settings, on_event=on_event, on_start=on_start,
                                   llm_factory=llm_factory)


async def resume_curriculum(curriculum_id: int, settings: Settings | None = None, *,
                            on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None,
                            llm_factory: Callable[[], ChatClient] | None = None) -> CurriculumSummary:
    """Run what is left of a curriculum: resume its unfinished run, then the remaining envs."""
    settings = settings or Settings()
    emit = on_event or (lambda kind, data: None)

    async def current() -> CurriculumSummary:
        return await _with_store(settings.db, lambda s: s.curriculum(curriculum_id))

    group = await current()
    base = LearnConfig.from_json(group.config)
    previous_best: int | None = None
    for index, env_name in enumerate(group.envs):
        group = await current()
        runs = [await run_summary(r, settings.db) for r in group.run_ids]
        mine = [r for r in runs if r.curriculum_index == index]
        emit("curriculum_step", {"index": index, "env": env_name, "of": len(group.envs)})
        if mine and mine[-1].status == RunStatus.FINISHED:
            summary = mine[-1]
        elif mine:
            summary = await resume(mine[-1].id, settings, llm=llm_factory() if llm_factory else None,
                                   on_event=on_event, on_start=on_start)
        else:
            config = replace(base, env=env_name,
                             from_program=previous_best if index > 0 else base.from_program)
            summary = await learn(config, settings, llm=llm_factory() if llm_factory else None, on_event=on_event,
                                  on_start=on_start, curriculum_id=curriculum_id, curriculum_index=index)
        if summary.status != RunStatus.FINISHED:
            await _with_store(settings.db, lambda s: s.set_curriculum_status(curriculum_id, summary.status))
            return await current()
        previous_best = summary.best_program_id
    await _with_store(settings.db, lambda s: s.set_curriculum_status(curriculum_id, RunStatus.FINISHED))
    return await current()


async def _with_store(db: str | None, fn):
    store = await Store.open(db or Settings().db)
    try:
        return await fn(store)
    finally:
        await store.close()


async def run_summary(run_id: int, db: str | None = None) -> RunSummary:
    return await _with_store(db, lambda s: s.run_summary(run_id))


async def list_runs(db: str | None = None) -> list[RunSummary]:
    return await _with_store(db, lambda s: s.list_runs())


async def program(program_id: int, db: str | None = None) -> ProgramRecord:
    return await _with_store(db, lambda s: s.program(program_id))


async def programs(*, env: str | None = None, run_id: int | None = None, db: str | None = None) -> list[ProgramRecord]:
    async def fn(store: Store) -> list[ProgramRecord]:
        if run_id is not None:
            await store.run_summary(run_id)  # NotFound for an unknown run
        return await store.list_programs(env=env, run_id=run_id)
    return await _with_store(db, fn)


async def lineage(program_id: int, db: str | None = None) -> nx.DiGraph:
    """Ancestors and descendants of a program, across runs and environments (edges parent -> child)."""
    return await _with_store(db, lambda s: s.lineage(program_id))


async def export_llm(run_id: int, db: str | None = None) -> dict:
    return await _with_store(db, lambda s: s.export_llm(run_id))


async def curricula(db: str | None = None) -> list[CurriculumSummary]:
    return await _with_store(db, lambda s: s.list_curricula())


async def curriculum_summary(curriculum_id: int, db: str | None = None) -> CurriculumSummary:
    return await _with_store(db, lambda s: s.curriculum(curriculum_id))


async def export_program(program_id: int, db: str | None = None) -> str:
    """A standalone file: the API module the program was written against, then the program."""
    async def fn(store: Store) -> str:
        record = await store.program(program_id)
        api_source = await store.api_module_source(record.api_module)
        return (f"# wc program {record.id} ({record.origin}), environment {record.environment}, "
                f"run {record.run_id}, API module {record.api_module}\n"
                f"# The API module comes first, then the program, as wc runs them.\n\n"
                f"{api_source.rstrip()}\n\n\n# ---- program {record.id} ----\n\n{record.source.rstrip()}\n")
    return await _with_store(db, fn)


async def db_upgrade(db: str | None = None) -> str:
    from wc.store.db import head_revision

    await _with_store(db, lambda s: asyncio.sleep(0))
    return head_revision()


async def db_current(db: str | None = None) -> tuple[str | None, str]:
    from wc.store.db import create_engine, current_revision, head_revision

    engine = create_engine(db or Settings().db)
    try:
        return await current_revision(engine), head_revision()
    finally:
        await engine.dispose()


async def doctor(settings: Settings | None = None) -> tuple[dict[str, Any], list[jails.Layer]]:
    """Start a sandbox worker as `wc learn` would and report which of its walls stand: what the
    worker itself finds (user, files, network, processes, limits) and what is seen from outside."""
    from wc.values import ApiModule

    settings = settings or Settings()
    limits = SandboxLimits(jail=settings.sandbox)
    async with Sandbox(ApiModule("doctor", 0, ""), [], "exact", workers=1, limits=limits) as sandbox:
        facts = await sandbox.probe()
    return facts, jails.layers(facts, settings.sandbox)


def api_module_source(env: str) -> str:
    return envs.api_module(env).source


def env_specs() -> list[Any]:
    return envs.list_envs()


