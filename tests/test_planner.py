"""The planners: plans found, budgets that leave a question undecided, exhaustive searches that
answer it, and programs that misbehave while being searched."""
import warnings

import pytest
from support.helpers import replaced

from wc import envs
from wc.planning import PLANNERS, bfs, bfws
from wc.programs import runtime

warnings.simplefilter("ignore")

# a line world: positions 0..5, goal at 5, a pit at -1 that ends the episode without reward


def line_expand(pos, action):
    nxt = pos + (1 if action == "right" else -1)
    if nxt == 5:
        return (nxt,), 1.0, True
    if nxt == -1:
        return (nxt,), 0.0, True
    return (nxt,), 0.0, False


def line(expand=line_expand):
    return lambda key, action: expand(key[0], action)


@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_a_plan_is_found_with_what_each_step_leads_to(planner):
    result = PLANNERS[planner]((0,), ["left", "right"], line())
    assert result.found and result.status == "found"
    assert result.actions == ["right"] * 5
    assert [p[0] for p in result.predictions] == [(1,), (2,), (3,), (4,), (5,)]
    assert result.predictions[-1][1:] == (1.0, True)


@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_a_spent_budget_is_undecided_and_a_depth_limit_is_exhaustive(planner):
    search = PLANNERS[planner]
    budget = search((0,), ["left", "right"], line(), max_nodes=4)
    assert not budget.found and budget.status == "budget" and budget.undecided and "budget" in budget.reason
    shallow = search((0,), ["left", "right"], line(), max_depth=3)
    assert not shallow.found and shallow.status == "exhausted" and not shallow.undecided
    assert "within 3 steps" in shallow.reason


@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_done_without_reward_is_a_dead_end_and_raising_edges_are_skipped(planner):
    seen = []

    def expand(pos, action):
        if action == "stay":
            return (pos,), 0.0, True
        if action == "left":
            raise ValueError("boom")
        return line_expand(pos, action)
    result = PLANNERS[planner]((0,), ["stay", "left", "right"], line(expand),
                               on_error=lambda exc, a: seen.append((type(exc), a)))
    assert result.found and result.actions == ["right"] * 5
    assert seen and seen[0] == (ValueError, "left")


@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_no_way_to_the_goal_is_exhaustive(planner):
    result = PLANNERS[planner]((0,), ["noop"], lambda key, a: (key, 0.0, False))
    assert not result.found and result.status == "exhausted" and result.nodes == 1


def counters(n, size=10):
    """n independent counters; the goal is counter 0 at size-1. Breadth-first search enumerates
    size**n states before it gets there; width-based search follows the novel atoms."""
    def expand(key, action):
        i = int(action)
        values = list(key)
        values[i] = min(size - 1, values[i] % 100 + 1) + 100 * i  # atoms are distinct per counter
        done = i == 0 and values[0] == size - 1
        return tuple(values), 1.0 if done else 0.0, done
    return tuple(100 * i for i in range(n)), [str(i) for i in reversed(range(n))], expand


def test_width_search_follows_novelty_where_breadth_first_drowns():
    start, actions, expand = counters(6)
    wide = bfws(start, actions, expand, max_nodes=5_000)
    broad = bfs(start, actions, expand, max_nodes=5_000)
    assert wide.found and len(wide.actions) == 9
    assert not broad.found and broad.status == "budget"
    assert wide.nodes < 500


def test_width_search_is_complete_once_novelty_runs_out():
    """Nothing is pruned: with no goal, every reachable state is expanded (including those that
    make no new atom or pair true), so an empty queue is a proof that no plan exists."""
    start, actions, expand = counters(3, size=4)

    def no_goal(key, action):
        child, _, _ = expand(key, action)
        return child, 0.0, False
    result = bfws(start, actions, no_goal)
    assert result.status == "exhausted" and result.states == 4 ** 3


def test_width_search_prefers_reward_progress():
    """Steps rewarded above the usual step reward (a box onto a target) raise the progress level,
    which is searched first: the goal at the end of a rewarded corridor is found directly."""
    def expand(key, action):
        (pos,) = key
        nxt = pos + 1 if action == "on" else -pos - 1 if pos >= 0 else pos - 1
        reward = 0.9 if action == "on" else -0.1
        done = nxt == 12
        return (nxt,), 10.0 if done else reward, done
    result = bfws((0,), ["off", "on"], expand)
    assert result.found and result.actions == ["on"] * 12 and result.nodes <= 2 * 12


