"""Random programs over continuous actions (issue 28, item 3): CEM and `iw-cem` with sampled
outcomes (`wc._sandbox.plan_return`, `Outcomes`; `wc._planning.cem`, `draws`), in-process, in the
jailed sandbox and through the agent. The worlds are tests/support/noisy_worlds.py's: a ledge
where the most probable outcome of a hard push hides a one-in-four fall, and Pendulum with a
noisy motor."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from support import noisy_worlds  # noqa: F401 - registers the worlds
from support.helpers import llm_settings as settings

from wc import envs
from wc._api import LearnConfig, learn
from wc._core.values import Transition
from wc._planning import cem
from wc._planning.returns import ReturnPlan
from wc._sandbox import runtime, verdict
from wc._sandbox.plan_return import Outcomes, plan_return
from wc._sandbox.return_goal import ReturnGoal, judged
from wc._sandbox.sandbox import Sandbox
from wc.events import PlanSearched
from wc.testing import Reply, answer

FIXTURES = Path(__file__).parent / "fixtures"
LEDGE, PENDULUM = "support.noisy_worlds:Ledge-v0", "support.noisy_worlds:NoisyPendulum-v0"
BOX = {"kind": "continuous", "low": [-1.0], "high": [1.0]}
START = [{"type": "Observation", "x0": 0.0, "x1": 0.0}]
SMALL = cem.CemSettings(horizon=20, iterations=4, samples=40, elites=5, keep=2)


def compiled(env_id: str, name: str):
    program = runtime.compile_program(runtime.api_namespace(envs.api_module(env_id).source),
                                      (FIXTURES / name).read_text())
    assert program.failure is None and program.chance is not None
    return program


@pytest.fixture(scope="module")
def ledge():
    return compiled(LEDGE, "ledge_model.py")


def test_a_random_program_over_a_box_was_refused_before_and_is_planned_by_sampling_now():
    """Before issue 28's item 3 every sequence failed ("transition() must return a list of
    entities, not Choice") and φ2 read the program as one that cannot be planned in; the
    deterministic path still says so, and sampled outcomes plan."""
    program = compiled(PENDULUM, "pendulum_noisy_model.py")
    down = [{"type": "Observation", "cos_theta": -1.0, "sin_theta": 0.0, "angular_velocity": 0.0}]
    box = {"kind": "continuous", "low": [-2.0], "high": [2.0]}
    small = cem.CemSettings(horizon=10, iterations=2, samples=20, elites=4, keep=1)
    plain = plan_return(program, down, "", box, planner=small, time_limit=30)
    assert plain.status == "error" and "not Choice" in plain.first_error["message"]
    sampled = plan_return(program, down, "", box, planner=small, time_limit=30, outcomes="sample")
    assert sampled.found and sampled.planner == "chance-cem" and sampled.steps == (20 + 19) * 4 * 10


def expected(plan) -> float:
    """The ledge's exact expected return of a plan's actions, open loop (a hard push survives
    with probability 3/4 and then earns 1, a push p <= 0.5 earns max(p, 0))."""
    total, alive = 0.0, 1.0
    for (push,) in plan.actions:
        push = min(max(push, -1.0), 1.0)
        if push > 0.5:
            alive *= 0.75
            total += alive
        else:
            total += alive * max(push, 0.0)
    return total


def hard(plan) -> int:
    return sum(push > 0.5 for (push,) in plan.actions)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_on_the_mode_the_ledge_says_push_hard_and_by_expectation_less_so(ledge, seed):
    """The mode of a hard push is +1 (a fall is one in four), so planning on it pushes hard and
    expects far more than it gets; by expectation pushing hard every step is worth about 3 over
    20 steps and walking (a push of 0.5) 10. Pinned seeds (CEM of 5 rounds of 40 sequences over
    20 steps): the sampled plan pushes hard less often and its exact expected return is higher.
    Neither reaches 10: with 4 plays a search still finds hard pushes whose fall lands on a play
    that has already fallen (docs/RESULTS.md)."""
    small = cem.CemSettings(horizon=20, iterations=5, samples=40, elites=5, keep=2)
    mode = plan_return(ledge, START, "", BOX, planner=small, time_limit=30, rng_seed=seed, outcomes="mode")
    sampled = plan_return(ledge, START, "", BOX, planner=small, time_limit=30, rng_seed=seed, outcomes="sample")
    assert mode.planner == "mode-cem" and sampled.planner == "chance-cem"
    assert len(mode.actions) == len(sampled.actions) == 20
    assert hard(mode) >= 11 and hard(sampled) <= 8
    assert expected(sampled) > expected(mode)
    assert mode.value > 3 * expected(mode)                # the mode's promise is far from what it gets
    assert sampled.value < 2 * expected(sampled)


def test_the_default_planner_samples_too_and_the_same_seed_gives_the_same_plan(ledge):
    first = plan_return(ledge, START, "", BOX, time_limit=60, rng_seed=7, outcomes="sample")
    again = plan_return(ledge, START, "", BOX, time_limit=60, rng_seed=7, outcomes="sample")
    assert first.planner == "chance-iw-cem" and first.found
    assert (first.action, first.actions, first.predictions, first.value) == \
        (again.action, again.actions, again.predictions, again.value)


def test_stratified_draws_share_out_the_unit_interval_and_repeat_per_play(ledge):
    outcomes = Outcomes(ledge, seed=3)
    free = [outcomes.random() for _ in range(3)]
    assert len(set(free)) == 3
    drawn = {}
    for k in range(4):
        outcomes.redraw(k, 4)
        outcomes.transition([ledge.namespace["Observation"](x0=0.0, x1=0.0)], [1.0])
        drawn[k] = outcomes.random()
    assert sorted(int(u * 4) for u in drawn.values()) == [0, 1, 2, 3]      # one per quarter
    assert len({round(u * 4 % 1, 9) for u in drawn.values()}) == 1         # the same offset
    outcomes.redraw(2, 4)
    outcomes.transition([ledge.namespace["Observation"](x0=0.0, x1=0.0)], [1.0])
    assert outcomes.random() == drawn[2]


def test_cem_scores_a_random_step_by_its_mean_or_its_best_play():
    """Pure: a one-step world whose reward is the drawn number; the score is the mean over the
    plays (optimistic: the best), and a deterministic step is played once whatever `draws` says."""
    luck = {"u": 0.0}

    def redraw(k, plays):
        luck["u"] = (k + 0.5) / plays

    def step(state, action):
        return state, luck["u"], True

    mean = cem.search(0, step, low=[0.0], high=[1.0], horizon=1, iterations=1, samples=3, elites=1, keep=0,
                      draws=4, redraw=redraw)
    best = cem.search(0, step, low=[0.0], high=[1.0], horizon=1, iterations=1, samples=3, elites=1, keep=0,
                      draws=4, redraw=redraw, optimistic=True)
    once = cem.search(0, step, low=[0.0], high=[1.0], horizon=1, iterations=1, samples=3, elites=1, keep=0, draws=4)
    assert mean.value == pytest.approx(0.5) and mean.steps == 12 and mean.predictions[0][1] == 0.125
    assert best.value == pytest.approx(0.875) and best.predictions[0][1] == 0.875
    assert once.steps == 3 and once.value == 0.875   # the last redraw's number, never redrawn
    with pytest.raises(ValueError, match="draws"):
        cem.search(0, step, low=[0.0], high=[1.0], draws=0)


# --------------------------------------------------------------------------- the sandbox and the agent


def record(adapter, n: int, seed: int) -> list[Transition]:
    rng, out = random.Random(seed), []
    state, mission = adapter.reset(seed=seed)
    while len(out) < n:
        action = adapter.sample_action(rng)
        step = adapter.step(action)
        out.append(Transition(state, action, step.state, step.reward, step.terminated, mission))
        state = step.state
        if step.terminated or step.truncated:
            state, mission = adapter.reset(seed=seed + len(out))
    return out


async def test_in_the_sandbox_a_random_program_over_a_box_plans_by_sampling_and_phi2_is_judged_in_the_parent():
    """The noisy Pendulum's reference program fits the real noisy environment by likelihood; its
    plans come from sampled outcomes, before the parent has judged it (the worker finds out) and
    after; φ2 reads a trajectory the program predicts step by step, summed in the parent."""
    adapter = envs.make(PENDULUM)
    data = record(adapter, 60, seed=1)
    source = (FIXTURES / "pendulum_noisy_model.py").read_text()
    sb = Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1)
    await sb.start()
    try:
        for t in data:
            sb.add(t)
        start, mission, space = data[0].state, data[0].mission, adapter.action_space
        early = await sb.plan_return(source, start, mission, space, planner="cem", time_limit=20.0, seed=5)
        assert not sb.is_random(source) and early.found and early.planner == "chance-cem"
        evaluation = await sb.evaluate(source)
        assert evaluation.fits and sb.is_random(source)
        acting = await sb.plan_return(source, start, mission, space, planner="cem", time_limit=20.0, seed=5)
        assert (acting.action, acting.actions) == (early.action, early.actions)   # the same request, the same plan
        assert -2.0 <= acting.action[0] <= 2.0 and len(acting.predictions) == len(acting.actions) == 30
        sb.return_goal = ReturnGoal(space, "cem", target=-1e9, episode_steps=200, seconds=20.0)
        found = (await sb.optimism(source, [(start, mission)])).plans[0]
        assert found.status == "found" and found.planner == "chance-cem"
        sb.return_goal = ReturnGoal(space, "cem", target=0.0, episode_steps=200, seconds=20.0)
        short = (await sb.optimism(source, [(start, mission)])).plans[0]
        assert short.status == "exhausted" and "below the target" in short.reason
    finally:
        await sb.close()
        adapter.close()


def test_a_workers_stated_mean_does_not_count_only_its_predicted_rewards_do():
    """A sampled plan reports its mean return as `value`; the parent sums the predicted rewards
    itself, so a forged mean reaching the target changes nothing."""
    reply = {"status": "found", "action": [0.5], "actions": [[0.5], [0.5]], "value": 1e9, "gamma": 1.0,
             "predictions": [["k1", -3.0, False], ["k2", -4.0, False]], "steps": 10, "rollouts": 2,
             "planner": "chance-cem"}
    plan = verdict.return_plan_from_wire(reply, {"kind": "continuous", "low": [-2.0], "high": [2.0]}, max_len=30)
    assert plan.total == -7.0 and plan.value == 1e9
    verdict_ = judged(plan, ReturnGoal(None, "cem", target=-10.0, episode_steps=2))
    assert verdict_.status == "found"
    assert judged(plan, ReturnGoal(None, "cem", target=-5.0, episode_steps=2)).status == "exhausted"
    assert isinstance(plan, ReturnPlan)


@pytest.mark.slow
async def test_the_agent_learns_the_noisy_pendulum_and_plans_with_its_random_program(fake_llm, db_url):
    program = (FIXTURES / "pendulum_noisy_model.py").read_text()
    server = fake_llm(lambda r, n: Reply(answer(program)))
    events: list = []
    summary = await learn(LearnConfig(env=PENDULUM, episodes=1, max_steps=14, max_llm_calls=1, seed=3,
                                      plan_seconds=3.0), settings(server, db_url), on_event=events.append)
    assert summary.status == "finished" and summary.llm_calls == 1, summary.error
    assert summary.config["planner"] == "iw-cem"
    planned = [e for e in events if isinstance(e, PlanSearched)]
    assert planned and all(e.found for e in planned), planned
