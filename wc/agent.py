"""The WorldCoder loop: act, record, check φ1/φ2, refine, plan.

Per episode: reset; plan with the current program and follow the plan; explore with random
actions when there is no program or no plan; record every transition; refine when the program
stops explaining the data (φ1) or finds no plan from the episode's start (φ2).
"""
from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from wc.envs.base import EnvAdapter
from wc.programs.canonical import State, state_key
from wc.programs.sandbox import Sandbox
from wc.store import Store
from wc.synth.refine import CallBudget, Candidate, Recorder, Refiner

OnEvent = Callable[[str, dict[str, Any]], None]


@dataclass
class LearnConfig:
    """Everything that decides what a run does; stored with the run."""

    env: str
    env_options: dict[str, Any] = field(default_factory=dict)  # domain options, e.g. {"games": PATH}
    episodes: int = 20
    max_steps: int | None = None       # per episode; the environment's own limit when None
    max_llm_calls: int = 20
    concurrency: int = 4               # arms pulled at once after the first request of a refinement
    seed: int = 0
    solved: int | None = 10            # stop after this many consecutive successes
    c: float = 5.0                     # REx exploration constant
    min_transitions: int = 10          # distinct transitions before the first synthesis
    epsilon: float = 0.0               # chance of a random action while following a plan
    refine_cooldown: int = 10          # new transitions before retrying after a failed refinement
    max_shown: int = 12                # transitions shown when writing from scratch
    max_starts: int = 8                # recent episode starts checked for optimism (φ2)
    workers: int = 2                   # sandbox worker processes
    plan_max_nodes: int = 20_000
    call_timeout: float = 2.0          # seconds per call of a program

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class StoreRecorder(Recorder):
    def __init__(self, store: Store, run_id: int, environment_id: int, api_module_id: int, emit: OnEvent) -> None:
        self.store = store
        self.run_id = run_id
        self.environment_id = environment_id
        self.api_module_id = api_module_id
        self.emit = emit

    async def program(self, source: str, origin: str, parents: list[int], llm_call_id: int | None) -> int:
        return await self.store.add_program(run_id=self.run_id, environment_id=self.environment_id,
                                            api_module_id=self.api_module_id, source=source, origin=origin,
                                            parents=parents, llm_call_id=llm_call_id)

    async def scores(self, cand: Candidate) -> None:
        ev, opt = cand.evaluation, cand.optimism
        errors = ev.error_counts()
        if ev.load_failure:
            errors = {"load": ev.load_failure}
        await self.store.score_program(
            cand.program_id, n_transitions=ev.n, explained=ev.explained, fit=ev.fit,
            optimism_ok=None if opt is None else opt.ok, optimism_total=None if opt is None else len(opt.plans),
            score=cand.score, errors=errors or None)

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
        self.rng = random.Random(config.seed)
        self.current: Candidate | None = None
        self.starts: dict[tuple[str, str], tuple[State, str]] = {}
        self.env_steps = 0
        self.successes = 0
        self._failed_refine_at: int | None = None  # distinct transitions when a refinement last failed

    # ------------------------------------------------------------------ refinement

    def _recent_starts(self) -> list[tuple[State, str]]:
        return list(self.starts.values())[-self.config.max_starts:]

    def _may_refine(self) -> bool:
        if self.budget.remaining <= 0:
            return False
        if self._failed_refine_at is None:
            return True
        return len(self.sandbox.transitions) - self._failed_refine_at >= self.config.refine_cooldown

    async def _refine(self, reason: str) -> None:
        self.emit("refine_start", {"reason": reason, "transitions": len(self.sandbox.transitions),
                                   "calls_left": self.budget.remaining})
        if self.current is not None:  # re-check on all data, including the newest
            self.current = await self.refiner.assess(self.current.program_id, self.current.source,
                                                     self._recent_starts())
            if self.current.solved:
                self.emit("refine_end", {"solved": True, "program_id": self.current.program_id, "calls": 0})
                return
        result = await self.refiner.refine(self.current, self._recent_starts())
        if result.best is not None and (self.current is None or result.best.score >= self.current.score):
            if self.current is None or result.best.program_id != self.current.program_id:
                self.current = result.best
                await self.store.set_best_program(self.run_id, self.current.program_id)
        self._failed_refine_at = None if result.solved else len(self.sandbox.transitions)
        self.emit("refine_end", {"solved": result.solved, "calls": result.calls,
                                 "program_id": self.current.program_id if self.current else None,
                                 "fit": self.current.evaluation.fit if self.current else None})

    # ------------------------------------------------------------------ acting

    async def _plan(self, state: State, mission: str) -> list[str]:
        assert self.current is not None
        result = await self.sandbox.plan(self.current.source, state, mission, max_nodes=self.config.plan_max_nodes)
        self.emit("plan", {"found": result.found, "length": len(result.actions), "nodes": result.nodes})
        return list(result.actions) if result.found else []

    async def run(self) -> str:
        cfg = self.config
        max_steps = min(cfg.max_steps or self.adapter.max_steps, self.adapter.max_steps)
        streak = 0
        for episode in range(cfg.episodes):
            seed = cfg.seed + episode
            state, mission = self.adapter.reset(seed)
            self.starts[(state_key(state), mission)] = (state, mission)
            self.starts = dict(list(self.starts.items())[-cfg.max_starts * 4:])
            episode_id = await self.store.start_episode(self.run_id, episode, seed, mission)
            self.emit("episode_start", {"episode": episode, "mission": mission, "seed": seed})
            plan: list[str] = []
            total = 0.0
            success = terminated = truncated = False
            steps = 0
            optimism_checked = False
            for t in range(max_steps):
                if self.current is not None and not plan:
                    plan = await self._plan(state, mission)
                    if not plan and not optimism_checked and self.current.evaluation.fits and self._may_refine():
                        optimism_checked = True
                        await self._refine("optimism")
                        plan = await self._plan(state, mission) if self.current else []
                if plan and self.rng.random() >= cfg.epsilon:
                    action = plan.pop(0)
                else:
                    action = self.rng.choice(self.adapter.available_actions())
                    plan = []
                step = self.adapter.step(action)
                steps += 1
                self.env_steps += 1
                total += step.reward
                await self.store.add_transition(
                    run_id=self.run_id, episode_id=episode_id, step=t, state=state, action=action,
                    next_state=step.state, reward=step.reward, done=step.terminated, truncated=step.truncated,
                    mission=mission)
                self.sandbox.add(state, action, step.state, step.reward, step.terminated, mission)
                self.emit("step", {"episode": episode, "t": t, "action": action, "reward": step.reward})
                state = step.state
                if self.current is not None:
                    self.current.evaluation = await self.sandbox.evaluate(self.current.source)
                    if not self.current.evaluation.fits:
                        plan = []
                        if self._may_refine():
                            await self._refine("data")
                elif len(self.sandbox.transitions) >= cfg.min_transitions and self._may_refine():
                    await self._refine("scratch")
                if step.terminated or step.truncated:
                    terminated, truncated = step.terminated, step.truncated
                    success = step.terminated and step.reward > 0
                    break
            else:
                truncated = True
            await self.store.finish_episode(episode_id, steps=steps, total_reward=total, success=success,
                                            terminated=terminated, truncated=truncated)
            self.successes += int(success)
            streak = streak + 1 if success else 0
            self.emit("episode_end", {"episode": episode, "success": success, "steps": steps, "return": total,
                                      "streak": streak})
            if cfg.solved and streak >= cfg.solved:
                return "finished"
        return "finished"
