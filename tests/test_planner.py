"""The planners: plans found, budgets that leave a question undecided, exhaustive searches that
answer it, and programs that misbehave while being searched."""
import math
import time
import warnings

import pytest
from support.helpers import replaced

from wc import envs
from wc._planning import PLANNERS, bfs, bfws
from wc._sandbox import runtime

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


PINNED = {  # planner: (nodes and states for the line world, nodes and states for four counters)
    "bfs": ((10, 5), (140, 69)),
    "bfws": ((10, 5), (52, 43)),
}


@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_what_a_search_reports_is_exact(planner):
    """The figures a result carries (they go into the store and the benchmarks), pinned on small
    worlds: expansions, distinct states, depth, the planner's name, and the predicted steps."""
    search = PLANNERS[planner]
    (line_nodes, line_states), (counter_nodes, counter_states) = PINNED[planner]
    r = search((0,), ["left", "right"], line())
    assert (r.nodes, r.states, r.depth, r.planner, r.reason) == (line_nodes, line_states, 4, planner, "")
    assert r.predictions == [((1,), 0.0, False), ((2,), 0.0, False), ((3,), 0.0, False), ((4,), 0.0, False),
                             ((5,), 1.0, True)]
    assert 0 <= r.seconds < 30
    start, actions, expand = counters(4, size=5)
    c = search(start, actions, expand)
    assert c.found and len(c.actions) == 4 and (c.nodes, c.states, c.depth) == (counter_nodes, counter_states, 3)


@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_budgets_and_depth_limits_hold_exactly_at_their_bounds(planner):
    search = PLANNERS[planner]
    needed = search((0,), ["left", "right"], line()).nodes
    assert search((0,), ["left", "right"], line(), max_nodes=needed).found
    short = search((0,), ["left", "right"], line(), max_nodes=needed - 1)
    assert short.status == "budget" and short.reason == f"node budget of {needed - 1} spent"
    assert short.nodes == needed - 1
    assert search((0,), ["left", "right"], line(), max_depth=5).found  # a plan of exactly max_depth steps
    four = search((0,), ["left", "right"], line(), max_depth=4)
    assert four.status == "exhausted" and "within 4 steps" in four.reason and "5" in four.reason
    late = search((0,), ["left", "right"], line(), deadline=time.monotonic() - 1)
    assert (late.status, late.reason, late.nodes, late.found) == ("budget", "time budget spent", 0, False)
    assert search((0,), ["left", "right"], line(), deadline=time.monotonic() + 60).found


@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_actions_may_depend_on_the_state(planner):
    asked = []

    def choose(key):
        asked.append(key)
        return ["right"] if key[0] >= 0 else []
    r = PLANNERS[planner]((0,), choose, line())
    assert r.found and r.nodes == 5 and asked == [(0,), (1,), (2,), (3,), (4,)]


@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_an_exhaustive_answer_counts_what_it_searched(planner):
    def down(key, action):  # -1, -2, -3 and no further; nothing is ever rewarded
        return ((key[0] - 1,) if action == "left" and key[0] > -3 else key), 0.0, False
    r = PLANNERS[planner]((0,), ["noop", "left"], down)
    assert (r.status, r.nodes, r.states, r.depth) == ("exhausted", 8, 4, 3)
    assert r.reason in ("no plan: all 4 reachable states searched",
                        "no plan: every reachable state searched (4 states)")


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


