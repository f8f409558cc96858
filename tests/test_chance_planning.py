"""Planning over chance (issue 28): the exact finite-horizon planner (`wc._planning.chance`) and MCTS
with chance nodes, pinned on small random worlds whose optimum is computed exactly here, and
`plan_chance` over compiled programs (exact where the world is small, MCTS where it is not)."""
import json
import math
import random
from functools import cache

import pytest

from wc._planning import mcts
from wc._planning.chance import TIE_GAMMA, solve
from wc._sandbox import runtime
from wc._sandbox.plan_chance import CHANCE_MCTS, ChanceModel, KeptPlans, as_return_plan, plan_chance
from wc.envs.api import load

# --------------------------------------------------------------------------- a small random world

N, Q, R = 4, 0.6, 0.35   # a ladder of N rungs: "climb" goes up one with Q (else stays); "leap" wins with R, else falls


def ladder(key, action):
    """(probability, key, reward, done) outcomes: the top of the ladder is the goal."""
    (rung,) = key
    if action == "leap":
        return [(R, ("won",), 1.0, True), (1 - R, ("fell",), 0.0, True)]
    if rung + 1 == N:
        return [(Q, ("won",), 1.0, True), (1 - Q, key, 0.0, False)]
    return [(Q, (rung + 1,), 0.0, False), (1 - Q, key, 0.0, False)]


@cache
def best(rung, steps):
    """The optimal probability of reaching the top within `steps`, by the recursion itself."""
    if steps == 0:
        return 0.0
    climb = Q * (1.0 if rung + 1 == N else best(rung + 1, steps - 1)) + (1 - Q) * best(rung, steps - 1)
    return max(climb, R)


@pytest.mark.parametrize("steps, figures", [
    (3, (0.35, "leap", 6, 6)),      # three rungs cannot be climbed in time: leap
    (4, (0.404, "climb", 6, 8)),    # four steps: climbing, and leaping at the end if behind, is worth more
    (12, (0.98680629248, "climb", 6, 8)),   # (states: the four rungs, won and fell)
])
def test_exact_goal_probability_on_a_ladder(steps, figures):
    policy = solve((0,), ["climb", "leap"], ladder, horizon=steps, objective="goal")
    assert policy.status == "found" and policy.solved
    assert policy.value((0,), steps) == pytest.approx(best(0, steps), abs=1e-12)
    assert (round(policy.value((0,)), 13), policy.action((0,)), policy.states, policy.nodes) == figures
    for rung in range(min(N, steps)):  # every state reached and every number of steps then left
        for h in range(1, steps - rung + 1):
            assert policy.value((rung,), h) == pytest.approx(best(rung, h), abs=1e-12)
    assert policy.optimistic[0] == 1.0
    assert policy.action((0,), 0) is None and policy.value(("elsewhere",)) == 0.0


def test_the_most_likely_path_and_ties_broken_toward_the_sooner_goal():
    policy = solve((0,), ["climb", "leap"], ladder, horizon=20)
    assert [a for a, _ in policy.likely_path((0,))] == ["climb"] * 4
    assert policy.likely_path((0,))[-1][1] == (Q, ("won",), 1.0, True)

    def detour(key, action):   # "wait" and "go" both reach the goal surely within 3 steps; "go" sooner
        (t,) = key
        if action == "go" or t == 2:
            return [(1.0, ("goal",), 1.0, True)]
        return [(1.0, (t + 1,), 0.0, False)]

    policy = solve((0,), ["wait", "go"], detour, horizon=3)
    assert policy.value((0,)) == 1.0 and policy.action((0,)) == "go"
    assert TIE_GAMMA < 1


