"""Planning for return inside a compiled program (`wc._sandbox.plan_return`): the fixture models
of CartPole and Pendulum against gymnasium itself, plans that work in the real environments,
predictions that are the program's own, programs that modify their inputs, fail, loop or lie,
and the arguments a caller can get wrong."""
import dataclasses
import json
import math
import random
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from support.helpers import replaced

from wc._planning import cem
from wc._sandbox import runtime, timer, verdict
from wc._sandbox.plan_return import plan_return

FIXTURES = Path(__file__).parent / "fixtures"
CARTPOLE = {"kind": "discrete", "names": ["push_left", "push_right"]}
PENDULUM = {"kind": "continuous", "low": [-2.0], "high": [2.0]}
SMALL_CEM = cem.CemSettings(horizon=15, iterations=3, samples=30, elites=5, keep=2)


def source(name):
    return (FIXTURES / f"{name}_model.py").read_text()


ENV_IDS = {"cartpole": "CartPole-v1", "pendulum": "Pendulum-v1"}


def compiled(name, program=None):
    from wc import envs

    ns = runtime.api_namespace(envs.api_module(ENV_IDS[name]).source)  # the generic adapter's generated module
    return runtime.compile_program(ns, program if program is not None else source(name))


def observation(name, obs):
    fields = {"cartpole": ("cart_position", "cart_velocity", "pole_angle", "pole_angular_velocity"),
              "pendulum": ("cos_theta", "sin_theta", "angular_velocity")}[name]
    return [{"type": "Observation", **{f: float(v) for f, v in zip(fields, obs, strict=True)}}]


def numbers(state):
    """The field values of a one-entity state (JSON, or its canonical key), in field-name order."""
    (entity,) = json.loads(state) if isinstance(state, str) else state
    return [v for k, v in sorted(entity.items()) if k != "type"]


# --------------------------------------------------------------------------- the fixtures are right


@pytest.mark.parametrize("name, env_id", [("cartpole", "CartPole-v1"), ("pendulum", "Pendulum-v1")])
def test_the_fixture_models_predict_what_gymnasium_does(name, env_id):
    """Random steps from several starts: next observations within CWMB's tolerance (1e-5),
    rewards and termination as gymnasium gives them."""
    program = compiled(name)
    env = gym.make(env_id)
    rng = random.Random(0)
    checked = 0
    for seed in range(4):
        obs, _ = env.reset(seed=seed)
        for _ in range(60):
            action = rng.choice(CARTPOLE["names"]) if name == "cartpole" else [rng.uniform(-2.5, 2.5)]
            state = runtime.decode_state(program.namespace, observation(name, obs))
            nxt = program.transition(state, action)
            reward, done = program.reward(state, action, nxt, "")
            obs, real_reward, terminated, _, _ = env.step(CARTPOLE["names"].index(action) if name == "cartpole"
                                                          else np.array(action, dtype=np.float32))
            assert np.allclose(numbers(runtime.encode_state(nxt)), numbers(observation(name, obs)),
                               rtol=1e-5, atol=1e-5)
            assert done == terminated and reward == pytest.approx(float(real_reward), abs=1e-5)
            checked += 1
            if terminated:
                break
    assert checked > 100


# --------------------------------------------------------------------------- plans that work


def test_mcts_in_the_cartpole_program_balances_the_real_pole():
    """CWMB's preset, one search per step in the program, each action played in gymnasium's
    CartPole-v1: the pole stays up for all 100 steps; where the plan's best sequence starts with
    the action taken, its first prediction is the real next observation (to 1e-5)."""
    program = compiled("cartpole")
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=0)
    total, steps, compared = 0.0, 0, 0
    for t in range(100):
        plan = plan_return(program, observation("cartpole", obs), "", CARTPOLE, planner="mcts-cwmb", rng_seed=t)
        assert plan.status == "found" and plan.planner == "mcts-cwmb" and plan.first_error is None
        obs, reward, terminated, _, _ = env.step(CARTPOLE["names"].index(plan.action))
        total, steps = total + reward, steps + plan.steps
        if plan.actions[0] == plan.action:
            key, predicted_reward, done = plan.predictions[0]
            assert np.allclose(numbers(key), numbers(observation("cartpole", obs)), rtol=1e-5, atol=1e-5)
            assert (predicted_reward, done) == (1.0, terminated)
            compared += 1
        assert not terminated
    assert total == 100.0 and compared > 50
    assert steps == 50833  # program steps over the episode (pinned)


