"""The WorldCoder loop: act, record, check φ1/φ2, refine, plan.

Per episode: reset; plan with the current program and follow the plan; explore with random
actions when there is no program or no plan; record every transition; refine when the program
stops explaining the data (φ1) or finds no plan from the episode's start (φ2).

Randomness is derived from (seed, episode, step) and (seed, refinement number), never from a
running generator, so a resumed run makes the same choices and re-asks the same prompts, whose
answers the store already holds.
"""
from __future__ import annotations

import random
import types
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from wc._core.canonical import start_key, state_hash, state_key
from wc._core.values import RunStatus, State, Transition
from wc._planning import PlanBudget, PlanResult
from wc._sandbox.sandbox import Sandbox
from wc._store import Store, TransitionRecord
from wc._synth.optimism import OptimismBudget
from wc._synth.refine import CallBudget, Candidate, Recorder, Refiner
from wc.envs.base import EnvAdapter
from wc.errors import EnvError, InvalidInput

OnEvent = Callable[[str, dict[str, Any]], None]


@dataclass
class LearnConfig:
    """Everything that decides what a run does; stored with the run."""

    env: str
    env_options: dict[str, Any] = field(default_factory=dict)  # domain options, e.g. {"games": PATH}
    episodes: int = 20
    max_steps: int | None = None       # per episode; the environment's own limit when None
    max_llm_calls: int = 20
    max_cost_usd: float | None = None  # no request is sent that could take the run's LLM cost past this
    concurrency: int = 4               # arms pulled at once after the first request of a refinement
    seed: int = 0
    solved: int | None = 10            # stop after this many consecutive successes …
    min_episodes: int = 1              # … once at least this many episodes were played (the paper: 11)
    c: float = 5.0                     # REx exploration constant
    min_transitions: int = 10          # distinct transitions before the first synthesis
    epsilon: float = 0.0               # chance of a random action while following a plan
    refine_cooldown: int = 10          # new transitions before retrying after a failed refinement
    max_shown: int = 12                # transitions shown when writing from scratch
    max_starts: int = 8                # recent episode starts checked for optimism (φ2)
    # LLM requests a start may cost while a program that fits every transition has no plan from it
    # (a complete search); then its episode is played exploring, and it no longer counts against
    # φ2 until new data contradicts the program. None: unbounded (the paper's φ2)
    optimism_requests: int | None = 1
    workers: int = 2                   # sandbox worker processes
    planner: str = PlanBudget.planner  # "bfws" (width-based, default) or "bfs" (shortest plans)
    plan_max_nodes: int = PlanBudget.max_nodes
    plan_seconds: float = PlanBudget.seconds
    plan_max_depth: int = PlanBudget.max_depth
    call_timeout: float = 2.0          # seconds per call of a program
    from_program: int | str | None = None  # a program id to start from, or "auto"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def plan_budget(self) -> PlanBudget:
        return PlanBudget(planner=self.planner, max_nodes=self.plan_max_nodes, max_depth=self.plan_max_depth,
                          seconds=self.plan_seconds)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LearnConfig:
        """A configuration as stored (with a run, or in a recording); a value of the wrong type
        is an InvalidInput that names it, not a crash later on."""
        if not isinstance(data, dict):
            raise InvalidInput(f"a configuration must be a JSON object, not {type(data).__name__}")
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        hints = typing.get_type_hints(cls)
        for key, value in values.items():
            if not _accepts(hints[key], value):
                raise InvalidInput(f"configuration field {key!r} cannot be {value!r}")
        if "env" not in values:
            raise InvalidInput("the configuration names no environment ('env')")
        if "planner" not in data:  # stored before the planner was a setting: it planned breadth-first
            values.update(planner="bfs", plan_seconds=10.0, plan_max_depth=100)
        if "optimism_requests" not in data:  # stored before optimism had a bound: it had none
            values["optimism_requests"] = None
        return cls(**values)


