"""The Store: every read and write of the knowledge store, as async methods over domain values.

Writes happen as the run goes, each in its own short transaction, so a crash loses at most the
step in flight.
"""
from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import networkx as nx
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from wc.canonical import state_hash
from wc.errors import NotFound, RunBusy, StoreError, WcError
from wc.values import ANSWERED, NOT_FAILED, ApiModule, CallStatus, LLMCall, RecordedAnswer, RunStatus, request_hash
from wc.store import models as m
from wc.store.db import _redact, create_engine, migrate


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
    optimism_undecided: int | None = None  # starts whose search ran out of budget (no verdict)


STALE_AFTER = timedelta(seconds=30)  # a running run whose heartbeat is older has no live process


def holder_alive(owner: str | None, heartbeat_at: datetime | None) -> bool:
    """Whether the process named `host:pid` still runs: asked directly on this host, judged by
    its heartbeat elsewhere."""
    beat = _aware(heartbeat_at)
    if owner is None or beat is None or datetime.now(timezone.utc) - beat > STALE_AFTER:
        return False
    host, _, pid = owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    return True


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite hands back naive datetimes
        return moment.replace(tzinfo=timezone.utc)
    return moment


@dataclass
class EpisodeSummary:
    index: int
    seed: int | None
    mission: str
    steps: int
    total_reward: float
    success: bool
    finished: bool = True
    plans: int = 0              # searches the agent ran in the episode
    plans_undecided: int = 0    # of which stopped by their budget
    plan_seconds: float = 0.0


@dataclass
class LLMCallSummary:
    id: int
    started_at: datetime
    purpose: str
    status: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_s: float


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
    cost_usd: float | None = None
    steps_to_first_success: int | None = None
    curriculum_id: int | None = None
    curriculum_index: int | None = None
    llm_call_list: list[LLMCallSummary] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat() if self.created_at else None
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        data["episode_list"] = [asdict(e) for e in self.episode_list]
        data["llm_call_list"] = [dict(asdict(c), started_at=c.started_at.isoformat()) for c in self.llm_call_list]
        return data


@dataclass
class CurriculumSummary:
    id: int
    envs: list[str]
    status: str
    created_at: datetime
    config: dict[str, Any]
    run_ids: list[int]


