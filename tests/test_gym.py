"""The generic gymnasium domain: the API module generated from the spaces, names of the
environments wc knows, decoded observations, actions of every kind, a user's own environments
through `module:EnvId`, `env_kwargs` for gymnasium.make, and clear refusals. Reference world models
(tests/fixtures) explain hundreds of real transitions of CartPole, MountainCar, Pendulum, Taxi and
FrozenLake within CWMB's tolerance."""
import math
import random
import warnings
from collections import deque
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from wc import envs
from wc._core.contract import decode_state, encode_state, reward_pair
from wc._core.tolerance import CWMB, close, state_difference
from wc._sandbox import runtime
from wc.envs import Domain, parse_env_options, register_domain
from wc.envs.gym import DEFAULT_MAX_STEPS, GENERATOR_VERSION, KNOWN, GymAdapter
from wc.errors import EnvError, InvalidAction, InvalidInput, UnknownEnvironment

FIXTURES = Path(__file__).parent / "fixtures"
USER = "support.gym_user_env:WcTest"


def fields(adapter) -> list[str]:
    return [f.name for f in adapter.layout.fields]


# ---------------------------------------------------------------- reference world models


def toy_text_solution(env, start: int) -> list[int]:
    """The shortest action sequence to a rewarded termination, by breadth-first search over the
    environment's own MDP (`env.unwrapped.P`, deterministic here)."""
    P = env.unwrapped.P
    parents = {start: None}
    queue = deque([start])
    while queue:
        s = queue.popleft()
        for action, outcomes in P[s].items():
            (_, nxt, reward, terminated), = outcomes
            if terminated and reward > 0:
                path = [action]
                while parents[s] is not None:
                    s, a = parents[s]
                    path.append(a)
                return path[::-1]
            if not terminated and nxt not in parents:
                parents[nxt] = (s, action)
                queue.append(nxt)
    raise AssertionError("no solution")


def collect(adapter: GymAdapter, n: int, seed: int, policy=None) -> list[tuple]:
    """n real transitions (state, action, next_state, reward, terminated, truncated): random
    actions, or `policy(state, step, rng)` where it returns one; a new episode after each end."""
    rng = random.Random(seed)
    out = []
    episode = 0
    state, mission = adapter.reset(seed=seed * 1000 + episode)
    t = 0
    while len(out) < n:
        action = (policy(state, t, rng) if policy else None) or adapter.sample_action(rng)
        step = adapter.step(action)
        out.append((state, action, step.state, step.reward, step.terminated, step.truncated, mission))
        state, t = step.state, t + 1
        if step.terminated or step.truncated:
            episode += 1
            state, mission = adapter.reset(seed=seed * 1000 + episode)
            t = 0
    return out


def assert_explains(source: str, adapter: GymAdapter, data: list[tuple]) -> None:
    """The program predicts every next state and reward within CWMB's tolerance, and `done` is
    exactly gymnasium's `terminated` (never its truncation)."""
    ns = runtime.api_namespace(adapter.api.source)
    program = runtime.compile_program(ns, source)
    assert program.failure is None, program.failure
    for state, action, next_state, reward, terminated, _truncated, mission in data:
        predicted = encode_state(program.transition(decode_state(ns, state), action))
        diff = state_difference(predicted, next_state, CWMB)
        assert diff.equal, (state, action, diff.errors)
        r, done = reward_pair(program.reward(decode_state(ns, state), action, decode_state(ns, next_state), mission))
        assert close(r, reward, CWMB), (state, action, r, reward)
        assert done is terminated, (state, action, done, terminated)


def mountain_car_policy(state, t, rng):
    """Swing with the velocity, from the second episode on: reaches the goal (done)."""
    obs = state[0]
    return "accelerate_right" if obs["velocity"] >= 0 else "accelerate_left"


