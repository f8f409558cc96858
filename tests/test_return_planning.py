"""The planners that maximise return (MCTS, CEM) on small worlds whose optimum is known exactly,
their budgets and errors, and planning for return inside a compiled program."""
import math
import random

import pytest

from wc._planning import RETURN_PLANNERS, cem, iw, mcts, seeded

GAMMA = 0.99


# --------------------------------------------------------------------------- small worlds


def chain(n, big=10.0, small=1.0):
    """Positions 0..n; "forward" moves on (reward `big` and done on reaching n), "quit" ends the
    episode at once with `small`. The optimum is forward all the way: big * gamma**(n-1)."""
    def step(key, action):
        (pos,) = key
        if action == "quit":
            return (-1,), small, True
        if pos + 1 == n:
            return (n,), big, True
        return (pos + 1,), 0.0, False
    return step


MOVES = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}


def grid(size):
    """A size x size room; reward 1 and done on reaching the far corner (the shortest way takes
    2 * (size - 1) steps, so the best discounted return is gamma**(2 * size - 3))."""
    def step(key, action):
        dx, dy = MOVES[action]
        x, y = min(size - 1, max(0, key[0] + dx)), min(size - 1, max(0, key[1] + dy))
        done = (x, y) == (size - 1, size - 1)
        return (x, y), 1.0 if done else 0.0, done
    return (0, 0), step


def play(settings, start, step, actions, seed=0, limit=50):
    """Receding horizon in the world itself: plan, take the plan's action, plan again."""
    rng = random.Random(seed)
    key, total, taken, steps = start, 0.0, 0, 0
    for _ in range(limit):
        plan = settings.search(key, actions, step, rng=rng)
        key, reward, done = step(key, plan.action)
        total, taken, steps = total + reward, taken + 1, steps + plan.steps
        if done:
            break
    return total, taken, steps


# --------------------------------------------------------------------------- MCTS


@pytest.mark.parametrize("name, n, figures", [
    ("mcts", 5, (16, 100, 8.065871)),       # (program steps, simulations, the root's mean value of forward)
    ("mcts-cwmb", 3, (9, 25, 8.5986)),
])
def test_mcts_finds_the_optimal_sequence_of_a_chain(name, n, figures):
    plan = RETURN_PLANNERS[name].search((0,), ["quit", "forward"], chain(n), rng=random.Random(0))
    assert plan.status == "found" and plan.planner == "mcts" and plan.reason == ""
    assert plan.action == "forward" and plan.actions == ["forward"] * n
    assert plan.discounted == pytest.approx(10 * GAMMA ** (n - 1), abs=1e-12) and plan.total == 10.0 and plan.done
    assert plan.predictions == [((i,), 0.0, False) for i in range(1, n)] + [((n,), 10.0, True)]
    assert (plan.steps, plan.rollouts, round(plan.value, 6)) == figures


def test_mcts_with_cwmb_budget_settles_for_the_near_reward_of_a_longer_chain():
    """25 simulations whose rollouts seldom get five steps down the chain: CWMB's preset quits
    (a known limit of its budget, pinned), wc's preset does not."""
    cwmb = mcts.CWMB.search((0,), ["quit", "forward"], chain(5), rng=random.Random(0))
    assert (cwmb.action, cwmb.actions, cwmb.value, cwmb.steps, cwmb.rollouts) == ("quit", ["quit"], 1.0, 12, 25)
    assert mcts.WC.search((0,), ["quit", "forward"], chain(5), rng=random.Random(0)).action == "forward"


@pytest.mark.parametrize("name, figures", [("mcts", (1.0, 7, 26983)), ("mcts-cwmb", (1.0, 17, 19324))])
def test_mcts_played_with_receding_horizon_reaches_the_goal(name, figures):
    """In a 4x4 room (6 steps at best) every decision is a new search from the state reached:
    the goal is reached, in the number of steps pinned (random rollouts are noisy guides)."""
    start, step = grid(4)
    total, taken, steps = play(RETURN_PLANNERS[name], start, step, list(MOVES))
    assert taken >= 6 and (total, taken, steps) == figures


def test_mcts_is_deterministic_given_its_rng_and_the_seed_matters():
    start, step = grid(5)
    runs = [mcts.WC.search(start, list(MOVES), step, rng=random.Random(seed)) for seed in (3, 3, 4)]
    same = [(r.action, r.actions, r.value, r.steps, r.predictions) for r in runs]
    assert same[0] == same[1] and same[0] != same[2]