def test_cem_in_the_pendulum_program_holds_the_real_pendulum_up():
    """Receding horizon with warm start from the previous plan: from 0.3 rad off upright the
    pendulum is brought up and held (each step costs at most 0.1 after 15 steps)."""
    program = compiled("pendulum")
    env = gym.make("Pendulum-v1")
    env.reset(seed=0)
    env.unwrapped.state = np.array([0.3, 0.0])
    obs = env.unwrapped._get_obs()
    plan, rewards, steps = None, [], 0
    for t in range(30):
        plan = plan_return(program, observation("pendulum", obs), "", PENDULUM, planner=SMALL_CEM, rng_seed=t,
                           init=plan.actions[1:] if plan else None)
        assert plan.status == "found" and len(plan.action) == 1 and -2.0 <= plan.action[0] <= 2.0
        obs, reward, _, _, _ = env.step(np.array(plan.action, dtype=np.float32))
        rewards.append(float(reward))
        steps += plan.steps
    assert max(-r for r in rewards[15:]) < 0.1
    assert (round(sum(rewards), 4), steps) == (-1.015, 38700)  # pinned


# --------------------------------------------------------------------------- predictions are the program's


def replay(program, state, actions):
    """What the program says along `actions`, called as φ1 calls it: fresh decoded states."""
    ns, out = program.namespace, []
    for action in actions:
        nxt = runtime.encode_state(program.transition(runtime.decode_state(ns, state), list(action)
                                                      if isinstance(action, list) else action))
        reward, done = program.reward(runtime.decode_state(ns, state), action, runtime.decode_state(ns, nxt), "")
        out.append((runtime.state_key(nxt), reward, done))
        state = nxt
    return out


@pytest.mark.parametrize("name, planner", [("cartpole", "mcts"), ("cartpole", "mcts-cwmb"),
                                           ("pendulum", SMALL_CEM), ("pendulum", "cem")])
def test_a_plans_predictions_are_what_the_program_says_along_it(name, planner):
    program = compiled(name)
    start = observation(name, [0.05, 0.0, 0.03, -0.1] if name == "cartpole" else [-1.0, 0.0, 0.5])
    plan = plan_return(program, start, "", CARTPOLE if name == "cartpole" else PENDULUM, planner=planner)
    assert plan.status == "found" and plan.actions and len(plan.predictions) == len(plan.actions)
    assert replay(program, start, plan.actions) == plan.predictions
    rewards = [r for _, r, _ in plan.predictions]
    assert plan.total == pytest.approx(sum(rewards), abs=1e-9)
    assert plan.discounted == pytest.approx(sum(r * plan.gamma ** i for i, r in enumerate(rewards)), abs=1e-9)


def test_the_same_seed_gives_the_same_plan_and_another_seed_another():
    for name, planner in (("cartpole", "mcts"), ("pendulum", SMALL_CEM)):
        program = compiled(name)
        start = observation(name, [0.0, 0.1, 0.02, 0.0] if name == "cartpole" else [0.0, 1.0, 0.0])
        space = CARTPOLE if name == "cartpole" else PENDULUM
        plans = [plan_return(program, start, "", space, planner=planner, rng_seed=seed) for seed in (1, 1, 2)]
        same = [(p.action, p.actions, p.predictions, p.steps, p.value) for p in plans]
        assert same[0] == same[1] and same[0] != same[2]


# --------------------------------------------------------------------------- programs that misbehave


MUTATING_PENDULUM = replaced(source("pendulum"),
                             "    return [Observation(cos_theta=math.cos(theta), sin_theta=math.sin(theta), "
                             "angular_velocity=speed)]\n",
                             "    obs.cos_theta, obs.sin_theta, obs.angular_velocity = "
                             "math.cos(theta), math.sin(theta), speed\n    return state\n")
