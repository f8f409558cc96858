"""BabyAI levels (the `minigrid` package's own): episodes are played, missions' progress is part of
the state (API module minigrid_v2), and an episode that ends before any step without ending by
its rules is an error the run reports, never a silent loss."""
from __future__ import annotations

import gymnasium as gym
import pytest
from conftest import FIXTURES
from minigrid.envs.doorkey import DoorKeyEnv

from wc import envs
from wc._agent.config import LearnConfig
from wc._api import Settings, add_program, run_summary
from wc._llm.base import NoLLM
from wc._run.runner import learn
from wc._sandbox import runtime
from wc.errors import EnvError
from wc.events import RefineSkipped, RefineStarted, StepLimit

BABYAI = (FIXTURES / "babyai_model.py").read_text()


def test_babyai_states_carry_the_missions_progress():
    """'open the X door, then open the Y door': a plan in the reference program, played in the real
    level; Progress records each part as it is done, as the program predicts at every step."""
    adapter = envs.make("BabyAI-OpenTwoDoors-v0")
    assert adapter.api.ref == "minigrid_v2" and envs.make("minigrid-doorkey").api.ref == "minigrid_v1"
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), BABYAI)
    state, mission = adapter.reset(3)
    assert adapter.max_steps > 0  # BabyAI sets its limit at reset
    [progress] = [e for e in state if e["type"] == "Progress"]
    assert progress["parts"] == mission.split(", then ") and progress["done"] == [False, False]
    plan = runtime.plan(program, state, mission, list(adapter.actions))
    assert plan.found
    seen = []
    for action in plan.actions:
        step = adapter.step(action)
        assert runtime.state_key(step.state) == runtime.state_key(
            runtime.encode_state(program.transition(runtime.decode_state(program.namespace, state), action)))
        state = step.state
        seen.append(next(e for e in state if e["type"] == "Progress")["done"])
    assert step.terminated and step.reward > 0
    assert [d for i, d in enumerate(seen) if i == 0 or d != seen[i - 1]][-2:] == [[True, False], [True, True]]


@pytest.mark.parametrize("env", ["BabyAI-PutNextLocal-v0", "BabyAI-GoToRedBall-v0"])
async def test_babyai_episodes_are_played_and_won(env, db_url):
    pid = await add_program(env, BABYAI, db_url)
    config = LearnConfig(env=env, episodes=2, solved=None, max_llm_calls=0, from_program=pid)
    summary = await learn(config, Settings(db=db_url), llm=NoLLM())
    assert summary.status == "finished", summary.error
    assert len(summary.episode_list) == 2 and all(e.steps > 0 and e.success for e in summary.episode_list)


class NoStepDoorKey(DoorKeyEnv):
    """An environment whose episodes allow no step (as BabyAI's looked before its first reset)."""

    def __init__(self, **kwargs):
        super().__init__(size=5, max_steps=0, **kwargs)


async def test_an_episode_over_before_its_first_step_is_an_error(db_url):
    if "WCTest-NoStep-v0" not in gym.registry:
        gym.register(id="WCTest-NoStep-v0", entry_point=NoStepDoorKey)
    with pytest.raises(EnvError, match="episode 0 of WCTest-NoStep-v0 ended after 0 steps"):
        await learn(LearnConfig(env="WCTest-NoStep-v0", episodes=3, max_llm_calls=0), Settings(db=db_url),
                    llm=NoLLM())
    stored = await run_summary(1, db_url)
    assert stored.status == "failed" and "ended after 0 steps" in stored.error
    assert stored.episodes == 1 and not stored.episode_list[0].finished  # not recorded as a loss


async def test_max_steps_above_the_environments_limit_is_lifted_and_said(db_url):
    events = []
    config = LearnConfig(env="sokoban", episodes=1, solved=None, max_llm_calls=0, max_steps=75, min_transitions=10 ** 6)
    summary = await learn(config, Settings(db=db_url), llm=NoLLM(), on_event=events.append)
    assert summary.episode_list[0].steps == 75  # the shipped levels' own limit is 60
    assert [e for e in events if isinstance(e, StepLimit)] == [StepLimit(episode=0, requested=75, own=60, lifted=True)]


async def test_a_program_kept_unrefined_is_reported_once(db_url, minigrid_model):
    """--max-llm-calls 0 from a program that does not fit: said once, not at every step."""
    wrong = minigrid_model.replace("(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    pid = await add_program("minigrid-doorkey", wrong, db_url)
    events = []
    config = LearnConfig(env="minigrid-doorkey", episodes=4, solved=None, max_llm_calls=0, from_program=pid,
                         max_steps=40)
    summary = await learn(config, Settings(db=db_url), llm=NoLLM(), on_event=events.append)
    assert summary.status == "finished" and summary.env_steps > 20
    assert not any(isinstance(e, RefineStarted) for e in events)
    [skipped] = [e for e in events if isinstance(e, RefineSkipped)]
    assert skipped.why == "budget" and skipped.fit < 1.0


def test_a_mission_may_name_any_kind_of_object_by_its_colour():
    """'pick up the yellow object' (PickupDist): the reference program plans it, and it wins."""
    adapter = envs.make("BabyAI-PickupDist-v0")
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), BABYAI)
    state, mission = adapter.reset(2018)
    assert mission == "pick up the yellow object"
    plan = runtime.plan(program, state, mission, list(adapter.actions))
    assert plan.found
    for action in plan.actions:
        step = adapter.step(action)
    assert step.terminated and step.reward > 0
