"""The Code World Models Benchmark's measures of a world-model program: its accuracy on recorded
data (both forms, `wc._measure.accuracy`) and its normalized return in the live environment,

    (R_program - R_random) / (R_true - R_random),

each R the mean return over the same episodes (episode i starts from `reset(seed + i)`):
R_random of uniformly random actions; R_program of a planner that plans in the program and acts
in the environment; R_true of the same planner with the environment itself as its model
(`wc.envs.gym.replica`). CWMB's planners and settings are the default: MCTS for discrete actions
(`mcts-cwmb`: 25 simulations per step, rollouts of at most 100 steps, C = 1, γ = 0.99) and CEM for
continuous ones (`cem-cwmb`: horizon 100, 20 iterations, 1000 samples, 100 elites, the plan played
open loop), CEM's horizon cut to the episode's length as CWMB's code cuts it. An episode lasts
until the environment terminates or its step limit (gymnasium's TimeLimit; 100 steps where it
has none, CWMB's rule). Where R_true is not above R_random the scale is undefined and the
normalized return is None ("n/a"; CWMB reports MountainCar and Acrobot so).

A policy is `decide(state, decision) -> actions to play before deciding again`.
`program_policy` plans in a compiled program in this process: for trusted programs only (tests,
reference programs); programs an LLM wrote are planned in the sandbox (its `plan_return`
request), wrapped as a policy the same way.
"""
from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wc._core.tolerance import CWMB, Tolerance
from wc._core.values import Transition
from wc._measure.accuracy import CWMB_REWARD, Accuracy, Predicted, Recorded, accuracy
from wc._planning import RETURN_PLANNERS
from wc._planning.cem import CemSettings
from wc._planning.iw import WidthSettings
from wc._planning.mcts import MctsSettings
from wc._planning.returns import ReturnPlan, action_choices
from wc._planning.seeded import SeededCemSettings
from wc._sandbox import runtime
from wc._sandbox.chance import mode_reward
from wc._sandbox.plan_return import plan_return, settings_for
from wc._store.records import DataTransition
from wc.envs.gym.replica import Replica

__all__ = ["DEFAULT_EPISODE_STEPS", "NormalizedReturn", "Policy", "Returns", "cwmb_settings", "episode_limit",
           "measure_return", "normalized_return", "policy_return", "predicted", "program_accuracy", "program_policy",
           "random_return", "true_policy"]

DEFAULT_EPISODE_STEPS = 100  # CWMB's episode length where an environment has no step limit
# policy(state, decisions made so far, steps the episode has left) -> the actions to play next
Policy = Callable[[list[dict[str, Any]], int, int], Sequence[Any]]
Settings = MctsSettings | CemSettings | WidthSettings | SeededCemSettings


# --------------------------------------------------------------------------- accuracy

def predicted(prediction: Any) -> Predicted:
    """A program's prediction as the sandbox (`Sandbox.predictions`) or `runtime.predict(...,
    full=True, point=True)` gives it: a random program's answer as its point prediction (the
    most probable next state, and the most probable (reward, done) for the recorded next state:
    the rule in `wc._measure.accuracy`'s docstring)."""
    chance = prediction.chance
    if chance is not None:
        state = chance.mode if chance.transition_error is None else None
        if chance.reward_error is None and chance.rewards:
            return Predicted(state, *mode_reward(chance.rewards))
        return Predicted(state, None, None)
    state = prediction.state if prediction.transition_error is None and isinstance(prediction.state, list) else None
    if prediction.reward_error is None and prediction.reward is not None:
        return Predicted(state, float(prediction.reward[0]), bool(prediction.reward[1]))
    return Predicted(state, None, None)


def program_accuracy(program: runtime.CompiledProgram, transitions: Sequence[DataTransition], adapter: Any, *,
                     call_timeout: float = 2.0, state_tol: Tolerance = CWMB,
                     reward_tol: Tolerance = CWMB_REWARD) -> Accuracy:
    """Both accuracy forms of a compiled program on recorded transitions, predicted in this
    process (trusted programs only; see the module docstring)."""
    mission = adapter.mission
    cases = [Transition(t.state, t.action, t.next_state, t.reward, t.done, mission) for t in transitions]
    out = runtime.predict(program, cases, call_timeout, full=True, point=True)
    return accuracy([predicted(p) for p in out], [Recorded.of(t) for t in transitions], state_tol=state_tol,
                    reward_tol=reward_tol, whole_state=bool(adapter.layout.digits))