@pytest.mark.parametrize("modifies_input", [False, True])
def test_every_expansion_is_what_the_program_and_the_real_environment_say(doorkey, minigrid_model, modifies_input):
    """The planner's one view of a program, `ProgramModel.expand`, on walks through DoorKey: every
    action from each state is expanded (so the per-node cache is reused across actions) and must
    equal a fresh model's answer; the action taken must equal the real environment's step. A
    program that modifies its input is caught on its first call and handled defensively after."""
    from wc._core.contract import rewards_match
    from wc._sandbox.plan import ProgramModel

    source = replaced(minigrid_model, "    state = copy.deepcopy(state)\n", "") if modifies_input else minigrid_model
    program = compiled(doorkey, source)
    rng = __import__("random").Random(11)
    checked = 0
    for seed in range(4):
        state, mission = doorkey.reset(seed)
        model = ProgramModel(program, mission, call_timeout=2.0)
        key = model.start(program.namespace, state)
        assert runtime.state_key(model.table.json_state(key)) == runtime.state_key(state)
        for _ in range(80):
            answers = {a: model.expand(key, a) for a in doorkey.actions}
            for action, (child, reward, done) in answers.items():
                fresh = ProgramModel(program, mission, call_timeout=2.0)
                c, r, d = fresh.expand(fresh.start(program.namespace, model.table.json_state(key)), action)
                assert runtime.state_key(fresh.table.json_state(c)) == runtime.state_key(model.table.json_state(child))
                assert (r, d) == (reward, done)
                checked += 1
            # mostly forward and toggling, so that walks reach the key, the door and the goal
            action = rng.choice(["forward", "forward", "left", "right", "pickup", "toggle"])
            child, reward, done = answers[action]
            real = doorkey.step(action)
            assert runtime.state_key(model.table.json_state(child)) == runtime.state_key(real.state)
            assert rewards_match(doorkey.reward_mode, (reward, done), real.reward, real.terminated)
            key = child
            if real.terminated or real.truncated:
                break
        assert model.defensive == modifies_input
    assert checked > 500


def test_width_search_order_is_pinned():
    """BFWS's search order (novelty per progress level, pairs of changing atoms, the usual step
    reward as the base level) fixed by its expansion counts on small worlds and on DoorKey with
    the reference model; a change to the algorithm shows up here first."""
    start, actions, expand = counters(6)
    r = bfws(start, actions, expand, max_nodes=5_000)
    assert (r.nodes, r.states, r.depth) == (294, 274, 8)

    start, actions, expand = counters(3, size=4)
    r = bfws(start, actions, lambda k, a: (expand(k, a)[0], 0.0, False))
    assert (r.nodes, r.states, r.depth, r.status) == (192, 64, 9, "exhausted")

    def grid(key, action):  # atoms: x and 100 + y; the column x == 3 is mud (a lower step reward)
        x, y = key[0], key[1] - 100
        dx, dy = {"e": (1, 0), "w": (-1, 0), "n": (0, 1), "s": (0, -1)}[action]
        nx, ny = min(5, max(0, x + dx)), min(5, max(0, y + dy))
        done = (nx, ny) == (5, 5)
        return (nx, ny + 100), 1.0 if done else (-0.5 if nx == 3 else -0.1), done
    r = bfws((0, 100), ["e", "w", "n", "s"], grid)
    assert r.found and len(r.actions) == 10 and (r.nodes, r.states, r.depth) == (61, 30, 9)


def test_doorkey_search_figures_are_pinned(doorkey, minigrid_model):
    program = compiled(doorkey, minigrid_model)
    figures = []
    for seed in range(3):
        state, mission = doorkey.reset(seed)
        r = runtime.plan(program, state, mission, list(doorkey.actions))
        figures.append((r.nodes, r.states, r.depth, len(r.actions)))
        assert r.planner == "bfws" and r.first_error is None
    assert figures == [(269, 52, 10, 11), (220, 48, 6, 7), (276, 53, 12, 13)]


def test_planning_in_a_program_that_fails_says_how(doorkey, minigrid_model):
    state, mission = doorkey.reset(0)
    unloadable = compiled(doorkey, "import os\n" + minigrid_model)
    r = runtime.plan(unloadable, state, mission, list(doorkey.actions))
    assert (r.found, r.status, r.reason) == (False, "error", "the program does not load")
    assert r.first_error is unloadable.failure and r.first_error["kind"] == "forbidden" and r.predictions == []

    program = compiled(doorkey, minigrid_model)
    r = runtime.plan(program, [{"type": "Dragon", "x": 1}], mission, list(doorkey.actions))
    assert (r.found, r.status, r.reason) == (False, "error", "the program cannot be planned in")
    assert r.first_error["kind"] == "malformed" and r.predictions == [] and 0 <= r.seconds < 30

    # an action whose transition raises: the search goes on without it, and the first error is kept
    raising = replaced(minigrid_model, "def transition(state, action):\n",
                       "def transition(state, action):\n    if action == 'left':\n"
                       "        raise ValueError('left is broken')\n", 1)
    r = runtime.plan(compiled(doorkey, raising), state, mission, list(doorkey.actions))
    assert r.first_error["kind"] == "exception" and "left is broken" in r.first_error["message"]
    assert r.first_error["code"] == "raise ValueError('left is broken')" and "left" not in r.actions

    looping = minigrid_model + "\n\ndef reward(state, action, next_state, mission):\n    while True:\n        pass\n"
    r = runtime.plan(compiled(doorkey, looping), state, mission, list(doorkey.actions), call_timeout=0.2)
    assert r.reason == "a call of the program timed out during planning" and r.predictions == []
    assert 0.2 <= r.seconds < 30