@pytest.mark.parametrize("env_id, kwargs, model, n", [
    ("CartPole-v1", {}, "cartpole_model.py", 400),
    ("MountainCar-v0", {}, "mountaincar_model.py", 300),
    ("Pendulum-v1", {}, "pendulum_model.py", 300),
    ("Taxi-v4", {}, "taxi_model.py", 300),
    ("FrozenLake-v1", {"is_slippery": False}, "frozenlake_model.py", 300),
])
def test_a_reference_model_explains_real_transitions(env_id, kwargs, model, n):
    adapter = envs.make(env_id, env_kwargs=kwargs)
    try:
        data = collect(adapter, n, seed=3)
        if env_id == "MountainCar-v0":  # random play never reaches the goal: also a swinging episode
            data += collect(adapter, 200, seed=4, policy=mountain_car_policy)
        if env_id in ("Taxi-v4", "FrozenLake-v1"):  # and episodes that end in success
            for seed in (5, 6):
                raw = adapter.env
                adapter.reset(seed=seed * 1000)  # the episode collect() plays first
                plan = toy_text_solution(raw, int(raw.unwrapped.s))
                data += collect(adapter, len(plan), seed=seed,
                                policy=lambda state, t, rng, plan=plan: adapter.actions[plan[t]])
        assert_explains((FIXTURES / model).read_text(), adapter, data)
        # the data holds episodes that end by the environment's rules (Pendulum's never do)
        assert any(t[4] for t in data) is (env_id != "Pendulum-v1")
        if env_id in ("MountainCar-v0", "Pendulum-v1"):
            assert any(t[5] and not t[4] for t in data), "and episodes cut by the step limit"
        if env_id in ("Taxi-v4", "FrozenLake-v1"):
            assert any(t[4] and t[3] > 0 for t in data)
    finally:
        adapter.close()


def test_a_wrong_model_is_caught():
    adapter = envs.make("CartPole-v1")
    data = collect(adapter, 50, seed=1)
    source = (FIXTURES / "cartpole_model.py").read_text().replace("TAU = 0.02", "TAU = 0.0201")
    with pytest.raises(AssertionError):
        assert_explains(source, adapter, data)
    adapter.close()


# ---------------------------------------------------------------- termination and truncation


@pytest.mark.parametrize("env_id, limit", [("CartPole-v1", 40), ("Acrobot-v1", 20)])
def test_episode_ends_are_exactly_gymnasiums(env_id, limit):
    """A parallel raw gymnasium env, same seed and actions: the same observations, rewards,
    terminations and truncations. CartPole, balanced, is cut by its step limit; left alone it
    falls (terminated); Acrobot's time-out is a truncation."""
    adapter = envs.make(env_id, env_kwargs={"max_episode_steps": limit})
    assert adapter.max_steps == limit and adapter.env_kwargs == {"max_episode_steps": limit}
    raw = gym.make(env_id, max_episode_steps=limit)
    rng = random.Random(0)
    ends = []
    for episode in range(3):
        state, _ = adapter.reset(seed=episode)
        obs, _ = raw.reset(seed=episode)
        for t in range(limit):
            if env_id == "CartPole-v1" and episode == 0:  # balance: push toward the pole's lean
                lean = state[0]["pole_angle"] + 0.5 * state[0]["pole_angular_velocity"]
                action = "push_right" if lean > 0 else "push_left"
            else:
                action = adapter.sample_action(rng)
            step = adapter.step(action)
            obs, reward, terminated, truncated, _ = raw.step(adapter.decode_action(action))
            assert step.state == adapter.encode_observation(obs)
            assert (step.reward, step.terminated, step.truncated) == (reward, terminated, truncated)
            state = step.state
            if terminated or truncated:
                ends.append((t + 1, terminated, truncated))
                break
    raw.close()
    adapter.close()
    if env_id == "CartPole-v1":
        assert ends[0] == (limit, False, True)
        assert any(terminated and not truncated for _, terminated, truncated in ends[1:])
    else:
        assert ends == [(limit, False, True)] * 3


# ---------------------------------------------------------------- names, decoding, the API module


def test_cartpole_api_module():
    adapter = envs.make("CartPole-v1")
    api = adapter.api
    assert api.version == GENERATOR_VERSION and api.name.startswith("gym:CartPole-v1:")
    assert "ACTIONS = ['push_left', 'push_right']" in api.source
    assert "    cart_position: float          # in [-4.8, 4.8]\n" in api.source
    assert "    pole_angle: float             # in [-0.418879, 0.418879]; rad\n" in api.source
    assert "    cart_velocity: float          # unbounded\n" in api.source
    # data only: no threshold of the rules (the pole falls at 12 degrees, the cart at 2.4)
    assert "2.4" not in api.source and "0.2094" not in api.source and "12" not in api.source
    assert adapter.mission == "CartPole-v1: maximise the return (gymnasium's reward threshold is 475)"
    assert adapter.reward_mode == "value" and adapter.domain == "gym" and adapter.max_steps == 500
    # the same spaces give the same source, and it runs under the sandbox's restrictions
    again = envs.make("CartPole-v1")
    assert again.api == api
    ns = runtime.api_namespace(api.source)
    assert ns["ACTIONS"] == ["push_left", "push_right"]
    assert [f for f in ns["Observation"].__dataclass_fields__] == fields(adapter)
    assert envs.api_module("CartPole-v1") == api
    for a in (adapter, again):
        a.close()