def _accepts(hint: Any, value: Any) -> bool:
    """Whether a JSON value fits a LearnConfig field's type (int, float, str, bool, dict, unions)."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(arg, value) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return True


@dataclass
class OpenEpisode:
    """An episode a crash left unfinished: replayed into the env, then continued."""

    id: int
    index: int
    seed: int | None
    mission: str
    transitions: list[TransitionRecord]  # in step order


@dataclass
class PlanBackoff:
    """When to plan again after a search that found nothing, and with how much budget: an
    undecided search is retried later with twice the budget (up to MAX_FACTOR), after 1, 2, 4, …
    exploring steps; a found plan resets it. So the agent never re-plans at full budget on every
    step, and a budget-limited search does not stall an episode."""

    MAX_FACTOR = 4.0
    MAX_WAIT = 16

    next_step: int = 0
    wait: int = 0
    factor: float = 1.0

    def due(self, t: int) -> bool:
        return t >= self.next_step

    def failed(self, t: int, undecided: bool) -> None:
        self.wait = min(self.MAX_WAIT, max(1, self.wait * 2))
        self.next_step = t + self.wait
        if undecided:
            self.factor = min(self.MAX_FACTOR, self.factor * 2)

    def reset(self) -> None:
        self.next_step, self.wait, self.factor = 0, 0, 1.0


@dataclass
class PlanStats:
    """Planning in one episode, recorded with it."""

    plans: int = 0
    undecided: int = 0
    seconds: float = 0.0
    nodes: int = 0

    def add(self, result: PlanResult) -> None:
        self.plans += 1
        self.undecided += int(result.undecided)
        self.seconds += result.seconds
        self.nodes += result.nodes


@dataclass
class ResumePoint:
    next_episode: int
    streak: int
    open_episode: OpenEpisode | None
    checkpoint: dict[str, Any]


class StoreRecorder(Recorder):
    def __init__(self, store: Store, run_id: int, environment_id: int, api_module_id: int, emit: OnEvent) -> None:
        self.store = store
        self.run_id = run_id
        self.environment_id = environment_id
        self.api_module_id = api_module_id
        self.emit = emit

    async def program(self, source: str, origin: str, parents: list[int], llm_call_id: int | None) -> int:
        return await self.store.programs.add(run_id=self.run_id, environment_id=self.environment_id,
                                            api_module_id=self.api_module_id, source=source, origin=origin,
                                            parents=parents, llm_call_id=llm_call_id)

    async def scores(self, cand: Candidate) -> None:
        ev, opt = cand.evaluation, cand.optimism
        errors: dict[str, Any] = dict(ev.error_counts())
        if ev.load_failure:
            errors = {"load": ev.load_failure}
        await self.store.programs.score(
            cand.program_id, n_transitions=ev.n, explained=ev.explained, fit=ev.fit,
            optimism_ok=None if opt is None else opt.ok, optimism_total=None if opt is None else len(opt.plans),
            optimism_undecided=None if opt is None else opt.undecided, score=cand.score, errors=errors or None)

    def event(self, kind: str, **data: Any) -> None:
        self.emit(kind, data)


class Agent:
    def __init__(self, *, config: LearnConfig, adapter: EnvAdapter, store: Store, sandbox: Sandbox,
                 refiner: Refiner, recorder: StoreRecorder, budget: CallBudget, run_id: int,
                 on_event: OnEvent | None = None) -> None:
        self.config = config
        self.adapter = adapter
        self.store = store
        self.sandbox = sandbox
        self.refiner = refiner
        self.recorder = recorder
        self.budget = budget
        self.run_id = run_id
        self.emit = on_event or (lambda kind, data: None)
        self.current: Candidate | None = None
        self.transferred: list[Candidate] = []  # programs from other runs, re-checked before asking the LLM
        self.starts: dict[str, tuple[State, str]] = {}  # by start_key, oldest first
        self.start_episodes: dict[str, int] = {}  # the first episode (id) that began at each start
        self.optimism = OptimismBudget(config.optimism_requests)
        self.refinements = 0
        self._failed_refine_at: int | None = None  # distinct transitions when a refinement last failed
        self._limit_noted = False
        self._unfit_noted: tuple[int, str] | None = None  # (program, why) last reported as kept unrefined

    # ------------------------------------------------------------------ checkpoints

    def checkpoint(self, refining: bool = False) -> dict[str, Any]:
        return {"refinements": self.refinements, "failed_refine_at": self._failed_refine_at, "refining": refining,
                "optimism": self.optimism.to_json()}

    def restore_checkpoint(self, data: dict[str, Any], believed: dict[str, int] | None = None) -> None:
        """Put back what a checkpoint holds; `believed`: the starts the store holds as believed
        unsolvable (not reopened), with the program that found no plan from each."""
        # a refinement that was under way is redone with the same number, so it asks the same questions
        self.refinements = int(data.get("refinements", 0)) - (1 if data.get("refining") else 0)
        self._failed_refine_at = data.get("failed_refine_at")
        self.optimism.restore(data.get("optimism"), believed or {})

    # ------------------------------------------------------------------ refinement

    def recent_starts(self) -> list[tuple[State, str]]:
        """The recent starts that count against φ2 (not set aside, not believed unsolvable)."""
        counted = [start for key, start in self.starts.items() if self.optimism.counts(key)]
        return counted[-self.config.max_starts:]

    def _may_refine(self) -> bool:
        if self.budget.remaining <= 0:
            return False
        if self._failed_refine_at is None:
            return True
        return len(self.sandbox.transitions) - self._failed_refine_at >= self.config.refine_cooldown

    async def adopt(self, candidate: Candidate) -> None:
        if self.current is None or candidate.program_id != self.current.program_id:
            self.current = candidate
            await self.store.runs.set_best_program(self.run_id, candidate.program_id)

    async def _refine(self, reason: str) -> None:
        starts = self.recent_starts()
        pool = [c for c in ([self.current] if self.current else []) + self.transferred]
        seen: dict[int, Candidate] = {}
        for cand in pool:  # re-check on all data, including the newest, at no LLM cost
            if cand.program_id not in seen:
                seen[cand.program_id] = await self.refiner.assess(cand.program_id, cand.source, starts)
        ranked = sorted(seen.values(), key=lambda c: (c.solved, c.score), reverse=True)
        if ranked and (ranked[0].solved or not self._may_refine()):
            changed = self.current is None or ranked[0].program_id != self.current.program_id
            await self.adopt(ranked[0])
            if ranked[0].solved:
                self._failed_refine_at = None
                self._unfit_noted = None
                self.emit("refine_start", {"reason": reason, "transitions": len(self.sandbox.transitions),
                                           "calls_left": self.budget.remaining})
                self.emit("refine_end", {"solved": True, "program_id": ranked[0].program_id, "calls": 0,
                                         "fit": ranked[0].evaluation.fit})
                return
            # nothing may be asked: said once per program and reason, not after every step
            why = "budget" if self.budget.remaining <= 0 else "cooldown"
            if changed or self._unfit_noted != (ranked[0].program_id, why):
                self._unfit_noted = (ranked[0].program_id, why)
                self.emit("refine_skipped", {"reason": reason, "why": why, "program_id": ranked[0].program_id,
                                             "fit": ranked[0].evaluation.fit, "calls_left": self.budget.remaining,
                                             "transitions": len(self.sandbox.transitions)})
            return
        self._unfit_noted = None
        self.emit("refine_start", {"reason": reason, "transitions": len(self.sandbox.transitions),
                                   "calls_left": self.budget.remaining})
        self.refinements += 1
        await self.store.runs.save_checkpoint(self.run_id, self.checkpoint(refining=True))
        self.refiner.rng = random.Random(f"{self.config.seed}:refine:{self.refinements}")
        best_known = ranked[0] if ranked else None
        result = await self.refiner.refine(best_known, starts, others=ranked[1:], optimism=self.optimism)
        chosen = result.best
        if chosen is not None and (best_known is None or chosen.score >= best_known.score):
            await self.adopt(chosen)
        elif best_known is not None:
            await self.adopt(best_known)
        self._failed_refine_at = None if result.solved else len(self.sandbox.transitions)
        await self.store.runs.save_checkpoint(self.run_id, self.checkpoint())
        self.emit("refine_end", {"solved": result.solved, "calls": result.calls, "set_aside": result.set_aside,
                                 "program_id": self.current.program_id if self.current else None,
                                 "fit": self.current.evaluation.fit if self.current else None})

    async def _reopen(self) -> None:
        """The program no longer fits the data: every start set aside or believed unsolvable under
        it counts against φ2 again, with its allowance back."""
        believed = len(self.optimism.believed)
        set_aside = len(self.optimism.set_aside())
        if self.optimism.reopen():
            if believed:
                await self.store.runs.reopen_unsolvable(self.run_id)
            await self.store.runs.save_checkpoint(self.run_id, self.checkpoint())
            if believed or set_aside:
                self.emit("reopened", {"believed": believed, "set_aside": set_aside})

    async def _judge_set_aside(self) -> None:
        """After an episode: a start set aside from which the program, still fitting all data,
        finds no plan in a complete search is believed unsolvable (and stored as such)."""
        current = self.current
        if current is None or not current.evaluation.fits:
            return
        changed = False
        for key in self.optimism.set_aside():
            if key not in self.starts or self.optimism.judged.get(key) == current.program_id:
                continue
            state, mission = self.starts[key]
            plan = (await self.sandbox.optimism(current.source, [(state, mission)])).plans[0]
            changed = True
            if plan.found:
                self.optimism.plan_found(key)
            elif plan.status == "exhausted":
                self.optimism.believe(key, current.program_id)
                await self.store.runs.add_unsolvable(self.run_id, episode_id=self.start_episodes.get(key),
                                                     state_hash=state_hash(state), mission=mission,
                                                     program_id=current.program_id)
                self.emit("unsolvable", {"program_id": current.program_id, "mission": mission,
                                         "believed": len(self.optimism.believed)})
            else:  # undecided: not judged again under this program
                self.optimism.judged[key] = current.program_id
        if changed:
            await self.store.runs.save_checkpoint(self.run_id, self.checkpoint())

    async def _after_step(self) -> bool:
        """Check the program on all data; refine when it broke. True when the plan is void."""
        cfg = self.config
        if self.current is not None:
            self.current.evaluation = await self.sandbox.evaluate(self.current.source)
            if not self.current.evaluation.fits:
                await self._reopen()
                if self._may_refine() or self.transferred:
                    await self._refine("data")
                return True
        elif len(self.sandbox.transitions) >= cfg.min_transitions and (self._may_refine() or self.transferred):
            await self._refine("scratch")
            return True
        return False

    # ------------------------------------------------------------------ acting

    async def _plan(self, state: State, mission: str, factor: float, stats: PlanStats, horizon: int) -> PlanResult:
        """A plan from `state`, within `horizon` steps left in the episode (one found near it is
        shortened)."""
        assert self.current is not None
        budget = replace(self.config.plan_budget.scaled(factor), horizon=horizon)
        result = await self.sandbox.plan(self.current.source, state, mission, budget)
        stats.add(result)
        self.emit("plan", {"found": result.found, "explore": result.explore, "status": result.status,
                           "length": len(result.actions), "shortened": result.shortened,
                           "nodes": result.nodes, "seconds": result.seconds, "factor": factor,
                           "program_id": self.current.program_id})
        return result

    def remember_start(self, state: State, mission: str, episode_id: int | None = None) -> str:
        key = start_key(state, mission)
        self.starts[key] = (state, mission)
        self.starts = dict(list(self.starts.items())[-self.config.max_starts * 4:])
        if episode_id is not None:
            self.start_episodes.setdefault(key, episode_id)
        return key

    def _step_limit(self, episode: int) -> int:
        """This episode's step limit, read after its reset (BabyAI levels set theirs at reset):
        --max-steps when given. Above the environment's own limit, it holds where the adapter
        could lift that limit, and is capped by it where not; either is said once per run."""
        limit = int(self.adapter.max_steps)
        requested = self.config.max_steps
        if not requested:
            return limit
        own = int(self.adapter.own_step_limit())
        if requested > own and not self._limit_noted:
            self._limit_noted = True
            self.emit("step_limit", {"episode": episode, "requested": requested, "own": own,
                                     "lifted": limit >= requested})
        return min(requested, limit)

    async def _restore(self, open_ep: OpenEpisode) -> tuple[State, str, float, int] | None:
        """Reset to the episode's seed and replay its recorded actions; None if the environment
        does not reproduce them (the episode is then closed as it stands)."""
        state, mission = self.adapter.reset(open_ep.seed)
        total = 0.0
        rows = open_ep.transitions
        if rows and state_key(state) != state_key(rows[0].state):
            return None
        for row in rows:
            step = self.adapter.step(row.action)
            if state_key(step.state) != state_key(row.next_state):
                return None
            total += step.reward
            state = step.state
            if step.terminated or step.truncated:
                return None
        return state, mission, total, len(rows)

    async def run(self, resume: ResumePoint | None = None) -> str:
        cfg = self.config
        if cfg.max_steps:
            self.adapter.lift_step_limit(cfg.max_steps)
        streak = resume.streak if resume else 0
        first = resume.next_episode if resume else 0
        if resume is not None and resume.open_episode is None:
            await self._after_step()  # finish the check a crash may have interrupted
        for episode in range(first, cfg.episodes):
            seed = cfg.seed * 1009 + episode  # disjoint env seeds per run seed; small level sets still rotate
            plan: list[str] = []
            expected: list[Any] = []  # the program's prediction of the state after each planned action
            optimism_checked = False
            restored = None
            if resume is not None and resume.open_episode is not None and resume.open_episode.index == episode:
                open_ep = resume.open_episode
                restored = await self._restore(open_ep)
                if restored is None:  # cannot continue it: close it as it stands and play the next
                    rows = open_ep.transitions
                    await self.store.runs.finish_episode(
                        open_ep.id, steps=len(rows), total_reward=sum(r.reward for r in rows),
                        success=bool(rows and rows[-1].done and rows[-1].reward > 0),
                        terminated=bool(rows and rows[-1].done), truncated=not (rows and rows[-1].done))
                    continue
                state, mission, total, steps = restored
                episode_id = open_ep.id
                first_state = open_ep.transitions[0].state if open_ep.transitions else state
                start = self.remember_start(first_state, mission, episode_id)
                self.emit("episode_start", {"episode": episode, "mission": mission, "seed": seed, "resumed": steps})
                if await self._after_step():
                    plan = []
            else:
                state, mission = self.adapter.reset(seed)
                episode_id = await self.store.runs.start_episode(self.run_id, episode, seed, mission)
                start = self.remember_start(state, mission, episode_id)
                self.emit("episode_start", {"episode": episode, "mission": mission, "seed": seed})
                total, steps = 0.0, 0
            max_steps = self._step_limit(episode)
            if not self.optimism.counts(start):
                self.emit("exploring", {"episode": episode, "believed": self.optimism.believed.get(start)})
            success = terminated = truncated = False
            backoff, stats = PlanBackoff(), PlanStats()
            planned_with = None
            for t in range(steps, max_steps):
                rng = random.Random(f"{cfg.seed}:{episode}:{t}")
                if self.current is not None and self.current.program_id != planned_with:
                    backoff.reset()  # a new program gets a fresh start
                    planned_with = self.current.program_id
                if self.current is not None and not plan and backoff.due(t):
                    result = await self._plan(state, mission, backoff.factor, stats, max_steps - t)
                    if not result.found and not result.undecided and not optimism_checked \
                            and self.current.evaluation.fits and self.optimism.counts(start) \
                            and (self._may_refine() or self.transferred):
                        # the program provably offers no way to the goal from here: ask for optimism
                        optimism_checked = True
                        await self._refine("optimism")
                        if not self.optimism.counts(start):  # its allowance is used up
                            self.emit("exploring", {"episode": episode, "believed": None})
                        if self.current is not None:
                            planned_with = self.current.program_id
                            backoff.reset()
                            result = await self._plan(state, mission, backoff.factor, stats, max_steps - t)
                    if result.found:
                        plan = list(result.actions)
                        expected = [key for key, _, _ in result.predictions]
                        backoff.reset()
                    else:
                        backoff.failed(t, result.undecided)
                predicted = None
                source = "explore"
                if plan and rng.random() >= cfg.epsilon:
                    action = plan.pop(0)
                    predicted = expected.pop(0) if expected else None
                    source = "plan"
                else:
                    action = rng.choice(self.adapter.available_actions())
                    plan = []
                step = self.adapter.step(action)
                steps += 1
                total += step.reward
                await self.store.runs.add_transition(
                    run_id=self.run_id, episode_id=episode_id, step=t, state=state, action=action,
                    next_state=step.state, reward=step.reward, done=step.terminated, truncated=step.truncated,
                    mission=mission, action_source=source, predicted_key=predicted)
                self.sandbox.add(Transition(state, action, step.state, step.reward, step.terminated, mission))
                self.emit("step", {"episode": episode, "t": t, "action": action, "reward": step.reward})
                state = step.state
                if predicted is not None and state_key(state) != predicted:
                    plan = []  # the world did what the program could not foresee (something came into sight)
                if await self._after_step():
                    plan = []
                if step.terminated or step.truncated:
                    terminated, truncated = step.terminated, step.truncated
                    success = step.terminated and step.reward > 0
                    break
            else:
                truncated = True
            if steps == 0 and not terminated:
                raise EnvError(f"episode {episode} of {self.adapter.name} ended after 0 steps without ending by its "
                               f"own rules (its step limit read {max_steps}): nothing was played",
                               name=self.adapter.name)
            await self.store.runs.finish_episode(episode_id, steps=steps, total_reward=total, success=success,
                                            terminated=terminated, truncated=truncated, plans=stats.plans,
                                            plans_undecided=stats.undecided, plan_seconds=stats.seconds)
            await self._judge_set_aside()
            if self.current is not None:  # its scores on all data so far, for lineage and transfer
                await self.recorder.scores(self.current)
            streak = streak + 1 if success else 0
            self.emit("episode_end", {"episode": episode, "success": success, "steps": steps, "return": total,
                                      "streak": streak, "plans": stats.plans, "plans_undecided": stats.undecided,
                                      "plan_seconds": stats.seconds, "plan_nodes": stats.nodes})
            if cfg.solved and streak >= cfg.solved and episode + 1 >= cfg.min_episodes:
                return RunStatus.FINISHED
        return RunStatus.FINISHED
