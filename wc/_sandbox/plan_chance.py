"""Planning over chance inside a compiled program: the exact finite-horizon planner of
`wc._planning.chance` where the states a program reaches are few, MCTS with chance nodes
(`wc._planning.mcts`, `chance=True`) where they are not.

`ChanceModel` sees a program that may return a distribution (`wc._sandbox.outcomes`) over
interned keys, as `ProgramModel` sees a deterministic one: `outcomes(key, action)` lists every
outcome (probability, next key, reward, done), coinciding outcomes merged; `sample(key,
action)` draws one from the model's own random generator. A program's distribution of one
(state, action), and its rewards for each next state, are asked once and kept (up to `KEEP`
entries), so a tree that passes through an edge many times draws from what it already has.
The program is given fresh objects for every call, so one that modifies its input changes
nothing here.

`plan_chance` decides one action:

* objective "goal" (a goal world): the action that maximises the probability of reaching the
  goal (reward > 0 and done) within `horizon` steps, the steps left in the episode;
* objective "return": the action that maximises the expected return over the horizon.

It first tries the exact planner on at most `max_nodes` (state, action) expansions and edges of
at most `enumerate_limit` outcomes; a world larger than that is planned by MCTS with chance
nodes for the rest of the time (a goal world's rollouts avoid steps the program says end the
episode without the goal). `ChancePlan.status` is φ2's verdict for a random world: "found"
(some policy reaches the goal with positive probability: the exact value is positive, or a
simulation reached it), "exhausted" (the exact planner expanded everything reachable within the
horizon and no policy reaches the goal, with any probability), "budget" (undecided), "error".

A worker reports a decision as a goal plan (`as_plan_result`) or, in a world scored by its
return, as a return plan (`as_return_plan`: for φ2 a trajectory of positive probability whose
return the parent adds up itself); it keeps its program's models and last exact policy between
requests (`KeptPlans`), and `answers_randomly` tells it a random program before its parent knows.
Pure: no I/O; runs inside a sandbox worker.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace
from typing import Any

from wc._core.canonical import state_key
from wc._core.contract import decode_entity, decode_state, encode_state
from wc._planning.chance import ChancePolicy, Objective, Outcome, solve, success
from wc._planning.mcts import MctsSettings
from wc._planning.result import BUDGET, ERROR, EXHAUSTED, FOUND, PlanResult, Status
from wc._planning.returns import Cut, ReturnPlan, add_returns
from wc._sandbox import timer
from wc._sandbox.distribution import pick_option
from wc._sandbox.entities import EntityTable, Key
from wc._sandbox.failures import classify
from wc._sandbox.outcomes import (
    Distribution,
    Rewards,
    TooManyOutcomes,
    draw_reward,
    draw_state,
    is_random,
    read_reward,
    read_state,
)

KEEP = 20_000            # (state, action) distributions kept by a model (then it starts afresh)
ENUMERATE_LIMIT = 1024   # outcomes of one edge the exact planner lists, at most
OUTCOME_SEED = 0x5DEECE66D   # mixed into the seed of the generator that draws outcomes
# MCTS for a random world: rollouts as long as a room's random walk needs to find the goal (they
# avoid steps that end the episode without it), the return discounted so that a goal reached
# sooner counts for more; a transposition tree learns from few simulations (Dynamic-Obstacles
# 8x8: every episode won, about 0.7 s a decision; bench_stochastic.py)
CHANCE_MCTS = MctsSettings(simulations=50, rollout_depth=100, max_depth=500, c=1.0, gamma=0.98)

MISSIONS_KEPT = 4        # missions whose models a worker keeps between plans
ENTITIES_KEPT = 200_000  # entities a kept model may have interned (then it starts afresh: numeric worlds)

__all__ = ["CHANCE_MCTS", "ENUMERATE_LIMIT", "ChanceModel", "ChancePlan", "KeptPlans", "answers_randomly",
           "as_plan_result", "as_return_plan", "first_step", "plan_chance"]


class ChanceModel:
    """A compiled program as a random world over interned keys (see the module docstring)."""

    def __init__(self, program: Any, mission: str, call_timeout: float = 2.0, rng: random.Random | None = None,
                 limit: int = ENUMERATE_LIMIT) -> None:
        self.program = program
        self.ns = program.namespace
        self.chance = program.chance
        self.mission = mission
        self.call_timeout = call_timeout
        self.rng = rng or random.Random(0)
        self.limit = limit
        self.table = EntityTable()
        self._dists: dict[tuple[Key, Any], Distribution] = {}
        self._rewards: dict[tuple[Key, Any, Key], Rewards] = {}
        self.calls = 0   # calls of the program's functions

    def start(self, state: list[dict[str, Any]]) -> Key:
        return self.table.key_of(decode_state(self.ns, state))

    def json_state(self, key: Key) -> list[dict[str, Any]]:
        return self.table.json_state(key)

    def _plain(self, obj: Any) -> int:
        return self.table.intern(self.table.value_of(obj))

    def _from_json(self, entity: dict[str, Any]) -> int:
        return self.table.intern(self.table.value_of(decode_entity(self.ns, entity)))

    def distribution(self, key: Key, action: Any) -> Distribution:
        """The program's next states for (key, action), as entity ids (asked once, then kept)."""
        kept = self._dists.get((key, action))
        if kept is None:
            if len(self._dists) >= KEEP:
                self._dists.clear()
                self._rewards.clear()
            self.calls += 1
            table = self.table
            objs = table.objects(key)
            with timer.limit(self.call_timeout):
                value = self.program.transition(list(objs), _given(action))
                try:  # inputs returned unchanged keep their ids, unless the program modified them
                    intact = [o.__dict__ for o in objs] == table.templates(key)
                except AttributeError:
                    intact = False
                ids = {id(o): eid for o, eid in zip(objs, key, strict=True)} if intact else {}
                kept = read_state(value, self.chance, plain=self._plain, from_json=self._from_json,
                                  known=lambda item: ids.get(id(item)))
            self._dists[(key, action)] = kept
        return kept

    def rewards(self, key: Key, action: Any, child: Key) -> Rewards:
        kept = self._rewards.get((key, action, child))
        if kept is None:
            self.calls += 1
            with timer.limit(self.call_timeout):
                kept = read_reward(self.program.reward(self.table.objects(key), _given(action),
                                                       self.table.objects(child), self.mission), self.chance)
            self._rewards[(key, action, child)] = kept
        return kept

    def roll(self, state: Any, action: Any) -> tuple[Drawn, float, bool]:
        """One outcome drawn for a rollout, whose states are played once: the program's own
        objects (`Drawn`), nothing interned or kept. The inputs are compared with copies of their
        fields after the call and rebuilt if the program modified them, as φ1 would give them."""
        objs = state if type(state) is Drawn else self.table.objects(state)
        try:
            fields = [dict(o.__dict__) for o in objs]
        except AttributeError:  # an entity without a __dict__: through the table, as the tree does
            objs = self.table.objects(self.table.key_of(objs))
            fields = [dict(o.__dict__) for o in objs]
        given = _given(action)
        self.calls += 2
        with timer.limit(self.call_timeout):
            nxt = Drawn(draw_state(self.program.transition(list(objs), given), self.chance, self.rng))
            if [o.__dict__ for o in objs] != fields:
                objs = [_rebuilt(o, f) for o, f in zip(objs, fields, strict=True)]
            r, done = draw_reward(self.program.reward(list(objs), given, list(nxt), self.mission), self.chance,
                                  self.rng)
        return nxt, r, done

    def outcomes(self, key: Key, action: Any) -> list[Outcome]:
        """Every outcome of (key, action): (probability, next key, reward, done), merged."""
        merged: dict[Key, float] = {}
        for p, ids in self.distribution(key, action).enumerate(self.limit):
            child = tuple(sorted(ids))
            merged[child] = merged.get(child, 0.0) + p
        out: dict[tuple[Key, float, bool], float] = {}
        for child, p in merged.items():
            for q, (r, done) in self.rewards(key, action, child):
                out[(child, r, done)] = out.get((child, r, done), 0.0) + p * q
        return [(p, child, r, done) for (child, r, done), p in out.items()]

    def sample(self, key: Key, action: Any) -> tuple[Key, float, bool]:
        """One outcome of (key, action), drawn with the program's probabilities."""
        child = tuple(sorted(self.distribution(key, action).sample(self.rng)))
        rewards = self.rewards(key, action, child)
        r, done = rewards[0][1] if len(rewards) == 1 else pick_option(tuple(rewards), self.rng.random())
        return child, r, done