def test_taxi_observation_is_decoded_for_every_state():
    adapter = envs.make("Taxi-v4")
    assert fields(adapter) == ["taxi_row", "taxi_col", "passenger_location", "destination"]
    assert adapter.actions == ("south", "north", "east", "west", "pickup", "dropoff")
    for obs in range(500):
        row, col, passenger, destination = adapter.env.unwrapped.decode(obs)
        assert adapter.encode_observation(obs) == [{"type": "Observation", "taxi_row": row, "taxi_col": col,
                                                    "passenger_location": passenger, "destination": destination}]
    assert "passenger_location: int  # in [0, 4]; 0 red, 1 green, 2 yellow, 3 blue, 4 in the taxi" \
        in adapter.api.source
    adapter.close()


def test_grid_worlds_decode_row_and_column_of_their_own_size():
    small = envs.make("FrozenLake-v1")
    large = envs.make("FrozenLake-v1", env_kwargs={"map_name": "8x8"})
    cliff = envs.make("CliffWalking-v1")
    assert fields(small) == fields(large) == fields(cliff) == ["row", "col"]
    assert small.encode_observation(6) == [{"type": "Observation", "row": 1, "col": 2}]
    assert large.encode_observation(63) == [{"type": "Observation", "row": 7, "col": 7}]
    assert cliff.encode_observation(36) == [{"type": "Observation", "row": 3, "col": 0}]
    assert small.actions == ("left", "down", "right", "up") and cliff.actions == ("up", "right", "down", "left")
    assert "row: int  # in [0, 7]" in large.api.source and "row: int  # in [0, 3]" in small.api.source
    # a layout of its own is a module of its own: never two sources under one name
    assert small.api.name != large.api.name
    assert cliff.max_steps == DEFAULT_MAX_STEPS  # CliffWalking-v1 has no step limit of its own
    for a in (small, large, cliff):
        a.close()


def test_names_of_the_classic_and_toy_text_families():
    expected = {
        "MountainCar-v0": (["position", "velocity"], ("accelerate_left", "no_acceleration", "accelerate_right")),
        "Acrobot-v1": (["cos_theta1", "sin_theta1", "cos_theta2", "sin_theta2", "theta1_angular_velocity",
                        "theta2_angular_velocity"], ("torque_negative", "torque_zero", "torque_positive")),
        "Blackjack-v1": (["player_sum", "dealer_card", "usable_ace"], ("stick", "hit")),
        "Pendulum-v1": (["cos_theta", "sin_theta", "angular_velocity"], ()),
        "MountainCarContinuous-v0": (["position", "velocity"], ()),
    }
    for env_id, (names, actions) in expected.items():
        adapter = envs.make(env_id)
        assert fields(adapter) == names and adapter.actions == actions, env_id
        adapter.close()
    pendulum = envs.make("Pendulum-v1")
    space = pendulum.action_space
    assert (space.kind, space.names, space.low, space.high) == ("continuous", ("torque",), (-2.0,), (2.0,))
    assert "ACTION_LOW = [-2.0]\nACTION_HIGH = [2.0]\nACTION_NAMES = ['torque']  # torque (N m)" in pendulum.api.source
    pendulum.close()


MUJOCO_SIZES = {  # observation lengths gymnasium documents: v5 default, v4 default, positions included
    "Reacher": (10, 11), "Pusher": (23,), "InvertedPendulum": (4,), "InvertedDoublePendulum": (9, 11),
    "HalfCheetah": (17, 18), "Hopper": (11, 12), "Swimmer": (8, 10), "Walker2d": (17, 18),
    "Ant": (27, 29, 105, 107, 111, 113), "Humanoid": (348, 350, 376, 378), "HumanoidStandup": (348, 350, 376, 378),
}


