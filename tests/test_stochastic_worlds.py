"""Reference world models of random worlds (tests/fixtures) against the real environments: slippery
FrozenLake (4x4, 8x8, another success rate), rainy Taxi, Blackjack and MiniGrid's
Dynamic-Obstacles. The toy-text ones are the true MDP, outcome for outcome (`env.unwrapped.P`, or
Blackjack's own functions); every model explains real data by likelihood (φ1), the frequency test
passes them and catches a variant with wrong probabilities; deterministic models are told that
the data is random; and planning in them reaches the optimum computed by value iteration."""
import random
import warnings
from pathlib import Path

import pytest
from support.true_mdp import blackjack_optimum, finite_horizon_values, optimum

from wc import envs
from wc._core.values import Transition
from wc._sandbox import runtime
from wc._sandbox.chance import ChancePrediction, outcomes_with_rewards, predict_chance
from wc._sandbox.frequencies import disagreements, varied
from wc._sandbox.likelihood import Fit
from wc._sandbox.plan_chance import ChanceModel, plan_chance
from wc.envs.api import load

FIXTURES = Path(__file__).parent / "fixtures"
EIGHT = ('LAKE = MAPS["4x4"]', 'LAKE = MAPS["8x8"]')


def model(adapter, name, *replacements):
    source = (FIXTURES / name).read_text()
    for old, new in replacements:
        assert old in source
        source = source.replace(old, new)
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), source)
    assert program.failure is None, program.failure
    return program


