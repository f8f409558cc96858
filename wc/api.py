"""The public façade: learn, inspect runs and programs. Everything the CLI does goes through here."""
from __future__ import annotations

import asyncio
import random
import time
from typing import Any, Callable

from wc import envs
from wc.agent import Agent, LearnConfig, OnEvent, StoreRecorder
from wc.config import Settings
from wc.errors import LLMFatalError
from wc.llm.base import ChatClient, LLMCall
from wc.programs.sandbox import Sandbox, SandboxLimits
from wc.store import ProgramRecord, RunSummary, Store
from wc.synth.prompts import PromptContext
from wc.synth.refine import CallBudget, Refiner

__all__ = ["LearnConfig", "Settings", "learn", "run_summary", "list_runs", "program", "api_module_source"]


def make_llm(settings: Settings) -> ChatClient:
    from wc.llm.openai_backend import OpenAIChat

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return OpenAIChat(model=settings.model, api_key=key, base_url=settings.openai_base_url,
                      timeout=settings.llm_timeout, retries=settings.llm_retries,
                      concurrency=settings.llm_concurrency, temperature=settings.temperature)


async def learn(config: LearnConfig, settings: Settings | None = None, *, llm: ChatClient | None = None,
                on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None) -> RunSummary:
    """Run the WorldCoder agent on an environment, recording everything in the store."""
    settings = settings or Settings()
    emit = on_event or (lambda kind, data: None)
    adapter = envs.make(config.env, **config.env_options)
    try:
        llm = llm or make_llm(settings)  # fails early with a clear message when no LLM is configured
        store = await Store.open(settings.db)
    except BaseException:
        adapter.close()
        raise
    started = time.monotonic()
    run_id: int | None = None
    try:
        environment_id = await store.ensure_environment(adapter.name, adapter.env_id, envs.domain_of(adapter),
                                                        adapter.api)
        api_module_id = await store.ensure_api_module(adapter.api)
        run_id = await store.create_run(environment_id, config=config.to_json(), seed=config.seed, model=llm.model)
        if on_start:
            on_start(run_id)
        budget = CallBudget(config.max_llm_calls)

        async def on_call(call: LLMCall) -> None:
            call.meta["id"] = await store.add_llm_call(run_id, call)
            budget.used += 1
            emit("llm_call", {"status": call.status, "latency": call.latency_s, "purpose": call.purpose,
                              "tokens": call.prompt_tokens + call.completion_tokens})

        llm.on_call = on_call
        limits = SandboxLimits(call_timeout=config.call_timeout, plan_max_nodes=config.plan_max_nodes)
        async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=config.workers,
                           limits=limits, action_source=adapter.action_source) as sandbox:
            recorder = StoreRecorder(store, run_id, environment_id, api_module_id, emit)
            ctx = PromptContext(adapter.api.source, adapter.reward_mode, adapter.render_state)
            refiner = Refiner(llm=llm, sandbox=sandbox, ctx=ctx, recorder=recorder, budget=budget,
                              concurrency=config.concurrency, c=config.c, rng=random.Random(config.seed),
                              max_shown=config.max_shown)
            agent = Agent(config=config, adapter=adapter, store=store, sandbox=sandbox, refiner=refiner,
                          recorder=recorder, budget=budget, run_id=run_id, on_event=emit)
            try:
                status = await agent.run()
                error = None
            except LLMFatalError as exc:
                status, error = "failed", str(exc)
            best = agent.current.program_id if agent.current else None
        await store.finish_run(run_id, status=status, best_program_id=best,
                               wall_seconds=time.monotonic() - started, llm_wait_seconds=llm.wait.seconds,
                               error=error)
        summary = await store.run_summary(run_id)
        if error:
            summary.error = error
        return summary
    except BaseException as exc:
        if run_id is not None:
            interrupted = isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError))
            await asyncio.shield(store.finish_run(
                run_id, status="interrupted" if interrupted else "failed", best_program_id=None,
                wall_seconds=time.monotonic() - started, llm_wait_seconds=llm.wait.seconds,
                error="interrupted" if interrupted else f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        adapter.close()
        close = getattr(llm, "close", None)
        if close is not None:
            await close()
        await store.close()


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


async def run_programs(run_id: int, db: str | None = None) -> list[ProgramRecord]:
    async def fn(store: Store) -> list[ProgramRecord]:
        await store.run_summary(run_id)  # NotFound for an unknown run
        return await store.run_programs(run_id)
    return await _with_store(db, fn)


def api_module_source(env: str) -> str:
    adapter = envs.make(env)
    try:
        return adapter.api.source
    finally:
        adapter.close()


def env_specs() -> list[Any]:
    return envs.list_envs()
