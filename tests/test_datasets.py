"""Offline datasets read as wc transitions: CWMB's JSONL (slices in tests/fixtures/cwmb, and the
copy wc ships), Minari datasets made here in a local Minari root, and every kind of bad input
refused with the place it was found."""
import gzip
import json
import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from wc import envs
from wc.datasets import cwmb, read_jsonl, read_minari
from wc.errors import DatasetError, UnknownEnvironment

FIXTURES = Path(__file__).parent / "fixtures" / "cwmb"
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def make(env_id):
    return envs.make(env_id)


def lines(name):
    return [json.loads(x) for x in (FIXTURES / f"{name}.jsonl").read_text().splitlines()]


# --------------------------------------------------------------------------- CWMB's JSONL


def test_cartpole_slice_reads_as_the_generic_adapters_states_and_actions():
    adapter = make("CartPole-v1")
    source = read_jsonl(FIXTURES / "CartPole-v1.jsonl", adapter)
    data = source.read()
    raw = lines("CartPole-v1")
    assert len(data) == 42 and source.format == "jsonl" and len(source.content_hash) == 64
    first = data[0]
    assert first.state == [{"type": "Observation", "cart_position": raw[0]["obs"][0],
                            "cart_velocity": raw[0]["obs"][1], "pole_angle": raw[0]["obs"][2],
                            "pole_angular_velocity": raw[0]["obs"][3]}]
    assert first.action == "push_right" and raw[0]["action"] == 1
    assert (first.episode, first.step, first.reward, first.done, first.truncated) == (0, 0, 1.0, False, False)
    # two episodes (traj_start 0 and 28), each ending in a termination (the pole fell)
    assert [t.episode for t in data] == [0] * 28 + [1] * 14
    assert [t.step for t in data][27:30] == [27, 0, 1]
    assert [t.done for t in data].count(True) == 2 and data[27].done and data[41].done
    # a transition starts where the one before ended: the same state object, encoded once
    assert data[1].state is data[0].next_state and data[28].state is not data[27].next_state
    for t, r in zip(data, raw, strict=True):
        assert [v for k, v in t.next_state[0].items() if k != "type"] == r["next_obs"]


def test_a_done_at_the_step_limit_is_a_truncation_and_the_taxi_index_is_decoded():
    """Taxi's first CWMB episode runs into its 200-step limit: CWMB recorded done there, wc a
    truncation; the index 364 decodes into (row 3, column 3, passenger 1, destination 0)."""
    adapter = make("Taxi-v4")
    data = read_jsonl(FIXTURES / "Taxi-v3.jsonl", adapter).read()
    assert len(data) == 200 and lines("Taxi-v3")[-1]["done"] is True
    assert not any(t.done for t in data) and data[-1].truncated and not any(t.truncated for t in data[:-1])
    assert data[0].state == [{"type": "Observation", "taxi_row": 3, "taxi_col": 3, "passenger_location": 1,
                              "destination": 0}]
    assert data[0].action == adapter.action_space.names[3]
    # without the rule every done is a termination
    plain = read_jsonl(FIXTURES / "Taxi-v3.jsonl", adapter, limit=None).read()
    assert plain[-1].done and not plain[-1].truncated


def test_an_episode_the_data_stops_without_done_ends_truncated_and_continuous_actions_are_lists():
    adapter = make("Pendulum-v1")
    data = read_jsonl(FIXTURES / "Pendulum-v1.jsonl", adapter).read()
    assert len(data) == 100 and not any(t.done for t in data)
    assert data[-1].truncated and not any(t.truncated for t in data[:-1])
    assert data[0].action == lines("Pendulum-v1")[0]["action"] and isinstance(data[0].action[0], float)


def test_blackjack_tuples_and_one_step_episodes():
    data = read_jsonl(FIXTURES / "Blackjack-v1.jsonl", make("Blackjack-v1")).read()
    assert len(data) == 15 and max(t.episode for t in data) == 9 and sum(t.done for t in data) == 10
    assert data[0].state == [{"type": "Observation", "player_sum": 21, "dealer_card": 5, "usable_ace": 1}]