class Drawn(list):
    """A rollout's state: the entity objects of one drawn outcome."""

    __slots__ = ()


def _rebuilt(obj: Any, fields: dict[str, Any]) -> Any:
    fresh = object.__new__(type(obj))
    fresh.__dict__.update(fields)
    return fresh


def _given(action: Any) -> Any:
    return list(action) if isinstance(action, (list, tuple)) else action


@dataclass
class ChancePlan:
    """One decision in a random world, and φ2's verdict from the search that made it."""

    action: Any = None
    value: float = 0.0        # goal: the probability of reaching it within the horizon; return: the expected return
    exact: bool = False       # `value` is exact (the exact planner), not an estimate (MCTS)
    objective: str = "goal"
    horizon: int = 0
    status: Status = BUDGET
    planner: str = ""         # "exact" or "mcts"
    reason: str = ""
    cut: Cut | None = None    # the budget that cut MCTS short (the exact planner's decide nothing or all)
    first_error: dict[str, Any] | None = None
    # what the plan expects: the policy's most probable outcome at each step (exact), or the
    # best trajectory a simulation played (MCTS); (state key, reward, done) after each action
    actions: list[Any] = field(default_factory=list)
    predictions: list[tuple[Any, float, bool]] = field(default_factory=list)
    optimistic: float = 0.0   # the most the program allows with positive probability (exact only)
    nodes: int = 0            # (state, action) expansions of the exact planner
    states: int = 0
    steps: int = 0            # MCTS's program steps
    simulations: int = 0
    calls: int = 0            # calls of the program's functions
    seconds: float = 0.0

    @property
    def found(self) -> bool:
        return self.status == FOUND


