"""Random programs through the real, jailed sandbox: the worker answers with distributions, the
parent judges them by likelihood (φ1, the score, the frequency tests), plans are made over chance,
repair prompts say what a random world's data says, and what a worker sends is checked again in
the parent. The whole `wc learn` on random worlds, with scripted answers, is marked slow."""
from __future__ import annotations

import random
import warnings
from pathlib import Path

import pytest
from support.helpers import llm_settings as settings

from wc import envs
from wc._api import LearnConfig, learn
from wc._core.tolerance import CWMB
from wc._core.values import Transition
from wc._planning import PlanBudget
from wc._sandbox import runtime, verdict
from wc._sandbox.chance import ChancePrediction
from wc._sandbox.distribution import Distribution, Factor
from wc._sandbox.sandbox import Sandbox
from wc._store import Store
from wc._synth.prompts import PromptContext
from wc._synth.refine import CallBudget, Candidate, Refiner
from wc._synth.rex import Arm
from wc.events import CandidateChecked, PlanSearched, RefineStarted
from wc.testing import Reply, answer

warnings.simplefilter("ignore")
FIXTURES = Path(__file__).parent / "fixtures"
SLIPPERY = (FIXTURES / "frozenlake_slippery_model.py").read_text()
TO_THE_RIGHT = "(slip, [moved(obs, ORDER[(i + 1) % 4])])"   # a slip to the right becomes one to the left
SURE = ("SUCCESS = 1 / 3", "SUCCESS = 0.8")                  # possible everywhere, wrong frequencies


def record(adapter, n, seed, actions=None):
    """`n` real transitions of random play (a new episode after each end)."""
    rng = random.Random(seed)
    out, episode = [], 0
    state, mission = adapter.reset(seed=seed * 1000)
    while len(out) < n:
        action = rng.choice(actions or list(adapter.actions))
        step = adapter.step(action)
        out.append(Transition(state, action, step.state, step.reward, step.terminated, mission))
        state = step.state
        if step.terminated or step.truncated:
            episode += 1
            state, mission = adapter.reset(seed=seed * 1000 + episode)
    return out


@pytest.fixture(scope="module")
def lake():
    adapter = envs.make("FrozenLake-v1")
    yield adapter, record(adapter, 1500, seed=1)
    adapter.close()


async def sandbox_with(adapter, data):
    sb = Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1)
    await sb.start()
    for t in data:
        sb.add(t)
    return sb


def messages(sb, adapter, source, evaluation, kind="transition"):
    ctx = PromptContext(adapter.api.source, adapter.reward_mode, adapter.render_state)
    refiner = Refiner(llm=None, sandbox=sb, ctx=ctx, recorder=None, budget=CallBudget(1))  # type: ignore[arg-type]
    parent = Candidate(1, source, evaluation)
    repair = refiner._messages(Arm(1, kind, 0.5), parent, [], 0)
    return repair, refiner._messages(Arm(None, "scratch", 1.0), None, [], 0)


# --------------------------------------------------------------------------- φ1 and the score


async def test_reference_programs_fit_real_data_by_likelihood_in_the_sandbox():
    cases = [("FrozenLake-v1", {}, "frozenlake_slippery_model.py", 600, (0.9, 0.99)),
             ("Taxi-v4", {"is_rainy": True}, "taxi_rainy_model.py", 400, (0.8, 1.0)),
             ("MiniGrid-Dynamic-Obstacles-6x6-v0", {}, "dynamic_obstacles_model.py", 150, (0.3, 0.95))]
    for env_id, kwargs, name, n, (low, high) in cases:
        adapter = envs.make(env_id, env_kwargs=kwargs) if kwargs else envs.make(env_id)
        actions = ["left", "right", "forward"] if env_id.startswith("MiniGrid") else None
        sb = await sandbox_with(adapter, record(adapter, n, seed=3, actions=actions))
        try:
            ev = await sb.evaluate((FIXTURES / name).read_text())
            assert ev.random and ev.fits and ev.load_failure is None, (env_id, ev.failures)
            assert low < ev.fit < high, (env_id, ev.fit)
            assert sb.is_random((FIXTURES / name).read_text())
        finally:
            await sb.close()
            adapter.close()