def test_expected_return_with_a_discount():
    """A coin worth 1 every step while it lands heads (0.5); "stop" ends with 0.8, which is best
    with one step left: V(1) = 0.8, V(h) = max(0.5 (1 + gamma V(h - 1)), 0.8)."""
    def coin(key, action):
        if action == "stop":
            return [(1.0, ("end",), 0.8, True)]
        return [(0.5, key, 1.0, False), (0.5, ("end",), 0.0, True)]

    gamma = 0.9
    policy = solve(("play",), ["play", "stop"], coin, horizon=5, objective="return", gamma=gamma)
    value = 0.0
    for _ in range(5):
        value = max(0.5 * (1 + gamma * value), 0.8)
    assert policy.value(("play",)) == pytest.approx(value, abs=1e-12) and round(value, 12) == 0.9046175
    assert policy.action(("play",), 1) == "stop" and policy.action(("play",), 2) == "play"
    assert policy.optimistic[0] == pytest.approx(sum(gamma ** k for k in range(5)))


def test_verdicts_exhausted_budget_and_error():
    def hopeless(key, action):
        return [(0.5, (key[0] + 1,), 0.0, False), (0.5, key, -1.0, False)]

    policy = solve((0,), ["a"], hopeless, horizon=5)
    assert policy.status == "exhausted" and policy.value((0,)) == 0.0 and "no policy reaches the goal" in policy.reason
    wide = solve((0,), ["a"], hopeless, horizon=50, max_nodes=10)
    assert wide.status == "budget" and not wide.solved and "10 expansions" in wide.reason
    assert wide.nodes <= 10

    def broken(key, action):
        raise ValueError("no")

    errors = []
    policy = solve((0,), ["a", "b"], broken, horizon=3, on_error=lambda exc, a: errors.append(a))
    assert policy.status == "error" and errors == ["a", "b"]


# --------------------------------------------------------------------------- MCTS with chance nodes


def sampled(world, seed):
    """`world`'s outcomes drawn at random (from a generator of their own, not the search's)."""
    rng = random.Random(seed + 10_000)

    def step(key, action):
        outcomes = world(key, action)
        u = rng.random()
        for p, child, r, done in outcomes:
            u -= p
            if u < 0:
                return child, r, done
        return outcomes[-1][1:]

    return step


def test_mcts_with_chance_nodes_finds_the_exact_optimum_of_the_ladder():
    """With time to climb (12 steps) climbing is best (0.987 against 0.35 for leaping), and the
    root's mean value estimates that probability (gamma = 1, reward 1 at the goal); with three
    steps the top is out of reach and MCTS leaps at once, as the exact planner does."""
    settings = mcts.MctsSettings(simulations=2000, rollout_depth=12, max_depth=12, c=0.5, gamma=1.0)
    exact = solve((0,), ["climb", "leap"], ladder, horizon=12)
    values = []
    for seed in range(3):
        plan = settings.search((0,), ["climb", "leap"], sampled(ladder, seed), rng=random.Random(seed), chance=True)
        assert plan.action == exact.action((0,)) == "climb" and plan.status == "found" and plan.rollouts == 2000
        values.append(plan.value)
    assert [round(v, 4) for v in values] == [0.7941, 0.9178, 0.9432]
    assert max(values) == pytest.approx(exact.value((0,)), abs=0.05)
    # out of reach in three steps: leaping now or after climbing is worth the same 0.35, and a
    # discount prefers now, as the exact planner's tie-break does
    short = mcts.MctsSettings(simulations=500, rollout_depth=3, max_depth=3, c=0.5, gamma=0.9)
    plan = short.search((0,), ["climb", "leap"], sampled(ladder, 2), rng=random.Random(0), chance=True)
    assert plan.action == solve((0,), ["climb", "leap"], ladder, horizon=3).action((0,)) == "leap"
    assert plan.value == pytest.approx(R, abs=0.05)