def plan_chance(program: Any, state: list[dict[str, Any]], mission: str, actions: list[Any], *,
                objective: Objective = "goal", horizon: int = 100, gamma: float = 1.0, max_nodes: int = 20_000,
                max_outcomes: int = 100_000, enumerate_limit: int = ENUMERATE_LIMIT, time_limit: float = 10.0,
                call_timeout: float = 2.0, rng_seed: int = 0, settings: MctsSettings = CHANCE_MCTS,
                model: ChanceModel | None = None, hopeful: bool = False) -> tuple[ChancePlan, ChancePolicy | None]:
    """Decide one action in a random world (see the module docstring). Returns the plan and,
    when the exact planner solved the world, its policy: valid for every state reached from
    `state` with the steps then left, so a caller may keep it for the rest of the episode
    (`policy.action(model.start(s), steps_left)`) instead of planning again. `model`: a model of
    the same program and mission to reuse (its kept distributions). `hopeful`: the plan's
    `actions` and `predictions` are, where the exact planner solved the world, the trajectory of
    positive probability with the most return (`ChancePolicy.hopeful_path`; φ2 in a return world)
    instead of the policy's most probable one."""
    started = time.monotonic()
    plan = ChancePlan(objective=objective, horizon=horizon)
    if program.failure is not None:
        plan.status, plan.reason, plan.first_error = ERROR, "the program does not load", program.failure
        return plan, None
    # the outcomes are drawn from a generator of their own: one that shared the search's seed would
    # draw in step with it (a rollout's choice of action and the outcome it meets, correlated)
    model = model or ChanceModel(program, mission, call_timeout, random.Random(rng_seed ^ OUTCOME_SEED),
                                 enumerate_limit)
    calls_before = model.calls
    errors: list[dict[str, Any]] = []

    def on_error(exc: BaseException, action: Any) -> None:
        if isinstance(exc, TooManyOutcomes):
            raise exc
        if not errors:
            errors.append(classify(exc, program.source))

    deadline = started + time_limit
    policy: ChancePolicy | None = None
    try:
        with timer.installed():
            start = model.start(state)
            try:
                policy = solve(start, actions, model.outcomes, horizon=horizon, objective=objective, gamma=gamma,
                               max_nodes=max_nodes, max_outcomes=max_outcomes, deadline=deadline,
                               on_error=on_error, hopeful=hopeful)
            except TooManyOutcomes as exc:
                plan.reason = f"too many outcomes to list ({exc}); "
            if policy is not None and policy.solved:
                _from_policy(plan, policy, model, start, hopeful=hopeful)
            else:
                if policy is not None:
                    plan.nodes, plan.reason = policy.nodes, plan.reason + policy.reason + "; "
                    policy = None
                _by_mcts(plan, model, start, actions, objective, horizon, settings, deadline, rng_seed, on_error)
    except timer.CallTimeout as exc:
        plan.status, plan.reason = ERROR, "a call of the program timed out during planning"
        errors.append(classify(exc, program.source))
    except Exception as exc:  # noqa: BLE001 - e.g. the start state does not decode
        plan.status, plan.reason = ERROR, "the program cannot be planned in"
        errors.append(classify(exc, program.source))
    if errors:
        plan.first_error = errors[0]
    plan.calls = model.calls - calls_before
    plan.seconds = time.monotonic() - started
    return plan, policy