# --------------------------------------------------------------------------- returns

def episode_limit(adapter: Any) -> int:
    """CWMB's episode length: the environment's step limit, else 100 steps."""
    from wc.datasets.jsonl import step_limit

    return step_limit(adapter) or DEFAULT_EPISODE_STEPS


def cwmb_settings(adapter: Any, planner: str | Settings = "auto", *, episode_steps: int | None = None) -> Settings:
    """The planner's settings for the adapter's actions ("auto": CWMB's, MCTS or CEM), CEM's
    horizon and open-loop length cut to the episode's length (`episode_steps`, default
    `episode_limit`), as CWMB's code cuts them to the environment's step limit."""
    kind = adapter.action_space.kind
    if planner == "auto":
        planner = "cem-cwmb" if kind == "continuous" else "mcts-cwmb"
    settings = settings_for(planner, kind)
    if isinstance(settings, CemSettings):
        limit = episode_steps or episode_limit(adapter)
        settings = dataclasses.replace(settings, horizon=min(settings.horizon, limit),
                                       replan_every=min(settings.replan_every, limit))
    return settings


@dataclass
class Returns:
    """Episodes played by one policy: each episode's return and length."""

    returns: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    decisions: int = 0
    seconds: float = 0.0
    decide_seconds: float = 0.0   # time spent deciding (planning)

    @property
    def mean(self) -> float:
        return sum(self.returns) / len(self.returns) if self.returns else float("nan")

    @property
    def seconds_per_action(self) -> float | None:
        """The planner's time per action played (an open-loop plan's time spread over its actions)."""
        actions = sum(self.steps)
        return self.decide_seconds / actions if actions else None

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean, "returns": self.returns, "steps": self.steps, "decisions": self.decisions,
                "seconds": self.seconds, "decide_seconds": self.decide_seconds,
                "seconds_per_decision": self.decide_seconds / self.decisions if self.decisions else None,
                "seconds_per_action": self.seconds_per_action}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Returns:
        return cls(list(data["returns"]), list(data["steps"]), int(data["decisions"]), float(data["seconds"]),
                   float(data.get("decide_seconds") or 0.0))


def policy_return(adapter: Any, policy: Policy, *, episodes: int = 10, seed: int = 0,
                  max_steps: int | None = None) -> Returns:
    """Play `episodes` episodes (episode i from `reset(seed + i)`), each until it terminates or
    `max_steps` (default `episode_limit`), deciding with `policy` whenever the actions it gave
    last are played."""
    limit = max_steps or episode_limit(adapter)
    out = Returns()
    started = time.monotonic()
    for i in range(episodes):
        state, _ = adapter.reset(seed + i)
        total, steps = 0.0, 0
        queue: list[Any] = []
        for steps in range(1, limit + 1):  # noqa: B007 - the episode's length after the loop
            if not queue:
                t = time.monotonic()
                queue = list(policy(state, out.decisions, limit - steps + 1))
                out.decide_seconds += time.monotonic() - t
                out.decisions += 1
                if not queue:
                    raise RuntimeError("the policy gave no action")
            step = adapter.step(queue.pop(0))
            total += step.reward
            state = step.state
            if step.terminated:
                break
        out.returns.append(total)
        out.steps.append(steps)
    out.seconds = time.monotonic() - started
    return out


def random_return(adapter: Any, *, episodes: int = 10, seed: int = 0, max_steps: int | None = None) -> Returns:
    """R_random: uniformly random actions (a fresh `random.Random(seed)`)."""
    rng = random.Random(seed)
    return policy_return(adapter, lambda state, n, left: [adapter.sample_action(rng)], episodes=episodes, seed=seed,
                         max_steps=max_steps)


def _actions(plan: ReturnPlan, settings: Settings) -> list[Any]:
    if plan.action is None:
        raise RuntimeError(f"the planner found no plan ({plan.status}: {plan.reason})")
    if settings.replan_every <= 1 or not plan.actions:
        return [plan.action]
    return list(plan.actions[:settings.replan_every])