def test_a_chance_edge_keeps_one_child_per_outcome_and_rollouts_avoid_failures():
    # without chance nodes the first outcome drawn would stand for the edge for good
    blind = mcts.MctsSettings(simulations=400, rollout_depth=0, max_depth=1, c=1.0, gamma=1.0)
    coin = sampled(lambda key, a: [(0.5, ("h",), 1.0, True), (0.5, ("t",), 0.0, True)] if a == "flip"
                   else [(1.0, ("s",), 0.4, True)], 5)
    chance = blind.search(("start",), ["flip", "safe"], coin, rng=random.Random(0), chance=True)
    assert chance.action == "flip" and chance.value == pytest.approx(0.5, abs=0.08)

    # a corridor whose "wall" action ends the episode: random rollouts mostly die, avoiding rollouts reach the goal
    def corridor(key, action):
        if action == "wall":
            return [(1.0, ("dead",), 0.0, True)]
        if key[0] + 1 == 8:
            return [(1.0, ("goal",), 1.0, True)]
        return [(1.0, (key[0] + 1,), 0.0, False)]

    settings = mcts.MctsSettings(simulations=1, rollout_depth=20, max_depth=20, gamma=1.0)
    acts = ["wall", "on", "wall2"]
    corridor2 = lambda k, a: corridor(k, "wall" if a == "wall2" else a)  # noqa: E731
    # one simulation each: where its first step went on, the rollout goes on to the goal when it
    # avoids deaths, and almost never when it walks at random (two of three actions die)
    found = [settings.search((0,), acts, sampled(corridor2, s), rng=random.Random(s), chance=True,
                             rollout_avoid=lambda r, done: done and r <= 0) for s in range(30)]
    blind = [settings.search((0,), acts, sampled(corridor2, s), rng=random.Random(s), chance=True)
             for s in range(30)]
    went_on = [p for p in found if p.actions[0] == "on"]
    assert went_on and all(p.value == 1.0 and p.actions == ["on"] * 8 for p in went_on)
    blind_on = [p for p in blind if p.actions[0] == "on"]
    assert blind_on and sum(p.value for p in blind_on) == 0


def bets(key, action):
    """A bet that pays 10 with 0.05 (else nothing) beside a sure 1: the expected return prefers the
    sure 1 at every step, the most the world allows with positive probability is 10 a step."""
    (n,) = key
    if action == "safe":
        return [(1.0, (n + 1,), 1.0, False)]
    return [(0.05, (n + 1,), 10.0, False), (0.95, (n + 1,), 0.0, False)]


def test_the_hopeful_path_attains_the_optimistic_value_the_policy_the_expected_one():
    policy = solve((0,), ["safe", "bet"], bets, horizon=3, objective="return", hopeful=True)
    assert policy.status == "found" and policy.action((0,)) == "safe" and policy.value((0,)) == pytest.approx(3.0)
    assert policy.optimistic[0] == pytest.approx(30.0)
    hopeful = policy.hopeful_path((0,))
    assert [(a, p, r) for a, (p, _, r, _) in hopeful] == [("bet", 0.05, 10.0)] * 3
    assert [a for a, (_, _, r, _) in policy.likely_path((0,))] == ["safe"] * 3
    assert [a for a, _ in policy.hopeful_path((1,), 2)] == ["bet"] * 2   # from a later state, fewer steps left
    assert solve((0,), ["safe", "bet"], bets, horizon=3, objective="return").hopeful_path((0,)) == []  # not kept
    # on the ladder, the goal within reach: a trajectory that reaches it, each step possible
    ladder_policy = solve((0,), ["climb", "leap"], ladder, horizon=12, hopeful=True)
    path = ladder_policy.hopeful_path((0,))
    assert path[-1][1][2:] == (1.0, True) and all(p > 0 for _, (p, _, _, _) in path)


def test_a_policy_covers_the_states_it_valued_exactly():
    """A state met d steps from the start was valued exactly with at most horizon - d steps left."""
    policy = solve((0,), ["climb", "leap"], ladder, horizon=6)
    assert policy.covers((0,), 6) and policy.covers((2,), 4) and not policy.covers((2,), 5)
    assert not policy.covers((0,), 0) and not policy.covers(("elsewhere",), 1)
    assert not solve((0,), ["climb", "leap"], ladder, horizon=6, max_nodes=2).covers((0,), 6)   # not solved


# --------------------------------------------------------------------------- in compiled programs


GAMBLE = """
def transition(state, action):
    o = state[0]
    if o.row == 1:
        return [Observation(1, o.col)]
    if action == "right":
        return choice([(0.75, [Observation(0, o.col + 1)]), (0.25, [Observation(1, o.col)])])
    return [Observation(0, o.col)]

def reward(state, action, next_state, mission):
    if next_state[0].row == 1:
        return 0.0, True
    return (1.0, True) if next_state[0].col == 3 else (0.0, False)
"""


