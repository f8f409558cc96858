"""Records as the library reads them back: a run's row, its transitions, episodes and LLM calls,
a program's lineage, the programs a run may start from, offline datasets and API modules."""
from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from wc._core.values import ANSWERED, RecordedAnswer
from wc._store import tables as t
from wc._store.reading.queries import aware, batches
from wc._store.reading.summaries import Summaries
from wc._store.records import (
    CallAtStep,
    DatasetRecord,
    DataTransition,
    EpisodeRecord,
    LLMCallRecord,
    MeasureRecord,
    ProgramRecord,
    RunRecord,
    TransitionRecord,
    action_value,
)
from wc.errors import NotFound


class Records(Summaries):
    # ------------------------------------------------------------------ a run's rows

    def run_record(self, run_id: int) -> RunRecord:
        rows = self._all(select(t.runs).where(t.runs.c.id == run_id))
        if not rows:
            raise NotFound(f"no run with id {run_id}", kind="run", id=run_id)
        run = rows[0]
        return RunRecord(
            id=run.id, environment_id=run.environment_id, status=run.status, config=dict(run.config or {}),
            seed=run.seed, model=run.model, owner=run.owner, heartbeat_at=aware(run.heartbeat_at),
            checkpoint=run.checkpoint, best_program_id=run.best_program_id, wall_seconds=run.wall_seconds,
            llm_wait_seconds=run.llm_wait_seconds, error=run.error, created_at=run.created_at,
            finished_at=run.finished_at, curriculum_id=run.curriculum_id, curriculum_index=run.curriculum_index,
            sweep_id=run.sweep_id, sweep_index=run.sweep_index, node=run.node, dataset_id=run.dataset_id)

    def transitions(self, run_id: int) -> list[TransitionRecord]:
        tr = t.transitions
        return [TransitionRecord(r.state, action_value(r.action), r.next_state, r.reward, r.done, r.mission, id=r.id,
                                 episode_id=r.episode_id, step=r.step, truncated=r.truncated,
                                 state_hash=r.state_hash, next_state_hash=r.next_state_hash)
                for r in self._all(select(tr).where(tr.c.run_id == run_id).order_by(tr.c.id))]

    def episodes(self, run_id: int) -> list[EpisodeRecord]:
        e = t.episodes
        rows = [r._mapping for r in self._all(select(e).where(e.c.run_id == run_id).order_by(e.c.index))]
        return [EpisodeRecord(r["id"], r["index"], r["seed"], r["mission"], r["steps"], r["total_reward"], r["success"],
                              r["finished"]) for r in rows]

    # ------------------------------------------------------------------ LLM calls

    def llm_calls(self, run_id: int) -> list[LLMCallRecord]:
        c = t.llm_calls
        return [LLMCallRecord(r.id, r.purpose, r.model, r.messages, r.request_hash, r.sample, r.attempt, r.answer,
                              r.prompt_tokens, r.completion_tokens, r.latency_s, r.status, r.error, r.cost_usd,
                              r.started_at)
                for r in self._all(select(c).where(c.c.run_id == run_id).order_by(c.c.id))]

    def llm_call_count(self, run_id: int) -> int:
        c = t.llm_calls
        return int(self._all(select(func.count()).select_from(c).where(c.c.run_id == run_id))[0][0])

    def recorded_answers(self, run_id: int) -> list[RecordedAnswer]:
        """Answers the run already paid for, in the order they were received."""
        c = t.llm_calls
        rows = self._all(select(c).where(c.c.run_id == run_id, c.c.status.in_(ANSWERED)).order_by(c.c.id))
        return [RecordedAnswer(r.request_hash, r.sample, r.answer or "", r.id, r.prompt_tokens, r.completion_tokens)
                for r in rows]

    def calls_at_steps(self, run_id: int) -> list[CallAtStep]:
        """The run's LLM calls in the order sent, each with the number of env steps (transitions)
        recorded before it started: the x-axis of the cost curve (calls and tokens against steps)."""
        c, tr, e = t.llm_calls, t.transitions, t.episodes
        calls = self._all(select(c.c.id, c.c.started_at, c.c.prompt_tokens, c.c.completion_tokens, c.c.status)
                          .where(c.c.run_id == run_id).order_by(c.c.id))
        if not calls:
            return []
        times = [aware(r[0]) for r in self._all(select(tr.c.recorded_at).where(tr.c.run_id == run_id)
                                                .order_by(tr.c.id))]
        exact = all(moment is not None for moment in times)
        episodes = [] if exact else self._all(select(e.c.started_at, e.c.finished_at, e.c.steps)
                                              .where(e.c.run_id == run_id).order_by(e.c.index))
        recorded = sorted(moment for moment in times if moment is not None)
        out = []
        for call_id, started, ptok, ctok, status in calls:
            at = started if started.tzinfo is not None else started.replace(tzinfo=UTC)
            step = bisect.bisect_right(recorded, at) if exact else _estimated(episodes, at, len(times))
            out.append(CallAtStep(call_id, at, step, ptok, ctok, status, exact))
        return out

    # ------------------------------------------------------------------ programs

    def lineage_rows(self, program_id: int) -> tuple[list[Any], set[tuple[int, int]]]:
        """A program's ancestors and descendants (NotFound for an unknown id): a row per program
        (id, run_id, origin, fit, score, explained, n_transitions, created_at, env, the run's best
        program id, the run's dataset id and the dataset's name) and the edges (parent, child)
        between them."""
        self.program(program_id)
        pp, p, r = t.program_parents, t.programs, t.runs
        nodes = {program_id}
        edges: set[tuple[int, int]] = set()
        for column, towards_parent in ((pp.c.child_id, True), (pp.c.parent_id, False)):
            frontier, seen = {program_id}, {program_id}
            while frontier:
                batch, frontier = list(frontier), set()
                for ids in batches(batch):
                    for parent, child in self._all(select(pp.c.parent_id, pp.c.child_id).where(column.in_(ids))):
                        edges.add((parent, child))
                        nxt = parent if towards_parent else child
                        if nxt not in seen:
                            seen.add(nxt)
                            frontier.add(nxt)
            nodes |= seen
        rows: list[Any] = []
        for ids in batches(sorted(nodes)):
            rows += self._all(
                select(p.c.id, p.c.run_id, p.c.origin, p.c.fit, p.c.score, p.c.explained, p.c.n_transitions,
                       p.c.created_at, t.environments.c.name, r.c.best_program_id, r.c.dataset_id, t.datasets.c.name)
                .join(t.environments, t.environments.c.id == p.c.environment_id)
                .outerjoin(r, r.c.id == p.c.run_id)
                .outerjoin(t.datasets, t.datasets.c.id == r.c.dataset_id)
                .where(p.c.id.in_(ids)))
        return rows, edges

    def transfer_candidates(self, api_module_name: str, exclude_env: str) -> list[tuple[str, str, ProgramRecord]]:
        """For each other environment whose programs use the same API module: its best program
        (the runs' final models first, then by score), as (environment name, env id, program)."""
        env, p, a, r = t.environments, t.programs, t.api_modules, t.runs
        rows = self._all(
            select(env.c.name, env.c.env_id, p.c.id, p.c.score, p.c.fit, p.c.n_transitions, r.c.best_program_id)
            .join(p, p.c.environment_id == env.c.id)
            .join(a, a.c.id == p.c.api_module_id)
            .outerjoin(r, r.c.id == p.c.run_id)
            .where(a.c.name == api_module_name, env.c.name != exclude_env, p.c.fit.is_not(None)))
        best: dict[str, tuple] = {}
        for name, env_id, pid, score, fit, n, run_best in rows:
            key = (run_best == pid, score or 0.0, fit or 0.0, n or 0, pid)
            if name not in best or key > best[name][0]:
                best[name] = (key, env_id, pid)
        records = {rec.id: rec for rec in self.program_records([pid for _, _, pid in best.values()])}
        return [(name, env_id, records[pid]) for name, (_, env_id, pid) in best.items()]

    # ------------------------------------------------------------------ offline datasets

    def datasets(self, *where: Any) -> list[DatasetRecord]:
        """Datasets (complete ones by default) with their environment and API module, oldest first."""
        d, env, a = t.datasets, t.environments, t.api_modules
        rows = self._all(select(d, env.c.name.label("env_name"), env.c.env_id.label("env_gym_id"),
                                a.c.name.label("api_name"), a.c.version.label("api_version"))
                         .join(env, env.c.id == d.c.environment_id).join(a, a.c.id == d.c.api_module_id)
                         .where(*(where or (d.c.status == "complete",))).order_by(d.c.id))
        return [DatasetRecord(
            id=row.id, environment=row.env_name, env_id=row.env_gym_id, api_module=f"{row.api_name}_v{row.api_version}",
            name=row.name, format=row.format, location=row.location, content_hash=row.content_hash,
            data_env_id=row.data_env_id, mission=row.mission, status=row.status, n_transitions=row.n_transitions,
            n_episodes=row.n_episodes, n_done=row.n_done, n_truncated=row.n_truncated, meta=dict(row.meta or {}),
            created_at=row.created_at, finished_at=row.finished_at) for row in rows]

    def dataset(self, dataset_id: int) -> DatasetRecord:
        found = self.datasets(t.datasets.c.id == dataset_id)
        if not found:
            raise NotFound(f"no dataset with id {dataset_id}", kind="dataset", id=dataset_id)
        return found[0]

    def dataset_with(self, environment_id: int, api_module_id: int, content_hash: str, *,
                     complete: bool) -> list[int]:
        """The datasets of this content for this environment and API module: the complete ones,
        or (`complete=False`) those whose import did not finish."""
        d = t.datasets
        status = d.c.status == "complete" if complete else d.c.status != "complete"
        return self._ids(select(d.c.id).where(d.c.environment_id == environment_id,
                                              d.c.api_module_id == api_module_id,
                                              d.c.content_hash == content_hash, status).order_by(d.c.id))

    def dataset_transitions(self, dataset_id: int) -> list[DataTransition]:
        """A dataset's transitions in order (what `wc fit` gives the sandbox)."""
        self.dataset(dataset_id)
        c = t.dataset_transitions.c
        rows = self._all(select(c.episode, c.step, c.state, c.action, c.next_state, c.reward, c.done, c.truncated)
                         .where(c.dataset_id == dataset_id).order_by(c.id))
        return [DataTransition(r.state, r.action, r.next_state, r.reward, bool(r.done), episode=r.episode,
                               step=r.step, truncated=bool(r.truncated)) for r in rows]

    def dataset_of_program(self, program_id: int) -> DatasetRecord | None:
        """The dataset a program's data came from: its run's (None for a program of a run that
        acted in its environment, or of none)."""
        p, r = t.programs, t.runs
        found = self._all(select(r.c.dataset_id).join(p, p.c.run_id == r.c.id).where(p.c.id == program_id))
        dataset_id = found[0][0] if found else None
        if dataset_id is None and not self._ids(select(p.c.id).where(p.c.id == program_id)):
            raise NotFound(f"no program with id {program_id}", kind="program", id=program_id)
        return None if dataset_id is None else self.dataset(dataset_id)

    # ------------------------------------------------------------------ measures

    def measures(self, kind: str, *, run_id: int | None = None) -> list[MeasureRecord]:
        """Measures of this kind (of one run), oldest first, with their run's environment and model."""
        ms, r, env = t.measures, t.runs, t.environments
        query = (select(ms, env.c.name.label("env_name"), r.c.model.label("run_model"), r.c.config.label("run_config"))
                 .join(r, r.c.id == ms.c.run_id).join(env, env.c.id == r.c.environment_id)
                 .where(ms.c.kind == kind, *(() if run_id is None else (ms.c.run_id == run_id,))).order_by(ms.c.id))
        return [MeasureRecord(id=row.id, run_id=row.run_id, program_id=row.program_id, kind=row.kind,
                              settings=dict(row.settings or {}), result=dict(row.result or {}),
                              created_at=aware(row.created_at) or row.created_at, env=row.env_name, model=row.run_model,
                              run_config=dict(row.run_config or {})) for row in self._all(query)]

    # ------------------------------------------------------------------ API modules

    def api_module_source(self, ref: str) -> str:
        name, _, version = ref.rpartition("_v")
        a = t.api_modules
        rows = self._all(select(a.c.source).where(a.c.name == name, a.c.version == int(version)))
        if not rows:
            raise NotFound(f"no API module {ref} in the store", kind="api module", id=ref)
        return rows[0][0]


def _estimated(episodes: Sequence[Any], moment: datetime, total: int) -> int:
    """Steps before `moment` from episode times alone: the steps of the episodes finished by then,
    and of the one under way a share proportional to its elapsed time."""
    steps = 0
    for started, finished, n in episodes:
        started, finished = aware(started), aware(finished)
        if finished is not None and finished <= moment:
            steps += n
        elif started is not None and started <= moment and finished is not None and finished > started:
            steps += int(n * (moment - started) / (finished - started))
    return min(steps, total)
