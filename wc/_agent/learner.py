"""The agent's world model and when it is refined: φ1 after every step, φ2 from the recent
starts, optimism bounded per start, and the starts believed unsolvable (see wc._synth.optimism).

Randomness is derived from (seed, refinement number), never from a running generator, so a
resumed run re-asks the same prompts, whose answers the store already holds.
"""
from __future__ import annotations

from typing import Any

from wc._agent import returns
from wc._agent.config import LearnConfig
from wc._agent.recorder import StoreRecorder
from wc._core.canonical import start_key, state_hash
from wc._core.values import State
from wc._sandbox.return_goal import ReturnGoal
from wc._sandbox.sandbox import Sandbox
from wc._store import Store
from wc._synth.optimism import OptimismBudget
from wc._synth.refine import CallBudget, Candidate, Refiner
from wc.envs.base import EnvAdapter
from wc.events import OnEvent, RefineEnded, RefineSkipped, RefineStarted, StartsReopened, StartUnsolvable


class Learner:
    """The agent's world model: the program it acts with, the programs transferred from other
    runs, the starts that count against φ2; it checks the program after every step and refines
    it (or keeps it, or re-adopts a transferred one) when the data or a start breaks it."""

    def __init__(self, *, config: LearnConfig, adapter: EnvAdapter, store: Store, sandbox: Sandbox,
                 refiner: Refiner, recorder: StoreRecorder, budget: CallBudget, run_id: int,
                 transferred: list[Candidate] | None = None, on_event: OnEvent | None = None) -> None:
        self.config = config
        self.adapter = adapter
        self.store = store
        self.sandbox = sandbox
        self.refiner = refiner
        self.recorder = recorder
        self.budget = budget
        self.run_id = run_id
        self.emit: OnEvent = on_event or (lambda event: None)
        self.current: Candidate | None = None
        self.transferred = list(transferred or [])  # programs from other runs, re-checked before asking the LLM
        self.starts: dict[str, tuple[State, str]] = {}  # by start_key, oldest first
        self.start_episodes: dict[str, int] = {}  # the first episode (id) that began at each start
        self.optimism = OptimismBudget(config.optimism_requests)
        self.refinements = 0
        self._failed_refine_at: int | None = None  # distinct transitions when a refinement last failed
        self._limit_noted = False
        self._unfit_noted: tuple[int, str] | None = None  # (program, why) last reported as kept unrefined
        # a world scored by its return (wc._agent.returns): its action space, threshold, best return so far
        self.action_space = returns.action_space(adapter)
        self.threshold = returns.reward_threshold(adapter) if self.action_space is not None else None
        self.best_return: float | None = None
        self.episode_returns: list[float] = []  # every episode's return, in order
        self.mean_refinements = 0  # refinements asked since the program last broke, as its mean fell short
        if self.action_space is not None:
            sandbox.return_goal = ReturnGoal(self.action_space, config.planner or returns.default_planner(adapter),
                                             target=self.threshold, episode_steps=int(adapter.max_steps),
                                             seconds=config.plan_seconds, seed=config.seed,
                                             by_mean=True)

    def returned(self, total: float) -> None:
        """An episode of a return world ended with `total`: without a threshold, φ2's target is
        the mean return of the run's last `solved` episodes (wc._sandbox.return_goal)."""
        self.best_return = total if self.best_return is None else max(self.best_return, total)
        self.episode_returns.append(total)
        goal = self.sandbox.return_goal
        if goal is not None and self.threshold is None:
            recent = self.episode_returns[-(self.config.solved or 10):]
            goal.target = sum(recent) / len(recent)

    # ------------------------------------------------------------------ checkpoints

    def checkpoint(self, refining: bool = False) -> dict[str, Any]:
        data = {"refinements": self.refinements, "failed_refine_at": self._failed_refine_at, "refining": refining,
                "optimism": self.optimism.to_json(), "refits": self.refiner.refit_pacing()}
        if self.sandbox.return_goal is not None:
            data["predicted_returns"] = self.sandbox.return_goal.predicted.to_json()
            data["mean_refinements"] = self.mean_refinements
        return data

    def restore_checkpoint(self, data: dict[str, Any], believed: dict[str, int] | None = None) -> None:
        """Put back what a checkpoint holds; `believed`: the starts the store holds as believed
        unsolvable (not reopened), with the program that found no plan from each."""
        # a refinement that was under way is redone with the same number, so it asks the same questions
        self.refinements = int(data.get("refinements", 0)) - (1 if data.get("refining") else 0)
        self._failed_refine_at = data.get("failed_refine_at")
        self.optimism.restore(data.get("optimism"), believed or {})
        self.refiner.restore_refit_pacing(data.get("refits"))
        if self.sandbox.return_goal is not None:
            self.sandbox.return_goal.predicted.restore(data.get("predicted_returns"))
            self.mean_refinements = int(data.get("mean_refinements") or 0)

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
        pacing = self.refiner.refit_pacing()
        for cand in pool:  # re-check on all data, including the newest, at no LLM cost
            if cand.program_id not in seen:
                seen[cand.program_id] = await self.refiner.assess(cand.program_id, cand.source, starts, cand.fitted)
        if self.refiner.refit_pacing() != pacing:  # a refit without an LLM call: a resume must know of it
            await self.store.runs.save_checkpoint(self.run_id, self.checkpoint())
        ranked = sorted(seen.values(), key=lambda c: (c.solved, c.score), reverse=True)
        if ranked and (ranked[0].solved or not self._may_refine()):
            changed = self.current is None or ranked[0].program_id != self.current.program_id
            await self.adopt(ranked[0])
            if ranked[0].solved:
                self._failed_refine_at = None
                self._unfit_noted = None
                self.emit(RefineStarted(reason, len(self.sandbox.transitions), self.budget.remaining))
                self.emit(RefineEnded(solved=True, calls=0, program_id=ranked[0].program_id,
                                      fit=ranked[0].evaluation.fit))
                return
            # nothing may be asked: said once per program and reason, not after every step
            why = "budget" if self.budget.remaining <= 0 else "cooldown"
            if changed or self._unfit_noted != (ranked[0].program_id, why):
                self._unfit_noted = (ranked[0].program_id, why)
                self.emit(RefineSkipped(reason=reason, why=why, program_id=ranked[0].program_id,
                                        fit=ranked[0].evaluation.fit, calls_left=self.budget.remaining,
                                        transitions=len(self.sandbox.transitions)))
            return
        self._unfit_noted = None
        self.emit(RefineStarted(reason, len(self.sandbox.transitions), self.budget.remaining))
        self.refinements += 1
        await self.store.runs.save_checkpoint(self.run_id, self.checkpoint(refining=True))
        best_known = ranked[0] if ranked else None
        result = await self.refiner.refine(best_known, starts, others=ranked[1:], optimism=self.optimism,
                                           number=self.refinements)
        chosen = result.best
        if chosen is not None and (best_known is None or chosen.score >= best_known.score):
            await self.adopt(chosen)
        elif best_known is not None:
            await self.adopt(best_known)
        self._failed_refine_at = None if result.solved else len(self.sandbox.transitions)
        await self.store.runs.save_checkpoint(self.run_id, self.checkpoint())
        self.emit(RefineEnded(solved=result.solved, calls=result.calls, set_aside=result.set_aside,
                              program_id=self.current.program_id if self.current else None,
                              fit=self.current.evaluation.fit if self.current else None))

    async def _reopen(self) -> None:
        """The program no longer fits the data: every start set aside or believed unsolvable under
        it counts against φ2 again, with its allowance back."""
        believed = len(self.optimism.believed)
        set_aside = len(self.optimism.set_aside())
        self.mean_refinements = 0
        if self.optimism.reopen():
            if believed:
                await self.store.runs.reopen_unsolvable(self.run_id)
            await self.store.runs.save_checkpoint(self.run_id, self.checkpoint())
            if believed or set_aside:
                self.emit(StartsReopened(believed=believed, set_aside=set_aside))

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
                self.emit(StartUnsolvable(program_id=current.program_id, mission=mission,
                                          believed=len(self.optimism.believed)))
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

    def remember_start(self, state: State, mission: str, episode_id: int | None = None) -> str:
        key = start_key(state, mission)
        self.starts[key] = (state, mission)
        self.starts = dict(list(self.starts.items())[-self.config.max_starts * 4:])
        if episode_id is not None:
            self.start_episodes.setdefault(key, episode_id)
        return key