def test_explicit_terminated_and_truncated_are_taken_as_given(tmp_path):
    row = lines("CartPole-v1")[0]
    rows = [dict(row, terminated=False, truncated=True), dict(row, terminated=True, truncated=False)]
    for r in rows:
        r.pop("done")
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data = read_jsonl(path, make("CartPole-v1")).read()
    assert [(t.episode, t.done, t.truncated) for t in data] == [(0, False, True), (1, True, False)]


def test_gzipped_files_read_the_same(tmp_path):
    path = tmp_path / "CartPole-v1.jsonl.gz"
    path.write_bytes(gzip.compress((FIXTURES / "CartPole-v1.jsonl").read_bytes()))
    adapter = make("CartPole-v1")
    assert read_jsonl(path, adapter).read() == read_jsonl(FIXTURES / "CartPole-v1.jsonl", adapter).read()


# --------------------------------------------------------------------------- the shipped copy


def test_wc_ships_cwmbs_datasets_and_they_begin_with_the_fixture_slices():
    shipped = {e.name for e in cwmb.ENVS if not e.name.startswith("Humanoid")}
    assert len(shipped) == 16
    for name in shipped:
        assert cwmb.data_file(name).name == f"{name}.jsonl.gz"
    for name in ("CartPole-v1", "Taxi-v3", "Pendulum-v1", "Blackjack-v1"):
        with gzip.open(cwmb.data_file(name), "rt") as f:
            head = [f.readline() for _ in range(len(lines(name)))]
        assert head == (FIXTURES / f"{name}.jsonl").read_text().splitlines(keepends=True)
    with pytest.raises(DatasetError, match="does not ship its buffers"):
        cwmb.data_file("Humanoid-v4")
    assert cwmb.env("Taxi-v4").name == "Taxi-v3" and cwmb.env("CliffWalking-v0").env_ids == ("CliffWalking-v1",)
    with pytest.raises(UnknownEnvironment):
        cwmb.env("MiniGrid-Empty-5x5-v0")


def test_a_data_dir_comes_before_the_shipped_copy(tmp_path, monkeypatch):
    (tmp_path / "CartPole-v1.jsonl").write_text((FIXTURES / "CartPole-v1.jsonl").read_text())
    assert cwmb.data_file("CartPole-v1", tmp_path) == tmp_path / "CartPole-v1.jsonl"
    monkeypatch.setenv("WC_CWMB_DATA", str(tmp_path))
    assert cwmb.data_file("CartPole-v1") == tmp_path / "CartPole-v1.jsonl"
    assert cwmb.data_file("Taxi-v3").parent == cwmb.PACKAGED


@pytest.mark.parametrize("name, transitions, done, truncated", [
    ("Blackjack-v1", 15, 10, 0), ("CliffWalking-v0", 877, 5, 5), ("Taxi-v3", 1574, 5, 5), ("CartPole-v1", 402, 10, 0),
    ("MountainCar-v0", 1777, 5, 5), ("Acrobot-v1", 4521, 5, 5), ("Pendulum-v1", 1000, 0, 10)])
def test_every_shipped_dataset_of_the_classic_environments_reads_whole(name, transitions, done, truncated):
    """All of it fits the environment's spaces; the episodes that ran into their step limit
    (Taxi, MountainCar and Acrobot at 200/200/500 steps) are truncations, the collector's
    100-step cut (CliffWalking, Pendulum) too."""
    data = cwmb.dataset(name, cwmb.make(name)).read()
    assert len(data) == transitions and max(t.episode for t in data) == 9
    assert (sum(t.done for t in data), sum(t.truncated for t in data)) == (done, truncated)


# --------------------------------------------------------------------------- bad input


