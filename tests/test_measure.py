"""CWMB's normalized return (`wc._measure.program`) and the real environment as a planner's model
(`wc.envs.gym.replica`): a correct program scores about 1, a wrong one less than 0; the replica
steps as the real environment does and restores any state it handed out."""
import importlib.util
import random
from pathlib import Path

import pytest

from wc import envs
from wc._measure.program import (
    cwmb_settings,
    episode_limit,
    measure_return,
    normalized_return,
    policy_return,
    program_policy,
    random_return,
    true_policy,
)
from wc._sandbox import runtime
from wc.envs.gym.replica import Replica

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
FIXTURES = Path(__file__).parent / "fixtures"
CARTPOLE = (FIXTURES / "cartpole_model.py").read_text()
# pushes the other way: a model whose plans topple the pole
WRONG = CARTPOLE.replace('FORCE if action == "push_right" else -FORCE', '-FORCE if action == "push_right" else FORCE')


def compiled(adapter, source):
    return runtime.compile_program(runtime.api_namespace(adapter.api.source), source)


def observed(env):
    """The observation the unwrapped environment is in (each family keeps it its own way)."""
    for name in ("_get_obs", "_get_ob"):
        if hasattr(env, name):
            return getattr(env, name)()
    if hasattr(env, "s"):
        return env.s
    import numpy as np

    return np.array(env.state, dtype=np.float32)


MUJOCO = pytest.mark.skipif(importlib.util.find_spec("mujoco") is None,
                            reason="MuJoCo is not installed (the mujoco or cwmb-mujoco extra)")


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Taxi-v4", "Pendulum-v1", "Acrobot-v1",
                                    pytest.param("Hopper-v4", marks=MUJOCO)])
def test_the_replica_steps_as_the_real_environment_and_restores_any_snapshot(env_id):
    adapter = envs.make(env_id)
    adapter.reset(seed=3)
    rng = random.Random(0)
    for _ in range(4):
        adapter.step(adapter.sample_action(rng))
    replica = Replica(adapter, seed=1)
    start = replica.sync(adapter.env)
    actions = [adapter.sample_action(rng) for _ in range(15)]
    key = start
    for action in actions:
        real = adapter.step(action)
        key, reward, done = replica.step(key, action)
        assert (reward, done) == (real.reward, real.terminated)
        assert adapter.encode_observation(observed(replica.env)) == real.state
        if real.terminated:
            break
    a = replica.step(start, actions[0])
    b = replica.step(start, actions[0])
    assert a[1:] == b[1:]


def test_live_keys_are_valid_only_until_the_replica_moves():
    adapter = envs.make("CartPole-v1")
    adapter.reset(seed=0)
    replica = Replica(adapter)
    start = replica.sync(adapter.env)
    live, _, _ = replica.roll(start, "push_left")
    live2, _, _ = replica.roll(live, "push_left")  # where it is: fine
    replica.step(start, "push_right")
    with pytest.raises(RuntimeError, match="moved on"):
        replica.roll(live2, "push_left")


def test_normalized_return_of_a_correct_and_a_wrong_cartpole_program():
    """CWMB's MCTS (25 simulations, rollouts of 100, C = 1, γ = 0.99) over three 60-step episodes:
    planned in the reference program it keeps the pole up as long as it does in the real
    environment (1.0); planned in the wrong program it lets it fall sooner than random actions do."""
    adapter = envs.make("CartPole-v1")
    good = measure_return(adapter, program_policy(compiled(adapter, CARTPOLE), adapter), episodes=3, max_steps=60)
    assert good.planner == "mcts-cwmb"
    assert good.true.returns == [60.0, 60.0, 60.0] and good.program.returns == [60.0, 60.0, 60.0]
    assert good.random.mean < 60 and good.value == 1.0
    bad = measure_return(adapter, program_policy(compiled(adapter, WRONG), adapter), episodes=3, max_steps=60,
                         true=good.true, rand=good.random)
    assert bad.value is not None and bad.value < 0 and max(bad.program.returns) < 20
    assert set(bad.to_json()) == {"normalized_return", "planner", "R_program", "R_random", "R_true"}


def test_normalized_return_is_na_where_the_true_model_does_no_better_than_random():
    assert normalized_return(-200.0, -200.0, -200.0) is None
    assert normalized_return(-150.0, -200.0, -210.0) is None
    assert normalized_return(5.0, 0.0, 10.0) == 0.5


def test_cwmbs_episode_length_and_planner_settings():
    assert episode_limit(envs.make("CartPole-v1")) == 500
    assert episode_limit(envs.make("CliffWalking-v1")) == 100  # no step limit: CWMB's 100
    cem = cwmb_settings(envs.make("Pendulum-v1"))
    assert (cem.horizon, cem.iterations, cem.samples, cem.elites, cem.replan_every) == (100, 20, 1000, 100, 100)
    mcts = cwmb_settings(envs.make("Taxi-v4"))
    assert (mcts.simulations, mcts.rollout_depth, mcts.c, mcts.gamma) == (25, 100, 1.0, 0.99)
    # episodes cut short (--max-steps): CEM's horizon and open-loop length cut to them, as CWMB cuts them
    short = cwmb_settings(envs.make("Pendulum-v1"), episode_steps=7)
    assert (short.horizon, short.replan_every, short.samples) == (7, 7, 1000)


def test_random_and_true_returns_on_pendulum_with_a_small_cem():
    """CEM with the real Pendulum as its model (a small budget: the test's, not CWMB's) does much
    better than random torques from the same starts."""
    from wc._planning.cem import CemSettings

    adapter = envs.make("Pendulum-v1")
    small = CemSettings(horizon=12, iterations=3, samples=30, elites=5, keep=2, replan_every=1)
    rand = random_return(adapter, episodes=2, max_steps=30)
    true = policy_return(adapter, true_policy(adapter, small), episodes=2, max_steps=30)
    assert rand.steps == [30, 30] and true.decisions == 60
    assert true.mean > rand.mean + 50