async def test_a_deterministic_program_is_judged_as_before_and_told_the_world_is_random(lake):
    adapter, data = lake
    sb = await sandbox_with(adapter, data)
    try:
        dry = (FIXTURES / "frozenlake_model.py").read_text()
        ev = await sb.evaluate(dry)
        assert not ev.random and not ev.fits and ev.likelihoods is None
        assert ev.fit == ev.explained / ev.n  # the fraction explained, as always
        assert ev.varied and ev.varied[0].count >= 20
        repair, scratch = messages(sb, adapter, dry, ev)
        text = repair[1]["content"]
        assert "The environment is random: the same state and action led to different outcomes" in text
        assert "not for what the data has not shown yet" in text
        assert "taken" in text and "times" in text
        assert "choice()" in scratch[1]["content"] and "The environment is random" in scratch[1]["content"]
        assert "`choice(...)`" in repair[0]["content"]  # the system prompt's rule, where the module has the helpers
    finally:
        await sb.close()


async def test_an_impossible_transition_and_wrong_frequencies_reach_the_repair_prompt(lake):
    adapter, data = lake
    sb = await sandbox_with(adapter, data)
    try:
        one_sided = SLIPPERY.replace(TO_THE_RIGHT, "(slip, [moved(obs, ORDER[(i - 1) % 4])])")
        ev = await sb.evaluate(one_sided)
        assert ev.random and not ev.fits and 0 < ev.fit < 1
        wrong = ev.failing("transition")
        assert wrong and all(ev.likelihoods[i] == 0 for i in wrong)
        assert any(d.get("likely") for d in ev.failures.values())
        text = messages(sb, adapter, one_sided, ev)[0][1]["content"]
        assert "your program gives it no probability: it says this cannot happen" in text
        assert "your program's outcome with probability" in text
        assert "gives its next state probability 0" in text

        sure = SLIPPERY.replace(*SURE)
        ev = await sb.evaluate(sure)
        # every transition possible, but at refuted rates: φ1 fails, and the repair asks for the probabilities
        assert ev.explained == ev.n and not ev.fits
        assert ev.disagreements and ev.disagreements[0].test.p_value < 1e-3
        right = await sb.evaluate(SLIPPERY)
        assert right.fits and not right.disagreements and right.fit > ev.fit
        text = messages(sb, adapter, sure, ev)[0][1]["content"]
        assert "It gives every recorded transition a positive probability, but not the right ones." in text
        assert "Your program's probabilities disagree with how often things happened" in text
        assert "Fix the probabilities" in text
        assert "not for what the data has not shown yet" in text  # chance is the world's, not a hedge
        ev.transition = "w" + ev.transition[1:]  # one transition impossible as well: the repair shows both
        text = messages(sb, adapter, sure, ev)[0][1]["content"]
        assert "It does not explain this one:" in text
        assert "Your program's probabilities disagree with how often things happened" in text
    finally:
        await sb.close()


@pytest.mark.parametrize("body, rule", [
    ("return choice([(0.5, [moved(obs, action)]), (0.4, [obs])])", "sum to 0.9"),
    ("return choice([(-0.5, [obs]), (1.5, [moved(obs, action)])])", "negative probability"),
    ("return choice([(1 / 5000, [moved(obs, action)])] * 5000)", "more than 4096 outcomes"),
    ("return choice([(0.5, [moved(obs, action)]), (0.5, 'hole')])", "must return a list of entities"),
])
async def test_a_malformed_distribution_fails_cleanly_naming_the_rule(lake, body, rule):
    adapter, data = lake
    source = SLIPPERY.replace("    i = ORDER.index(action)\n", f"    {body}\n    i = ORDER.index(action)\n")
    sb = await sandbox_with(adapter, data[:50])
    try:
        ev = await sb.evaluate(source)
        assert not ev.fits and ev.load_failure is None
        failure = next(d["transition_error"] for d in ev.failures.values() if "transition_error" in d)
        assert failure["kind"] == "malformed" and rule in failure["message"], failure
        assert set(ev.transition) <= {"e", "o"} and "e" in ev.transition
        assert (await sb.evaluate(SLIPPERY)).fits  # the sandbox goes on
    finally:
        await sb.close()


