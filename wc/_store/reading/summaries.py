"""Summaries: runs with their counters, episodes step by step, programs with their parents,
curricula and sweeps with their runs (what `wc runs`, `wc programs`, `wc report` show)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import case, func, select

from wc._core.values import NOT_FAILED, RunStatus
from wc._store import tables as t
from wc._store.reading.queries import Queries, aware, batches, live_status
from wc._store.records import (
    CurriculumSummary,
    EpisodeSummary,
    EpisodeTrace,
    FitRecord,
    LLMCallSummary,
    ProgramRecord,
    RunSummary,
    StepRecord,
    SweepCell,
    SweepSummary,
    UnsolvableStartRecord,
    action_value,
)
from wc.errors import NotFound


class Summaries(Queries):
    # ------------------------------------------------------------------ runs

    def runs(self) -> list[RunSummary]:
        """Every run with its counters (no per-episode or per-call lists), in a fixed number of
        queries however many runs there are."""
        return self.run_summaries(self._ids(select(t.runs.c.id).order_by(t.runs.c.id)), details=False)

    def run(self, run_id: int) -> RunSummary:
        """One run with its episodes and LLM calls over time."""
        found = self.run_summaries([run_id], details=True)
        if not found:
            raise NotFound(f"no run with id {run_id}", kind="run", id=run_id)
        return found[0]

    def run_summaries(self, run_ids: list[int], *, details: bool) -> list[RunSummary]:
        out: list[RunSummary] = []
        for batch in batches(run_ids):
            out += self._run_batch(batch, details)
        return out

    def _run_batch(self, run_ids: list[int], details: bool) -> list[RunSummary]:
        r, e, tr, c, p = t.runs, t.episodes, t.transitions, t.llm_calls, t.programs
        runs = self._all(select(r, t.environments.c.name.label("env_name"))
                         .join(t.environments, t.environments.c.id == r.c.environment_id)
                         .where(r.c.id.in_(run_ids)).order_by(r.c.id))
        episodes: dict[int, list[Any]] = defaultdict(list)
        for row in self._all(select(e).where(e.c.run_id.in_(run_ids)).order_by(e.c.run_id, e.c.index)):
            episodes[row.run_id].append(row._mapping)
        steps = dict(self._all(select(tr.c.run_id, func.count()).where(tr.c.run_id.in_(run_ids))
                               .group_by(tr.c.run_id)))
        calls = {row[0]: tuple(row[1:]) for row in self._all(select(
            c.c.run_id, func.count(c.c.id),
            func.coalesce(func.sum(case((c.c.status.in_(NOT_FAILED), 0), else_=1)), 0),
            func.coalesce(func.sum(c.c.prompt_tokens), 0), func.coalesce(func.sum(c.c.completion_tokens), 0),
            func.sum(c.c.cost_usd), func.count(c.c.cost_usd),
        ).where(c.c.run_id.in_(run_ids)).group_by(c.c.run_id))}
        programs = dict(self._all(select(p.c.run_id, func.count()).where(p.c.run_id.in_(run_ids))
                                  .group_by(p.c.run_id)))
        u = t.unsolvable_starts
        believed = dict(self._all(select(u.c.run_id, func.count()).where(u.c.run_id.in_(run_ids),
                                                                         u.c.reopened_at.is_(None))
                                  .group_by(u.c.run_id)))
        call_rows: dict[int, list[Any]] = defaultdict(list)
        if details:
            for row in self._all(select(c.c.id, c.c.run_id, c.c.started_at, c.c.purpose, c.c.status,
                                        c.c.prompt_tokens, c.c.completion_tokens, c.c.cost_usd, c.c.latency_s)
                                 .where(c.c.run_id.in_(run_ids)).order_by(c.c.id)):
                call_rows[row.run_id].append(row)
        out = []
        for run in runs:
            eps = episodes.get(run.id, [])
            n_calls, failed, ptok, ctok, cost, priced = calls.get(run.id, (0, 0, 0, 0, None, 0))
            first_success, seen = None, 0
            for ep in eps:
                seen += ep["steps"]
                if ep["success"]:
                    first_success = seen
                    break
            out.append(RunSummary(
                id=run.id, env=run.env_name, status=live_status(run.status, run.owner, run.heartbeat_at),
                model=run.model, seed=run.seed, created_at=run.created_at, finished_at=run.finished_at,
                episodes=len(eps), successes=sum(1 for ep in eps if ep["success"]),
                env_steps=int(steps.get(run.id, 0)), llm_calls=int(n_calls), llm_calls_failed=int(failed),
                prompt_tokens=int(ptok), completion_tokens=int(ctok), programs=int(programs.get(run.id, 0)),
                best_program_id=run.best_program_id, wall_seconds=run.wall_seconds,
                llm_wait_seconds=run.llm_wait_seconds, error=run.error, config=dict(run.config or {}),
                episode_list=[EpisodeSummary(ep["index"], ep["seed"], ep["mission"], ep["steps"], ep["total_reward"],
                                             ep["success"], ep["finished"], ep["plans"] or 0,
                                             ep["plans_undecided"] or 0, ep["plan_seconds"] or 0.0,
                                             ep["started_at"], ep["finished_at"])
                              for ep in eps] if details else [],
                cost_usd=float(cost) if priced else None, steps_to_first_success=first_success,
                curriculum_id=run.curriculum_id, curriculum_index=run.curriculum_index,
                sweep_id=run.sweep_id, sweep_index=run.sweep_index, node=run.node,
                unsolvable=int(believed.get(run.id, 0)),
                unsolvable_list=self.unsolvable_starts(run.id) if details else [],
                fit_list=self.run_fits(run.id) if details else [],
                llm_call_list=[LLMCallSummary(x.id, x.started_at, x.purpose, x.status, x.prompt_tokens,
                                              x.completion_tokens, x.cost_usd, x.latency_s)
                               for x in call_rows.get(run.id, [])]))
        return out

    def episode_trace(self, run_id: int, index: int) -> EpisodeTrace:
        """Episode `index` of a run, step by step (NotFound for an unknown run or episode)."""
        run = self.run(run_id)
        episode = next((e for e in run.episode_list if e.index == index), None)
        if episode is None:
            have = f"episodes 0-{len(run.episode_list) - 1}" if run.episode_list else "no episodes"
            raise NotFound(f"run {run_id} has no episode {index} (it has {have})", kind="episode", id=index)
        e, tr = t.episodes, t.transitions
        [episode_id] = self._ids(select(e.c.id).where(e.c.run_id == run_id, e.c.index == index))
        rows = self._all(select(tr).where(tr.c.episode_id == episode_id).order_by(tr.c.step))
        steps = [StepRecord(r.step, action_value(r.action), r.action_source, r.reward, r.done, r.truncated, r.state,
                            r.next_state, r.predicted_hash, r.predicted_state, r.next_state_hash, aware(r.recorded_at))
                 for r in rows]
        return EpisodeTrace(run_id, run.env, run.config, episode, steps)

    def unsolvable_starts(self, run_id: int) -> list[UnsolvableStartRecord]:
        """A run's starts believed unsolvable, reopened ones included, oldest first."""
        u, e = t.unsolvable_starts, t.episodes
        rows = self._all(select(u, e.c.index.label("episode_index")).outerjoin(e, e.c.id == u.c.episode_id)
                         .where(u.c.run_id == run_id).order_by(u.c.id))
        return [UnsolvableStartRecord(row.episode_index, row.state_hash, row.mission, row.program_id,
                                      aware(row.believed_at), aware(row.reopened_at)) for row in rows]

    def run_fits(self, run_id: int) -> list[FitRecord]:
        """The fits of PARAMS that made a run's programs, in the order the programs were stored."""
        f, p = t.program_fits, t.programs
        rows = self._all(select(f).join(p, p.c.id == f.c.program_id).where(p.c.run_id == run_id)
                         .order_by(f.c.program_id))
        return [_fit_record(row) for row in rows]

    # ------------------------------------------------------------------ programs

    def program(self, program_id: int) -> ProgramRecord:
        found = self.program_records([program_id])
        if not found:
            raise NotFound(f"no program with id {program_id}", kind="program", id=program_id)
        return found[0]

    def programs(self, *, env: str | None = None, run_id: int | None = None) -> list[ProgramRecord]:
        """Stored programs, optionally of one environment or run, oldest first; an unknown run is
        NotFound."""
        p = t.programs
        if run_id is not None and not self._ids(select(t.runs.c.id).where(t.runs.c.id == run_id)):
            raise NotFound(f"no run with id {run_id}", kind="run", id=run_id)
        query = select(p.c.id).join(t.environments, t.environments.c.id == p.c.environment_id)
        if env is not None:
            query = query.where(t.environments.c.name == env)
        if run_id is not None:
            query = query.where(p.c.run_id == run_id)
        return self.program_records(self._ids(query.order_by(p.c.id)))

    def program_records(self, ids: list[int]) -> list[ProgramRecord]:
        """Programs by id with their environment, API module and parents: two queries per batch."""
        p, pp, a = t.programs, t.program_parents, t.api_modules
        out: list[ProgramRecord] = []
        for batch in batches(ids):
            parents: dict[int, list[int]] = defaultdict(list)
            for child, parent in self._all(select(pp.c.child_id, pp.c.parent_id).where(pp.c.child_id.in_(batch))
                                           .order_by(pp.c.parent_id)):
                parents[child].append(parent)
            fits = {row.program_id: _fit_record(row) for row in self._all(
                select(t.program_fits).where(t.program_fits.c.program_id.in_(batch)))}
            rows = self._all(select(p, t.environments.c.name.label("env_name"), a.c.name.label("api_name"),
                                    a.c.version.label("api_version"))
                             .join(t.environments, t.environments.c.id == p.c.environment_id)
                             .join(a, a.c.id == p.c.api_module_id)
                             .where(p.c.id.in_(batch)).order_by(p.c.id))
            for row in rows:
                out.append(ProgramRecord(
                    id=row.id, run_id=row.run_id, environment=row.env_name, source=row.source,
                    source_hash=row.source_hash, origin=row.origin, parents=parents.get(row.id, []),
                    api_module=f"{row.api_name}_v{row.api_version}", created_at=row.created_at,
                    llm_call_id=row.llm_call_id, n_transitions=row.n_transitions, explained=row.explained, fit=row.fit,
                    optimism_ok=row.optimism_ok, optimism_total=row.optimism_total, score=row.score,
                    errors=row.errors, optimism_undecided=row.optimism_undecided,
                    contract_version=row.contract_version, fitted=fits.get(row.id)))
        return out

    # ------------------------------------------------------------------ curricula and sweeps

    def curricula(self) -> list[CurriculumSummary]:
        return self.curriculum_summaries(self._ids(select(t.curricula.c.id).order_by(t.curricula.c.id)))

    def curriculum(self, curriculum_id: int) -> CurriculumSummary:
        found = self.curriculum_summaries([curriculum_id])
        if not found:
            raise NotFound(f"no curriculum with id {curriculum_id}", kind="curriculum", id=curriculum_id)
        return found[0]

    def curriculum_summaries(self, ids: list[int]) -> list[CurriculumSummary]:
        if not ids:
            return []
        cu, r = t.curricula, t.runs
        rows = self._all(select(cu).where(cu.c.id.in_(ids)).order_by(cu.c.id))
        runs: dict[int, list[int]] = defaultdict(list)
        for run_id, curriculum_id in self._all(select(r.c.id, r.c.curriculum_id).where(r.c.curriculum_id.in_(ids))
                                               .order_by(r.c.curriculum_index, r.c.id)):
            runs[curriculum_id].append(run_id)
        return [CurriculumSummary(row.id, list(row.envs), row.status, row.created_at, row.config,
                                  runs.get(row.id, [])) for row in rows]

    def sweeps(self) -> list[SweepSummary]:
        return self.sweep_summaries(self._ids(select(t.sweeps.c.id).order_by(t.sweeps.c.id)))

    def sweep(self, sweep_id: int) -> SweepSummary:
        found = self.sweep_summaries([sweep_id])
        if not found:
            raise NotFound(f"no sweep with id {sweep_id}", kind="sweep", id=sweep_id)
        return found[0]

    def sweep_summaries(self, ids: list[int]) -> list[SweepSummary]:
        if not ids:
            return []
        sw, r = t.sweeps, t.runs
        rows = self._all(select(sw).where(sw.c.id.in_(ids)).order_by(sw.c.id))
        started: dict[tuple[int, int], int] = {}
        live: set[int] = set()  # sweeps a live process is playing
        for run_id, sweep_id, index, status, owner, beat in self._all(
                select(r.c.id, r.c.sweep_id, r.c.sweep_index, r.c.status, r.c.owner, r.c.heartbeat_at)
                .where(r.c.sweep_id.in_(ids)).order_by(r.c.id)):
            if sweep_id is not None and index is not None:
                started.setdefault((sweep_id, index), run_id)  # the first run of a cell plays it
                if live_status(status, owner, beat) == RunStatus.RUNNING:
                    live.add(sweep_id)
        out = []
        for row in rows:
            # read from its runs: running while any is live (another shard may still play when this
            # one stopped); a sweep whose process was killed still says 'running' in its row
            if row.id in live:
                status = RunStatus.RUNNING
            else:
                status = RunStatus.INTERRUPTED if row.status == RunStatus.RUNNING else row.status
            seeds = [int(x) for x in row.seeds]
            cells = [SweepCell(i * len(seeds) + j, env, seed, started.get((row.id, i * len(seeds) + j)))
                     for i, env in enumerate(row.envs) for j, seed in enumerate(seeds)]
            out.append(SweepSummary(row.id, list(row.envs), seeds, row.engine, status, row.created_at,
                                    dict(row.config or {}), cells))
        return out


def _fit_record(row: Any) -> FitRecord:
    return FitRecord(parent_id=row.parent_id, status=row.status, message=row.message, initial=row.initial,
                     fitted=row.fitted, budget_seconds=row.budget_seconds, n_transitions=row.n_transitions,
                     sample=row.sample, seconds=row.seconds, evaluations=row.evaluations, residuals=row.residuals,
                     identifiability=row.identifiability, program_id=row.program_id,
                     budget_evaluations=row.budget_evaluations, cut=row.cut)