def test_mujoco_name_tables_have_the_documented_lengths():
    by_title = {k.title: k for k in KNOWN.values()}
    for title, sizes in MUJOCO_SIZES.items():
        known = by_title[title]
        assert sorted(len(layout) for layout in known.layouts) == sorted(sizes), title
        for layout in known.layouts:
            names = [n for n, _ in layout]
            assert len(set(names)) == len(names) and all(n.isidentifier() for n in names), title


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_mujoco_environments_get_their_names(version, tmp_path, monkeypatch):
    mujoco = pytest.importorskip("mujoco", reason="the MuJoCo family needs gymnasium[mujoco]")
    monkeypatch.chdir(tmp_path)  # MuJoCo writes a log file into the working directory
    for title in MUJOCO_SIZES:
        if (title, version) == ("Pusher", "v4") and not mujoco.__version__.startswith("2."):
            # gymnasium makes Pusher-v4 only with mujoco<3 (the cwmb-mujoco extra's 2.3 makes it)
            with pytest.raises(UnknownEnvironment, match="gymnasium cannot make 'Pusher-v4' .*mujoco<3"):
                envs.make("Pusher-v4")
            continue
        adapter = envs.make(f"{title}-{version}")
        assert not any(n.startswith("x") and n[1:].isdigit() for n in fields(adapter)), title
        space = adapter.action_space
        assert space.kind == "continuous" and len(space.names) == space.size, title
        state, _ = adapter.reset(seed=0)
        assert len(state[0]) == len(adapter.layout.fields) + 1
        adapter.close()
    # an option that changes the layout to one gymnasium documents keeps the names
    hopper = envs.make(f"Hopper-{version}", env_kwargs={"exclude_current_positions_from_observation": False})
    assert fields(hopper)[:2] == ["torso_x", "torso_z"]
    hopper.close()


def test_field_names_from_space_keys_are_safe_identifiers():
    from gymnasium import spaces

    from wc.envs.gym import observation_layout

    space = spaces.Dict({"type": spaces.Discrete(2), "class": spaces.Box(0, 1, (2,)), "my key": spaces.Discrete(3),
                         "1st": spaces.Discrete(2), "__x": spaces.Discrete(2), "x": spaces.Discrete(2),
                         "nested": spaces.Dict({"a": spaces.Discrete(2)})})
    layout = observation_layout(space)
    assert [f.name for f in layout.fields] == ["f_1st", "x", "class_0", "class_1", "my_key", "nested_a", "type_",
                                               "x_2"]  # gymnasium sorts a dict's keys

    obs = {"type": 1, "class": np.array([0.5, 0.25], dtype=np.float32), "my key": 2, "1st": 0, "__x": 1, "x": 0,
           "nested": {"a": 1}}
    assert layout.entity(obs) == {"type": "Observation", "f_1st": 0, "x": 1, "class_0": 0.5, "class_1": 0.25,
                                  "my_key": 2, "nested_a": 1, "type_": 1, "x_2": 0}
    numbered = observation_layout(spaces.Tuple((spaces.Box(-1, 1, (2,)), spaces.Discrete(4), spaces.MultiBinary(1))))
    assert [f.name for f in numbered.fields] == ["x0", "x1", "x2", "x3"]
    assert [f.kind for f in numbered.fields] == ["float", "float", "int", "int"]
    assert [f.name for f in observation_layout(spaces.Discrete(7)).fields] == ["value"]
    assert [f.name for f in observation_layout(spaces.Box(0.0, 1.0, shape=())).fields] == ["value"]
    for bad, why in ((spaces.Tuple(()), "holds no values"), (spaces.Box(0, 1, (3, 1)), r"shape \(3, 1\);"),
                     (spaces.Box(0, 255, (8, 8)), "an image or a grid"),
                     (spaces.Dict({"pixels": spaces.Box(0, 255, (8, 8, 3), dtype=np.uint8)}),
                      r"observation\['pixels'\] is a Box of shape \(8, 8, 3\), an image"),
                     (spaces.Sequence(spaces.Discrete(2)), "is a Sequence space")):
        with pytest.raises(EnvError, match=why):
            observation_layout(bad)