# --------------------------------------------------------------------------- planning over chance


async def test_plans_and_optimism_of_a_random_program_come_from_planning_over_chance(lake):
    adapter, data = lake
    sb = await sandbox_with(adapter, [t for t in data[:300] if t.reward == 0])  # no goal yet: both fit
    try:
        assert (await sb.evaluate(SLIPPERY)).fits
        state, mission = adapter.reset(seed=0)
        plan = await sb.plan(SLIPPERY, state, mission, PlanBudget(horizon=100))
        assert plan.found and plan.planner == "chance-exact" and plan.actions[0] in adapter.actions
        assert len(plan.predictions) == len(plan.actions) > 1
        hopeless = SLIPPERY.replace('(1.0 if cell == "G" else 0.0)', "0.0")
        assert (await sb.evaluate(hopeless)).fits
        optimism = await sb.optimism(hopeless, [(state, mission)])
        assert optimism.refuted == 1 and optimism.plans[0].status == "exhausted"
    finally:
        await sb.close()


# --------------------------------------------------------------------------- what a worker sends


def forged(c, n=None, count=1):
    reply = {"p": [[None, None]] * (count if n is None else n), "detail": {}, "c": c}
    if n is not None:
        reply["n"] = n
    return reply


OBS = {"type": "Observation", "row": 0, "col": 1}
GOOD = {"d": {"branches": [[1.0, [OBS]]]}, "r": [[1.0, [0.0, False]]]}


@pytest.mark.parametrize("reply, why", [
    (forged({"0": {"d": {"branches": [[1.5, [OBS]]]}, "r": GOOD["r"]}}), "a probability is a number"),
    (forged({"0": {"d": {"branches": [[float("nan"), [OBS]]]}, "r": GOOD["r"]}}), "a probability is a number"),
    (forged({"0": {"d": {"branches": [[1.0, [{"choice": [[1 / 5000, [OBS]]] * 5000}]]]}, "r": GOOD["r"]}}),
     "more than 4096"),
    (forged({"0": {"d": {"branches": [[1.0, ["not an entity"]]]}, "r": GOOD["r"]}}), "entity or a choice"),
    (forged({"0": dict(GOOD, likely=[["1", [OBS]]])}), "likely"),
    (forged({"0": dict(GOOD, likely=[[0.5, ["x"]]])}), "likely"),
    (forged({"0": dict(GOOD, transition_error={"kind": "no such kind"})}), "known kind"),
    (forged({"1": GOOD}), "not asked about"),
    (forged({"0": GOOD}, n=2), "expected 1 predictions"),
    (forged({"0": GOOD}, n=0), "expected 1 predictions"),
    (forged([GOOD]), "keyed by their index"),
])
def test_a_forged_random_answer_is_refused_in_the_parent(reply, why):
    with pytest.raises(verdict.Malformed, match=why):
        verdict.predictions_from_wire(reply, 1)


