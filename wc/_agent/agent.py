"""The WorldCoder loop: act, record, check φ1/φ2, refine, plan.

Per episode (`Agent.run`): begin it (reset, or restore one a crash left open); at each step decide
(plan with the current program, with back-off after a search that found nothing and a bounded
request for optimism when the program provably offers no plan), act and record (follow the plan,
or explore with a random action; check the program on all data and refine it when it broke, see
`wc._agent.learner`); then close the episode.

Randomness is derived from (seed, episode, step), never from a running generator, so a resumed
run makes the same choices and re-asks the same prompts, whose answers the store already holds.
"""
from __future__ import annotations

import json
import random
from dataclasses import replace

from wc._agent import returns
from wc._agent.episode import Episode, OpenEpisode, Outcome, PlanStats, ResumePoint
from wc._agent.learner import Learner
from wc._agent.returns import ends_in_goal
from wc._core.canonical import state_key
from wc._core.tolerance import state_difference
from wc._core.values import RunStatus, State, Transition
from wc._planning import RETURN_PLANNERS, PlanResult
from wc._sandbox.evaluation import Optimism
from wc._sandbox.return_goal import goal_budget, predicted_return
from wc.envs.base import Step
from wc.errors import EnvError
from wc.events import EpisodeEnded, EpisodeStarted, Exploring, PlanSearched, StepLimit, StepTaken


