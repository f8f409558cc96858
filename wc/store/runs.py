"""Runs, their episodes and transitions: written as the run goes (one short transaction per
step, so a crash loses at most the step in flight), claimed by one live process at a time."""
from __future__ import annotations

import os
import socket
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from wc.canonical import state_hash
from wc.errors import NotFound, RunBusy
from wc.store import models as m
from wc.store.base import Database
from wc.store.records import EpisodeRecord, EpisodeSummary, LLMCallSummary, RunRecord, RunSummary, TransitionRecord
from wc.values import NOT_FAILED, RunStatus

STALE_AFTER = timedelta(seconds=30)  # a running run whose heartbeat is older has no live process


def holder_alive(owner: str | None, heartbeat_at: datetime | None) -> bool:
    """Whether the process named `host:pid` still runs: asked directly on this host, judged by
    its heartbeat elsewhere."""
    beat = _aware(heartbeat_at)
    if owner is None or beat is None or datetime.now(UTC) - beat > STALE_AFTER:
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
        return moment.replace(tzinfo=UTC)
    return moment


def live_status(status: str, owner: str | None, heartbeat_at: datetime | None) -> str:
    """'running' only while a live process holds the run; a killed one reads 'interrupted'."""
    if status == RunStatus.RUNNING and not holder_alive(owner, heartbeat_at):
        return RunStatus.INTERRUPTED
    return status


def _record(run: m.Run) -> RunRecord:
    return RunRecord(
        id=run.id, environment_id=run.environment_id, status=run.status, config=dict(run.config or {}),
        seed=run.seed, model=run.model, owner=run.owner, heartbeat_at=_aware(run.heartbeat_at),
        checkpoint=run.checkpoint, best_program_id=run.best_program_id, wall_seconds=run.wall_seconds,
        llm_wait_seconds=run.llm_wait_seconds, error=run.error, created_at=run.created_at,
        finished_at=run.finished_at, curriculum_id=run.curriculum_id, curriculum_index=run.curriculum_index,
        sweep_id=run.sweep_id, sweep_index=run.sweep_index, node=run.node)