@pytest.fixture(scope="module")
def lake_ns():
    from wc import envs

    adapter = envs.make("FrozenLake-v1")
    yield runtime.api_namespace(adapter.api.source)
    adapter.close()


def test_plan_chance_in_a_program_exactly(lake_ns):
    """Three moves right, each surviving with 0.75: the goal with 0.75**3 at best; "down" never."""
    program = runtime.compile_program(lake_ns, GAMBLE)
    start = [{"type": "Observation", "row": 0, "col": 0}]
    model = ChanceModel(program, "")
    plan, policy = plan_chance(program, start, "", ["down", "right"], horizon=10, model=model)
    assert plan.status == "found" and plan.exact and plan.planner == "exact" and plan.action == "right"
    assert plan.value == pytest.approx(0.75 ** 3) and plan.optimistic == 1.0
    assert plan.actions == ["right"] * 3 and plan.predictions[-1][1:] == (1.0, True)
    assert (plan.nodes, plan.states) == (6, 7)   # three states expanded; the goal and three falls kept
    # the policy holds for the rest of the episode, without planning again
    later = model.start([{"type": "Observation", "row": 0, "col": 1}])
    assert policy is not None and policy.action(later, 5) == "right"
    assert policy.value(later, 5) == pytest.approx(0.75 ** 2) and policy.value(later, 1) == 0.0
    short, _ = plan_chance(program, start, "", ["down", "right"], horizon=2)
    assert short.status == "exhausted" and short.value == 0.0 and short.action is not None
    # a program that fails to load, or whose start does not decode, is an error, not an exception
    assert plan_chance(runtime.compile_program(lake_ns, "x = ("), start, "", ["down"])[0].status == "error"
    bad, _ = plan_chance(program, [{"type": "Nothing"}], "", ["down"])
    assert bad.status == "error" and bad.first_error["kind"] == "malformed"


def test_a_world_too_large_to_list_is_planned_by_mcts():
    """A MiniGrid room whose ball moves at random: the exact planner gives up within a few
    expansions (its budget cannot hold what it has found), MCTS with chance nodes decides, and
    never walks into the wall in front."""
    ns = runtime.api_namespace(load("minigrid", 3).source)
    from conftest import FIXTURES

    program = runtime.compile_program(ns, (FIXTURES / "dynamic_obstacles_model.py").read_text())
    walls = [{"type": "Wall", "x": x, "y": y} for x in range(6) for y in range(6) if x in (0, 5) or y in (0, 5)]
    state = walls + [{"type": "Goal", "x": 4, "y": 4}, {"type": "Ball", "x": 2, "y": 3, "color": "blue"},
                     {"type": "Ball", "x": 3, "y": 1, "color": "blue"},
                     {"type": "Agent", "x": 1, "y": 1, "direction": 3, "carrying": None}]   # facing the wall above
    settings = CHANCE_MCTS.__class__(**{**CHANCE_MCTS.__dict__, "simulations": 60, "rollout_depth": 60})
    plan, policy = plan_chance(program, state, "get to the green goal square", ["left", "right", "forward"],
                               horizon=100, max_nodes=300, settings=settings)
    assert policy is None and plan.planner == "mcts" and not plan.exact and "budget of 300 expansions" in plan.reason
    assert plan.status == "found" and plan.action in ("left", "right") and plan.simulations == 60
    assert plan.predictions[-1][1:] == (1.0, True)   # a simulation reached the goal: φ2 holds
    assert math.isfinite(plan.value) and 0 < plan.value <= 1


