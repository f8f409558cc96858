"""Runs, their episodes and transitions: written as the run goes (one short transaction per
step, so a crash loses at most the step in flight), claimed by one live process at a time."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from wc._core.canonical import key_hash, state_hash, state_key
from wc._core.values import RunStatus
from wc._store import models as m
from wc._store.base import Database
from wc._store.reading import holder_alive
from wc._store.records import (
    EpisodeRecord,
    RunRecord,
    RunSummary,
    TransitionRecord,
    UnsolvableStartRecord,
    stored_action,
)
from wc.errors import RunBusy


class Runs:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ the run

    async def create(self, environment_id: int, *, config: dict[str, Any], seed: int, model: str | None,
                     owner: str | None = None, curriculum_id: int | None = None,
                     curriculum_index: int | None = None, sweep_id: int | None = None,
                     sweep_index: int | None = None, node: str | None = None, dataset_id: int | None = None) -> int:
        """A new run; `dataset_id`, the offline dataset it learns from (`wc fit`)."""
        async with self.db.write() as s:
            run = m.Run(environment_id=environment_id, config=config, seed=seed, model=model, dataset_id=dataset_id,
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
        return await self.db.reading(lambda r: r.run_record(run_id))

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

    @staticmethod
    def _busy(run: RunRecord) -> RunBusy:
        return RunBusy(f"run {run.id} is being run by another live process ({run.owner}); "
                       "resume it once that process has stopped", run_id=run.id, owner=run.owner)

    def check_claimable(self, run: RunRecord) -> None:
        """RunBusy when the run cannot be resumed: it finished, or a live process holds it. Asked
        before anything else a resume needs (an LLM key), so that the answer is the real reason."""
        if run.status == RunStatus.FINISHED:
            raise RunBusy(f"run {run.id} is already finished", run_id=run.id, finished=True,
                          best_program_id=run.best_program_id)
        if run.status == RunStatus.RUNNING and holder_alive(run.owner, run.heartbeat_at):
            raise self._busy(run)

    async def claim(self, run_id: int, owner: str, node: str | None = None) -> RunRecord:
        """Take over a run for resuming (on `node`, when given): refused when it finished or a
        live process holds it."""
        run = await self.get(run_id)
        self.check_claimable(run)
        busy = self._busy(run)
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

    async def heartbeat(self, run_id: int, owner: str, *, wall_seconds: float | None = None,
                        llm_wait_seconds: float | None = None) -> None:
        """The holder is alive; with the run's times so far, kept should it die unannounced."""
        values: dict[str, Any] = {"heartbeat_at": datetime.now(UTC)}
        if wall_seconds is not None:
            values["wall_seconds"] = wall_seconds
        if llm_wait_seconds is not None:
            values["llm_wait_seconds"] = llm_wait_seconds
        async with self.db.write() as s:
            await s.execute(update(m.Run).where(m.Run.id == run_id, m.Run.owner == owner).values(**values))

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

    async def add_transition(self, *, run_id: int, episode_id: int, step: int, state: list, action: Any,
                             next_state: list, reward: float, done: bool, truncated: bool, mission: str,
                             action_source: str | None = None, predicted_key: str | None = None) -> int:
        """One step. `action_source` says where the action came from (`plan`, `explore`, `llm`);
        `predicted_key` is the program's prediction of the next state (its canonical key), kept
        as a hash, and as the state itself where it differs from what happened."""
        next_key = state_key(next_state)
        predicted_hash = predicted_state = None
        if predicted_key is not None:
            predicted_hash = key_hash(predicted_key)
            if predicted_key != next_key:
                predicted_state = json.loads(predicted_key)
        async with self.db.write() as s:
            row = m.TransitionRow(run_id=run_id, episode_id=episode_id, step=step, state=state,
                                  action=stored_action(action), next_state=next_state, reward=reward, done=done,
                                  truncated=truncated,
                                  mission=mission, state_hash=state_hash(state),
                                  next_state_hash=key_hash(next_key),
                                  action_source=action_source, predicted_hash=predicted_hash,
                                  predicted_state=predicted_state)
            s.add(row)
            await s.flush()
            return row.id

    async def transitions(self, run_id: int) -> list[TransitionRecord]:
        return await self.db.reading(lambda r: r.transitions(run_id))

    async def episodes(self, run_id: int) -> list[EpisodeRecord]:
        return await self.db.reading(lambda r: r.episodes(run_id))

    # ------------------------------------------------------------------ starts believed unsolvable

    async def add_unsolvable(self, run_id: int, *, episode_id: int | None, state_hash: str, mission: str,
                             program_id: int) -> int:
        """A start believed unsolvable under `program_id` (φ2 no longer asks for a plan from it)."""
        async with self.db.write() as s:
            row = m.UnsolvableStart(run_id=run_id, episode_id=episode_id, state_hash=state_hash, mission=mission,
                                    program_id=program_id)
            s.add(row)
            await s.flush()
            return row.id

    async def reopen_unsolvable(self, run_id: int) -> None:
        """New data contradicts the program: the run's beliefs are reopened (their rows kept)."""
        async with self.db.write() as s:
            await s.execute(update(m.UnsolvableStart).where(m.UnsolvableStart.run_id == run_id,
                                                            m.UnsolvableStart.reopened_at.is_(None))
                            .values(reopened_at=datetime.now(UTC)))

    async def believed_unsolvable(self, run_id: int) -> list[UnsolvableStartRecord]:
        """The starts the run believes unsolvable now (not reopened), oldest first."""
        return [u for u in await self.db.reading(lambda r: r.unsolvable_starts(run_id)) if u.reopened_at is None]

    # ------------------------------------------------------------------ summaries

    async def summary(self, run_id: int) -> RunSummary:
        """One run with its episodes and LLM calls over time."""
        return await self.db.reading(lambda r: r.run(run_id))

    async def summaries(self) -> list[RunSummary]:
        """Every run with its counters (no per-episode or per-call lists), in a fixed number of
        queries however many runs there are."""
        return await self.db.reading(lambda r: r.runs())