@pytest.fixture
def make():
    made = []

    def make_env(env_id, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adapter = envs.make(env_id, env_kwargs=kwargs) if kwargs else envs.make(env_id)
        made.append(adapter)
        return adapter

    yield make_env
    for adapter in made:
        adapter.close()


def collect(adapter, n, seed, actions=None):
    """`n` real transitions of random play (a new episode after each end), as records."""
    rng = random.Random(seed)
    out, episode = [], 0
    state, mission = adapter.reset(seed=seed * 1000)
    while len(out) < n:
        action = rng.choice(actions or adapter.actions)
        step = adapter.step(action)
        out.append(Transition(state, action, step.state, step.reward, step.terminated, mission))
        state = step.state
        if step.terminated or step.truncated:
            episode += 1
            state, mission = adapter.reset(seed=seed * 1000 + episode)
    return out


def fit(program, data, mode, ordered):
    """The program's likelihood of every record, through a worker's report read in the parent."""
    likelihoods = []
    for d in data:
        predicted = ChancePrediction.from_wire(predict_chance(program, d, ordered=ordered).to_wire())
        assert predicted.transition_error is None and predicted.reward_error is None
        likelihoods.append(predicted.likelihood(d.next_state, d.reward, d.done, mode, ordered=ordered))
    return Fit(tuple(likelihoods))


# --------------------------------------------------------------------------- the true MDP


@pytest.mark.parametrize("env_id, kwargs, name, replacements", [
    ("FrozenLake-v1", {}, "frozenlake_slippery_model.py", ()),
    ("FrozenLake-v1", {"map_name": "8x8"}, "frozenlake_slippery_model.py", (EIGHT,)),
    ("FrozenLake-v1", {"success_rate": 0.6}, "frozenlake_slippery_model.py", (("SUCCESS = 1 / 3", "SUCCESS = 0.6"),)),
    ("Taxi-v4", {"is_rainy": True}, "taxi_rainy_model.py", ()),
])
def test_a_reference_model_is_the_true_mdp(make, env_id, kwargs, name, replacements):
    """Every state and action: the same outcomes with the same probabilities, rewards and ends
    as gymnasium's own table (a terminal state's self-loop included)."""
    adapter = make(env_id, **kwargs)
    program = model(adapter, name, *replacements)
    P = adapter.env.unwrapped.P
    for s, actions in P.items():
        state = adapter.encode_observation(s)
        for a, table in actions.items():
            want: dict = {}
            for p, s2, r, done in table:
                key = (str(adapter.encode_observation(s2)), float(r), bool(done))
                want[key] = want.get(key, 0.0) + p
            got = {(str(o.next_state), o.reward, o.done): o.probability
                   for o in outcomes_with_rewards(program, state, adapter.actions[a], adapter.mission)}
            assert got.keys() == want.keys() and all(got[k] == pytest.approx(want[k], abs=1e-12) for k in want)


def test_the_blackjack_model_is_blackjacks_optimum_hand_by_hand(make):
    """Blackjack-v1 has no table: its optimum is computed over the hands themselves with
    gymnasium's own blackjack functions; planning exactly in the model (a state is only the
    total, the card shown and a usable ace; "stick" has a random reward) gives the same value
    for every hand and card shown."""
    from gymnasium.envs.toy_text import blackjack as bj

    adapter = make("Blackjack-v1")
    program = model(adapter, "blackjack_model.py")
    best, table = blackjack_optimum()
    assert round(best, 10) == -0.0465559771
    chance = ChanceModel(program, adapter.mission)
    values = {}
    for (hand, shown), value in table.items():
        obs = (bj.sum_hand(list(hand)), shown, bj.usable_ace(list(hand)))
        if obs not in values:
            plan, _ = plan_chance(program, adapter.encode_observation(obs), adapter.mission, list(adapter.actions),
                                  objective="return", horizon=20, model=chance)
            assert plan.exact and plan.status == "found"
            values[obs] = plan.value
        assert values[obs] == pytest.approx(value, abs=1e-12)
    assert len(values) == 270   # the initial (total, card shown, usable ace)s of the 550 deals


# --------------------------------------------------------------------------- fitting real data


def test_slippery_frozenlake_data_fits_by_likelihood_and_wrong_probabilities_are_caught(make):
    adapter = make("FrozenLake-v1")
    data = collect(adapter, 2000, seed=1)
    right = fit(model(adapter, "frozenlake_slippery_model.py"), data, "value", ordered=True)
    assert right.fits and round(right.score, 4) == 0.952   # about 1 - log 3 / log 1e9: most moves have three outcomes
    assert disagreements(data, right.likelihoods) == []
    # the same rules, sure-footed 80% of the time: every transition still possible, the
    # frequencies give it away
    sure = fit(model(adapter, "frozenlake_slippery_model.py", ("SUCCESS = 1 / 3", "SUCCESS = 0.8")), data, "value",
               ordered=True)
    assert sure.fits and sure.score < right.score
    found = disagreements(data, sure.likelihoods)
    assert len(found) >= 10 and found[0].test.p_value < 1e-6
    # a deterministic model: φ1 fails, and the data alone says why
    dry = fit(model(adapter, "frozenlake_model.py"), data, "value", ordered=True)
    assert not dry.fits and dry.score < 0.6
    assert len(varied(data)) >= 20 and varied(data)[0].count >= 50


@pytest.mark.parametrize("env_id, kwargs, name, deterministic", [
    ("Taxi-v4", {"is_rainy": True}, "taxi_rainy_model.py", "taxi_model.py"),
    ("Blackjack-v1", {}, "blackjack_model.py", None),
])
def test_toy_text_data_fits_by_likelihood(make, env_id, kwargs, name, deterministic):
    adapter = make(env_id, **kwargs)
    data = collect(adapter, 1500, seed=2)
    assert fit(model(adapter, name), data, "value", ordered=True).fits
    if deterministic:
        assert not fit(model(adapter, deterministic), data, "value", ordered=True).fits
    if env_id == "Blackjack-v1":   # the same "stick" gave different rewards
        assert any(len({t for t in (data[o[0]].reward for o in v.outcomes)}) > 1 for v in varied(data))


@pytest.mark.parametrize("env_id", ["MiniGrid-Dynamic-Obstacles-6x6-v0", "MiniGrid-Dynamic-Obstacles-8x8-v0"])
def test_dynamic_obstacles_data_fits_by_likelihood(make, env_id):
    """Every recorded step is possible under the model (collisions, blocked moves, goals and the
    actions MiniGrid plays as "left" among them), judged as multisets, exactly."""
    adapter = make(env_id)
    ns = runtime.api_namespace(load("minigrid", 3).source)
    program = runtime.compile_program(ns, (FIXTURES / "dynamic_obstacles_model.py").read_text())
    rng = random.Random(4)
    data = []
    for episode in range(25):
        state, mission = adapter.reset(seed=episode)
        for t in range(40):
            # forward often (collisions), now and then an action that MiniGrid plays as "left"
            action = rng.choice(["left", "right", "forward", "forward", "toggle" if t % 5 == 0 else "forward"])
            step = adapter.step(action)
            data.append(Transition(state, action, step.state, step.reward, step.terminated, mission))
            state = step.state
            if step.terminated or step.truncated:
                break
    result = fit(program, data, "sign", ordered=False)
    assert result.fits, [data[i].action for i in result.impossible]
    assert sum(d.done and d.reward < 0 for d in data) >= 10
    assert 0.3 < result.score < 0.9


# --------------------------------------------------------------------------- planning to the optimum


def test_planning_in_the_slippery_model_reaches_frozenlakes_optimum(make):
    """The exact planner in the reference model: its value is value iteration's on gymnasium's
    table, and 300 episodes played with its policy in the real environment win at that rate."""
    adapter = make("FrozenLake-v1")
    program = model(adapter, "frozenlake_slippery_model.py")
    limit = adapter.max_steps
    best = optimum(adapter.env, limit)
    assert round(best, 6) == 0.744190
    state, mission = adapter.reset(seed=0)
    chance = ChanceModel(program, mission)
    plan, policy = plan_chance(program, state, mission, list(adapter.actions), horizon=limit, model=chance)
    assert plan.exact and plan.value == pytest.approx(best, abs=1e-12) and policy is not None
    wins = 0
    for episode in range(300):   # every episode starts in the same state: one policy serves them all
        state, mission = adapter.reset(seed=episode)
        for t in range(limit):
            step = adapter.step(policy.action(chance.start(state), limit - t))
            state = step.state
            if step.terminated or step.truncated:
                wins += step.reward > 0
                break
    assert wins == 222   # 0.74 (0.995 of the optimum); a 95% interval is about +-0.05
    values = finite_horizon_values(adapter.env.unwrapped.P, limit)
    assert values[limit][0] == pytest.approx(best)