def _from_policy(plan: ChancePlan, policy: ChancePolicy, model: ChanceModel, start: Key, *, hopeful: bool = False,
                 steps_left: int | None = None) -> None:
    """The plan an exact policy gives from `start` with `steps_left` (default: its horizon; a
    later state of a kept policy with the steps then left, which `policy.covers`)."""
    plan.planner, plan.exact = "exact", True
    plan.status, plan.reason = policy.status, policy.reason
    plan.nodes, plan.states = policy.nodes, policy.states
    plan.value = policy.value(start, steps_left)
    if steps_left is None:
        plan.optimistic = policy.optimistic[0] if policy.optimistic else 0.0
    elif policy.objective == "goal":  # from a later state: the goal is within reach exactly when its value is positive
        plan.status = FOUND if plan.value > 0 else EXHAUSTED
        plan.reason = "" if plan.value > 0 else \
            f"no policy reaches the goal within {steps_left} steps, with any probability"
    plan.action = policy.action(start, steps_left)
    if plan.action is None and plan.status == FOUND:
        plan.status, plan.reason = EXHAUSTED, "no action can be taken"
    path = policy.hopeful_path(start, steps_left) if hopeful else policy.likely_path(start, steps_left)
    plan.actions = [a for a, _ in path]
    plan.predictions = [(state_key(model.json_state(k)), r, d) for a, (_, k, r, d) in path]


def _by_mcts(plan: ChancePlan, model: ChanceModel, start: Key, actions: list[Any], objective: Objective,
             horizon: int, settings: MctsSettings, deadline: float, rng_seed: int, on_error: Any) -> None:
    goal = objective == "goal"

    def step(key: Any, action: Any) -> tuple[Key, float, bool]:
        child, r, done = model.sample(key, action)
        return child, (1.0 if success(r, done) else 0.0) if goal else r, done

    def roll(state: Any, action: Any) -> tuple[Drawn, float, bool]:
        after, r, done = model.roll(state, action)
        return after, (1.0 if success(r, done) else 0.0) if goal else r, done

    if horizon > 0:
        settings = replace(settings, max_depth=min(settings.max_depth, horizon))
    result = settings.search(start, actions, step, rng=random.Random(rng_seed), deadline=deadline,
                             on_error=on_error, chance=True, rollout_step=roll,
                             rollout_avoid=(lambda r, done: done and r <= 0) if goal else None)
    plan.planner, plan.exact = "mcts", False
    plan.steps, plan.simulations = result.steps, result.rollouts
    plan.reason += result.reason
    plan.cut = result.cut
    if result.status != FOUND:
        plan.status = ERROR if result.status == ERROR else BUDGET
        return
    plan.action, plan.value = result.action, result.value
    reached = bool(result.predictions) and result.predictions[-1][2] and result.predictions[-1][1] > 0
    plan.status = FOUND if (reached or not goal) else BUDGET
    if goal and not reached:
        plan.reason = (plan.reason + "; " if plan.reason else "") + "no simulation reached the goal"
    plan.actions = list(result.actions)
    plan.predictions = [(state_key(encode_state(k) if type(k) is Drawn else model.json_state(k)), r, d)
                        for k, r, d in result.predictions]