# ---------------------------------------------------------------- a user's own environments


def test_a_users_box_environment_through_module_env_id():
    adapter = envs.make(f"{USER}/Drift-v0")
    assert fields(adapter) == ["x0", "x1", "x2"]
    assert adapter.actions == ("action_0", "action_1", "action_2")
    assert adapter.max_steps == 50 and adapter.mission == f"{USER}/Drift-v0: maximise the return"
    assert "    x2: float  # in [0, inf]\n" in adapter.api.source
    # a program written for the numbered layout, reading the fields in order
    source = """
import math


def transition(state, action):
    obs = state[0]
    push = 0.05 * (ACTIONS.index(action) - 1)
    velocity = 0.9 * obs.x1 + push
    return [Observation(obs.x0 + velocity, velocity, obs.x2 + abs(velocity))]


def reward(state, action, next_state, mission):
    position = next_state[0].x0
    return -abs(position), abs(position) > 1.0
"""
    data = collect(adapter, 200, seed=2)
    assert any(t[4] for t in data)
    assert_explains(source, adapter, data)
    # the environment's own keyword arguments reach it
    pushed = envs.make(f"{USER}/Drift-v0", env_kwargs={"push": 0.2})
    assert pushed.env.unwrapped.push == 0.2 and pushed.api == adapter.api
    for a in (adapter, pushed):
        a.close()


def test_dict_tuple_multibinary_observations_and_continuous_actions():
    adapter = envs.make(f"{USER}/Arm-v0")
    assert fields(adapter) == ["flags_0", "flags_1", "grip_0", "grip_1", "joints_0", "joints_1", "mode"]
    state, _ = adapter.reset(seed=0)
    obs = state[0]
    assert (obs["flags_0"], obs["flags_1"], obs["grip_0"], obs["grip_1"], obs["mode"]) == (1, 0, 1, 0.25, 2)
    assert all(type(obs[k]) is int for k in ("flags_0", "grip_0", "mode"))
    assert type(obs["joints_0"]) is float
    assert obs["joints_0"] == float(adapter.env.unwrapped.joints[0])  # float32 widened, not rounded
    assert "mode: int        # in [1, 3]" in adapter.api.source and "flags_0: int     # 0 or 1" in adapter.api.source
    space = adapter.action_space
    assert (space.kind, space.low, space.high, adapter.actions) == ("continuous", (-1.0, -0.5), (1.0, 0.5), ())
    rng = random.Random(7)
    for _ in range(50):
        action = adapter.sample_action(rng)
        assert all(lo <= a <= hi for a, lo, hi in zip(action, space.low, space.high, strict=True))
        adapter.step(action)
    assert adapter.step([1.0, 0.5]).state[0]["joints_1"] != obs["joints_1"]
    for bad, why in (([2.0, 0.0], r"action\[0\] = 2.0 is outside \[-1, 1\]"), ([0.0], "a list of 2 floats"),
                     ([math.nan, 0.0], "finite number"), ([True, 0.0], "finite number"), ("action_0", "a list of 2")):
        with pytest.raises(InvalidAction, match=why):
            adapter.step(bad)
    assert adapter.encode_action(np.array([0.5, -0.25], dtype=np.float32)) == [0.5, -0.25]
    adapter.close()


def test_multidiscrete_observations_and_actions():
    adapter = envs.make(f"{USER}/GridPick-v0")
    assert fields(adapter) == ["x0", "x1"] and adapter.action_space.nvec == (3, 2)
    assert "ACTION_NVEC = [3, 2]" in adapter.api.source
    adapter.reset(seed=0)
    assert adapter.step([2, 1]).state == [{"type": "Observation", "x0": 0, "x1": 1}]
    for bad in ([3, 0], [0, -1], [0.0, 0], [0]):
        with pytest.raises(InvalidAction):
            adapter.step(bad)
    rng = random.Random(3)
    assert {tuple(adapter.sample_action(rng)) for _ in range(60)} == {(m, a) for m in range(3) for a in range(2)}
    adapter.close()