MUTATING_CARTPOLE = replaced(
    source("cartpole"),
    """    return [Observation(
        cart_position=obs.cart_position + TAU * obs.cart_velocity,
        cart_velocity=obs.cart_velocity + TAU * cart_acc,
        pole_angle=obs.pole_angle + TAU * obs.pole_angular_velocity,
        pole_angular_velocity=obs.pole_angular_velocity + TAU * angle_acc,
    )] + list(state[1:])
""",
    "    x, x_dot, theta, theta_dot = obs.cart_position, obs.cart_velocity, obs.pole_angle, obs.pole_angular_velocity\n"
    "    obs.cart_position, obs.cart_velocity = x + TAU * x_dot, x_dot + TAU * cart_acc\n"
    "    obs.pole_angle, obs.pole_angular_velocity = theta + TAU * theta_dot, theta_dot + TAU * angle_acc\n"
    "    state.append(obs)\n    state.pop(0)\n    return state\n")
# reward() that overwrites the next state it is given after reading it
SCRIBBLING_PENDULUM = source("pendulum") + (
    "\n\n_reward = reward\n\n\ndef reward(state, action, next_state, mission):\n"
    "    out = _reward(state, action, next_state, mission)\n    next_state[0].angular_velocity = 99.0\n"
    "    state[0].cos_theta = 5.0\n    return out\n")


@pytest.mark.parametrize("name, planner, variant", [
    ("pendulum", SMALL_CEM, MUTATING_PENDULUM), ("pendulum", SMALL_CEM, SCRIBBLING_PENDULUM),
    ("cartpole", "mcts", MUTATING_CARTPOLE), ("pendulum", "cem", MUTATING_PENDULUM)])
def test_a_program_that_modifies_what_it_is_given_plans_as_one_that_does_not(name, planner, variant):
    """The pendulum's reward reads the state before the step: a transition that updates that
    state in place (and returns it), or a reward that scribbles on both states, would give
    other rewards and other next states if the planner passed the objects on. Caught after
    each call and rebuilt: the same plan, step for step, as the well-behaved program's."""
    start = observation(name, [0.05, 0.0, 0.03, -0.1] if name == "cartpole" else [-1.0, 0.0, 0.5])
    space = CARTPOLE if name == "cartpole" else PENDULUM
    clean = plan_return(compiled(name), start, "", space, planner=planner, rng_seed=3)
    bad = plan_return(compiled(name, variant), start, "", space, planner=planner, rng_seed=3)
    assert bad.status == "found" and bad.first_error is None
    assert (bad.action, bad.actions, bad.predictions, bad.steps, bad.value) == \
        (clean.action, clean.actions, clean.predictions, clean.steps, clean.value)


NESTED_API = '''
from dataclasses import dataclass

ACTION_SIZE = 1
ACTION_LOW = [-3.0]
ACTION_HIGH = [3.0]


@dataclass
class Cart:
    position: float
    velocity: float


@dataclass
class Observation:
    cart: Cart
    trail: list
'''
# a double integrator whose state nests an entity and a list, and whose transition modifies both in place
NESTED_MODEL = '''
def transition(state, action):
    obs = state[0]
    cart = obs.cart
    position, velocity = cart.position, cart.velocity
    cart.position, cart.velocity = position + 0.1 * velocity, velocity + 0.1 * action[0]
    obs.trail.append(round(obs.cart.position, 3))
    del obs.trail[:-2]
    action.append(1.0)
    return state


def reward(state, action, next_state, mission):
    cart = state[0].cart
    return -(cart.position ** 2 + cart.velocity ** 2 + 0.1 * action[0] ** 2), False
'''


def test_nested_states_and_actions_a_program_modifies_are_rebuilt():
    """Entities inside entities and lists inside them take the slower, deep-copied path; a
    program that modifies them in place, and the action list it is given, still plans as the
    double integrator it is (the same plan as the flat one of tests/test_return_planning.py)."""
    ns = runtime.api_namespace(NESTED_API)
    program = runtime.compile_program(ns, NESTED_MODEL)
    start = [{"type": "Observation", "cart": {"type": "Cart", "position": 1.0, "velocity": 0.0}, "trail": []}]
    space = {"kind": "continuous", "low": [-3.0], "high": [3.0]}
    settings = cem.CemSettings(horizon=10, iterations=12, samples=200, elites=20, keep=5)
    plan = plan_return(program, start, "", space, planner=settings)
    assert plan.status == "found" and plan.first_error is None
    assert round(plan.total, 6) == -9.252919  # as the pure double integrator's plan, to the last digit pinned
    first = json.loads(plan.predictions[0][0])[0]
    assert first["cart"]["position"] == 1.0 and first["trail"] == [1.0]
    assert replay(program, start, plan.actions) == plan.predictions