def test_mcts_temperature_samples_the_decision_from_a_softmax_of_the_values():
    """Two actions that end the episode, worth 1.0 and 0.995: at CWMB's temperature 0.01 the
    worse is taken with probability 1 / (1 + e**0.5) = 0.38; at 0, never."""
    def step(key, action):
        return ("end",), 1.0 if action == "a" else 0.995, True
    picks = [mcts.search("s", ["a", "b"], step, temperature=0.01, rng=random.Random(seed)).action
             for seed in range(200)]
    assert picks.count("b") == 73  # of 200 (0.38 expected)
    assert {mcts.search("s", ["a", "b"], step, rng=random.Random(seed)).action for seed in range(20)} == {"a"}


def test_mcts_budgets_hold_exactly():
    start, step = grid(5)
    spent = mcts.WC.search(start, list(MOVES), step, rng=random.Random(0), max_steps=150)
    assert spent.status == "found" and spent.steps == 150 and spent.reason == "step budget of 150 spent"
    assert spent.rollouts < 100 and spent.action in MOVES and spent.cut == "steps"
    late = mcts.WC.search(start, list(MOVES), step, rng=random.Random(0), deadline=0.0)
    assert (late.status, late.action, late.actions, late.steps, late.cut) == ("budget", None, [], 0, "time")
    assert late.reason == "time budget spent"
    one = mcts.search(start, list(MOVES), step, simulations=1, rollout_depth=3, rng=random.Random(0))
    assert one.rollouts == 1 and one.steps == 4 and len(one.actions) == 4 and one.cut is None
    shallow = mcts.search((0,), ["quit", "forward"], chain(5), max_depth=3, rng=random.Random(0))
    assert shallow.action == "quit" and len(shallow.actions) <= 3


def test_mcts_closes_actions_that_raise_and_says_when_none_is_left():
    seen = []

    def step(key, action):
        if action == "quit":
            raise ValueError("quit is broken")
        return chain(3)(key, action)
    plan = mcts.WC.search((0,), ["quit", "forward"], step, rng=random.Random(0),
                          on_error=lambda exc, a: seen.append((str(exc), a)))
    assert plan.status == "found" and plan.action == "forward" and plan.actions == ["forward"] * 3
    assert seen and set(seen) == {("quit is broken", "quit")}

    def broken(key, action):
        raise RuntimeError("nothing works")
    none = mcts.WC.search((0,), ["quit", "forward"], broken, rng=random.Random(0))
    assert (none.status, none.action, none.steps) == ("error", None, 2)
    assert none.reason == "every action fails from the start"
    assert mcts.WC.search((0,), [], broken).status == "error"


def test_mcts_rollouts_draw_another_action_where_one_fails():
    """An action that raises is not available in that state: a rollout that draws it tries the
    others there, so the goal beyond the failing states is still seen."""
    seen = []

    def step(key, action):
        if key[0] >= 2 and action == "quit":
            raise ValueError("no quitting late")
        return chain(4)(key, action)
    plan = mcts.WC.search((0,), ["quit", "forward"], step, rng=random.Random(0), on_error=lambda exc, a: seen.append(a))
    assert plan.status == "found" and plan.action == "forward" and plan.actions == ["forward"] * 4
    assert seen and set(seen) == {"quit"}


# --------------------------------------------------------------------------- width-based search (iw)


def corridor(goal, slow=False):
    """A line from 0: "left" and "right" move one cell (or 0.001 when slow, in floats), "stay"
    stays; reward 1 and done on reaching `goal`, 0 everywhere else. Random walks of 100 steps
    seldom get 40 cells away, so every rollout scores the same."""
    unit = 0.001 if slow else 1

    def step(key, action):
        (x,) = key
        x = x + {"left": -unit, "stay": 0, "right": unit}[action]
        done = x >= goal - 1e-9
        return (x,), 1.0 if done else 0.0, done
    return step


