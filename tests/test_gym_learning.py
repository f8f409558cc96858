"""Learning and acting in worlds scored by their return (issue 27): CartPole, Taxi, FrozenLake
through the generic gymnasium domain, with scripted answers from the reference programs; the
command line's --env-option, --planner, --rtol and --atol."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from support.helpers import llm_settings as settings
from support.helpers import run_wc, sqlite_rows

from wc._agent import returns
from wc._api import LearnConfig, learn
from wc._planning.result import PlanResult
from wc._planning.returns import ReturnPlan
from wc._sandbox.return_goal import MEAN_EVIDENCE, PredictedReturns, ReturnGoal, by_mean, judged, predicted_return
from wc.errors import InvalidInput
from wc.testing import Reply, answer

FIXTURES = Path(__file__).parent / "fixtures"


def program(name: str) -> str:
    return (FIXTURES / name).read_text()


def user_messages(server) -> list[str]:
    return [m["content"] for r in server.requests for m in r["messages"] if m["role"] == "user"]


@pytest.mark.slow
async def test_cartpole_is_won_with_the_correct_program(fake_llm, db_url):
    model = program("cartpole_model.py")
    server = fake_llm(lambda r, n: Reply(answer(model)))
    summary = await learn(LearnConfig(env="CartPole-v1", episodes=3, solved=1, max_llm_calls=2,
                                      planner="mcts-cwmb"), settings(server, db_url))
    assert summary.status == "finished", summary.error
    assert summary.episode_list[-1].success and summary.episode_list[-1].total_reward >= 475
    assert summary.episode_list[-1].steps == 500  # gymnasium's time limit ended it
    assert len(summary.episode_list) >= 2  # a fall before the win: the agent learned from it
    assert all(not e.success and e.steps < 500 for e in summary.episode_list[:-1])  # the falls: not won
    assert len(summary.llm_call_list) == 1


async def test_a_wrong_gravity_is_repaired_from_the_differences(fake_llm, db_url):
    right = program("cartpole_model.py")
    wrong = right.replace("GRAVITY = 9.8", "GRAVITY = 5.0")
    server = fake_llm(lambda r, n: Reply(answer(wrong if n == 0 else right)))
    summary = await learn(LearnConfig(env="CartPole-v1", episodes=1, max_steps=25, max_llm_calls=3, concurrency=1,
                                      planner="mcts-cwmb"), settings(server, db_url))
    assert summary.status == "finished", summary.error
    assert len(summary.llm_call_list) == 2
    repair = user_messages(server)[1]
    assert "pole_angular_velocity: predicted" in repair and "off by" in repair and "allowed" in repair
    [(best,)] = sqlite_rows(db_url, f"select source from programs where id = {summary.best_program_id}")
    assert "GRAVITY = 9.8" in best


async def test_taxi_is_won_with_the_correct_program(fake_llm, db_url):
    model = program("taxi_model.py")
    server = fake_llm(lambda r, n: Reply(answer(model)))
    summary = await learn(LearnConfig(env="Taxi-v4", episodes=6, solved=3, max_llm_calls=3),
                          settings(server, db_url))
    assert summary.status == "finished", summary.error
    last = summary.episode_list[-3:]
    assert len(last) == 3 and all(e.success and e.total_reward >= 8 for e in last)


def test_the_domain_chooses_the_planner_and_a_planner_that_does_not_fit_is_refused():
    from wc import envs

    cartpole, pendulum = envs.make("CartPole-v1"), envs.make("Pendulum-v1")
    try:
        assert returns.resolve_planner(LearnConfig(env="CartPole-v1"), cartpole).planner == "iw"
        assert returns.resolve_planner(LearnConfig(env="Pendulum-v1"), pendulum).planner == "iw-cem"
        with pytest.raises(InvalidInput, match="plans over continuous actions.*use iw or mcts or mcts-cwmb"):
            returns.resolve_planner(LearnConfig(env="CartPole-v1", planner="cem"), cartpole)
        with pytest.raises(InvalidInput, match="searches for a goal"):
            returns.resolve_planner(LearnConfig(env="Pendulum-v1", planner="bfws"), pendulum)
        with pytest.raises(InvalidInput, match="unknown planner"):
            returns.resolve_planner(LearnConfig(env="Pendulum-v1", planner="astar"), pendulum)
    finally:
        cartpole.close()
        pendulum.close()
    with pytest.raises(InvalidInput, match="rtol"):
        LearnConfig(env="CartPole-v1", rtol=-1.0)


def test_success_and_phi2_in_a_return_world():
    assert returns.episode_success(475.0, 475.0, None) and not returns.episode_success(474.0, 475.0, 600.0)
    assert not returns.episode_success(-50.0, None, None)  # no threshold: the first episode sets the bar
    assert returns.episode_success(-50.0, None, -50.0) and not returns.episode_success(-51.0, None, -50.0)
    assert returns.ends_in_goal([-1.0, -1.0, 20.0]) and returns.ends_in_goal([0.0, 1.0])  # Taxi, FrozenLake
    assert not returns.ends_in_goal([1.0] * 30) and not returns.ends_in_goal([-1.0, -1.0])  # CartPole's fall
    goal = ReturnGoal(action_space=None, planner="mcts", target=475.0, episode_steps=500)
    falls = ReturnPlan(status="found", predictions=[("k", 1.0, False)] * 29 + [("k", 1.0, True)], total=30.0,
                       done=True, planner="mcts")
    assert predicted_return(falls, 500) == 500.0  # a step's reward kept up for the episode: not refuted
    assert judged(falls, goal).found
    taxi = ReturnGoal(action_space=None, planner="mcts", target=8.0, episode_steps=200)
    wanders = ReturnPlan(status="found", predictions=[("k", -1.0, False)] * 100, total=-100.0, planner="mcts")
    assert judged(wanders, taxi).status == "exhausted"
    drops_off = ReturnPlan(status="found", predictions=[("k", -1.0, False)] * 10 + [("k", 20.0, True)], total=10.0,
                           done=True, planner="mcts")
    assert judged(drops_off, taxi).found
    cut = ReturnPlan(status="found", predictions=wanders.predictions, total=-100.0, reason="time budget spent",
                     cut="time")
    assert judged(cut, taxi).status == "budget"  # a budget is never pessimism
    stepped = ReturnPlan(status="found", predictions=wanders.predictions, total=-100.0,
                         reason="step budget of 4000 spent", cut="steps")
    assert judged(stepped, taxi).status == "budget"  # a step budget neither
    said = ReturnPlan(status="found", predictions=wanders.predictions, total=-100.0, reason="its budget spent")
    assert judged(said, taxi).status == "exhausted"  # what the reason says is for people: `cut` decides
    # a swing-up paid once, then held: the rest of the episode goes at the plan's last quarter, not its average
    swing = ReturnPlan(status="found", predictions=[("k", -5.0, False)] * 30 + [("k", -0.01, False)] * 10,
                       total=-150.1, planner="cem")
    assert predicted_return(swing, 200) == pytest.approx(-150.1 - 0.01 * 160)
    assert judged(swing, ReturnGoal(action_space=None, planner="cem", target=-200.0, episode_steps=200)).found
    # still swinging at the horizon's end: past it, the best reward a recorded step got that did not end its episode
    swinging = ReturnPlan(status="found", predictions=[("k", -6.0, False)] * 30, total=-180.0, planner="cem")
    assert predicted_return(swinging, 200) == -1200.0
    assert predicted_return(swinging, 200, best_step=-0.5) == -180.0 - 0.5 * 170
    pendulum = ReturnGoal(action_space=None, planner="cem", target=-300.0, episode_steps=200, best_step=-0.5)
    assert judged(swinging, pendulum).found and not judged(swinging, replace(pendulum, best_step=None)).found


def test_a_threshold_that_is_a_mean_is_judged_over_the_starts_not_one_start():
    """gymnasium's threshold is a mean: an optimal Taxi episode from a far start returns less
    than 8. One start's shortfall waits for evidence, a mean at or above it holds the start, and
    only the mean of MEAN_EVIDENCE starts that falls short refutes."""
    taxi = ReturnGoal(action_space=None, planner="mcts", target=8.0, episode_steps=200, by_mean=True)

    def verdict(value: float, start: str, program: str = "p") -> str:
        # the start's own verdict: the planner's best plan there predicts `value`
        shown = PlanResult(True, status="found") if value >= 8.0 else \
            PlanResult(False, status="exhausted", reason=f"predicts {value:g}, below 8")
        mean, n = taxi.predicted.add(program, start, value)
        return by_mean(shown, value, mean, n, taxi).status

    assert verdict(3.0, "far") == "budget"      # one far start: no evidence against a mean yet
    assert verdict(12.0, "near") == "found"     # reaches 8 itself
    assert verdict(5.0, "far2") == "budget"     # the mean of 3, 12, 5 is below 8, from 3 of the 4 starts needed
    assert verdict(13.0, "near2") == "found"
    assert verdict(4.0, "far3") == "exhausted"  # 5 starts, mean 7.4: the program is pessimistic
    assert verdict(14.0, "near3") == "found"
    assert verdict(6.0, "far4") == "found"      # 7 starts, mean 57 / 7 = 8.14: the shortfall is the start's
    assert verdict(3.0, "far4") == "exhausted"  # judged again, the newer value replaces the older: 54 / 7
    assert verdict(3.0, "far", program="q") == "budget"  # each program's own starts
    assert MEAN_EVIDENCE == 4
    best = ReturnGoal(action_space=None, planner="mcts", target=8.0, episode_steps=200)  # the best return seen
    wanders = ReturnPlan(status="found", predictions=[("k", -1.0, False)] * 100, total=-100.0, planner="mcts")
    assert by_mean(judged(wanders, best), -200.0, 50.0, 10, best).status == "exhausted"  # judged start by start
    # a checkpoint carries the means; the oldest starts and programs make room for newer ones
    restored = PredictedReturns()
    restored.restore(taxi.predicted.to_json())
    assert restored.add("p", "far4", 3.0) == (54.0 / 7, 7)
    small = PredictedReturns(programs=1, per_program=2)
    for start, value in (("a", 1.0), ("b", 2.0), ("c", 3.0)):
        small.add("p", start, value)
    assert small.to_json() == {"p": {"b": 2.0, "c": 3.0}}
    assert small.add("q", "a", 0.0) == (0.0, 1) and small.to_json() == {"q": {"a": 0.0}}


@pytest.mark.slow
def test_frozenlake_through_the_command_line_with_env_options(fake_llm, tmp_path):
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    server = fake_llm(lambda request, n: Reply(answer(program("frozenlake_model.py"))))
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url, "WC_DB": db}
    learned = run_wc("learn", "--env", "FrozenLake-v1", "--env-option", "is_slippery=false", "--episodes", "6",
                     "--solved", "2", "--max-llm-calls", "3", "--rtol", "1e-4", env=env)
    assert learned.returncode == 0, learned.stderr
    data = json.loads(run_wc("runs", "show", "1", "--json", env={"WC_DB": db}).stdout)
    assert data["env"] == "FrozenLake-v1(is_slippery=False)"
    assert data["status"] == "finished" and data["successes"] >= 2
    assert data["config"]["env_options"] == {"env_kwargs": {"is_slippery": False}}
    assert data["config"]["rtol"] == 1e-4 and data["config"]["atol"] == 1e-5 and data["config"]["planner"] == "iw"


@pytest.mark.slow
@pytest.mark.parametrize("args, needle", [
    (["--env", "FrozenLake-v1", "--env-option", "is_slippery"], "is KEY=VALUE"),
    (["--env", "CartPole-v1", "--planner", "cem"], "use iw or mcts or mcts-cwmb"),
    (["--env", "Pendulum-v1", "--planner", "mcts"], "use iw-cem or cem or cem-cwmb"),
    (["--env", "support.gym_user_env:WcTest/Camera-v0"], "an image or a grid"),
    (["--env", "CartPole-v1", "--env-option", "gravity=3"], "gymnasium cannot make 'CartPole-v1' with gravity=3"),
    (["--env", "minigrid-doorkey", "--reward-threshold", "1"], "applies to worlds scored by their return"),
])
def test_bad_gymnasium_inputs_are_one_line_errors(tmp_path, args, needle):
    env = {"WC_DB": f"sqlite:///{tmp_path / 'wc.db'}", "PYTHONPATH": str(Path(__file__).parent)}
    result = run_wc("learn", *args, "--max-llm-calls", "0", env=env)
    assert result.returncode != 0 and "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], result.stderr


DRIFT = '''
def transition(state, action):
    obs = state[0]
    push = 0.05 * (ACTIONS.index(action) - 1)
    velocity = 0.9 * obs.x1 + push
    return [Observation(obs.x0 + velocity, velocity, obs.x2 + abs(velocity))]


def reward(state, action, next_state, mission):
    position = next_state[0].x0
    return -abs(position), abs(position) > 1.0
'''


async def test_a_users_box_environment_is_learned_and_planned_in(fake_llm, db_url):
    server = fake_llm(lambda r, n: Reply(answer(DRIFT)))
    summary = await learn(LearnConfig(env="support.gym_user_env:WcTest/Drift-v0", episodes=2, solved=None,
                                      max_llm_calls=1, planner="mcts-cwmb"), settings(server, db_url))
    assert summary.status == "finished", summary.error
    first, second = summary.episode_list
    assert second.plans > 0 and len(summary.llm_call_list) == 1
    assert not first.success  # no reward threshold: the first episode only sets the bar …
    assert second.success == (second.total_reward >= first.total_reward)  # … that the next must reach
    [(source,)] = sqlite_rows(db_url, "select source from programs where id = 1")
    assert source.strip().endswith("> 1.0")


def test_old_configs_read_with_the_default_tolerance_and_vector_actions_round_trip():
    from wc._store.records import action_value, stored_action

    old = LearnConfig.from_json({"env": "CartPole-v1", "planner": "bfws"})
    assert (old.rtol, old.atol) == (1e-5, 1e-5)
    assert LearnConfig.from_json(LearnConfig(env="Pendulum-v1", rtol=1e-3).to_json()).tolerance.rtol == 1e-3
    with pytest.raises(InvalidInput, match="rtol"):
        LearnConfig.from_json({"env": "CartPole-v1", "rtol": "tight"})
    for action in ("push_left", "go to desk 1", [0.25, -1.5], [1, 0, 2]):
        assert action_value(stored_action(action)) == action


def test_the_optimism_prompt_of_a_return_world_states_the_rule():
    from wc._synth import prompts

    ctx = prompts.PromptContext("API", "value", lambda s: str(s))
    goal = ReturnGoal(action_space=None, planner="mcts", target=8.0, episode_steps=200)
    wanders = ReturnPlan(status="found", predictions=[("k", -1.0, False)] * 100, total=-100.0, planner="mcts")
    text = prompts.optimism(ctx, "def transition(s, a): ...", [{"type": "Observation"}], "Taxi-v4",
                            judged(wanders, goal), 12)[1]["content"]
    assert "finds no plan that reaches the target return" in text and "below the target of 8" in text
    assert "average reward per step" in text and "not a planning budget" in text


async def test_continuous_actions_are_planned_by_cem_and_stored_as_lists(fake_llm, db_url):
    model = program("pendulum_model.py")
    server = fake_llm(lambda r, n: Reply(answer(model)))
    summary = await learn(LearnConfig(env="Pendulum-v1", episodes=1, max_steps=16, max_llm_calls=1),
                          settings(server, db_url))
    assert summary.status == "finished", summary.error
    assert summary.episode_list[0].plans > 0  # CEM (seeded by width-based search), the domain's choice for a box
    rows = sqlite_rows(db_url, "select action, action_source from transitions order by id")
    assert len(rows) == 16 and {source for _, source in rows} == {"explore", "plan"}
    assert all(-2.0 <= json.loads(action)[0] <= 2.0 for action, _ in rows)
    [(config,)] = sqlite_rows(db_url, "select config from runs")
    assert json.loads(config)["planner"] == "iw-cem"
    shown = run_wc("runs", "show", "1", "--episode", "0", env={"WC_DB": db_url.replace("+aiosqlite", "")})
    assert shown.returncode == 0 and "Traceback" not in shown.stderr and "[" in shown.stdout, shown.stderr


async def test_a_run_gives_its_own_reward_threshold_where_gymnasium_has_none(fake_llm, db_url):
    """Pendulum-v1 has no spec.reward_threshold: --reward-threshold is the return an episode
    must reach (stored with the run, said in the mission), so the first episode can succeed."""
    server = fake_llm(lambda r, n: Reply(answer(program("pendulum_model.py"))))
    summary = await learn(LearnConfig(env="Pendulum-v1", episodes=1, max_steps=16, max_llm_calls=1,
                                      reward_threshold=-2000.0), settings(server, db_url))
    assert summary.status == "finished", summary.error
    assert summary.episode_list[0].success  # 16 steps cost far less than 2000
    assert summary.config["reward_threshold"] == -2000.0
    [(mission,)] = sqlite_rows(db_url, "select mission from episodes")
    assert mission == "Pendulum-v1: maximise the return (the run's target return is -2000)"
    with pytest.raises(InvalidInput, match="finite"):
        LearnConfig(env="Pendulum-v1", reward_threshold=float("nan"))


def test_a_return_world_with_a_threshold_stops_on_the_mean_of_its_last_episodes():
    """The issue's stop rule adapted: the mean return of the last `solved` episodes reaches the
    threshold (Taxi: 8 is a mean; single episodes from far starts are optimal below it)."""
    from types import SimpleNamespace

    from wc._agent.agent import Agent

    taxi = SimpleNamespace(config=SimpleNamespace(solved=3), action_space=object(), threshold=8.0)
    assert Agent._solved(taxi, 0, [5.0, 9.0, 11.0])          # mean 8.3, no win in a row needed
    assert not Agent._solved(taxi, 3, [20.0, 7.0, 7.0, 7.0])  # the last three only
    assert not Agent._solved(taxi, 0, [9.0, 9.0])             # fewer episodes than asked
    goal = SimpleNamespace(config=SimpleNamespace(solved=3), action_space=None, threshold=None)
    assert Agent._solved(goal, 3, []) and not Agent._solved(goal, 2, [1.0, 1.0, 1.0])


def test_without_a_threshold_the_target_is_the_mean_of_the_recent_returns():
    """The best single return comes from the easiest start; φ2's target without a threshold is
    the mean return of the last `solved` episodes, read as a mean (by_mean) like a threshold."""
    from types import SimpleNamespace

    from wc._agent.learner import Learner

    goal = ReturnGoal(action_space=None, planner="cem", target=None, episode_steps=200, by_mean=True)
    learner = SimpleNamespace(best_return=None, episode_returns=[], threshold=None, config=SimpleNamespace(solved=3),
                              sandbox=SimpleNamespace(return_goal=goal))
    for total in (-900.0, -100.0, -500.0, -200.0):
        Learner.returned(learner, total)
    assert learner.best_return == -100.0 and goal.target == -800.0 / 3  # the last three, not the best one
    pendulum = SimpleNamespace(best_return=None, episode_returns=[], threshold=-200.0,
                               config=SimpleNamespace(solved=3), sandbox=SimpleNamespace(return_goal=goal))
    Learner.returned(pendulum, -50.0)
    assert goal.target == -800.0 / 3  # a threshold stays the target


def test_a_mean_that_falls_short_asks_its_allowance_until_the_program_breaks():
    """The mean of the program's predictions refutes the program, not a start: its refinements are
    `optimism_requests` until new data breaks the program, whichever programs they adopt
    (MountainCar with a real model: 9 requests in 10 episodes, each answer a new program refuted
    by the same mean); a program that cannot be planned in is refined as before."""
    from types import SimpleNamespace

    from wc._agent.agent import Agent
    from wc._sandbox.evaluation import Optimism

    short = Optimism([PlanResult(False, status="exhausted", reason="mean below the target")])
    broken = Optimism([PlanResult(False, status="error", reason="transition() raised")])
    agent = SimpleNamespace(config=SimpleNamespace(optimism_requests=1), mean_refinements=0)
    assert Agent._may_ask_for_mean(agent, short) and not Agent._may_ask_for_mean(agent, short)
    assert Agent._may_ask_for_mean(agent, broken) and Agent._may_ask_for_mean(agent, broken)
    agent.mean_refinements = 0  # what `_reopen` does when data breaks the program
    assert Agent._may_ask_for_mean(agent, short) and agent.mean_refinements == 1
    agent.config = SimpleNamespace(optimism_requests=None)  # the paper's unbounded φ2
    assert Agent._may_ask_for_mean(agent, short) and Agent._may_ask_for_mean(agent, short)