def as_plan_result(plan: ChancePlan, max_depth: int, *, acting: bool = False) -> PlanResult:
    """A decision in a random world as the plan a worker reports (`verdict.plan_from_wire`): found
    when some policy reaches the goal with positive probability (φ2), with the exact policy's most
    probable path (its action at each state that path meets, with the steps then left) or MCTS's
    one action, and what the program expects after each. The agent follows it while the world
    does what was most probable, and plans again at the first other outcome. `acting`: where MCTS
    ran out of budget with no simulation reaching the goal, its best action is still the one to
    take; it comes as a found plan marked `explore` (a step, not a way to the goal), while a φ2
    check (not acting) keeps the verdict undecided."""
    guess = acting and not plan.exact and plan.status == BUDGET and plan.action is not None and \
        bool(plan.predictions)
    found = (plan.status == FOUND or guess) and plan.action is not None
    actions: list[Any] = []
    predictions: list[tuple[Any, float, bool]] = []
    if found:
        keep = max_depth if plan.exact else 1
        actions, predictions = list(plan.actions[:keep]), list(plan.predictions[:keep])
        if not actions or actions[0] != plan.action or len(predictions) != len(actions):
            found, actions, predictions = False, [], []
    status = plan.status if found or plan.status != FOUND else BUDGET
    return PlanResult(found, actions=actions, predictions=predictions, nodes=plan.nodes or plan.steps,
                      reason=plan.reason, first_error=plan.first_error, status=FOUND if found else status,
                      states=plan.states, seconds=plan.seconds, planner=f"chance-{plan.planner or 'none'}",
                      explore=found and guess)


def first_step(plan: ChancePlan, model: ChanceModel, state: list[dict[str, Any]]) -> None:
    """Make MCTS's decision its plan's first step: the best trajectory a simulation played may
    start with another action than the one MCTS chose (the most visited), so the plan becomes
    that action alone, with its most probable outcome under the program (one drawn where there
    are too many to list) as what the program expects."""
    if plan.exact or plan.action is None or plan.actions[:1] == [plan.action]:
        return
    start = model.start(state)
    try:
        with timer.installed():
            try:
                _, child, r, done = max(model.outcomes(start, plan.action), key=lambda o: o[0])
            except TooManyOutcomes:
                child, r, done = model.sample(start, plan.action)
    except Exception:  # noqa: BLE001 - the program failed here: no step to expect
        plan.actions, plan.predictions = [], []
        return
    plan.actions, plan.predictions = [plan.action], [(state_key(model.json_state(child)), r, done)]


def as_return_plan(plan: ChancePlan, *, hopeful: bool = False) -> ReturnPlan:
    """A decision in a random world scored by its return as the plan a worker reports
    (`verdict.return_plan_from_wire`, which trusts it as no more than actions with the program's
    predictions after each, and adds up their returns itself): `action`, the one that maximises
    the expected return (`value`, the planner's estimate, only checked to be a number); with it,
    acting, the exact policy's most probable path (MCTS: its action alone, with its most probable
    outcome, `first_step`), or for φ2 (`hopeful`) a trajectory of positive probability under the
    program: the exact planner's with the most return (`ChancePolicy.hopeful_path`), or the best
    one MCTS played. The parent reads φ2 from that trajectory's return as it reads a deterministic
    plan's (`return_goal.judged`), so a program is held to what it predicts step by step, never
    to a total it states."""
    common: dict[str, Any] = dict(reason=plan.reason, first_error=plan.first_error, seconds=plan.seconds,
                                  planner=f"chance-{plan.planner or 'none'}", steps=plan.steps or plan.nodes,
                                  rollouts=plan.simulations, cut=plan.cut)
    if plan.status != FOUND or plan.action is None:
        # "exhausted" does not occur for the return objective, except where no action can be taken
        return ReturnPlan(status=BUDGET if plan.status == BUDGET else ERROR, **common)
    keep = len(plan.actions) if plan.exact or hopeful else 1
    actions, predictions = list(plan.actions[:keep]), list(plan.predictions[:keep])
    if len(predictions) != len(actions) or (not hopeful and actions[:1] != [plan.action]):
        actions, predictions = [], []
    result = ReturnPlan(action=plan.action, actions=actions, predictions=predictions, value=plan.value, gamma=1.0,
                        status="found", **common)
    add_returns(result)
    return result