def test_iw_finds_the_optimal_sequence_of_a_chain():
    plan = iw.WC.search((0,), ["quit", "forward"], chain(5), rng=random.Random(0))
    assert plan.status == "found" and plan.planner == "iw" and plan.reason == ""
    assert plan.action == "forward" and plan.actions == ["forward"] * 5 and plan.done
    assert plan.value == plan.discounted == pytest.approx(10 * GAMMA ** 4, abs=1e-12)
    assert plan.steps == iw.WC.steps  # it runs to its own budget


@pytest.mark.parametrize("slow, figures", [(False, (40, 4000, 16)), (True, (100, 5110, 13))])
def test_iw_finds_a_reward_no_random_rollout_sees(slow, figures):
    """40 cells (or 100 slow steps in floats, where one step changes no bin) to the only reward:
    width-based search reaches it in the fewest steps; MCTS's random rollouts see only zeros."""
    step = corridor(0.1 if slow else 40, slow)
    start = (0.0,) if slow else (0,)
    plan = iw.WC.search(start, ["left", "stay", "right"], step, rng=random.Random(0))
    assert plan.done and plan.actions == ["right"] * figures[0] and plan.total == 1.0
    assert (plan.steps, plan.rollouts) == figures[1:]  # past its 4,000 steps while all sequences scored the same
    assert not mcts.WC.search(start, ["left", "stay", "right"], step, rng=random.Random(0)).done


def test_iw_played_with_receding_horizon_reaches_the_goal_by_a_shortest_way():
    start, step = grid(4)
    total, taken, _ = play(iw.WC, start, step, list(MOVES))
    assert (total, taken) == (1.0, 6)


def test_iw_warm_start_is_never_worse_than_the_plan_it_starts_from():
    start, step = grid(6)
    first = iw.search(start, list(MOVES), step, horizon=30, steps=60, rng=random.Random(1))
    key = first.predictions[0][0]
    again = iw.search(key, list(MOVES), step, horizon=30, steps=60, init=first.actions[1:], rng=random.Random(2))
    assert again.value >= (first.value - first.predictions[0][1]) / GAMMA - 1e-12
    assert again.actions[:len(first.actions) - 1] == first.actions[1:] or again.value > first.value / GAMMA


def test_iw_budgets_hold_exactly_and_a_search_is_deterministic():
    start, step = grid(5)
    spent = iw.WC.search(start, list(MOVES), step, rng=random.Random(0), max_steps=150)
    assert spent.status == "found" and spent.steps == 150 and spent.reason == "step budget of 150 spent"
    assert spent.cut == "steps"
    late = iw.WC.search(start, list(MOVES), step, rng=random.Random(0), deadline=0.0)
    assert (late.status, late.action, late.actions, late.reason) == ("budget", None, [], "time budget spent")
    assert late.cut == "time"
    runs = [iw.search(start, list(MOVES), step, steps=300, rng=random.Random(seed)) for seed in (3, 3, 4)]
    assert [r.cut for r in runs] == [None] * 3  # running to its own steps is how it ends, not a cut
    same = [(r.action, r.actions, r.value, r.steps) for r in runs]
    assert same[0] == same[1] and same[0] != same[2]


def test_iw_plans_around_an_action_that_raises_and_says_when_all_do():
    seen = []

    def step(key, action):
        if action == "up":
            raise ValueError("no way up")
        return grid(4)[1](key, action)
    plan = iw.search((0, 0), list(MOVES), step, steps=500, rng=random.Random(0), on_error=lambda e, a: seen.append(a))
    assert plan.found and "up" not in plan.actions and plan.done and seen and set(seen) == {"up"}

    def broken(key, action):
        raise ValueError("nothing works")
    none = iw.search((0, 0), list(MOVES), broken, steps=100, rng=random.Random(0))
    assert (none.status, none.action, none.reason) == ("error", None, "every action fails from the start")


# --------------------------------------------------------------------------- CEM


def double_integrator(dt=0.1, rho=0.1):
    """x' = x + v dt, v' = v + u dt, reward -(x**2 + v**2 + rho u**2): a linear-quadratic
    regulator, whose optimal return over a horizon is exact by the Riccati recursion."""
    def step(key, action):
        x, v = key
        u = action[0]
        return (x + v * dt, v + u * dt), -(x * x + v * v + rho * u * u), False
    return step