class Agent(Learner):
    """Plays the run's episodes with the world model `Learner` keeps; `run` returns how it ended."""

    async def run(self, resume: ResumePoint | None = None) -> Outcome:
        """Play the episodes left (from `resume`, when a run continues) until the stop rule holds."""
        cfg = self.config
        if cfg.max_steps:
            self.adapter.lift_step_limit(cfg.max_steps)
        streak = resume.streak if resume else 0
        returns = list(resume.returns) if resume else []
        if self.action_space is not None:
            for total in returns:  # the best return and φ2's target, as the uninterrupted run had them
                self.returned(total)
        episodes = resume.next_episode if resume else 0
        if resume is not None and resume.open_episode is None:
            await self._after_step()  # finish the check a crash may have interrupted
        for index in range(episodes, cfg.episodes):
            episodes = index + 1
            episode = await self._begin(index, resume)
            if episode is None:  # an open episode that cannot be continued was closed as it stood
                continue
            await self._play(episode)
            streak = streak + 1 if episode.success else 0
            returns.append(episode.total)
            await self._close(episode, streak)
            if cfg.solved and self._solved(streak, returns) and index + 1 >= cfg.min_episodes:
                return Outcome(RunStatus.FINISHED, episodes, "solved")
        return Outcome(RunStatus.FINISHED, episodes, "episodes")

    def _solved(self, streak: int, returns: list[float]) -> bool:
        """The stop rule: `solved` wins in a row; in a return world with a reward threshold, the
        mean return of the last `solved` episodes reaching it (gymnasium's threshold is a mean:
        a Taxi episode from a far start is optimal below it)."""
        n = self.config.solved or 0
        if self.action_space is not None and self.threshold is not None:
            last = returns[-n:]
            return len(last) >= n and sum(last) / len(last) >= self.threshold
        return streak >= n

    # ------------------------------------------------------------------ begin

    async def _begin(self, index: int, resume: ResumePoint | None) -> Episode | None:
        """Reset for episode `index` and record its start, or continue the one a crash left open."""
        seed = self.config.seed * 1009 + index  # disjoint env seeds per run seed; small level sets still rotate
        open_ep = resume.open_episode if resume is not None else None
        if open_ep is not None and open_ep.index == index:
            episode = await self._continue(open_ep, seed)
            if episode is None:
                return None
        else:
            state, mission = self.adapter.reset(seed)
            episode_id = await self.store.runs.start_episode(self.run_id, index, seed, mission)
            start = self.remember_start(state, mission, episode_id)
            self.emit(EpisodeStarted(episode=index, mission=mission, seed=seed))
            episode = Episode(index, episode_id, mission, start, state)
        episode.max_steps = self._step_limit(index)
        if not self.optimism.counts(episode.start):
            self.emit(Exploring(episode=index, believed=self.optimism.believed.get(episode.start)))
        return episode

    async def _continue(self, open_ep: OpenEpisode, seed: int) -> Episode | None:
        """The open episode replayed into the environment; None when it cannot be (it is then
        closed as it stands, and the run plays the next)."""
        restored = await self._restore(open_ep)
        rows = open_ep.transitions
        if restored is None:
            total = sum(r.reward for r in rows)
            won = returns.episode_success(total, self.threshold, self.best_return) if self.action_space is not None \
                else bool(rows and rows[-1].done and rows[-1].reward > 0)
            await self.store.runs.finish_episode(
                open_ep.id, steps=len(rows), total_reward=total, success=won,
                terminated=bool(rows and rows[-1].done), truncated=not (rows and rows[-1].done))
            return None
        state, mission, total, steps = restored
        start = self.remember_start(rows[0].state if rows else state, mission, open_ep.id)
        self.emit(EpisodeStarted(episode=open_ep.index, mission=mission, seed=seed, resumed=steps))
        await self._after_step()  # no plan is followed yet: nothing to void
        return Episode(open_ep.index, open_ep.id, mission, start, state, total=total, steps=steps)

    # ------------------------------------------------------------------ play

    async def _play(self, episode: Episode) -> None:
        """Decide, act and record until the episode ends or reaches its step limit."""
        for t in range(episode.steps, episode.max_steps):
            await self._decide(episode, t)
            step = await self._act(episode, t)
            if step.terminated or step.truncated:
                episode.terminated, episode.truncated = step.terminated, step.truncated
                episode.success = step.terminated and step.reward > 0
                break
        else:
            episode.truncated = True
        if self.action_space is not None:  # a return world: the return decides (wc._agent.returns)
            episode.success = returns.episode_success(episode.total, self.threshold, self.best_return)

    async def _decide(self, episode: Episode, t: int) -> None:
        """Plan when there is a program and no plan, and the back-off allows a search now; when
        the program provably offers no way to the goal, ask once per episode for optimism."""
        if self.current is not None and self.current.program_id != episode.planned_with:
            episode.backoff.reset()  # a new program gets a fresh start
            episode.planned_with = self.current.program_id
        if self.action_space is not None:
            await self._decide_return(episode, t)
            return
        if self.current is None or episode.plan or not episode.backoff.due(t):
            return
        result = await self._plan(episode.state, episode.mission, episode.backoff.factor, episode.stats,
                                  episode.max_steps - t)
        if not result.found and not result.undecided and not episode.optimism_checked \
                and self.current.evaluation.fits and self.optimism.counts(episode.start) \
                and (self._may_refine() or self.transferred):
            result = await self._ask_optimism(episode, t, result)
        if result.found:
            episode.plan = list(result.actions)
            episode.expected = [key for key, _, _ in result.predictions]
            episode.backoff.reset()
        else:
            episode.backoff.failed(t, result.undecided)

    async def _decide_return(self, episode: Episode, t: int) -> None:
        """A return world: at an episode's first decision, φ2 from its start (a plan whose
        predicted return reaches the target, wc._sandbox.return_goal), refined once per episode
        when refuted; then at every step a receding-horizon plan in the program (the return planner,
        warm-started from the previous plan shifted by one), of which one action is played.
        A best sequence that wins the episode in the program (it ends it, done, with a reward above
        any other of its steps: a goal such as Taxi's drop-off, not CartPole's fall; and the return
        so far plus its own reaches the target) is followed to its end while the world does what
        the program predicted, within the tolerance (a surprise voids it)."""
        if self.current is None or episode.plan:
            return
        if not episode.optimism_checked and self.current.evaluation.fits and self.optimism.counts(episode.start) \
                and (self._may_refine() or self.transferred):
            episode.optimism_checked = True
            verdict = await self.sandbox.optimism(self.current.source, [(episode.state, episode.mission)])
            if verdict.refuted and self._may_ask_for_mean(verdict):
                await self._refine("optimism")
                if not self.optimism.counts(episode.start):
                    self.emit(Exploring(episode=episode.index, believed=None))
                if self.current is None:
                    return
        cfg, space = self.config, self.action_space
        assert space is not None
        plan = await self.sandbox.plan_return(
            self.current.source, episode.state, episode.mission, space, planner=cfg.planner or "auto",
            time_limit=cfg.plan_seconds, seed=cfg.seed * 1_000_003 + episode.index * 10_007 + t,
            init=episode.warm or None, horizon=episode.max_steps - t)
        stats = episode.stats
        stats.plans, stats.seconds = stats.plans + 1, stats.seconds + plan.seconds
        stats.nodes += plan.steps
        stats.undecided += int(plan.action is None and plan.status != "error")
        self.emit(PlanSearched(found=plan.action is not None, explore=False, status=plan.status,
                               length=len(plan.actions), shortened=0, nodes=plan.steps, seconds=plan.seconds,
                               factor=1.0, program_id=self.current.program_id))
        episode.warm = [list(a) if isinstance(a, list) else a for a in plan.actions[1:]]  # the next plan's warm start
        target = self.threshold if self.threshold is not None else self.best_return
        if plan.found and plan.done and target is not None and episode.total + plan.total >= target \
                and ends_in_goal([r for _, r, _ in plan.predictions]):
            episode.plan = list(plan.actions)
            episode.expected = [key for key, _, _ in plan.predictions]
        elif not plan.planner.startswith("chance-") and \
                await self._goal_plan(episode, t, target, predicted_return(plan, episode.max_steps - t)):
            return
        elif plan.action is not None:  # receding horizon: one action (CWMB's CEM: its whole plan, open loop)
            every = RETURN_PLANNERS[cfg.planner].replan_every if cfg.planner in RETURN_PLANNERS else 1
            follows = plan.actions[:1] == [plan.action] and len(plan.predictions) == len(plan.actions)
            episode.plan = list(plan.actions[:every]) if follows else [plan.action]
            episode.expected = [key for key, _, _ in plan.predictions[:len(episode.plan)]] if follows else []

    def _may_ask_for_mean(self, verdict: Optimism) -> bool:
        """A return world's φ2 is refuted by the mean of the program's predictions over its starts
        (wc._sandbox.return_goal.by_mean), which is the program's, not the start's: such
        refutations get `optimism_requests` refinements until new data breaks the program
        (`_reopen`, as set-aside starts get their allowance back), however many programs those
        refinements adopt (each answer is a new program, refuted by a mean like its parent's:
        MountainCar-v0, real model, 9 requests in 10 episodes with an allowance per program). A
        program that cannot be planned in at all (an error) is refined as before."""
        if not verdict.exhausted() or len(verdict.exhausted()) != verdict.refuted:
            return True
        limit = self.config.optimism_requests
        if limit is not None and self.mean_refinements >= limit:
            return False
        self.mean_refinements += 1
        return True

    async def _goal_plan(self, episode: Episode, t: int, target: float | None, planned: float) -> bool:
        """Discrete actions, once per episode and program: a breadth-first search for the shortest
        plan that ends the episode with a positive reward (Taxi's drop-off, FrozenLake's goal, which
        random rollouts rarely reach), followed when in the program it wins the episode or returns
        more than the return planner's best sequence promises (`planned`, read as φ2 reads it)."""
        assert self.current is not None and self.action_space is not None
        if self.action_space.kind != "discrete" or target is None or episode.goal_with == self.current.program_id:
            return False
        episode.goal_with = self.current.program_id
        budget = goal_budget(self.config.plan_budget, episode.max_steps - t)
        result = await self.sandbox.plan(self.current.source, episode.state, episode.mission, budget)
        episode.stats.add(result)
        rewards = [r for _, r, _ in result.predictions]
        value = sum(rewards)
        if not result.found or not ends_in_goal(rewards) or (episode.total + value < target and value <= planned):
            return False
        episode.plan = list(result.actions)
        episode.expected = [key for key, _, _ in result.predictions]
        return True

    async def _ask_optimism(self, episode: Episode, t: int, result: PlanResult) -> PlanResult:
        """The program offers no plan from here (a complete search): refine for optimism, then
        plan again with what it adopted."""
        episode.optimism_checked = True
        await self._refine("optimism")
        if not self.optimism.counts(episode.start):  # its allowance is used up
            self.emit(Exploring(episode=episode.index, believed=None))
        if self.current is None:
            return result
        episode.planned_with = self.current.program_id
        episode.backoff.reset()
        return await self._plan(episode.state, episode.mission, episode.backoff.factor, episode.stats,
                                episode.max_steps - t)

    async def _act(self, episode: Episode, t: int) -> Step:
        """Follow the plan (or, with chance ε or without one, a random action); record the
        transition; check the program on all data. A surprise or a refinement voids the plan."""
        cfg = self.config
        rng = random.Random(f"{cfg.seed}:{episode.index}:{t}")
        predicted = None
        source = "explore"
        if episode.plan and rng.random() >= cfg.epsilon:
            action = episode.plan.pop(0)
            predicted = episode.expected.pop(0) if episode.expected else None
            source = "plan"
        elif self.action_space is not None:  # a return world: any action of its space
            action = self.adapter.sample_action(rng)  # type: ignore[attr-defined]
            episode.plan = []
        else:
            action = rng.choice(self.adapter.available_actions())
            episode.plan = []
        state, mission = episode.state, episode.mission
        step = self.adapter.step(action)
        episode.steps += 1
        episode.total += step.reward
        await self.store.runs.add_transition(
            run_id=self.run_id, episode_id=episode.id, step=t, state=state, action=action,
            next_state=step.state, reward=step.reward, done=step.terminated, truncated=step.truncated,
            mission=mission, action_source=source, predicted_key=predicted)
        self.sandbox.add(Transition(state, action, step.state, step.reward, step.terminated, mission))
        self.emit(StepTaken(episode=episode.index, t=t, action=action, reward=step.reward))
        episode.state = step.state
        if predicted is not None and self._surprised(predicted, step.state):
            episode.plan = []  # the world did what the program could not foresee (something came into sight)
        if await self._after_step():
            episode.plan = []
        return step

    # ------------------------------------------------------------------ close

    async def _close(self, episode: Episode, streak: int) -> None:
        """Record how the episode ended, judge the starts set aside, and re-score the program."""
        stats = episode.stats
        if episode.steps == 0 and not episode.terminated:
            raise EnvError(f"episode {episode.index} of {self.adapter.name} ended after 0 steps without ending by "
                           f"its own rules (its step limit read {episode.max_steps}): nothing was played",
                           name=self.adapter.name)
        await self.store.runs.finish_episode(episode.id, steps=episode.steps, total_reward=episode.total,
                                             success=episode.success, terminated=episode.terminated,
                                             truncated=episode.truncated, plans=stats.plans,
                                             plans_undecided=stats.undecided, plan_seconds=stats.seconds)
        if self.action_space is not None:
            self.returned(episode.total)
        await self._judge_set_aside()
        if self.current is not None:  # its scores on all data so far, for lineage and transfer
            await self.recorder.scores(self.current)
        self.emit(EpisodeEnded(episode=episode.index, success=episode.success, steps=episode.steps,
                               total_reward=episode.total, streak=streak, plans=stats.plans,
                               plans_undecided=stats.undecided, plan_seconds=stats.seconds,
                               plan_nodes=stats.nodes))

    # ------------------------------------------------------------------ helpers

    async def _plan(self, state: State, mission: str, factor: float, stats: PlanStats, horizon: int) -> PlanResult:
        """A plan from `state`, within `horizon` steps left in the episode (one found near it is
        shortened)."""
        assert self.current is not None
        budget = replace(self.config.plan_budget.scaled(factor), horizon=horizon)
        result = await self.sandbox.plan(self.current.source, state, mission, budget)
        stats.add(result)
        self.emit(PlanSearched(found=result.found, explore=result.explore, status=result.status,
                               length=len(result.actions), shortened=result.shortened, nodes=result.nodes,
                               seconds=result.seconds, factor=factor, program_id=self.current.program_id))
        return result

    def _surprised(self, predicted: str, state: State) -> bool:
        """The world did not do what the program predicted: exactly, or within the sandbox's
        tolerance where numbers are judged by value."""
        if state_key(state) == predicted:
            return False
        tolerance = self.sandbox.tolerance if self.action_space is not None else None
        return tolerance is None or not state_difference(json.loads(predicted), state, tolerance).equal

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
            self.emit(StepLimit(episode=episode, requested=requested, own=own, lifted=limit >= requested))
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
