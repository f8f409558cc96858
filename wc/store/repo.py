"""The Store: every read and write of the knowledge store, as async methods over domain values.

Writes happen as the run goes, each in its own short transaction, so a crash loses at most the
step in flight.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from wc.envs.base import ApiModule
from wc.errors import NotFound, StoreError
from wc.llm.base import LLMCall
from wc.programs.canonical import state_hash
from wc.store import models as m
from wc.store.db import _redact, create_engine, migrate


def request_hash(model: str, messages: list[dict[str, str]]) -> str:
    """Identifies a request by what was asked, for accounting and replay."""
    return hashlib.sha256(json.dumps([model, messages], sort_keys=True).encode()).hexdigest()


@dataclass
class ProgramRecord:
    id: int
    run_id: int | None
    environment: str
    source: str
    source_hash: str
    origin: str
    parents: list[int]
    api_module: str
    created_at: datetime
    llm_call_id: int | None = None
    n_transitions: int | None = None
    explained: int | None = None
    fit: float | None = None
    optimism_ok: int | None = None
    optimism_total: int | None = None
    score: float | None = None
    errors: dict[str, Any] | None = None


@dataclass
class EpisodeSummary:
    index: int
    seed: int | None
    mission: str
    steps: int
    total_reward: float
    success: bool


@dataclass
class RunSummary:
    id: int
    env: str
    status: str
    model: str
    seed: int
    created_at: datetime
    finished_at: datetime | None
    episodes: int
    successes: int
    env_steps: int
    llm_calls: int
    llm_calls_failed: int
    prompt_tokens: int
    completion_tokens: int
    programs: int
    best_program_id: int | None
    wall_seconds: float
    llm_wait_seconds: float
    error: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    episode_list: list[EpisodeSummary] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat() if self.created_at else None
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        data["episode_list"] = [asdict(e) for e in self.episode_list]
        return data


class Store:
    """Async access to the knowledge store at a SQLAlchemy URL."""

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self.engine = engine
        self.url = url
        self.session = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    async def open(cls, url: str, *, migrate_schema: bool = True) -> "Store":
        engine = create_engine(url)
        try:
            if migrate_schema:
                await migrate(engine)
            else:
                async with engine.connect():
                    pass
        except StoreError:
            await engine.dispose()
            raise
        except (OSError, DBAPIError, OperationalError) as exc:
            await engine.dispose()
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise StoreError(f"cannot open database {_redact(url)}: {reason}") from None
        return cls(engine, url)

    async def close(self) -> None:
        await self.engine.dispose()

    # ------------------------------------------------------------------ environments

    async def ensure_api_module(self, api: ApiModule) -> int:
        async with self.session.begin() as s:
            row = (await s.execute(select(m.ApiModuleRow).where(
                m.ApiModuleRow.name == api.name, m.ApiModuleRow.version == api.version))).scalar_one_or_none()
            if row is None:
                row = m.ApiModuleRow(name=api.name, version=api.version, source=api.source)
                s.add(row)
                await s.flush()
            elif row.source != api.source:
                raise StoreError(f"API module {api.ref} in the store differs from this wc's copy; a changed "
                                 "API module must get a new version")
            return row.id

    async def ensure_environment(self, name: str, env_id: str, domain: str, api: ApiModule) -> int:
        api_id = await self.ensure_api_module(api)
        async with self.session.begin() as s:
            row = (await s.execute(select(m.Environment).where(m.Environment.name == name))).scalar_one_or_none()
            if row is None:
                row = m.Environment(name=name, env_id=env_id, domain=domain, api_module_id=api_id)
                s.add(row)
                await s.flush()
            elif row.api_module_id != api_id:
                row.api_module_id = api_id
            return row.id

    # ------------------------------------------------------------------ runs

    async def create_run(self, environment_id: int, *, config: dict[str, Any], seed: int, model: str) -> int:
        async with self.session.begin() as s:
            run = m.Run(environment_id=environment_id, config=config, seed=seed, model=model, status="running")
            s.add(run)
            await s.flush()
            return run.id

    async def finish_run(self, run_id: int, *, status: str, best_program_id: int | None, wall_seconds: float,
                         llm_wait_seconds: float, error: str | None = None) -> None:
        values = dict(status=status, wall_seconds=wall_seconds, llm_wait_seconds=llm_wait_seconds, error=error,
                      finished_at=datetime.now(timezone.utc))
        if best_program_id is not None:  # None keeps the best program recorded during the run
            values["best_program_id"] = best_program_id
        async with self.session.begin() as s:
            await s.execute(update(m.Run).where(m.Run.id == run_id).values(**values))

    async def set_best_program(self, run_id: int, program_id: int | None) -> None:
        async with self.session.begin() as s:
            await s.execute(update(m.Run).where(m.Run.id == run_id).values(best_program_id=program_id))

    async def start_episode(self, run_id: int, index: int, seed: int | None, mission: str) -> int:
        async with self.session.begin() as s:
            ep = m.Episode(run_id=run_id, index=index, seed=seed, mission=mission)
            s.add(ep)
            await s.flush()
            return ep.id

    async def finish_episode(self, episode_id: int, *, steps: int, total_reward: float, success: bool,
                             terminated: bool, truncated: bool) -> None:
        async with self.session.begin() as s:
            await s.execute(update(m.Episode).where(m.Episode.id == episode_id).values(
                steps=steps, total_reward=total_reward, success=success, terminated=terminated,
                truncated=truncated, finished=True, finished_at=datetime.now(timezone.utc)))

    async def add_transition(self, *, run_id: int, episode_id: int, step: int, state: list, action: str,
                             next_state: list, reward: float, done: bool, truncated: bool, mission: str) -> int:
        async with self.session.begin() as s:
            row = m.TransitionRow(run_id=run_id, episode_id=episode_id, step=step, state=state, action=action,
                                  next_state=next_state, reward=reward, done=done, truncated=truncated,
                                  mission=mission, state_hash=state_hash(state),
                                  next_state_hash=state_hash(next_state))
            s.add(row)
            await s.flush()
            return row.id

    async def transitions(self, run_id: int) -> list[m.TransitionRow]:
        async with self.session() as s:
            rows = await s.execute(select(m.TransitionRow).where(m.TransitionRow.run_id == run_id)
                                   .order_by(m.TransitionRow.id))
            return list(rows.scalars())

    # ------------------------------------------------------------------ LLM calls

    async def add_llm_call(self, run_id: int | None, call: LLMCall) -> int:
        async with self.session.begin() as s:
            row = m.LLMCallRow(
                run_id=run_id, purpose=call.purpose, model=call.model, messages=call.messages,
                request_hash=request_hash(call.model, call.messages), sample=call.sample, attempt=call.attempt,
                answer=call.answer, prompt_tokens=call.prompt_tokens, completion_tokens=call.completion_tokens,
                latency_s=call.latency_s, status=call.status, error=call.error, finish_reason=call.finish_reason,
                started_at=call.started_at)
            s.add(row)
            await s.flush()
            return row.id

    async def llm_calls(self, run_id: int) -> list[m.LLMCallRow]:
        async with self.session() as s:
            rows = await s.execute(select(m.LLMCallRow).where(m.LLMCallRow.run_id == run_id).order_by(m.LLMCallRow.id))
            return list(rows.scalars())

    # ------------------------------------------------------------------ programs

    async def add_program(self, *, run_id: int | None, environment_id: int, api_module_id: int, source: str,
                          origin: str, parents: list[int], llm_call_id: int | None = None) -> int:
        """Store a program version (once per run and source) and its lineage edges."""
        digest = hashlib.sha256(source.encode()).hexdigest()
        async with self.session.begin() as s:
            existing = (await s.execute(select(m.ProgramRow.id).where(
                m.ProgramRow.run_id == run_id, m.ProgramRow.source_hash == digest))).scalars().first()
            if existing is None:
                row = m.ProgramRow(run_id=run_id, environment_id=environment_id, api_module_id=api_module_id,
                                   source=source, source_hash=digest, origin=origin, llm_call_id=llm_call_id)
                s.add(row)
                await s.flush()
                program_id = row.id
            else:
                program_id = existing
            known = set((await s.execute(select(m.ProgramParent.parent_id).where(
                m.ProgramParent.child_id == program_id))).scalars())
            for parent in dict.fromkeys(parents):
                if parent != program_id and parent not in known:
                    s.add(m.ProgramParent(child_id=program_id, parent_id=parent))
            return program_id

    async def score_program(self, program_id: int, *, n_transitions: int, explained: int, fit: float,
                            optimism_ok: int | None, optimism_total: int | None, score: float,
                            errors: dict[str, Any] | None) -> None:
        async with self.session.begin() as s:
            await s.execute(update(m.ProgramRow).where(m.ProgramRow.id == program_id).values(
                n_transitions=n_transitions, explained=explained, fit=fit, optimism_ok=optimism_ok,
                optimism_total=optimism_total, score=score, errors=errors))

    async def program(self, program_id: int) -> ProgramRecord:
        async with self.session() as s:
            row = await s.get(m.ProgramRow, program_id)
            if row is None:
                raise NotFound(f"no program with id {program_id}; `wc runs show RUN` lists a run's programs")
            env = await s.get(m.Environment, row.environment_id)
            api = await s.get(m.ApiModuleRow, row.api_module_id)
            parents = list((await s.execute(select(m.ProgramParent.parent_id).where(
                m.ProgramParent.child_id == program_id).order_by(m.ProgramParent.parent_id))).scalars())
            return ProgramRecord(
                id=row.id, run_id=row.run_id, environment=env.name, source=row.source, source_hash=row.source_hash,
                origin=row.origin, parents=parents, api_module=f"{api.name}_v{api.version}",
                created_at=row.created_at, llm_call_id=row.llm_call_id, n_transitions=row.n_transitions,
                explained=row.explained, fit=row.fit, optimism_ok=row.optimism_ok,
                optimism_total=row.optimism_total, score=row.score, errors=row.errors)

    async def run_programs(self, run_id: int) -> list[ProgramRecord]:
        async with self.session() as s:
            ids = list((await s.execute(select(m.ProgramRow.id).where(m.ProgramRow.run_id == run_id)
                                        .order_by(m.ProgramRow.id))).scalars())
        return [await self.program(i) for i in ids]

    # ------------------------------------------------------------------ summaries

    async def run_summary(self, run_id: int) -> RunSummary:
        async with self.session() as s:
            run = await s.get(m.Run, run_id)
            if run is None:
                raise NotFound(f"no run with id {run_id}; `wc runs list` shows the runs")
            env = await s.get(m.Environment, run.environment_id)
            eps = list((await s.execute(select(m.Episode).where(m.Episode.run_id == run_id)
                                        .order_by(m.Episode.index))).scalars())
            steps = (await s.execute(select(func.count()).select_from(m.TransitionRow)
                                     .where(m.TransitionRow.run_id == run_id))).scalar_one()
            calls, failed, ptok, ctok = (await s.execute(select(
                func.count(m.LLMCallRow.id),
                func.coalesce(func.sum(case((m.LLMCallRow.status.in_(["ok", "truncated"]), 0), else_=1)), 0),
                func.coalesce(func.sum(m.LLMCallRow.prompt_tokens), 0),
                func.coalesce(func.sum(m.LLMCallRow.completion_tokens), 0),
            ).where(m.LLMCallRow.run_id == run_id))).one()
            programs = (await s.execute(select(func.count()).select_from(m.ProgramRow)
                                        .where(m.ProgramRow.run_id == run_id))).scalar_one()
        return RunSummary(
            id=run.id, env=env.name, status=run.status, model=run.model, seed=run.seed, created_at=run.created_at,
            finished_at=run.finished_at, episodes=len(eps), successes=sum(1 for e in eps if e.success),
            env_steps=int(steps), llm_calls=int(calls), llm_calls_failed=int(failed), prompt_tokens=int(ptok),
            completion_tokens=int(ctok), programs=int(programs), best_program_id=run.best_program_id,
            wall_seconds=run.wall_seconds, llm_wait_seconds=run.llm_wait_seconds, error=run.error, config=run.config,
            episode_list=[EpisodeSummary(e.index, e.seed, e.mission, e.steps, e.total_reward, e.success) for e in eps])

    async def list_runs(self) -> list[RunSummary]:
        async with self.session() as s:
            ids = list((await s.execute(select(m.Run.id).order_by(m.Run.id))).scalars())
        return [await self.run_summary(i) for i in ids]
