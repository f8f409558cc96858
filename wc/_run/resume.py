"""Resuming a run from the store: where it stood (the resume point), and the agent's state put
back (transitions into the sandbox, its program and the transferred ones, its checkpoint)."""
from __future__ import annotations

from wc._agent.agent import Agent
from wc._agent.episode import OpenEpisode, ResumePoint
from wc._core.canonical import start_key_of_hash
from wc._sandbox.param_fit import ParamFit
from wc._sandbox.sandbox import Sandbox
from wc._store import FitRecord, Store
from wc._synth.refine import Refiner


async def resume_point(store: Store, run_id: int) -> ResumePoint:
    """The next episode, the winning streak, and the episode a crash left open (if any)."""
    episodes = await store.runs.episodes(run_id)
    rows = await store.runs.transitions(run_id)
    by_episode: dict[int, list] = {}
    for row in rows:
        by_episode.setdefault(row.episode_id, []).append(row)
    finished = [e for e in episodes if e.finished]
    open_eps = [e for e in episodes if not e.finished]
    streak = 0
    for e in sorted(finished, key=lambda e: e.index):
        streak = streak + 1 if e.success else 0
    returns = [e.total_reward for e in sorted(finished, key=lambda e: e.index)]
    open_ep = None
    if open_eps:
        e = open_eps[-1]
        open_ep = OpenEpisode(e.id, e.index, e.seed, e.mission, sorted(by_episode.get(e.id, []), key=lambda r: r.step))
    next_episode = (max(e.index for e in episodes) + (0 if open_ep else 1)) if episodes else 0
    run = await store.runs.get(run_id)
    return ResumePoint(next_episode, streak, open_ep, run.checkpoint or {}, returns)


async def restore_agent(store: Store, run_id: int, agent: Agent, sandbox: Sandbox, refiner: Refiner,
                        point: ResumePoint) -> None:
    """Put the run's recorded state back into a freshly built agent."""
    for row in await store.runs.transitions(run_id):
        sandbox.add(row)
        if row.step == 0:
            agent.remember_start(row.state, row.mission, row.episode_id)
    believed = {start_key_of_hash(u.state_hash, u.mission): u.program_id
                for u in await store.runs.believed_unsolvable(run_id)}
    agent.restore_checkpoint(point.checkpoint, believed)
    if agent.action_space is not None:  # a return world: the best return so far, φ2's target without a threshold
        for total in point.returns:
            agent.returned(total)
    run = await store.runs.get(run_id)
    if run.best_program_id is not None:
        record = await store.programs.get(run.best_program_id)
        agent.current = await refiner.assess(record.id, record.source, agent.recent_starts(), fit_of(record.fitted))
    transferred = [p for p in await store.programs.find(run_id=run_id) if p.origin == "transfer"]
    for record in transferred:
        if agent.current is None or record.id != agent.current.program_id:
            agent.transferred.append(await refiner.assess(record.id, record.source, agent.recent_starts(),
                                                          fit_of(record.fitted)))


def fit_of(record: FitRecord | None) -> ParamFit | None:
    """The stored fit that made a program, as the refiner holds it: a resumed run's prompts show
    the program's fit as the uninterrupted run's did."""
    if record is None:
        return None
    res, ident = record.residuals or {}, record.identifiability or {}
    return ParamFit(status=record.status, values=dict(record.fitted), initial=dict(record.initial),
                    message=record.message, seconds=record.seconds, evaluations=record.evaluations,
                    sample=int(res.get("sample", len(record.sample))), cost_initial=res.get("cost_initial"),
                    cost_final=res.get("cost_final"), within=int(res.get("within", 0)),
                    max_error=dict(res.get("max_error") or {}), rms=res.get("rms"), failed=int(res.get("failed", 0)),
                    rank=ident.get("rank"), undetermined=[list(g) for g in ident.get("undetermined") or []],
                    std_errors=dict(ident.get("std_errors") or {}), cut=record.cut)
