"""The reference programs of the return worlds (tests/fixtures) against gymnasium itself, and what
the default return planners find in them from a few starts (cheap, pinned figures; the episodes
and their returns are measured in benchmarks/bench_return_control.py)."""
import math
import random
from pathlib import Path

import numpy as np
import pytest

from wc import envs
from wc._sandbox import runtime
from wc._sandbox.plan_return import plan_return

FIXTURES = Path(__file__).parent / "fixtures"


def program(name, env_id):
    source = (FIXTURES / f"{name}_model.py").read_text()
    compiled = runtime.compile_program(runtime.api_namespace(envs.api_module(env_id).source), source)
    assert compiled.failure is None, compiled.failure
    return compiled


def predicted(compiled, state, action, mission=""):
    decoded = runtime.decode_state(compiled.namespace, state)
    nxt = compiled.transition(decoded, action)
    reward, done = compiled.reward(decoded, action, nxt, mission)
    return runtime.encode_state(nxt), reward, done


def assert_same(state, reward, done, step):
    (got,), (real,) = state, step.state
    assert got.keys() == real.keys()
    assert all(math.isclose(got[k], real[k], rel_tol=1e-5, abs_tol=1e-5) for k in real if k != "type"), (got, real)
    assert done == step.terminated and reward == pytest.approx(step.reward, abs=1e-5)


@pytest.mark.parametrize("name, env_id", [("acrobot", "Acrobot-v1"),
                                          ("mountaincar_continuous", "MountainCarContinuous-v0"),
                                          ("cliffwalking", "CliffWalking-v1")])
def test_the_reference_programs_predict_what_gymnasium_does(name, env_id):
    """Random actions from three starts through the generic adapter: next observations within
    CWMB's tolerance (1e-5), rewards and termination as gymnasium gives them."""
    compiled, adapter = program(name, env_id), envs.make(env_id)
    rng, checked = random.Random(0), 0
    try:
        for seed in range(3):
            state, mission = adapter.reset(seed=seed)
            for _ in range(40):
                action = adapter.sample_action(rng)
                mine = predicted(compiled, state, action, mission)
                step = adapter.step(action)
                assert_same(*mine, step)
                checked, state = checked + 1, step.state
                if step.terminated or step.truncated:
                    break
    finally:
        adapter.close()
    assert checked == 120


@pytest.mark.parametrize("name, env_id, inner, action", [
    ("acrobot", "Acrobot-v1", [2.6, 0.3, 1.0, -0.5], "torque_positive"),          # the free end over the bar
    ("mountaincar_continuous", "MountainCarContinuous-v0", [0.44, 0.03], [0.7]),  # the flag: +100 less the push
    ("cliffwalking", "CliffWalking-v1", 25, "down"),                              # off the cliff: back to the start
    ("cliffwalking", "CliffWalking-v1", 35, "down"),                              # the goal
])
def test_the_reference_programs_end_where_gymnasium_does(name, env_id, inner, action):
    compiled, adapter = program(name, env_id), envs.make(env_id)
    try:
        adapter.reset(seed=0)
        raw = adapter.env.unwrapped
        if isinstance(inner, int):
            raw.s = inner
            obs = inner
        else:
            raw.state = np.array(inner, dtype=np.float64)
            obs = raw._get_ob() if hasattr(raw, "_get_ob") else np.array(inner, dtype=np.float32)
        state = adapter.encode_observation(obs)
        mine = predicted(compiled, state, action)
        step = adapter.step(action)
        assert_same(*mine, step)
        assert step.terminated or step.reward == -100.0
    finally:
        adapter.close()


def test_the_default_planner_finds_mountaincars_flag_from_a_short_start():
    """Every step costs -1 until the flag; rolling left down the valley, the car must swing back
    and up, which MCTS's random rollouts do not find: width-based search does, and the plan
    reaches the flag in the real environment when played open loop."""
    compiled, adapter = program("mountaincar", "MountainCar-v0"), envs.make("MountainCar-v0")
    try:
        adapter.reset(seed=0)
        inner = np.array([-0.3, -0.02], dtype=np.float32)
        adapter.env.unwrapped.state = inner.astype(np.float64)
        state = adapter.encode_observation(inner)
        plan = plan_return(compiled, state, "", adapter.action_space, rng_seed=0)
        assert plan.planner == "iw" and plan.found and plan.done and plan.total == -len(plan.actions)
        assert (len(plan.actions), plan.steps) == (95, 11001)
        assert not plan_return(compiled, state, "", adapter.action_space, rng_seed=0, planner="mcts").done
        for action in plan.actions:
            step = adapter.step(action)
        assert step.terminated and step.state[0]["position"] >= 0.5
    finally:
        adapter.close()


def test_the_default_continuous_planner_finds_the_flag_where_cem_stands_still():
    """MountainCarContinuous, rolling left from the middle: CEM's 30 steps see only the cost of
    pushing; the width-based search over the box's corners finds the +100 beyond the swing back,
    and CEM refines the way there."""
    compiled, adapter = program("mountaincar_continuous", "MountainCarContinuous-v0"), \
        envs.make("MountainCarContinuous-v0")
    try:
        adapter.reset(seed=0)
        state = adapter.encode_observation(np.array([0.0, -0.03], dtype=np.float32))
        plan = plan_return(compiled, state, "", adapter.action_space, rng_seed=0)
        cem = plan_return(compiled, state, "", adapter.action_space, rng_seed=0, planner="cem")
        assert plan.planner == "iw-cem" and plan.found and plan.done and plan.total > 90
        assert not cem.done and cem.total <= 0
        assert (len(plan.actions), round(plan.total, 2)) == (75, 95.94)
    finally:
        adapter.close()