def write(tmp_path, text, name="d.jsonl"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no dataset file at .*nothing.jsonl") as e:
        read_jsonl(tmp_path / "nothing.jsonl", make("CartPole-v1"))
    assert e.value.path.endswith("nothing.jsonl")
    with pytest.raises(DatasetError, match="is not a file"):
        read_jsonl(tmp_path, make("CartPole-v1"))


def test_an_empty_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="holds no transitions"):
        read_jsonl(write(tmp_path, "\n\n"), make("CartPole-v1")).read()


@pytest.mark.parametrize("bad, message", [
    ("{not json", r"line 3: not JSON \(Expecting property name"),
    ('[1, 2]', "line 3: each line must be a JSON object"),
    ('{"obs": [0, 0, 0, 0], "action": 0, "reward": 1.0, "done": false}', "line 3: the line has no next_obs"),
    ('{"obs": [0, 0, 0], "action": 0, "reward": 1.0, "next_obs": [0, 0, 0, 0], "done": false}',
     r"line 3: the observation does not fit CartPole-v1's observation space: .*3 values where the space has shape"),
    ('{"obs": [9.0, 0, 0, 0], "action": 0, "reward": 1.0, "next_obs": [0, 0, 0, 0], "done": false}',
     r"line 3: observation field cart_position = 9.0 is outside CartPole-v1's observation space \[-4.8, 4.8\]"),
    ('{"obs": [0, 0, 0, 0], "action": 2, "reward": 1.0, "next_obs": [0, 0, 0, 0], "done": false}',
     "line 3: the action does not fit CartPole-v1's action space: no action with index 2"),
    ('{"obs": [0, 0, 0, 0], "action": 0.5, "reward": 1.0, "next_obs": [0, 0, 0, 0], "done": false}',
     "line 3: the action does not fit .*a discrete action is a whole number"),
    ('{"obs": [0, 0, 0, 0], "action": 0, "reward": "1", "next_obs": [0, 0, 0, 0], "done": false}',
     "line 3: reward must be a finite number"),
    ('{"obs": [0, 0, 0, 0], "action": 0, "reward": 1.0, "next_obs": [0, 0, 0, 0], "done": "no"}',
     "line 3: done must be true or false"),
])
def test_a_malformed_line_says_which_line(tmp_path, bad, message):
    good = (FIXTURES / "CartPole-v1.jsonl").read_text().splitlines()[:2]
    path = write(tmp_path, "\n".join([*good, bad, *good]) + "\n")
    with pytest.raises(DatasetError, match=message) as e:
        read_jsonl(path, make("CartPole-v1")).read()
    assert e.value.line == 3 and str(path.resolve()) in str(e.value)


def test_data_of_another_environment_does_not_fit(tmp_path):
    """Pendulum's data read for CartPole, Taxi's for CliffWalking, CartPole's for Pendulum."""
    with pytest.raises(DatasetError, match="line 1: the observation does not fit CartPole-v1's observation space"):
        read_jsonl(FIXTURES / "Pendulum-v1.jsonl", make("CartPole-v1")).read()
    with pytest.raises(DatasetError, match=r"line 1: the observation 364 is outside CliffWalking-v1's observation "
                                           r"space \(0 to 47\)"):
        read_jsonl(FIXTURES / "Taxi-v3.jsonl", make("CliffWalking-v1")).read()
    with pytest.raises(DatasetError, match="line 1: the observation does not fit Pendulum-v1's"):
        read_jsonl(FIXTURES / "CartPole-v1.jsonl", make("Pendulum-v1")).read()
    path = write(tmp_path, json.dumps({"obs": [1.0, 0.0, 0.0], "action": [3.5], "reward": -1.0,
                                       "next_obs": [1.0, 0.0, 0.0], "done": False}) + "\n")
    with pytest.raises(DatasetError, match=r"line 1: the action does not fit Pendulum-v1's action space: "
                                           r"action\[0\] = 3.5 is outside \[-2, 2\]"):
        read_jsonl(path, make("Pendulum-v1")).read()


# --------------------------------------------------------------------------- Minari