def lqr_optimum(x0, horizon, dt=0.1, rho=0.1):
    """The best return and controls of `double_integrator` from x0 over `horizon` steps."""
    A, B = ((1.0, dt), (0.0, 1.0)), (0.0, dt)

    def mat(m, n):
        return tuple(tuple(sum(m[i][k] * n[k][j] for k in range(2)) for j in range(2)) for i in range(2))

    def add(m, n, s=1.0):
        return tuple(tuple(m[i][j] + s * n[i][j] for j in range(2)) for i in range(2))

    At = tuple(zip(*A, strict=True))
    P = ((0.0, 0.0), (0.0, 0.0))
    gains = []
    for _ in range(horizon):
        PB = (P[0][0] * B[0] + P[0][1] * B[1], P[1][0] * B[0] + P[1][1] * B[1])
        denom = rho + B[0] * PB[0] + B[1] * PB[1]
        BPA = tuple(sum(PB[k] * A[k][j] for k in range(2)) for j in range(2))
        K = (BPA[0] / denom, BPA[1] / denom)
        APB = tuple(sum(At[i][k] * PB[k] for k in range(2)) for i in range(2))
        P = add(add(((1.0, 0.0), (0.0, 1.0)), mat(mat(At, P), A)), tuple(tuple(APB[i] * K[j] for j in range(2))
                                                                          for i in range(2)), -1.0)
        gains.append(K)
    gains.reverse()
    state, controls = x0, []
    for K in gains:
        controls.append(-(K[0] * state[0] + K[1] * state[1]))
        state = (state[0] + state[1] * dt, state[1] + controls[-1] * dt)
    best = -(x0[0] * (P[0][0] * x0[0] + P[0][1] * x0[1]) + x0[1] * (P[1][0] * x0[0] + P[1][1] * x0[1]))
    return best, controls


def test_the_lqr_optimum_is_what_its_controls_earn():
    best, controls = lqr_optimum((1.0, 0.0), 10)
    key, total = (1.0, 0.0), 0.0
    for u in controls:
        key, reward, _ = double_integrator()(key, [u])
        total += reward
    assert total == pytest.approx(best, abs=1e-12) and max(abs(u) for u in controls) < 3


def test_cem_comes_within_a_percent_of_the_linear_quadratic_optimum():
    best, controls = lqr_optimum((1.0, 0.0), 10)
    plan = cem.search((1.0, 0.0), double_integrator(), low=[-3.0], high=[3.0], horizon=10, iterations=12,
                      samples=200, elites=20, keep=5, rng=random.Random(0))
    assert plan.status == "found" and plan.planner == "cem" and len(plan.actions) == 10
    assert 1.01 * best <= plan.total <= best  # the optimum bounds it; within 1 %
    assert (plan.steps, plan.rollouts, round(plan.total, 6), round(best, 6)) == (23450, 2345, -9.252919, -9.252902)
    assert plan.value == plan.discounted == plan.total and plan.action == plan.actions[0]
    assert all(-3.0 <= a[0] <= 3.0 for a in plan.actions)


def test_cem_finds_an_optimum_on_the_edge_of_the_box_exactly():
    """Reward u with u in [-1, 2]: every action at 2.0, which clipping reaches exactly (once
    every step of one sample is drawn above 2, so a short horizon)."""
    def step(key, action):
        return key + 1, action[0], False
    plan = cem.search(0, step, low=[-1.0], high=[2.0], horizon=3, iterations=6, samples=100, elites=10, keep=2,
                      rng=random.Random(0))
    assert plan.total == 6.0 and plan.actions == [[2.0]] * 3 and plan.action == [2.0]
    assert plan.predictions == [(1, 2.0, False), (2, 2.0, False), (3, 2.0, False)] and not plan.done


def test_cem_warm_start_is_never_worse_than_the_plan_it_starts_from():
    best, controls = lqr_optimum((1.0, 0.0), 10)
    plan = cem.search((1.0, 0.0), double_integrator(), low=[-3.0], high=[3.0], horizon=10, iterations=1,
                      samples=5, elites=2, init=[[u] for u in controls], rng=random.Random(0))
    assert plan.total == pytest.approx(best, abs=1e-12) and plan.rollouts == 5
    cold = cem.search((1.0, 0.0), double_integrator(), low=[-3.0], high=[3.0], horizon=10, iterations=1,
                      samples=5, elites=2, rng=random.Random(0))
    assert cold.total < 0.9 * best