class Runs:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ the run

    async def create(self, environment_id: int, *, config: dict[str, Any], seed: int, model: str,
                     owner: str | None = None, curriculum_id: int | None = None,
                     curriculum_index: int | None = None, sweep_id: int | None = None,
                     sweep_index: int | None = None, node: str | None = None) -> int:
        async with self.db.write() as s:
            run = m.Run(environment_id=environment_id, config=config, seed=seed, model=model,
                        status=RunStatus.RUNNING, owner=owner, node=node, heartbeat_at=datetime.now(UTC),
                        curriculum_id=curriculum_id, curriculum_index=curriculum_index, sweep_id=sweep_id,
                        sweep_index=sweep_index)
            s.add(run)
            try:
                await s.flush()
            except IntegrityError:
                if sweep_id is None:
                    raise
                # another process started this cell of the sweep a moment ago: it plays it
                raise RunBusy(f"cell {sweep_index} of sweep {sweep_id} is already played by another process",
                              run_id=None) from None
            return run.id

    async def get(self, run_id: int) -> RunRecord:
        async with self.db.read() as s:
            run = await s.get(m.Run, run_id)
            if run is None:
                raise NotFound(f"no run with id {run_id}", kind="run", id=run_id)
            return _record(run)

    async def finish(self, run_id: int, *, status: str, best_program_id: int | None, wall_seconds: float,
                     llm_wait_seconds: float, error: str | None = None) -> None:
        values: dict[str, Any] = dict(status=status, wall_seconds=wall_seconds, llm_wait_seconds=llm_wait_seconds,
                                      error=error, finished_at=datetime.now(UTC))
        if best_program_id is not None:  # None keeps the best program recorded during the run
            values["best_program_id"] = best_program_id
        async with self.db.write() as s:
            await s.execute(update(m.Run).where(m.Run.id == run_id).values(**values))

    async def set_best_program(self, run_id: int, program_id: int | None) -> None:
        async with self.db.write() as s:
            await s.execute(update(m.Run).where(m.Run.id == run_id).values(best_program_id=program_id))

    async def claim(self, run_id: int, owner: str, node: str | None = None) -> RunRecord:
        """Take over a run for resuming (on `node`, when given): refused when it finished or a
        live process holds it."""
        run = await self.get(run_id)
        if run.status == RunStatus.FINISHED:
            raise RunBusy(f"run {run_id} is already finished", run_id=run_id, finished=True,
                          best_program_id=run.best_program_id)
        busy = RunBusy(f"run {run_id} is being run by another live process ({run.owner}); "
                       "resume it once that process has stopped", run_id=run_id, owner=run.owner)
        if run.status == RunStatus.RUNNING and holder_alive(run.owner, run.heartbeat_at):
            raise busy
        async with self.db.write() as s:
            # compare-and-swap on the holder: of two processes resuming at once, one wins
            holder = m.Run.owner.is_(None) if run.owner is None else m.Run.owner == run.owner
            result = await s.execute(
                update(m.Run).where(m.Run.id == run_id, holder, m.Run.status == run.status)
                .values(status=RunStatus.RUNNING, owner=owner, heartbeat_at=datetime.now(UTC), error=None,
                        finished_at=None, **({"node": node} if node is not None else {})))
            if getattr(result, "rowcount", 0) != 1:  # an UPDATE's CursorResult
                raise busy
        return await self.get(run_id)

    async def heartbeat(self, run_id: int, owner: str) -> None:
        async with self.db.write() as s:
            await s.execute(update(m.Run).where(m.Run.id == run_id, m.Run.owner == owner)
                            .values(heartbeat_at=datetime.now(UTC)))

    async def save_checkpoint(self, run_id: int, checkpoint: dict[str, Any]) -> None:
        async with self.db.write() as s:
            await s.execute(update(m.Run).where(m.Run.id == run_id).values(checkpoint=checkpoint))

    # ------------------------------------------------------------------ episodes and transitions

    async def start_episode(self, run_id: int, index: int, seed: int | None, mission: str) -> int:
        async with self.db.write() as s:
            ep = m.Episode(run_id=run_id, index=index, seed=seed, mission=mission)
            s.add(ep)
            await s.flush()
            return ep.id

    async def finish_episode(self, episode_id: int, *, steps: int, total_reward: float, success: bool,
                             terminated: bool, truncated: bool, plans: int = 0, plans_undecided: int = 0,
                             plan_seconds: float = 0.0) -> None:
        async with self.db.write() as s:
            await s.execute(update(m.Episode).where(m.Episode.id == episode_id).values(
                steps=steps, total_reward=total_reward, success=success, terminated=terminated,
                truncated=truncated, finished=True, finished_at=datetime.now(UTC), plans=plans,
                plans_undecided=plans_undecided, plan_seconds=plan_seconds))

    async def add_transition(self, *, run_id: int, episode_id: int, step: int, state: list, action: str,
                             next_state: list, reward: float, done: bool, truncated: bool, mission: str) -> int:
        async with self.db.write() as s:
            row = m.TransitionRow(run_id=run_id, episode_id=episode_id, step=step, state=state, action=action,
                                  next_state=next_state, reward=reward, done=done, truncated=truncated,
                                  mission=mission, state_hash=state_hash(state),
                                  next_state_hash=state_hash(next_state))
            s.add(row)
            await s.flush()
            return row.id

    async def transitions(self, run_id: int) -> list[TransitionRecord]:
        async with self.db.read() as s:
            rows = await s.execute(select(m.TransitionRow).where(m.TransitionRow.run_id == run_id)
                                   .order_by(m.TransitionRow.id))
            return [TransitionRecord(r.id, r.episode_id, r.step, r.state, r.action, r.next_state, r.reward, r.done,
                                     r.truncated, r.mission, r.state_hash, r.next_state_hash) for r in rows.scalars()]

    async def episodes(self, run_id: int) -> list[EpisodeRecord]:
        async with self.db.read() as s:
            rows = await s.execute(select(m.Episode).where(m.Episode.run_id == run_id).order_by(m.Episode.index))
            return [EpisodeRecord(e.id, e.index, e.seed, e.mission, e.steps, e.total_reward, e.success, e.finished)
                    for e in rows.scalars()]

    # ------------------------------------------------------------------ summaries

    async def summary(self, run_id: int) -> RunSummary:
        """One run with its episodes and LLM calls over time."""
        found = await self._summaries([run_id], details=True)
        if not found:
            raise NotFound(f"no run with id {run_id}", kind="run", id=run_id)
        return found[0]

    async def summaries(self) -> list[RunSummary]:
        """Every run with its counters (no per-episode or per-call lists), in a fixed number of
        queries however many runs there are."""
        async with self.db.read() as s:
            ids = list((await s.execute(select(m.Run.id).order_by(m.Run.id))).scalars())
        return await self._summaries(ids, details=False)

    async def _summaries(self, run_ids: list[int], *, details: bool) -> list[RunSummary]:
        if not run_ids:
            return []
        wanted = m.Run.id.in_(run_ids)
        async with self.db.read() as s:
            runs = (await s.execute(select(m.Run, m.Environment.name)
                                    .join(m.Environment, m.Environment.id == m.Run.environment_id)
                                    .where(wanted).order_by(m.Run.id))).all()
            episodes: dict[int, list[m.Episode]] = defaultdict(list)
            for e in (await s.execute(select(m.Episode).where(m.Episode.run_id.in_(run_ids))
                                      .order_by(m.Episode.run_id, m.Episode.index))).scalars():
                episodes[e.run_id].append(e)
            steps = dict((await s.execute(select(m.TransitionRow.run_id, func.count())
                                          .where(m.TransitionRow.run_id.in_(run_ids))
                                          .group_by(m.TransitionRow.run_id))).all())
            calls = {row[0]: row[1:] for row in (await s.execute(select(
                m.LLMCallRow.run_id, func.count(m.LLMCallRow.id),
                func.coalesce(func.sum(case((m.LLMCallRow.status.in_(NOT_FAILED), 0), else_=1)), 0),
                func.coalesce(func.sum(m.LLMCallRow.prompt_tokens), 0),
                func.coalesce(func.sum(m.LLMCallRow.completion_tokens), 0),
                func.sum(m.LLMCallRow.cost_usd), func.count(m.LLMCallRow.cost_usd),
            ).where(m.LLMCallRow.run_id.in_(run_ids)).group_by(m.LLMCallRow.run_id))).all()}
            programs = dict((await s.execute(select(m.ProgramRow.run_id, func.count())
                                             .where(m.ProgramRow.run_id.in_(run_ids))
                                             .group_by(m.ProgramRow.run_id))).all())
            call_rows: dict[int, list[m.LLMCallRow]] = defaultdict(list)
            if details:
                for c in (await s.execute(select(m.LLMCallRow).where(m.LLMCallRow.run_id.in_(run_ids))
                                          .order_by(m.LLMCallRow.id))).scalars():
                    if c.run_id is not None:
                        call_rows[c.run_id].append(c)
        out = []
        for run, env_name in runs:
            eps = episodes.get(run.id, [])
            n_calls, failed, ptok, ctok, cost, priced = calls.get(run.id, (0, 0, 0, 0, None, 0))
            first_success, seen = None, 0
            for e in eps:
                seen += e.steps
                if e.success:
                    first_success = seen
                    break
            out.append(RunSummary(
                id=run.id, env=env_name, status=live_status(run.status, run.owner, run.heartbeat_at),
                model=run.model, seed=run.seed, created_at=run.created_at, finished_at=run.finished_at,
                episodes=len(eps), successes=sum(1 for e in eps if e.success), env_steps=int(steps.get(run.id, 0)),
                llm_calls=int(n_calls), llm_calls_failed=int(failed), prompt_tokens=int(ptok),
                completion_tokens=int(ctok), programs=int(programs.get(run.id, 0)),
                best_program_id=run.best_program_id, wall_seconds=run.wall_seconds,
                llm_wait_seconds=run.llm_wait_seconds, error=run.error, config=dict(run.config or {}),
                episode_list=[EpisodeSummary(e.index, e.seed, e.mission, e.steps, e.total_reward, e.success,
                                             e.finished, e.plans or 0, e.plans_undecided or 0, e.plan_seconds or 0.0,
                                             e.started_at, e.finished_at)
                              for e in eps] if details else [],
                cost_usd=float(cost) if priced else None, steps_to_first_success=first_success,
                curriculum_id=run.curriculum_id, curriculum_index=run.curriculum_index,
                sweep_id=run.sweep_id, sweep_index=run.sweep_index, node=run.node,
                llm_call_list=[LLMCallSummary(c.id, c.started_at, c.purpose, c.status, c.prompt_tokens,
                                              c.completion_tokens, c.cost_usd, c.latency_s)
                               for c in call_rows.get(run.id, [])]))
        return out