def test_a_random_answer_is_judged_in_the_parent_not_taken_from_the_worker():
    [p] = verdict.predictions_from_wire(forged({"0": GOOD}), 1)
    outcome, likelihood = verdict.judge_chance(p.chance, [OBS], 0.0, False, "value")
    assert (outcome.transition, outcome.reward, likelihood) == ("o", "o", 1.0)
    outcome, likelihood = verdict.judge_chance(p.chance, [dict(OBS, col=2)], 0.0, False, "value")
    assert (outcome.transition, likelihood) == ("w", 0.0)
    # a distribution whose partial covers of the record explode: refused, not computed
    many = [{"type": "E", "i": i} for i in range(40)]
    tangled = Distribution(((1.0, tuple(Factor(((0.5, (many[j],)), (0.5, (many[j + 20],)))) for j in range(20))),),
                           40)
    with pytest.raises(verdict.Malformed, match="too entangled"):
        verdict.judge_chance(ChancePrediction(tangled, ((1.0, (0.0, False)),)), many, 0.0, False, "value")
    # covers kept under the bound, then thousands of factors that always fit (two empty options): refused
    # before the parent spends minutes on them
    wide = [Factor(((0.5, (many[j],)), (0.5, (many[j + 20],)))) for j in range(14)]
    empty = [Factor(((0.5, ()), (0.5, ()))) for _ in range(2000)]
    long = Distribution(((1.0, tuple(wide + empty)),), 40)
    record = many[:14] + many[20:34]  # every factor of `wide` fits either way: 2 ** 14 covers
    with pytest.raises(verdict.Malformed, match="too entangled"):
        verdict.judge_chance(ChancePrediction(long, ((1.0, (0.0, False)),)), record, 0.0, False, "value")


def test_a_workers_reply_of_random_answers_stays_within_the_frame_limit():
    big = [{"type": "E", "pad": "x" * 300, "i": i} for i in range(4000)]
    huge = ChancePrediction(Distribution(((1.0, tuple(big)),)), ((1.0, (0.0, False)),))
    wire = runtime.wire_predictions([runtime.Prediction(chance=huge)])
    assert "too large to judge" in wire["c"]["0"]["transition_error"]["message"]
    middling = ChancePrediction(Distribution(((1.0, tuple(big[:2500])),)), ((1.0, (0.0, False)),))
    many = [runtime.Prediction(chance=middling) for _ in range(20)]
    wire = runtime.wire_predictions(many)
    assert 1 <= wire["n"] < 20 and len(wire["p"]) == wire["n"] == len(wire["c"])
    assert len(verdict.predictions_from_wire(wire, 20)) == wire["n"]


# --------------------------------------------------------------------------- whole runs


@pytest.mark.slow
@pytest.mark.parametrize("env, source, kwargs", [
    ("MiniGrid-Dynamic-Obstacles-6x6-v0", "dynamic_obstacles_model.py", {}),
])
async def test_wc_learn_on_a_random_world_accepts_the_reference_program_and_wins(fake_llm, db_url, env, source,
                                                                                 kwargs):
    program = (FIXTURES / source).read_text()
    server = fake_llm(lambda r, n: Reply(answer(program)))
    summary = await learn(LearnConfig(env=env, episodes=8, solved=2, seed=1, **kwargs), settings(server, db_url))
    assert summary.status == "finished" and summary.llm_calls == 1, summary.error
    assert summary.successes >= 2
    store = await Store.open(db_url)
    try:
        best = await store.programs.get(summary.best_program_id)
    finally:
        await store.close()
    assert best.source.strip() == program.strip() and best.fit is not None and best.fit > 0.3


@pytest.mark.slow
async def test_wc_learn_on_slippery_frozenlake_plans_over_chance_for_the_expected_return(fake_llm, db_url):
    """A random world scored by its return (the generic gymnasium domain): the reference program
    fits, φ2 holds from every start without an optimism request (the program reaches the goal
    with positive probability, read from a trajectory it predicts step by step), and the agent,
    planning the expected return over the steps left, wins about as often as the optimum allows
    (0.74 a start within 100 steps)."""
    program = (FIXTURES / "frozenlake_slippery_model.py").read_text()
    server = fake_llm(lambda r, n: Reply(answer(program)))
    events: list = []
    summary = await learn(LearnConfig(env="FrozenLake-v1", episodes=8, solved=None, seed=1),
                          settings(server, db_url), on_event=events.append)
    assert summary.status == "finished" and summary.llm_calls == 1, summary.error
    checked = [e for e in events if isinstance(e, CandidateChecked)]
    assert len(checked) == 1 and checked[0].solved and checked[0].optimism is not None
    assert not [e for e in events if isinstance(e, RefineStarted) and e.reason == "optimism"]
    planned = [e for e in events if isinstance(e, PlanSearched)]
    assert planned and all(e.found for e in planned)
    # 7 episodes after the first (whose early steps are random, before the program): the optimal
    # policy wins 0.74 of them (at least 4 with probability 0.93); random play 0.014
    assert sum(e.success for e in summary.episode_list[1:]) >= 4, [e.success for e in summary.episode_list]