def test_the_time_limit_and_the_node_budget_reach_the_search(doorkey, minigrid_model):
    program = compiled(doorkey, minigrid_model)
    state, mission = doorkey.reset(0)
    late = runtime.plan(program, state, mission, list(doorkey.actions), time_limit=0)
    assert (late.status, late.reason, late.predictions) == ("budget", "time budget spent", [])
    small = runtime.plan(program, state, mission, list(doorkey.actions), max_nodes=7)
    assert small.status == "budget" and small.nodes == 7
    shallow = runtime.plan(program, state, mission, list(doorkey.actions), max_depth=3)
    assert shallow.status == "exhausted" and "within 3 steps" in shallow.reason
    assert runtime.plan(program, state, mission, list(doorkey.actions), planner="bfs").planner == "bfs"


def test_actions_from_a_function_of_the_json_state_and_a_focus_that_sees_it(doorkey, minigrid_model):
    program = compiled(doorkey, minigrid_model)
    state, mission = doorkey.reset(0)
    seen_states, seen_focus = [], []

    def actions(json_state):
        seen_states.append(json_state)
        return list(doorkey.actions)

    def no_toggle(json_state, focus_mission, listed):
        seen_focus.append((json_state, focus_mission, list(listed)))
        return [a for a in listed if a != "toggle"]
    r = runtime.plan(program, state, mission, actions, focus=no_toggle)
    assert r.found and follow(doorkey, 0, r)
    assert runtime.state_key(seen_states[0]) == runtime.state_key(state)
    assert all(isinstance(s, list) and all("type" in e for e in s) for s in seen_states)
    first_state, first_mission, first_listed = seen_focus[0]
    assert runtime.state_key(first_state) == runtime.state_key(state) and first_mission == mission
    assert first_listed == list(doorkey.actions)
    # the focused search alone was exhaustive; both searches' expansions are counted
    unfocused = runtime.plan(program, state, mission, actions)
    assert r.nodes > unfocused.nodes
    budgeted = runtime.plan(program, state, mission, actions, focus=no_toggle, max_nodes=r.nodes - 1)
    assert budgeted.status == "budget" and budgeted.nodes == r.nodes - 1


@pytest.mark.parametrize("modifies_input", [False, True])
def test_expansions_carry_the_programs_own_reward_and_done(doorkey, minigrid_model, modifies_input):
    """A reward that depends on the action and is not 0 or 1 comes through unchanged, with its
    own done flag, on the first and the cached expansions of a state, mutating input or not."""
    from wc._sandbox.plan import ProgramModel

    source = minigrid_model + ("\n\ndef reward(state, action, next_state, mission):\n"
                               "    return {'left': -0.25, 'right': 0.5}.get(action, 0.0), action == 'done'\n")
    if modifies_input:
        source = replaced(source, "    state = copy.deepcopy(state)\n", "")
    program = compiled(doorkey, source)
    state, mission = doorkey.reset(0)
    model = ProgramModel(program, mission, call_timeout=2.0)
    key = model.start(program.namespace, state)
    for _ in range(2):  # the second time round, from the cache (or defensively)
        assert model.expand(key, "left")[1:] == (-0.25, False)
        assert model.expand(key, "right")[1:] == (0.5, False)
        assert model.expand(key, "done")[1:] == (0.0, True)
        assert model.expand(key, "forward")[1:] == (0.0, False)
    assert model.defensive == modifies_input
    turned = model.expand(key, "left")[0]
    assert runtime.state_key(model.table.json_state(turned)) != runtime.state_key(model.table.json_state(key))
    assert runtime.state_key(model.table.json_state(key)) == runtime.state_key(state)  # the start is intact