def test_discrete_actions_by_name_and_offline_indices():
    adapter = envs.make("Taxi-v4")
    with pytest.raises(InvalidAction, match="no action 'up'; actions are south, north"):
        adapter.step("up")
    with pytest.raises(InvalidAction):
        adapter.decode_action(1)  # an index is offline data's form: encode_action turns it into a name
    assert [adapter.encode_action(i) for i in range(6)] == list(adapter.actions)
    assert adapter.decode_action("dropoff") == 5
    rng = random.Random(0)
    assert {adapter.sample_action(rng) for _ in range(100)} == set(adapter.actions)
    adapter.close()


def is_drift(unwrapped) -> bool:
    from support.gym_user_env import DriftEnv

    return isinstance(unwrapped, DriftEnv)


def drift_adapter(name, env_id, env, options):
    env.close()
    return ("the user's own adapter", env_id)


def test_a_users_own_domain_comes_before_the_generic_one(monkeypatch):
    monkeypatch.setattr(envs, "DOMAINS", dict(envs.DOMAINS))
    register_domain(Domain("drift", ("drift", 1), adapter="test_gym:drift_adapter", accepts="test_gym:is_drift"))
    assert list(envs.DOMAINS)[-1] == "drift"  # declared after the generic domain, tried before it
    assert envs.make(f"{USER}/Drift-v0") == ("the user's own adapter", f"{USER}/Drift-v0")
    cartpole = envs.make("CartPole-v1")
    assert cartpole.domain == "gym"
    cartpole.close()


# ---------------------------------------------------------------- refusals and bad input


def test_an_image_observation_is_refused_with_the_reason():
    with pytest.raises(UnknownEnvironment) as caught:
        envs.make(f"{USER}/Camera-v0")
    message = str(caught.value)
    assert "Box of shape (32, 32, 3), an image or a grid" in message
    assert "An object-level adapter is needed" in message and "wc.envs.register_domain" in message
    with pytest.raises(UnknownEnvironment, match="its observation is a Text space"):
        envs.make(f"{USER}/Chat-v0")


def test_gymnasium_arguments_and_options_that_do_not_apply():
    with pytest.raises(UnknownEnvironment, match=r"gymnasium cannot make 'CartPole-v1' with no_such_arg=1"):
        envs.make("CartPole-v1", env_kwargs={"no_such_arg": 1})
    with pytest.raises(UnknownEnvironment, match="unknown environment 'NoSuch-v0'"):
        envs.make("NoSuch-v0", env_kwargs={"a": 1})
    with pytest.raises(UnknownEnvironment, match="takes no option 'levels'"):
        envs.make("CartPole-v1", levels="x.xsb")
    with pytest.raises(InvalidInput, match="env_kwargs must map argument names"):
        envs.make("CartPole-v1", env_kwargs=["is_slippery=false"])
    with pytest.raises(UnknownEnvironment, match="not made by gymnasium.make"):
        envs.make("alfworld-pick", env_kwargs={"a": 1})
    # gymnasium's arguments reach environments of other domains too, beside their own options
    sokoban = envs.make("sokoban", env_kwargs={"max_steps": 33})
    assert sokoban.max_steps == 33 and sokoban.domain == "sokoban"
    sokoban.close()


def test_a_bad_observation_is_an_error_not_a_traceback():
    adapter = envs.make(f"{USER}/Drift-v0")
    with pytest.raises(EnvError, match="does not match its space"):
        adapter.encode_observation(np.zeros(4))
    adapter.close()


def test_env_options_parse_as_json_else_strings():
    assert parse_env_options([]) == {}
    assert parse_env_options(["is_slippery=false", "map_name=8x8", "success_rate=0.5", "desc=[\"SF\", \"HG\"]",
                              "name=\"quoted\"", "x=null", "flag=False", "text=a=b", "empty="]) == {
        "is_slippery": False, "map_name": "8x8", "success_rate": 0.5, "desc": ["SF", "HG"], "name": "quoted",
        "x": None, "flag": False, "text": "a=b", "empty": ""}
    for bad, why in (("is_slippery", "KEY=VALUE"), ("=1", "KEY=VALUE"), ("no-dash=1", "not a keyword argument"),
                     ("1x=1", "not a keyword argument")):
        with pytest.raises(InvalidInput, match=why):
            parse_env_options([bad])
    with pytest.raises(InvalidInput, match="given twice"):
        parse_env_options(["a=1", "a=2"])


def test_gymnasium_warnings_do_not_leak():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adapter = envs.make("CartPole-v1")
        adapter.close()