def test_cem_multi_dimensional_actions_and_a_done_that_cuts_the_plan():
    """Two dimensions; the episode ends once the first reaches past 1 in total: the plan stops there."""
    def step(key, action):
        pos = key + action[0]
        return pos, action[1] - 0.1, pos > 1.0
    plan = cem.search(0.0, step, low=[0.0, -1.0], high=[1.0, 1.0], horizon=8, iterations=4, samples=50, elites=5,
                      rng=random.Random(0))
    assert plan.done and len(plan.actions) < 8 and all(len(a) == 2 for a in plan.actions)
    assert plan.predictions[-1][2] is True and all(not p[2] for p in plan.predictions[:-1])


def test_cem_budgets_hold_exactly():
    spent = cem.search((1.0, 0.0), double_integrator(), low=[-3.0], high=[3.0], horizon=10, max_steps=55,
                       rng=random.Random(0))
    assert spent.status == "found" and spent.steps == 55 and spent.rollouts == 5
    assert spent.reason == "step budget of 55 spent" and spent.cut == "steps"
    late = cem.search((1.0, 0.0), double_integrator(), low=[-3.0], high=[3.0], deadline=0.0)
    assert (late.status, late.action, late.steps, late.reason) == ("budget", None, 0, "time budget spent")
    assert late.cut == "time"
    full = cem.WC.search((1.0, 0.0), double_integrator(), low=[-3.0], high=[3.0], rng=random.Random(0))
    s = cem.WC
    assert full.rollouts == s.samples + (s.iterations - 1) * (s.samples - s.keep)
    assert full.steps == full.rollouts * s.horizon and full.reason == "" and full.cut is None


def test_cem_scores_sequences_that_raise_as_the_worst_and_says_when_all_do():
    seen = []

    def step(key, action):
        if action[0] > 0.5:
            raise ValueError("too much")
        return key + 1, action[0], False
    plan = cem.search(0, step, low=[-1.0], high=[1.0], horizon=4, rng=random.Random(0),
                      on_error=lambda exc, a: seen.append(a))
    assert plan.status == "found" and all(a[0] <= 0.5 for a in plan.actions) and plan.total > 1.5
    assert seen and all(len(a) == 1 and a[0] > 0.5 for a in seen)

    def broken(key, action):
        raise RuntimeError("nothing works")
    none = cem.search(0, broken, low=[-1.0], high=[1.0], horizon=4, samples=10, elites=2, keep=1, iterations=2)
    assert (none.status, none.action, none.reason, none.rollouts) == ("error", None, "every sequence tried fails", 20)


def test_cem_is_deterministic_and_checks_its_arguments():
    runs = [cem.search((1.0, 0.0), double_integrator(), low=[-3.0], high=[3.0], rng=random.Random(seed))
            for seed in (5, 5, 6)]
    assert runs[0].actions == runs[1].actions and runs[0].actions != runs[2].actions
    for bad in (dict(low=[1.0], high=[0.0]), dict(low=[], high=[]), dict(low=[0.0], high=[1.0, 2.0]),
                dict(low=[0.0], high=[1.0], elites=0), dict(low=[0.0], high=[1.0], samples=5, elites=6),
                dict(low=[0.0], high=[1.0], keep=11), dict(low=[0.0], high=[1.0], horizon=0),
                dict(low=[0.0], high=[1.0], init=[[0.5, 0.5]])):
        with pytest.raises(ValueError):
            cem.search(0, double_integrator(), **bad)


def test_the_presets_are_cwmb_settings():
    assert (mcts.CWMB.simulations, mcts.CWMB.rollout_depth, mcts.CWMB.c, mcts.CWMB.gamma) == (25, 100, 1.0, 0.99)
    assert (cem.CWMB.horizon, cem.CWMB.iterations, cem.CWMB.samples, cem.CWMB.elites) == (100, 20, 1000, 100)
    assert cem.CWMB.replan_every == 100 and cem.WC.replan_every == mcts.WC.replan_every == 1
    assert RETURN_PLANNERS == {"iw": iw.WC, "mcts": mcts.WC, "mcts-cwmb": mcts.CWMB, "iw-cem": seeded.WC,
                               "cem": cem.WC, "cem-cwmb": cem.CWMB}
    assert math.isinf(mcts.WC.default_q) and mcts.CWMB.default_q == 1.0