def test_a_return_plan_over_chance_as_a_worker_reports_it(lake_ns):
    """Objective "return": acting, the policy's action with its most probable path; for φ2
    (hopeful) a trajectory of positive probability, whose return the parent adds up itself and
    judges as it judges a deterministic plan (return_goal.judged)."""
    from dataclasses import asdict

    from wc._sandbox import verdict
    from wc._sandbox.return_goal import ReturnGoal, judged

    program = runtime.compile_program(lake_ns, GAMBLE)
    start = [{"type": "Observation", "row": 0, "col": 0}]
    space = {"kind": "discrete", "names": ["down", "right"]}
    plan, _ = plan_chance(program, start, "", ["down", "right"], objective="return", horizon=10)
    acting = as_return_plan(plan)
    assert acting.found and acting.action == "right" and acting.value == pytest.approx(0.75 ** 3)
    assert acting.actions == ["right"] * 3 and acting.total == 1.0 and acting.done and acting.planner == "chance-exact"
    hopeful, _ = plan_chance(program, start, "", ["down", "right"], objective="return", horizon=10, hopeful=True)
    wire = json.loads(json.dumps(asdict(as_return_plan(hopeful, hopeful=True))))   # as the wire carries it
    wire["value"] = wire["total"] = 1e9   # what the worker says it is worth is not read
    read = verdict.return_plan_from_wire(wire, space, max_len=10)
    assert read.total == 1.0 and read.done and [p[1:] for p in read.predictions] == [(0.0, False)] * 2 + [(1.0, True)]
    assert judged(read, ReturnGoal(space, "mcts", target=1.0, episode_steps=3)).status == "found"
    assert judged(read, ReturnGoal(space, "mcts", target=1.5, episode_steps=3)).status == "exhausted"
    # a world that never pays: the hopeful trajectory returns nothing, below any positive target
    never = runtime.compile_program(lake_ns, GAMBLE.replace("(1.0, True) if", "(0.0, True) if"))
    nothing, _ = plan_chance(never, start, "", ["down", "right"], objective="return", horizon=10, hopeful=True)
    read = verdict.return_plan_from_wire(json.loads(json.dumps(asdict(as_return_plan(nothing, hopeful=True)))), space,
                                         max_len=10)
    assert read.found and read.total == 0.0
    assert judged(read, ReturnGoal(space, "mcts", target=1.0, episode_steps=10)).status == "exhausted"
    failed = as_return_plan(plan_chance(runtime.compile_program(lake_ns, "x = ("), start, "", ["down"],
                                        objective="return")[0])
    assert failed.status == "error" and failed.action is None and failed.first_error is not None
    assert (acting.cut, read.cut, failed.cut) == (None, None, None)
    # no time at all: the exact planner gives up, and so does MCTS, before a simulation; the plan says why
    late = as_return_plan(plan_chance(program, start, "", ["down", "right"], objective="return", horizon=10,
                                      time_limit=0)[0])
    assert (late.status, late.action, late.cut) == ("budget", None, "time")
    assert verdict.return_plan_from_wire(json.loads(json.dumps(asdict(late))), space, max_len=10).cut == "time"


def test_kept_plans_answer_a_covered_state_from_the_policy_as_a_new_search_would(lake_ns):
    program = runtime.compile_program(lake_ns, GAMBLE)
    kept = KeptPlans(program, 2.0)
    start = [{"type": "Observation", "row": 0, "col": 0}]
    later = [{"type": "Observation", "row": 0, "col": 1}]
    first, _ = kept.plan(start, "", ["down", "right"], objective="return", horizon=10, seed=1)
    again, _ = kept.plan(later, "", ["down", "right"], objective="return", horizon=9, seed=2)
    fresh, _ = plan_chance(program, later, "", ["down", "right"], objective="return", horizon=9)
    assert first.nodes > 0 and again.nodes == 0 and "kept" in again.reason
    assert (again.action, again.value, again.actions, again.predictions) == \
        (fresh.action, pytest.approx(fresh.value), fresh.actions, fresh.predictions)
    # a state with more steps left than the policy valued it with is searched again
    beyond, _ = kept.plan(later, "", ["down", "right"], objective="return", horizon=10, seed=3)
    assert beyond.nodes > 0 and beyond.value == pytest.approx(0.75 ** 2)
    # a goal world's kept policy says exhausted where the goal is out of reach with the steps left
    kept.plan(start, "", ["down", "right"], objective="goal", horizon=10, seed=1)
    short, _ = kept.plan(later, "", ["down", "right"], objective="goal", horizon=1, seed=1)
    assert short.status == "exhausted" and short.nodes == 0