class KeptPlans:
    """What a program's worker keeps between its plans over chance: a `ChanceModel` per mission
    (the program's distributions, asked once for the worker's life) and the last exact policy per
    (mission, objective), which answers a later state it covers (`ChancePolicy.covers`: the agent
    one step further, with a step fewer left) as a new search would, without one. Each request
    seeds the model's draws afresh, so a reply depends on the request, not on what the worker
    planned before (for a program whose answers depend only on their arguments)."""

    def __init__(self, program: Any, call_timeout: float) -> None:
        self.program = program
        self.call_timeout = call_timeout
        self.models: dict[str, ChanceModel] = {}
        self.policies: dict[tuple[str, str], ChancePolicy] = {}

    def model(self, mission: str, seed: int) -> ChanceModel:
        model = self.models.pop(mission, None)
        if model is not None and len(model.table) > ENTITIES_KEPT:
            model = None
            self.policies = {k: v for k, v in self.policies.items() if k[0] != mission}
        if model is None:
            model = ChanceModel(self.program, mission, self.call_timeout)
            while len(self.models) >= MISSIONS_KEPT:
                dropped = next(iter(self.models))
                del self.models[dropped]
                for kept in [k for k in self.policies if k[0] == dropped]:
                    del self.policies[kept]
        self.models[mission] = model
        model.rng = random.Random(seed ^ OUTCOME_SEED)
        return model

    def plan(self, state: list[dict[str, Any]], mission: str, actions: list[Any], *, objective: Objective,
             horizon: int, seed: int, hopeful: bool = False, **budget: Any) -> tuple[ChancePlan, ChanceModel]:
        """`plan_chance` from `state`, or the kept policy's answer where it covers the state."""
        model = self.model(mission, seed)
        kept = self.policies.get((mission, objective))
        if kept is not None and not hopeful and kept.actions == list(actions):
            started = time.monotonic()
            try:
                with timer.installed():
                    start = model.start(state)
            except Exception:  # noqa: BLE001 - a state the program cannot decode: planned afresh, which says why
                start = None
            if start is not None and kept.covers(start, horizon):
                plan = ChancePlan(objective=objective, horizon=horizon)
                _from_policy(plan, kept, model, start, steps_left=horizon)
                plan.nodes, plan.seconds = 0, time.monotonic() - started
                plan.reason = (plan.reason + "; " if plan.reason else "") + "the policy kept from an earlier plan"
                return plan, model
        plan, policy = plan_chance(self.program, state, mission, actions, objective=objective, horizon=horizon,
                                   call_timeout=self.call_timeout, rng_seed=seed, model=model, hopeful=hopeful,
                                   **budget)
        if policy is not None:
            self.policies[(mission, objective)] = policy
        return plan, model


def answers_randomly(program: Any, state: list[dict[str, Any]], mission: str, actions: list[Any],
                     call_timeout: float = 2.0) -> bool:
    """Whether the program answers some action from `state` with a distribution (of next states,
    or of (reward, done)): what routes a plan to planning over chance in a worker whose parent has
    not judged the program's answers yet (a program transferred from another run, before the
    first step). Any failure is False: the planner it is then given reports it."""
    if program.failure is None and program.chance is not None:
        try:
            with timer.installed():
                objs = decode_state(program.namespace, state)
                for action in actions:
                    with timer.limit(call_timeout):
                        after = program.transition(decode_state(program.namespace, state), _given(action))
                        if is_random(after, program.chance):
                            return True
                        if is_random(program.reward(objs, _given(action), after, mission), program.chance):
                            return True
        except (Exception, timer.CallTimeout):  # noqa: BLE001 - untrusted; its planner says what went wrong
            return False
    return False