# --------------------------------------------------------------------------- in a program


@pytest.fixture(scope="module")
def doorkey():
    adapter = envs.make("minigrid-doorkey")
    yield adapter
    adapter.close()


def compiled(adapter, source):
    return runtime.compile_program(runtime.api_namespace(adapter.api.source), source)


def follow(adapter, seed, result):
    """Play a plan in the real environment; every step must be what the program predicted."""
    adapter.reset(seed)
    step = None
    for action, (key, _reward, done) in zip(result.actions, result.predictions, strict=True):
        step = adapter.step(action)
        assert runtime.state_key(step.state) == key
        assert step.terminated == done
    return step is not None and step.terminated and step.reward > 0


@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_plans_doorkey_in_a_correct_model_and_the_plan_works_in_the_real_env(doorkey, minigrid_model, planner):
    program = compiled(doorkey, minigrid_model)
    for seed in range(5):
        state, mission = doorkey.reset(seed)
        result = runtime.plan(program, state, mission, list(doorkey.actions), planner=planner)
        assert result.found, result
        assert follow(doorkey, seed, result)


NO_REWARD = "\n\ndef reward(state, action, next_state, mission):\n    return 0.0, False\n"


def test_a_model_with_no_way_to_the_goal_is_refuted_by_an_exhaustive_search(doorkey, minigrid_model):
    program = compiled(doorkey, minigrid_model + NO_REWARD)
    state, mission = doorkey.reset(0)
    result = runtime.plan(program, state, mission, list(doorkey.actions))
    assert not result.found and result.status == "exhausted" and result.exhaustive
    assert result.states > 50 and "every reachable state" in result.reason


def test_a_long_plan_with_a_tiny_budget_is_undecided(minigrid_model):
    big = envs.make("MiniGrid-DoorKey-16x16-v0")
    program = compiled(big, minigrid_model)
    state, mission = big.reset(0)
    result = runtime.plan(program, state, mission, list(big.actions), max_nodes=200)
    assert not result.found and result.status == "budget" and result.undecided
    big.close()


def test_a_program_that_modifies_its_input_still_plans_correctly(doorkey, minigrid_model):
    mutating = replaced(minigrid_model, "    state = copy.deepcopy(state)\n", "")
    assert mutating != minigrid_model
    program = compiled(doorkey, mutating)
    for seed in range(3):
        state, mission = doorkey.reset(seed)
        result = runtime.plan(program, state, mission, list(doorkey.actions))
        assert result.found and follow(doorkey, seed, result)


def test_a_program_that_loops_while_searched_is_classified(doorkey, minigrid_model):
    looping = minigrid_model + "\n\ndef reward(state, action, next_state, mission):\n    while True:\n        pass\n"
    program = compiled(doorkey, looping)
    state, mission = doorkey.reset(0)
    result = runtime.plan(program, state, mission, list(doorkey.actions), call_timeout=0.2)
    assert not result.found and result.status == "error" and result.first_error["kind"] == "timeout"


def test_doorkey_8x8_is_planned_within_the_default_budget(minigrid_model):
    big = envs.make("MiniGrid-DoorKey-8x8-v0")
    program = compiled(big, minigrid_model)
    for seed in range(3):
        state, mission = big.reset(seed)
        result = runtime.plan(program, state, mission, list(big.actions))
        assert result.found and follow(big, seed, result)
    big.close()


def test_a_domain_focus_orders_the_search_but_never_refutes_a_program(doorkey, minigrid_model):
    """A focus that leaves out an action the plan needs: the focused search is exhaustive
    without a plan, so a search over every action follows, and finds it."""
    program = compiled(doorkey, minigrid_model)
    state, mission = doorkey.reset(0)

    def no_toggle(state, mission, actions):
        return [a for a in actions if a != "toggle"]
    result = runtime.plan(program, state, mission, list(doorkey.actions), focus=no_toggle)
    assert result.found and "toggle" in result.actions and follow(doorkey, 0, result)

    def all_actions(state, mission, actions):
        return list(actions)
    focused = runtime.plan(program, state, mission, list(doorkey.actions), focus=all_actions)
    assert focused.found and focused.nodes < result.nodes