def test_planning_in_a_program_that_fails_says_how():
    start = observation("cartpole", [0.0, 0.0, 0.01, 0.0])
    unloadable = compiled("cartpole", "import os\n" + source("cartpole"))
    plan = plan_return(unloadable, start, "", CARTPOLE)
    assert (plan.status, plan.reason, plan.action) == ("error", "the program does not load", None)
    assert plan.first_error is unloadable.failure and plan.first_error["kind"] == "forbidden"

    plan = plan_return(compiled("cartpole"), [{"type": "Dragon", "x": 1}], "", CARTPOLE)
    assert (plan.status, plan.reason, plan.first_error["kind"]) == ("error", "the program cannot be planned in",
                                                                    "malformed")
    assert plan.predictions == [] and plan.planner == "iw"

    # an action whose transition raises: planned around, the first error kept with its line
    raising = replaced(source("cartpole"), "    obs = state[0]\n", "    obs = state[0]\n    if action == 'push_left':\n"
                                                                "        raise ValueError('left is broken')\n")
    plan = plan_return(compiled("cartpole", raising), start, "", CARTPOLE)
    assert plan.status == "found" and set(plan.actions) == {"push_right"} and plan.action == "push_right"
    assert plan.first_error["kind"] == "exception" and "left is broken" in plan.first_error["message"]
    assert plan.first_error["code"] == "raise ValueError('left is broken')"


@pytest.mark.parametrize("planner", ["mcts", "cem"])
def test_a_program_that_loops_in_a_rollout_is_stopped_by_its_call_limit(planner):
    """The loop starts only in states a few steps away (a rollout's, not the tree's first
    edges), where calls are timed by the rolling limit: stopped after about call_timeout."""
    name = "cartpole" if planner == "mcts" else "pendulum"
    looping = source(name) + ("\n\n_transition = transition\n\n\ndef transition(state, action):\n"
                              "    while abs(state[0].%s) > 0.2:\n        pass\n"
                              "    return _transition(state, action)\n") % (
                                  "cart_velocity" if name == "cartpole" else "angular_velocity")
    start = observation(name, [0.0, 0.0, 0.01, 0.0] if name == "cartpole" else [1.0, 0.0, 0.0])
    started = time.monotonic()
    plan = plan_return(compiled(name, looping), start, "", CARTPOLE if name == "cartpole" else PENDULUM,
                       planner=planner, call_timeout=0.2)
    assert (plan.status, plan.reason, plan.action) == ("error", "a call of the program timed out during planning",
                                                       None)
    assert plan.first_error["kind"] == "timeout" and plan.predictions == []
    # the call that loops is what stopped it (nothing else stops a call): no upper bound, which load would move
    assert plan.seconds >= 0.18 and time.monotonic() - started >= plan.seconds


@pytest.mark.parametrize("bad_reward, words", [("float('nan'), False", "finite"), ("1.0, 'yes'", "bool"),
                                               ("'much', False", "number")])
def test_a_reward_outside_the_contract_is_an_error_of_the_program(bad_reward, words):
    program = compiled("pendulum", source("pendulum") + f"\n\ndef reward(state, action, next_state, mission):\n"
                                                        f"    return {bad_reward}\n")
    plan = plan_return(program, observation("pendulum", [1.0, 0.0, 0.0]), "", PENDULUM, planner=SMALL_CEM)
    assert (plan.status, plan.reason) == ("error", "every sequence tried fails")
    assert plan.first_error["kind"] == "malformed" and words in plan.first_error["message"]


def test_a_transition_that_returns_no_state_is_an_error_of_the_program():
    program = compiled("cartpole", source("cartpole") + "\n\ndef transition(state, action):\n    return {'x': 1}\n")
    plan = plan_return(program, observation("cartpole", [0.0, 0.0, 0.0, 0.0]), "", CARTPOLE)
    assert (plan.status, plan.reason) == ("error", "every action fails from the start")
    assert plan.first_error["kind"] == "malformed" and "list of entities" in plan.first_error["message"]


# --------------------------------------------------------------------------- budgets and arguments


