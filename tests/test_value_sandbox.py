"""Continuous worlds in the sandbox: predicted states travel in full and are judged by the parent
within the run's tolerance, continuous actions are data, and the return planners run in a
program's worker."""
from __future__ import annotations

import random

import pytest
from conftest import FIXTURES
from support.helpers import replaced

from wc import envs
from wc._core.tolerance import Tolerance
from wc._core.values import Transition
from wc._sandbox.sandbox import Sandbox


def record(adapter, n: int, seed: int = 0) -> list[tuple]:
    rng = random.Random(seed)
    out, (state, mission) = [], adapter.reset(seed)
    while len(out) < n:
        action = adapter.action_space.sample(rng)
        step = adapter.step(action)
        out.append((state, action, step.state, step.reward, step.terminated, mission))
        state = step.state
        if step.terminated or step.truncated:
            state, mission = adapter.reset(rng.randrange(10_000))
    return out


@pytest.fixture(scope="module")
def cartpole():
    adapter = envs.make("CartPole-v1")
    yield adapter, record(adapter, 200), (FIXTURES / "cartpole_model.py").read_text()
    adapter.close()


@pytest.fixture(scope="module")
def pendulum():
    adapter = envs.make("Pendulum-v1")
    yield adapter, record(adapter, 200), (FIXTURES / "pendulum_model.py").read_text()
    adapter.close()


async def test_a_correct_model_fits_within_the_tolerance_and_a_near_miss_does_not(cartpole):
    adapter, data, model = cartpole
    near = replaced(model, "TAU = 0.02", "TAU = 0.0201")
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode) as sb:
        for t in data:
            sb.add(Transition(*t))
        right, wrong = await sb.evaluate(model), await sb.evaluate(near)
    assert right.fits and right.n == len(data)
    assert wrong.fit < 0.1
    detail = wrong.failures[max(wrong.failures)]
    difference = detail["difference"]
    assert difference["max_error"] > 1e-5 and difference["errors"][0]["path"].startswith("state[0].")
    assert detail["predicted_state"][0]["type"] == "Observation"


async def test_the_tolerance_is_the_runs_own(cartpole):
    adapter, data, model = cartpole
    near = replaced(model, "TAU = 0.02", "TAU = 0.0201")
    loose = Tolerance(rtol=0.1, atol=0.1)
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, tolerance=loose) as sb:
        for t in data:
            sb.add(Transition(*t))
        assert (await sb.evaluate(near)).fits  # 0.5 % off in time passes a 10 % tolerance


async def test_continuous_actions_are_lists_and_plans_come_back_as_actions_of_the_space(pendulum):
    adapter, data, model = pendulum
    assert all(isinstance(a, list) for _, a, *_ in data)
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode) as sb:
        for t in data:
            sb.add(Transition(*t))
        assert (await sb.evaluate(model)).fits
        state, mission = adapter.reset(3)
        # time enough that CEM ends by its own iterations: a search cut by the clock depends on the machine's load
        plan = await sb.plan_return(model, state, mission, adapter.action_space, planner="cem", time_limit=60.0, seed=1)
        again = await sb.plan_return(model, state, mission, adapter.action_space, planner="cem", time_limit=60.0,
                                     seed=1)
    assert (plan.cut, again.cut) == (None, None)
    assert plan.status == "found" and plan.actions == again.actions  # the same seed, the same plan
    low, high = adapter.action_space.low[0], adapter.action_space.high[0]
    assert len(plan.actions) == 30 and all(low <= a[0] <= high for a in plan.actions)


async def test_a_discrete_return_plan_in_the_worker(cartpole):
    adapter, data, model = cartpole
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode) as sb:
        state, mission = adapter.reset(0)
        plan = await sb.plan_return(model, state, mission, adapter.action_space, planner="mcts", time_limit=60.0)
    assert plan.cut is None  # MCTS ran all its simulations, however loaded the machine
    assert plan.status == "found" and plan.action in adapter.actions and plan.total > 20


async def test_a_forged_return_plan_is_refused(cartpole):
    adapter, _, model = cartpole
    forging = "import sys\nw = sys.modules['__main__']\n" \
              "w.ProgramWorker.handle = lambda self, msg: ([{'status': 'found', 'action': 'fly', 'actions': ['fly'], " \
              "'predictions': [['x', 1e9, False]]}] if msg['op'] == 'plan_return' else {'failure': None})\n" + model
    from wc._sandbox.sandbox import SandboxLimits

    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode,
                       limits=SandboxLimits(python_layer=False)) as sb:
        state, mission = adapter.reset(0)
        plan = await sb.plan_return(forging, state, mission, adapter.action_space, planner="mcts", time_limit=2.0)
        honest = await sb.plan_return(model, state, mission, adapter.action_space, planner="mcts", time_limit=2.0)
    assert plan.status == "error" and plan.first_error["kind"] == "malformed"
    assert honest.status == "found"
