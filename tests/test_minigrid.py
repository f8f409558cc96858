import json
import random

import pytest

from wc import envs
from wc._sandbox import runtime
from wc.errors import UnknownEnvironment, WcError


def test_short_names_map_to_the_papers_envs():
    assert {s.name: s.env_id for s in envs.list_envs() if s.domain == "minigrid"} == {
        "minigrid-empty": "MiniGrid-Empty-5x5-v0",
        "minigrid-doorkey": "MiniGrid-DoorKey-5x5-v0",
        "minigrid-unlock": "MiniGrid-Unlock-v0",
        "minigrid-fetch": "MiniGrid-Fetch-6x6-N2-v0",
        "minigrid-unlockpickup": "MiniGrid-UnlockPickup-v0",
        "minigrid-blockedunlockpickup": "MiniGrid-BlockedUnlockPickup-v0",
    }


def test_symbolic_state_is_plain_json_with_the_agent_and_what_it_carries():
    adapter = envs.make("minigrid-doorkey")
    state, mission = adapter.reset(0)
    assert mission == "use the key to open the door and then get to the goal"
    json.dumps(state)  # no numpy values
    types = sorted({e["type"] for e in state})
    assert types == ["Agent", "Door", "Goal", "Key", "Wall"]
    agent = next(e for e in state if e["type"] == "Agent")
    assert type(agent["x"]) is int and type(agent["direction"]) is int and agent["carrying"] is None
    # walk to the key and pick it up, by a plan in the reference model
    key = next(e for e in state if e["type"] == "Key")
    door = next(e for e in state if e["type"] == "Door")
    assert door["is_locked"] and not door["is_open"]
    assert adapter.actions == ("left", "right", "forward", "pickup", "drop", "toggle", "done")
    assert adapter.reward_mode == "sign"
    assert key["color"] == door["color"]


def test_carried_objects_leave_the_grid(minigrid_model):
    adapter = envs.make("minigrid-doorkey")
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), minigrid_model)
    for seed in range(20):
        state, mission = adapter.reset(seed)
        for action in runtime.plan(program, state, mission, list(adapter.actions)).actions:
            step = adapter.step(action)
            if action == "pickup":
                agent = next(e for e in step.state if e["type"] == "Agent")
                assert agent["carrying"]["type"] == "Key" and agent["carrying"]["x"] is None
                assert not [e for e in step.state if e["type"] == "Key"]
                return
    pytest.fail("no pickup in 20 plans")


@pytest.mark.parametrize("name", ["minigrid-doorkey", "minigrid-empty", "minigrid-unlock"])
def test_reference_model_explains_1000_random_transitions(name, minigrid_model):
    adapter = envs.make(name)
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), minigrid_model)
    rng = random.Random(1)
    transitions = []
    episode = 0
    while len(transitions) < 1000:
        state, mission = adapter.reset(episode)
        episode += 1
        for _ in range(80):
            action = rng.choice(adapter.actions)
            step = adapter.step(action)
            transitions.append(runtime.Transition.from_json(dict(
                state=state, action=action, next_state=step.state, reward=step.reward, done=step.terminated,
                mission=mission)))
            state = step.state
            if step.terminated or step.truncated:
                break
    outcomes = runtime.evaluate(program, transitions, adapter.reward_mode, call_timeout=0)
    wrong = [(i, o) for i, o in enumerate(outcomes) if (o.transition, o.reward) != ("o", "o")]
    assert not wrong, wrong[:3]


def test_unknown_names_and_actions_are_clear_errors():
    with pytest.raises(UnknownEnvironment, match="unknown environment .doorkey.; known names: minigrid-empty"):
        envs.make("doorkey")
    with pytest.raises(UnknownEnvironment, match="unknown environment"):
        envs.make("MiniGrid-Nope-v0")
    adapter = envs.make("minigrid-empty")
    adapter.reset(0)
    with pytest.raises(WcError, match="no action 'jump'"):
        adapter.step("jump")


def test_changed_rule_worlds_register_through_gymnasium():
    sprint = envs.make("wc.envs.variants:WC-DoorKeySprint-5x5-v0")
    state, _ = sprint.reset(0)
    assert sprint.api.ref == "minigrid_v1" and state


@pytest.mark.parametrize("env_id", [
    "MiniGrid-LavaCrossingS9N1-v0", "MiniGrid-KeyCorridorS3R1-v0", "MiniGrid-ObstructedMaze-1Dlhb-v0",
    "MiniGrid-Dynamic-Obstacles-5x5-v0", "MiniGrid-MultiRoom-N2-S4-v0", "MiniGrid-FourRooms-v0",
    "MiniGrid-GoToDoor-5x5-v0", "MiniGrid-PutNear-6x6-N2-v0", "MiniGrid-RedBlueDoors-6x6-v0",
    "MiniGrid-MemoryS7-v0", "MiniGrid-Playground-v0", "BabyAI-KeyInBox-v0", "MiniGrid-DistShift1-v0",
])
def test_object_based_minigrid_envs_have_symbolic_states(env_id):
    adapter = envs.make(env_id)
    rng = random.Random(0)
    state, mission = adapter.reset(0)
    assert isinstance(mission, str) and any(e["type"] == "Agent" for e in state)  # Playground has no mission
    for t in range(40):
        step = adapter.step(rng.choice(adapter.actions))
        json.dumps(step.state)
        assert runtime.state_key(step.state)
        if step.terminated or step.truncated:
            adapter.reset(t + 1)
    adapter.close()