def test_the_step_budget_and_the_time_limit_reach_the_search():
    program = compiled("cartpole")
    start = observation("cartpole", [0.0, 0.0, 0.01, 0.0])
    small = plan_return(program, start, "", CARTPOLE, max_steps=300)
    assert small.status == "found" and small.steps == 300 and small.reason == "step budget of 300 spent"
    assert small.cut == "steps"
    late = plan_return(program, start, "", CARTPOLE, time_limit=0)
    assert (late.status, late.action, late.reason, late.predictions) == ("budget", None, "time budget spent", [])
    assert late.cut == "time"
    pend = plan_return(compiled("pendulum"), observation("pendulum", [1.0, 0.0, 0.0]), "", PENDULUM, max_steps=100,
                       planner="cem")
    assert pend.steps == 100 and pend.rollouts == 3 and pend.reason == "step budget of 100 spent"
    assert pend.cut == "steps"
    seeded = plan_return(compiled("pendulum"), observation("pendulum", [1.0, 0.0, 0.0]), "", PENDULUM, max_steps=100)
    assert (seeded.planner, seeded.steps, seeded.reason, seeded.cut) == ("iw-cem", 100, "step budget of 100 spent",
                                                                         "steps")


def test_the_planner_follows_the_action_space_unless_named():
    cart, pend = compiled("cartpole"), compiled("pendulum")
    cart_start, pend_start = observation("cartpole", [0.0] * 4), observation("pendulum", [1.0, 0.0, 0.0])
    assert plan_return(cart, cart_start, "", CARTPOLE, max_steps=50).planner == "iw"
    assert plan_return(cart, cart_start, "", CARTPOLE, max_steps=50, planner="mcts").planner == "mcts"
    assert plan_return(pend, pend_start, "", PENDULUM, max_steps=50).planner == "iw-cem"
    assert plan_return(pend, pend_start, "", PENDULUM, max_steps=50, planner="cem").planner == "cem"
    assert plan_return(pend, pend_start, "", PENDULUM, max_steps=50, planner="cem-cwmb").planner == "cem-cwmb"
    assert plan_return(pend, pend_start, "", PENDULUM, max_steps=50, planner=SMALL_CEM).planner == "cem"
    for space, planner, words in ((CARTPOLE, "cem", "cem plans over continuous actions; these are discrete"),
                                  (PENDULUM, "mcts-cwmb", "mcts plans over discrete actions; these are continuous"),
                                  (CARTPOLE, "bfws", "unknown return planner 'bfws'"),
                                  ({"kind": "discrete", "names": []}, "auto", "needs its action names"),
                                  ({"kind": "box"}, "auto", "unknown kind of action space"),
                                  ({"kind": "continuous", "low": [0.0], "high": [math.inf]}, "auto", "finite bounds"),
                                  ({"kind": "multidiscrete", "nvec": [40, 40]}, "auto", "1600 joint actions")):
        with pytest.raises(ValueError, match=words.replace("(", r"\(")):
            plan_return(cart, cart_start, "", space, planner=planner)
    with pytest.raises(ValueError, match="warm start"):
        plan_return(pend, pend_start, "", PENDULUM, init=[[0.0, 1.0]])
    with pytest.raises(ValueError, match="keep <= elites"):
        plan_return(pend, pend_start, "", PENDULUM, planner=cem.CemSettings(elites=3, keep=4))


MULTI_API = '''
from dataclasses import dataclass

ACTION_NVEC = [3, 4]


@dataclass
class Observation:
    x: int
    y: int
'''
MULTI_MODEL = '''
def transition(state, action):
    dx, dy = action
    action.clear()
    return [Observation(state[0].x + dx - 1, state[0].y + dy)]


def reward(state, action, next_state, mission):
    o = next_state[0]
    return (1.0 if (o.x, o.y) == (2, 6) else 0.0), o.y >= 6
'''


def test_a_small_multi_discrete_space_is_searched_as_joint_actions_given_as_lists():
    """Actions (dx, dy) with dx in 0..2 (moving -1..1) and dy in 0..3; the episode ends once y
    reaches 6, with reward 1 only at (2, 6): two joint steps of (2, 3) from (0, 0). The program
    clears the action list it gets, which does not reach the plan."""
    program = runtime.compile_program(runtime.api_namespace(MULTI_API), MULTI_MODEL)
    plan = plan_return(program, [{"type": "Observation", "x": 0, "y": 0}], "",
                       {"kind": "multidiscrete", "nvec": [3, 4]}, planner="mcts")
    assert plan.status == "found" and plan.first_error is None
    assert plan.action == [2, 3] and plan.actions == [[2, 3]] * 2 and plan.done and plan.total == 1.0
    assert plan.predictions[-1] == ('[{"type":"Observation","x":2,"y":6}]', 1.0, True)