class Store:
    """Async access to the knowledge store at a SQLAlchemy URL."""

    def __init__(self, engine: AsyncEngine, url: str, read_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self.read_engine = read_engine or engine
        self.url = url
        self.session = async_sessionmaker(engine, expire_on_commit=False)       # writes
        self.reader = async_sessionmaker(self.read_engine, expire_on_commit=False)  # reads

    @classmethod
    async def open(cls, url: str, *, migrate_schema: bool = True) -> "Store":
        engine = create_engine(url)
        try:
            if migrate_schema:
                await migrate(url)
            async with engine.connect():
                pass
        except StoreError:
            await engine.dispose()
            raise
        except (OSError, DBAPIError, OperationalError) as exc:
            await engine.dispose()
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise StoreError(f"cannot open database {_redact(url)}: {reason}") from None
        read_engine = create_engine(url, write=False) if engine.dialect.name == "sqlite" else engine
        return cls(engine, url, read_engine)

    async def close(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()

    # ------------------------------------------------------------------ environments

    async def api_module_source(self, ref: str) -> str:
        name, _, version = ref.rpartition("_v")
        async with self.reader() as s:
            row = (await s.execute(select(m.ApiModuleRow).where(
                m.ApiModuleRow.name == name, m.ApiModuleRow.version == int(version)))).scalar_one_or_none()
            if row is None:
                raise NotFound(f"no API module {ref} in the store", kind="api module", id=ref)
            return row.source

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

    async def create_run(self, environment_id: int, *, config: dict[str, Any], seed: int, model: str,
                         owner: str | None = None, curriculum_id: int | None = None,
                         curriculum_index: int | None = None) -> int:
        async with self.session.begin() as s:
            run = m.Run(environment_id=environment_id, config=config, seed=seed, model=model, status=RunStatus.RUNNING,
                        owner=owner, heartbeat_at=datetime.now(timezone.utc), curriculum_id=curriculum_id,
                        curriculum_index=curriculum_index)
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
                             terminated: bool, truncated: bool, plans: int = 0, plans_undecided: int = 0,
                             plan_seconds: float = 0.0) -> None:
        async with self.session.begin() as s:
            await s.execute(update(m.Episode).where(m.Episode.id == episode_id).values(
                steps=steps, total_reward=total_reward, success=success, terminated=terminated,
                truncated=truncated, finished=True, finished_at=datetime.now(timezone.utc), plans=plans,
                plans_undecided=plans_undecided, plan_seconds=plan_seconds))

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
        async with self.reader() as s:
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
                started_at=call.started_at, cost_usd=call.cost_usd)
            s.add(row)
            await s.flush()
            return row.id

    async def llm_calls(self, run_id: int) -> list[m.LLMCallRow]:
        async with self.reader() as s:
            rows = await s.execute(select(m.LLMCallRow).where(m.LLMCallRow.run_id == run_id).order_by(m.LLMCallRow.id))
            return list(rows.scalars())

    # ------------------------------------------------------------------ programs

    async def add_program(self, *, run_id: int | None, environment_id: int, api_module_id: int, source: str,
                          origin: str, parents: list[int], llm_call_id: int | None = None) -> int:
        """Store a program version (once per run and source) and its lineage edges."""
        digest = hashlib.sha256(source.encode()).hexdigest()
        async with self.session.begin() as s:
            find = select(m.ProgramRow.id).where(m.ProgramRow.run_id == run_id, m.ProgramRow.source_hash == digest)
            program_id = (await s.execute(find)).scalars().first()
            if program_id is None:
                try:
                    async with s.begin_nested():
                        row = m.ProgramRow(run_id=run_id, environment_id=environment_id, api_module_id=api_module_id,
                                           source=source, source_hash=digest, origin=origin, llm_call_id=llm_call_id)
                        s.add(row)
                        await s.flush()
                    program_id = row.id
                except IntegrityError:  # a concurrent candidate stored the same source first
                    program_id = (await s.execute(find)).scalars().one()
            edges = [{"child_id": program_id, "parent_id": p} for p in dict.fromkeys(parents) if p != program_id]
            if edges:  # concurrent candidates may add the same edge: the second is a no-op
                await s.execute(self._insert(m.ProgramParent).values(edges).on_conflict_do_nothing())
            return program_id

    def _insert(self, model):
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(model)

    async def score_program(self, program_id: int, *, n_transitions: int, explained: int, fit: float,
                            optimism_ok: int | None, optimism_total: int | None, score: float,
                            errors: dict[str, Any] | None, optimism_undecided: int | None = None) -> None:
        async with self.session.begin() as s:
            await s.execute(update(m.ProgramRow).where(m.ProgramRow.id == program_id).values(
                n_transitions=n_transitions, explained=explained, fit=fit, optimism_ok=optimism_ok,
                optimism_total=optimism_total, optimism_undecided=optimism_undecided, score=score, errors=errors))

    async def program(self, program_id: int) -> ProgramRecord:
        async with self.reader() as s:
            row = await s.get(m.ProgramRow, program_id)
            if row is None:
                raise NotFound(f"no program with id {program_id}", kind="program", id=program_id)
            env = await s.get(m.Environment, row.environment_id)
            api = await s.get(m.ApiModuleRow, row.api_module_id)
            parents = list((await s.execute(select(m.ProgramParent.parent_id).where(
                m.ProgramParent.child_id == program_id).order_by(m.ProgramParent.parent_id))).scalars())
            return ProgramRecord(
                id=row.id, run_id=row.run_id, environment=env.name, source=row.source, source_hash=row.source_hash,
                origin=row.origin, parents=parents, api_module=f"{api.name}_v{api.version}",
                created_at=row.created_at, llm_call_id=row.llm_call_id, n_transitions=row.n_transitions,
                explained=row.explained, fit=row.fit, optimism_ok=row.optimism_ok,
                optimism_total=row.optimism_total, score=row.score, errors=row.errors,
                optimism_undecided=row.optimism_undecided)

    async def run_programs(self, run_id: int) -> list[ProgramRecord]:
        async with self.reader() as s:
            ids = list((await s.execute(select(m.ProgramRow.id).where(m.ProgramRow.run_id == run_id)
                                        .order_by(m.ProgramRow.id))).scalars())
        return [await self.program(i) for i in ids]

    # ------------------------------------------------------------------ summaries

    async def run_summary(self, run_id: int) -> RunSummary:
        async with self.reader() as s:
            run = await s.get(m.Run, run_id)
            if run is None:
                raise NotFound(f"no run with id {run_id}", kind="run", id=run_id)
            env = await s.get(m.Environment, run.environment_id)
            eps = list((await s.execute(select(m.Episode).where(m.Episode.run_id == run_id)
                                        .order_by(m.Episode.index))).scalars())
            steps = (await s.execute(select(func.count()).select_from(m.TransitionRow)
                                     .where(m.TransitionRow.run_id == run_id))).scalar_one()
            calls, failed, ptok, ctok = (await s.execute(select(
                func.count(m.LLMCallRow.id),
                func.coalesce(func.sum(case((m.LLMCallRow.status.in_(NOT_FAILED), 0), else_=1)), 0),
                func.coalesce(func.sum(m.LLMCallRow.prompt_tokens), 0),
                func.coalesce(func.sum(m.LLMCallRow.completion_tokens), 0),
            ).where(m.LLMCallRow.run_id == run_id))).one()
            programs = (await s.execute(select(func.count()).select_from(m.ProgramRow)
                                        .where(m.ProgramRow.run_id == run_id))).scalar_one()
            call_rows = list((await s.execute(select(m.LLMCallRow).where(m.LLMCallRow.run_id == run_id)
                                              .order_by(m.LLMCallRow.id))).scalars())
        costs = [c.cost_usd for c in call_rows if c.cost_usd is not None]
        first_success = None
        seen = 0
        for e in eps:
            seen += e.steps
            if e.success:
                first_success = seen
                break
        return RunSummary(
            id=run.id, env=env.name, status=self.live_status(run), model=run.model, seed=run.seed,
            created_at=run.created_at,
            finished_at=run.finished_at, episodes=len(eps), successes=sum(1 for e in eps if e.success),
            env_steps=int(steps), llm_calls=int(calls), llm_calls_failed=int(failed), prompt_tokens=int(ptok),
            completion_tokens=int(ctok), programs=int(programs), best_program_id=run.best_program_id,
            wall_seconds=run.wall_seconds, llm_wait_seconds=run.llm_wait_seconds, error=run.error, config=run.config,
            episode_list=[EpisodeSummary(e.index, e.seed, e.mission, e.steps, e.total_reward, e.success, e.finished,
                                         e.plans or 0, e.plans_undecided or 0, e.plan_seconds or 0.0)
                          for e in eps],
            cost_usd=sum(costs) if costs else None, steps_to_first_success=first_success,
            curriculum_id=run.curriculum_id, curriculum_index=run.curriculum_index,
            llm_call_list=[LLMCallSummary(c.id, c.started_at, c.purpose, c.status, c.prompt_tokens,
                                          c.completion_tokens, c.cost_usd, c.latency_s) for c in call_rows])

    @staticmethod
    def live_status(run: m.Run) -> str:
        """'running' only while a live process holds the run; a killed one reads 'interrupted'."""
        if run.status == RunStatus.RUNNING and not holder_alive(run.owner, run.heartbeat_at):
            return RunStatus.INTERRUPTED
        return run.status

    async def list_runs(self) -> list[RunSummary]:
        async with self.reader() as s:
            ids = list((await s.execute(select(m.Run.id).order_by(m.Run.id))).scalars())
        return [await self.run_summary(i) for i in ids]

    # ------------------------------------------------------------------ resume

    async def run_row(self, run_id: int) -> m.Run:
        async with self.reader() as s:
            run = await s.get(m.Run, run_id)
            if run is None:
                raise NotFound(f"no run with id {run_id}", kind="run", id=run_id)
            return run

    async def claim_run(self, run_id: int, owner: str) -> m.Run:
        """Take over a run for resuming: refused when it finished or a live process holds it."""
        run = await self.run_row(run_id)
        if run.status == RunStatus.FINISHED:
            raise RunBusy(f"run {run_id} is already finished", run_id=run_id, finished=True,
                          best_program_id=run.best_program_id)
        busy = RunBusy(f"run {run_id} is being run by another live process ({run.owner}); "
                       "resume it once that process has stopped", run_id=run_id, owner=run.owner)
        if run.status == RunStatus.RUNNING and holder_alive(run.owner, run.heartbeat_at):
            raise busy
        async with self.session.begin() as s:
            # compare-and-swap on the holder: of two processes resuming at once, one wins
            holder = m.Run.owner.is_(None) if run.owner is None else m.Run.owner == run.owner
            result = await s.execute(update(m.Run).where(m.Run.id == run_id, holder, m.Run.status == run.status)
                                     .values(status=RunStatus.RUNNING, owner=owner, heartbeat_at=datetime.now(timezone.utc),
                                             error=None, finished_at=None))
            if result.rowcount != 1:
                raise busy
        return await self.run_row(run_id)

    async def heartbeat(self, run_id: int, owner: str) -> None:
        async with self.session.begin() as s:
            await s.execute(update(m.Run).where(m.Run.id == run_id, m.Run.owner == owner)
                            .values(heartbeat_at=datetime.now(timezone.utc)))

    async def save_checkpoint(self, run_id: int, checkpoint: dict[str, Any]) -> None:
        async with self.session.begin() as s:
            await s.execute(update(m.Run).where(m.Run.id == run_id).values(checkpoint=checkpoint))

    async def episodes(self, run_id: int) -> list[m.Episode]:
        async with self.reader() as s:
            return list((await s.execute(select(m.Episode).where(m.Episode.run_id == run_id)
                                         .order_by(m.Episode.index))).scalars())

    async def recorded_answers(self, run_id: int) -> list[RecordedAnswer]:
        """Answers the run already paid for, in the order they were received."""
        async with self.reader() as s:
            rows = await s.execute(select(m.LLMCallRow).where(
                m.LLMCallRow.run_id == run_id, m.LLMCallRow.status.in_(ANSWERED))
                .order_by(m.LLMCallRow.id))
            return [RecordedAnswer(r.request_hash, r.sample, r.answer or "", r.id, r.prompt_tokens,
                                   r.completion_tokens) for r in rows.scalars()]

    async def export_llm(self, run_id: int) -> dict[str, Any]:
        """The run's LLM calls as a recording that `wc learn --replay` can serve (no API keys are
        ever stored, so none can leak here)."""
        from wc.llm.replay import RECORDING_FORMAT

        summary = await self.run_summary(run_id)
        calls = await self.llm_calls(run_id)
        return {
            "format": RECORDING_FORMAT, "version": 1, "run": run_id, "env": summary.env, "model": summary.model,
            "config": summary.config, "recorded_at": summary.created_at.isoformat(),
            "result": {"status": summary.status, "episodes": summary.episodes, "successes": summary.successes,
                       "env_steps": summary.env_steps, "llm_calls": summary.llm_calls},
            "calls": [{"purpose": c.purpose, "sample": c.sample, "attempt": c.attempt, "status": c.status,
                       "request_hash": c.request_hash, "messages": c.messages, "answer": c.answer,
                       "prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens,
                       "latency_s": c.latency_s} for c in calls if c.status in ANSWERED + (CallStatus.REPLAYED,)],
        }

    async def count_llm_calls(self, run_id: int) -> int:
        async with self.reader() as s:
            return int((await s.execute(select(func.count()).select_from(m.LLMCallRow)
                                        .where(m.LLMCallRow.run_id == run_id))).scalar_one())

    # ------------------------------------------------------------------ lineage and transfer

    async def lineage(self, program_id: int) -> nx.DiGraph:
        """Ancestors and descendants of a program as a DiGraph (edges parent -> child), each node
        carrying its environment, run, origin, scores and whether it became its run's model."""
        await self.program(program_id)  # NotFound for an unknown id
        nodes = {program_id}
        edges: set[tuple[int, int]] = set()
        async with self.reader() as s:
            for column, other in ((m.ProgramParent.child_id, m.ProgramParent.parent_id),
                                  (m.ProgramParent.parent_id, m.ProgramParent.child_id)):
                frontier = {program_id}
                seen = {program_id}
                while frontier:
                    batch = list(frontier)
                    frontier = set()
                    for i in range(0, len(batch), 500):
                        rows = await s.execute(select(m.ProgramParent.parent_id, m.ProgramParent.child_id)
                                               .where(column.in_(batch[i:i + 500])))
                        for parent, child in rows:
                            edges.add((parent, child))
                            nxt = parent if other is m.ProgramParent.parent_id else child
                            if nxt not in seen:
                                seen.add(nxt)
                                frontier.add(nxt)
                nodes |= seen
            graph = nx.DiGraph()
            ids = sorted(nodes)
            for i in range(0, len(ids), 500):
                rows = await s.execute(
                    select(m.ProgramRow.id, m.ProgramRow.run_id, m.ProgramRow.origin, m.ProgramRow.fit,
                           m.ProgramRow.score, m.ProgramRow.explained, m.ProgramRow.n_transitions,
                           m.ProgramRow.created_at, m.Environment.name, m.Run.best_program_id)
                    .join(m.Environment, m.Environment.id == m.ProgramRow.environment_id)
                    .outerjoin(m.Run, m.Run.id == m.ProgramRow.run_id)
                    .where(m.ProgramRow.id.in_(ids[i:i + 500])))
                for pid, run_id, origin, fit, score, explained, n, created, env, best in rows:
                    graph.add_node(pid, env=env, run=run_id, origin=origin, fit=fit, score=score, explained=explained,
                                   n_transitions=n, created_at=created.isoformat() if created else None,
                                   is_model=best == pid)
        graph.add_edges_from(edges)
        return graph

    async def list_programs(self, *, env: str | None = None, run_id: int | None = None) -> list[ProgramRecord]:
        async with self.reader() as s:
            query = select(m.ProgramRow.id).join(m.Environment, m.Environment.id == m.ProgramRow.environment_id)
            if env is not None:
                query = query.where(m.Environment.name == env)
            if run_id is not None:
                query = query.where(m.ProgramRow.run_id == run_id)
            ids = list((await s.execute(query.order_by(m.ProgramRow.id))).scalars())
        return [await self.program(i) for i in ids]

    async def transfer_candidates(self, api_module_name: str, exclude_env: str) -> list[tuple[str, str, ProgramRecord]]:
        """For each other environment whose programs use the same API module: its best program
        (the runs' final models first, then by score), as (environment name, env id, program)."""
        async with self.reader() as s:
            rows = await s.execute(
                select(m.Environment.name, m.Environment.env_id, m.ProgramRow.id, m.ProgramRow.score,
                       m.ProgramRow.fit, m.ProgramRow.n_transitions, m.Run.best_program_id)
                .join(m.ProgramRow, m.ProgramRow.environment_id == m.Environment.id)
                .join(m.ApiModuleRow, m.ApiModuleRow.id == m.ProgramRow.api_module_id)
                .outerjoin(m.Run, m.Run.id == m.ProgramRow.run_id)
                .where(m.ApiModuleRow.name == api_module_name, m.Environment.name != exclude_env,
                       m.ProgramRow.fit.is_not(None)))
            best: dict[str, tuple] = {}
            for name, env_id, pid, score, fit, n, run_best in rows:
                key = (run_best == pid, score or 0.0, fit or 0.0, n or 0, pid)
                if name not in best or key > best[name][0]:
                    best[name] = (key, env_id, pid)
        return [(name, env_id, await self.program(pid)) for name, (_, env_id, pid) in best.items()]

    # ------------------------------------------------------------------ curricula

    async def create_curriculum(self, envs: list[str], config: dict[str, Any]) -> int:
        async with self.session.begin() as s:
            row = m.Curriculum(envs=envs, config=config, status=RunStatus.RUNNING)
            s.add(row)
            await s.flush()
            return row.id

    async def set_curriculum_status(self, curriculum_id: int, status: str) -> None:
        async with self.session.begin() as s:
            await s.execute(update(m.Curriculum).where(m.Curriculum.id == curriculum_id).values(status=status))

    async def curriculum(self, curriculum_id: int) -> CurriculumSummary:
        async with self.reader() as s:
            row = await s.get(m.Curriculum, curriculum_id)
            if row is None:
                raise NotFound(f"no curriculum with id {curriculum_id}", kind="curriculum", id=curriculum_id)
            runs = list((await s.execute(select(m.Run.id).where(m.Run.curriculum_id == curriculum_id)
                                         .order_by(m.Run.curriculum_index, m.Run.id))).scalars())
            return CurriculumSummary(row.id, list(row.envs), row.status, row.created_at, row.config, runs)

    async def list_curricula(self) -> list[CurriculumSummary]:
        async with self.reader() as s:
            ids = list((await s.execute(select(m.Curriculum.id).order_by(m.Curriculum.id))).scalars())
        return [await self.curriculum(i) for i in ids]