def minari_dataset(root, env_id="CartPole-v1", dataset_id="cartpole/random-v0", episodes=3, seed=0):
    """A Minari dataset made here with Minari's own writer (`create_dataset_from_buffers`; its
    DataCollector needs jax, minari[create]), from random episodes of a real environment."""
    import minari
    from minari.data_collector import EpisodeBuffer

    env = gym.make(env_id)
    env.action_space.seed(seed)
    buffers = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        o, a, r, te, tr = [obs], [], [], [], []
        for _ in range(500):
            action = env.action_space.sample()
            obs, reward, terminated, truncated, _ = env.step(action)
            o.append(obs), a.append(action), r.append(reward), te.append(terminated), tr.append(truncated)
            if terminated or truncated:
                break
        buffers.append(EpisodeBuffer(id=ep, seed=seed + ep, observations=o, actions=a, rewards=r, terminations=te,
                                     truncations=tr))
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        minari.create_dataset_from_buffers(dataset_id, buffers, env=env_id, algorithm_name="random", author="wc",
                                           author_email="wc@example.org", code_permalink="https://example.org",
                                           description="random episodes")
    finally:
        if old is None:
            os.environ.pop("MINARI_DATASETS_PATH")
        else:
            os.environ["MINARI_DATASETS_PATH"] = old
    return buffers


def test_a_minari_dataset_made_here_reads_as_its_episodes(tmp_path):
    buffers = minari_dataset(tmp_path)
    adapter = make("CartPole-v1")
    source = read_minari("cartpole/random-v0", adapter, root=tmp_path)
    assert source.format == "minari" and source.data_env_id == "CartPole-v1" and len(source.content_hash) == 64
    data = source.read()
    assert len(data) == sum(len(b.rewards) for b in buffers)
    i = 0
    for ep, b in enumerate(buffers):
        for step in range(len(b.rewards)):
            t = data[i]
            assert (t.episode, t.step) == (ep, step)
            assert t.state == adapter.encode_observation(b.observations[step])
            assert t.next_state == adapter.encode_observation(b.observations[step + 1])
            assert t.action == adapter.action_space.names[int(b.actions[step])]
            assert (t.reward, t.done, t.truncated) == (float(b.rewards[step]), b.terminations[step],
                                                       b.truncations[step])
            i += 1
    assert data[-1].done


def test_minari_refusals(tmp_path, monkeypatch):
    minari_dataset(tmp_path)
    with pytest.raises(DatasetError, match=r"no Minari dataset 'hopper/expert-v0' in the local Minari root .*"
                                           r"it holds cartpole/random-v0.*does not download"):
        read_minari("hopper/expert-v0", make("CartPole-v1"), root=tmp_path)
    with pytest.raises(DatasetError, match=r"does not match MountainCar-v0: its observation space Box.* is not the "
                                           r"environment's Box.* \(shape \(4,\), not \(2,\)\)"):
        read_minari("cartpole/random-v0", make("MountainCar-v0"), root=tmp_path)
    minari_dataset(tmp_path, "MountainCarContinuous-v0", "car/random-v0", episodes=1)
    with pytest.raises(DatasetError, match=r"does not match MountainCar-v0: its action space Box.* \(a Box where the "
                                           r"environment has a Discrete\)"):
        read_minari("car/random-v0", make("MountainCar-v0"), root=tmp_path)
    with pytest.raises(DatasetError, match="does not match Pendulum-v1: its observation space"):
        read_minari("cartpole/random-v0", make("Pendulum-v1"), root=tmp_path)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))  # Minari's own rule for the root
    assert read_minari("cartpole/random-v0", make("CartPole-v1")).read()


def test_minari_continuous_actions_and_values_outside_the_space(tmp_path):
    minari_dataset(tmp_path, "Pendulum-v1", "pendulum/random-v0", episodes=1)
    data = read_minari("pendulum/random-v0", make("Pendulum-v1"), root=tmp_path).read()
    assert len(data) == 200 and data[-1].truncated and isinstance(data[0].action, list)
    assert np.float32(data[0].action[0]) == data[0].action[0]