def test_the_rolling_limit_interrupts_a_long_call_but_not_a_long_run_of_short_ones():
    """Short calls for longer than the limit in all (re-armed as they go, the beat moving),
    then one call that loops: interrupted about `seconds` after it began."""
    beats, looping = [0], [0.0]
    old, timer.beat = timer.beat, beats
    try:
        with timer.installed(), pytest.raises(timer.CallTimeout), timer.rolling(0.2) as pace:
            for _ in range(150):
                pace.tick()
                time.sleep(0.002)
            pace.tick()
            looping[0] = time.monotonic()
            while True:
                pass
        # the short calls ran to the end (150 of 2 ms each, 0.3 s in all, more under load), then the loop
        # was interrupted, not before its limit (after it: as late as the machine's load makes it)
        assert looping[0] > 0 and time.monotonic() - looping[0] >= 0.18 and beats[0] > 10
    finally:
        timer.beat = old


# --------------------------------------------------------------------------- a worker's reply, read in the parent


def wire(plan):
    return json.loads(json.dumps(dataclasses.asdict(plan)))


@pytest.mark.parametrize("name, planner", [("cartpole", "mcts"), ("pendulum", SMALL_CEM)])
def test_a_return_plan_read_from_a_workers_reply_is_the_plan(name, planner):
    start = observation(name, [0.05, 0.0, 0.03, -0.1] if name == "cartpole" else [-1.0, 0.0, 0.5])
    space = CARTPOLE if name == "cartpole" else PENDULUM
    plan = plan_return(compiled(name), start, "", space, planner=planner)
    read = verdict.return_plan_from_wire(wire(plan), space, max_len=1000)
    assert dataclasses.asdict(read) == dataclasses.asdict(plan) | {
        "predictions": [tuple(p) for p in plan.predictions]}
    late = plan_return(compiled(name), start, "", space, planner=planner, time_limit=0)
    assert (verdict.return_plan_from_wire(wire(late), space, max_len=1000).status, late.cut) == ("budget", "time")
    cut = plan_return(compiled(name), start, "", space, planner=planner, max_steps=40)
    assert (cut.status, verdict.return_plan_from_wire(wire(cut), space, max_len=1000).cut) == ("found", "steps")
    # a reply from before plans said which budget cut them: read from the words they said it in
    old = {k: v for k, v in wire(cut).items() if k != "cut"}
    assert verdict.return_plan_from_wire(old, space, max_len=1000).cut == "steps"
    assert verdict.return_plan_from_wire(old | {"reason": ""}, space, max_len=1000).cut is None


def test_a_return_plan_that_lies_is_malformed():
    plan = plan_return(compiled("pendulum"), observation("pendulum", [-1.0, 0.0, 0.5]), "", PENDULUM, planner=SMALL_CEM)
    good = wire(plan)
    lies = [
        dict(action="push_left"), dict(action=[2.5]), dict(action=[float("nan")]), dict(action=[True]),
        dict(action=None), dict(status="exhausted"), dict(actions=[[0.0]] * 16),
        dict(actions=good["actions"][:-1]), dict(predictions=[[p[0], float("inf"), p[2]] for p in good["predictions"]]),
        dict(predictions=[[p[0], p[1], True] for p in good["predictions"]]), dict(steps=-1), dict(gamma=2.0),
        dict(value="high"), dict(first_error={"kind": "lie"}), dict(cut="nodes"), dict(cut=True),
    ]
    for lie in lies:
        with pytest.raises(verdict.Malformed):
            verdict.return_plan_from_wire(good | lie, PENDULUM, max_len=15)
    # the returns are summed from the predictions, whatever the worker says they are
    assert verdict.return_plan_from_wire(good | {"total": 1e9, "done": True}, PENDULUM, max_len=15).total == plan.total
    with pytest.raises(verdict.Malformed):
        verdict.return_plan_from_wire(wire(plan_return(compiled("cartpole"), observation("cartpole", [0.0] * 4), "",
                                                       CARTPOLE)) | {"action": "jump"}, CARTPOLE, max_len=1000)