# --------------------------------------------------------------------------- shortcuts


def grid_expand(key, action):
    """An open 6x6 grid; the goal at (5, 5)."""
    x, y = key
    dx, dy = {"east": (1, 0), "west": (-1, 0), "south": (0, 1), "north": (0, -1)}[action]
    nxt = (min(5, max(0, x + dx)), min(5, max(0, y + dy)))
    return nxt, (1.0 if nxt == (5, 5) else 0.0), nxt == (5, 5)


def walk(start, actions):
    predictions, key = [], start
    for action in actions:
        key, reward, done = grid_expand(key, action)
        predictions.append((key, reward, done))
    return predictions


def test_a_shortcut_pass_removes_detours_and_loops_and_keeps_a_valid_plan():
    from wc._planning.shortcut import shortcut

    moves = ["east", "west"] * 3 + ["south"] * 5 + ["east", "north", "south"] * 2 + ["east"] * 3
    assert walk((0, 0), moves)[-1] == ((5, 5), 1.0, True)  # 22 steps where 10 do
    cut = shortcut((0, 0), ["east", "west", "south", "north"], grid_expand, moves, walk((0, 0), moves))
    assert len(cut.actions) == 10 and cut.predictions == walk((0, 0), cut.actions)
    assert cut.predictions[-1] == ((5, 5), 1.0, True) and cut.nodes > 0
    assert cut.cuts[0] == (0, 6, 0)  # east and back three times: a loop, dropped without a search
    shortest = ["south"] * 5 + ["east"] * 5
    again = shortcut((0, 0), ["east", "west", "south", "north"], grid_expand, shortest, walk((0, 0), shortest))
    assert again.actions == shortest and again.cuts == []


def test_a_shortcut_pass_without_budget_only_drops_loops():
    from wc._planning.shortcut import shortcut

    moves = ["south"] * 5 + ["east", "north", "south"] * 2 + ["east"] * 3
    cut = shortcut((0, 0), ["east", "west", "south", "north"], grid_expand, moves, walk((0, 0), moves), max_nodes=0)
    assert cut.nodes == 0 and cut.actions == ["south"] * 5 + ["east"] * 5
    assert [steps for _, _, steps in cut.cuts] == [0, 0]  # north and back, twice


def test_weighted_best_first_within_a_bound_finds_a_short_plan():
    from wc._planning.best import best_first

    def distance(key):
        return (5 - key[0]) + (5 - key[1])
    weighted = best_first((0, 0), ["north", "west", "east", "south"], grid_expand, estimate=distance, weight=5.0,
                          bound=10)
    assert weighted.found and len(weighted.actions) == 10
    tight = best_first((0, 0), ["north", "west", "east", "south"], grid_expand, estimate=distance, bound=9)
    assert not tight.found and tight.status == "exhausted"  # no plan within 9: everything pruned


@pytest.mark.parametrize("level, saved", [(0, 18), (4, 26)])
def test_a_plan_near_the_steps_left_is_shortened_in_the_program(level, saved):
    """A Boxoban level in the reference program: given the episode's steps left, a plan longer
    than most of them comes back shorter, and still wins in the real environment."""
    from conftest import FIXTURES

    adapter = envs.make("sokoban", levels=str(FIXTURES / "boxoban" / "medium-train-000-first10.txt"))
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), (FIXTURES / "sokoban_model.py")
                                      .read_text())
    estimator = runtime.search_estimator(adapter.action_source)
    state, mission = adapter.reset(level)
    # bounded by expansions alone (level 4 takes ~9 s of the default 10 on a machine loaded at 8)
    budget = {"max_nodes": 100_000, "time_limit": math.inf}
    free = runtime.plan(program, state, mission, list(adapter.actions), estimator=estimator, **budget)
    near = runtime.plan(program, state, mission, list(adapter.actions), estimator=estimator, horizon=len(free.actions),
                        **budget)
    assert free.shortened == 0 and near.found and near.shortened == saved
    assert len(near.actions) == len(free.actions) - saved and len(near.predictions) == len(near.actions)
    for action in near.actions:
        step = adapter.step(action)
    assert step.terminated and step.reward > 0