def true_policy(adapter: Any, planner: str | Settings = "auto", *, seed: int = 0, max_steps: int | None = None,
                time_limit: float | None = None) -> Policy:
    """The planner with the real environment as its model (R_true). `max_steps` and `time_limit`
    bound each decision (default: only the planner's own settings)."""
    settings = cwmb_settings(adapter, planner)
    replica = Replica(adapter, seed=seed)
    kind, actions, box = action_choices(adapter.action_space)

    def decide(state: list[dict[str, Any]], n: int, left: int) -> list[Any]:
        start = replica.sync(adapter.env)
        budget: dict[str, Any] = dict(rng=random.Random(seed * 1_000_003 + n), max_steps=max_steps,
                                      deadline=time.monotonic() + time_limit if time_limit else None)
        if isinstance(settings, MctsSettings):
            plan = settings.search(start, actions, replica.step, rollout_step=replica.roll, **budget)
        elif isinstance(settings, WidthSettings):  # the replica's keys are its features
            plan = settings.search(start, actions, replica.step, **budget)
        else:
            assert box is not None
            plan = settings.search(start, replica.roll, low=box[0], high=box[1], **budget)
        return _actions(plan, settings)

    return decide


def program_policy(program: runtime.CompiledProgram, adapter: Any, planner: str | Settings = "auto", *,
                   seed: int = 0, max_steps: int = 10_000_000, time_limit: float = 1e9,
                   call_timeout: float = 2.0) -> Policy:
    """The planner in a compiled program, in this process (trusted programs only)."""
    settings = cwmb_settings(adapter, planner)
    space = adapter.action_space

    def decide(state: list[dict[str, Any]], n: int, left: int) -> list[Any]:
        plan = plan_return(program, state, adapter.mission, space, planner=settings, max_steps=max_steps,
                           time_limit=time_limit, call_timeout=call_timeout, rng_seed=seed * 1_000_003 + n)
        return _actions(plan, settings)

    return decide


def normalized_return(r_program: float, r_random: float, r_true: float) -> float | None:
    """(R_program - R_random) / (R_true - R_random); None where R_true is not above R_random."""
    if not r_true > r_random:
        return None
    return (r_program - r_random) / (r_true - r_random)


@dataclass
class NormalizedReturn:
    """The three returns and the normalized return (None: "n/a")."""

    program: Returns
    random: Returns
    true: Returns
    planner: str

    @property
    def value(self) -> float | None:
        return normalized_return(self.program.mean, self.random.mean, self.true.mean)

    def to_json(self) -> dict[str, Any]:
        return {"normalized_return": self.value, "planner": self.planner, "R_program": self.program.to_json(),
                "R_random": self.random.to_json(), "R_true": self.true.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NormalizedReturn:
        return cls(Returns.from_json(data["R_program"]), Returns.from_json(data["R_random"]),
                   Returns.from_json(data["R_true"]), str(data["planner"]))


def measure_return(adapter: Any, policy: Policy, *, planner: str | Settings = "auto", episodes: int = 10,
                   seed: int = 0, max_steps: int | None = None, true: Returns | None = None,
                   rand: Returns | None = None, random_episodes: int | None = None) -> NormalizedReturn:
    """R_program of `policy` and R_true over the same `episodes` episodes, R_random over
    `random_episodes` (default: as many; given ones are reused: R_true and R_random do not depend
    on the program)."""
    settings = cwmb_settings(adapter, planner)
    name = next((n for n, s in RETURN_PLANNERS.items() if s == settings), settings.algorithm)
    settings = cwmb_settings(adapter, settings, episode_steps=max_steps)  # episodes cut short: CEM's horizon too
    rand = rand or random_return(adapter, episodes=random_episodes or episodes, seed=seed, max_steps=max_steps)
    true = true or policy_return(adapter, true_policy(adapter, settings, seed=seed), episodes=episodes, seed=seed,
                                 max_steps=max_steps)
    prog = policy_return(adapter, policy, episodes=episodes, seed=seed, max_steps=max_steps)
    return NormalizedReturn(prog, rand, true, name)