async def test_in_a_return_world_a_random_program_is_planned_over_chance_and_a_deterministic_one_as_before(lake):
    """The same sandbox, slippery FrozenLake through the generic domain: the random program's plans
    (acting, and φ2's) come from planning over chance, and φ2 is read from a trajectory it predicts
    step by step; a deterministic program's from MCTS, as before; a random program that can never
    reach the goal is refuted exactly."""
    from wc._sandbox.return_goal import ReturnGoal

    adapter, data = lake
    sb = await sandbox_with(adapter, data[:300])
    try:
        plain = (FIXTURES / "frozenlake_model.py").read_text()
        never = SLIPPERY.replace('return (1.0 if cell == "G" else 0.0), cell in "HG"', 'return 0.0, cell in "HG"')
        start, mission = data[0].state, data[0].mission
        space = adapter.action_space
        # before the parent has judged any of its answers (a transferred program), the worker finds out
        early = await sb.plan_return(SLIPPERY, start, mission, space, planner="mcts", time_limit=5.0, horizon=100)
        assert not sb.is_random(SLIPPERY) and early.found and early.planner == "chance-exact"
        for source in (SLIPPERY, plain, never):
            await sb.evaluate(source)
        assert sb.is_random(SLIPPERY) and sb.is_random(never) and not sb.is_random(plain)
        acting = await sb.plan_return(SLIPPERY, start, mission, space, planner="mcts", time_limit=5.0, horizon=100)
        assert acting.found and acting.planner == "chance-exact" and acting.action in adapter.actions
        assert 0.5 < acting.value < 0.8 and acting.actions[:1] == [acting.action]   # 0.74 from the start, exactly
        before = await sb.plan_return(plain, start, mission, space, planner="mcts", time_limit=5.0, horizon=100)
        assert before.planner == "mcts" and before.found
        sb.return_goal = ReturnGoal(space, "mcts", target=0.7, episode_steps=100, seconds=5.0)
        found, refuted = (await sb.optimism(SLIPPERY, [(start, mission)])).plans[0], \
            (await sb.optimism(never, [(start, mission)])).plans[0]
        assert found.status == "found" and found.predictions[-1][1:] == (1.0, True)
        assert found.planner == "chance-exact" and len(found.actions) >= 6   # the shortest way round the holes
        assert refuted.status == "exhausted" and "below the target" in refuted.reason
    finally:
        await sb.close()


def test_the_sandboxs_visit_counts_are_what_the_records_say(lake):
    """Counted one record at a time (identical transitions held once), as grouping the records says."""
    from wc._sandbox.frequencies import group_visits, varied

    adapter, data = lake
    sb = Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1)
    for t in data:
        sb.add(t)
    distinct = sb.transitions

    def counted(visits, records):
        return sorted(sorted((records[o[0]].next_state[0]["row"], records[o[0]].next_state[0]["col"], len(o))
                             for o in v.outcomes) for v in visits)

    assert counted(sb._visits.varied(), distinct) == counted(varied(data), data)
    assert len(sb.varied()) == 8
    frequent = [v for v in group_visits(data) if v.count >= 20]
    assert counted(sb._visits.frequent(), distinct) == counted(frequent, data) and frequent


def test_in_process_evaluation_judges_random_answers_as_the_sandbox_does(lake):
    adapter, data = lake
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), SLIPPERY.replace(
        TO_THE_RIGHT, "(slip, [moved(obs, ORDER[(i - 1) % 4])])"))
    outcomes = runtime.evaluate(program, data[:300], adapter.reward_mode, tolerance=CWMB)
    assert {o.transition for o in outcomes} == {"o", "w"} and all(o.reward == "o" for o in outcomes)
