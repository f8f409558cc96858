"""Monte Carlo tree search (UCT) over discrete actions, with random rollouts: the return planner
of the Code World Models Benchmark (CWMB), whose settings are the preset `CWMB`.

Each simulation descends the tree from the root by UCB, `Q(s,a) + c·sqrt(ln N(s) / (n(s,a) +
0.001))` with `Q` the mean discounted return seen after the edge (`default_q` for an edge not yet
tried), until it steps an edge for the first time (one new node per simulation) or meets a node
where the episode is done. From a new node it plays uniformly random actions for at most
`rollout_depth` steps, or until done, and backs up the discounted return. That is CWMB's
algorithm (their code keeps `default_q = 1` and an exploration term whose 0.001 lets untried edges
win once the log grows); wc's own preset tries every edge once first (`default_q = inf`). Values
are not normalised, so `c` is on the scale of the returns: scaling them to the tree's range
(MuZero's way) was tried and made UCT settle for a small reward near the root instead of a large
one five steps down a chain, even with 2,000 simulations.

The decision is the root's edge with the best mean value among those tried (CWMB samples it
from softmax(Q / 0.01): `temperature`); `ReturnPlan.actions` is the best whole trajectory that
any simulation played, tree part and rollout, with what the program predicted along it.

Pure Python, and tight where it runs most: the tree is a handful of parallel lists indexed by
node number (no object per node), states are never hashed, and the rollout loop does one step,
one random draw and one clock read per step. An action whose step raises is not available in
that state (the error goes to `on_error`): its edge is closed for good, and a rollout draws
another action there (it ends where none works).

Random worlds (`chance=True`): `step` draws one outcome of the action each time it is called, so
an edge is a chance node, stepped again on every pass. A tree of histories would then hardly
ever meet the same node twice (a world where actions may leave things as they were has as many
histories as sequences of outcomes), and its deep values would stay at their first rollouts; so
in a random world nodes are shared by state: one node per (state key, depth), and a simulation
backs up along the path it took. An edge's mean value then estimates the expected return of the
action over its outcomes. `rollout_avoid(reward, done)`, when given, makes a rollout step that it
holds for (a goal world's failure, say) be replaced by another action's whose outcome it does
not hold for, as a failing step is: random rollouts that walk into every wall and obstacle
would otherwise tell the tree nothing about where the goal is.
"""
from __future__ import annotations

import math
import random as _random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from wc._planning.result import ERROR, FOUND
from wc._planning.returns import Counter, OnError, ReturnPlan, Step, finish

Avoid = Callable[[float, bool], bool]   # (reward, done) -> whether a rollout should rather not take that step

EPS = 1e-3        # CWMB's: an untried edge's exploration term is c·sqrt(ln N / 0.001)
OPEN = -1         # an edge not stepped yet
CLOSED = -2       # an edge whose step raised


@dataclass(frozen=True)
class MctsSettings:
    """The search's own parameters (its budgets of steps and time come from the caller)."""

    simulations: int = 100
    rollout_depth: int = 100      # random steps after the tree, at most
    max_depth: int = 500          # steps from the root, tree and rollout together, at most
    c: float = 1.0
    gamma: float = 0.99
    default_q: float = math.inf   # the value of an edge not yet tried (inf: every edge is tried first)
    temperature: float = 0.0      # 0: the best mean value; > 0: sampled from softmax(Q / temperature)

    algorithm = "mcts"
    kind = "discrete"
    replan_every = 1  # the agent plans again after every action

    def search(self, start: Any, actions: Sequence[Any], step: Step, **budget: Any) -> ReturnPlan:
        return search(start, actions, step, **asdict(self), **budget)


WC = MctsSettings()
# CWMB (GIF-MCTS, Dainese et al. 2024): 25 simulations per step, random rollouts of at most 100
# steps, C = 1, gamma = 0.99; untried edges valued 1, the decision from softmax(Q / 0.01)
CWMB = MctsSettings(simulations=25, rollout_depth=100, max_depth=10_000, c=1.0, gamma=0.99, default_q=1.0,
                    temperature=0.01)


def search(start: Any, actions: Sequence[Any], step: Step, *, simulations: int = WC.simulations,
           rollout_depth: int = WC.rollout_depth, max_depth: int = WC.max_depth, c: float = WC.c,
           gamma: float = WC.gamma, default_q: float = WC.default_q, temperature: float = WC.temperature,
           rng: _random.Random | None = None, deadline: float | None = None, max_steps: int | None = None,
           on_error: OnError | None = None, rollout_step: Step | None = None, chance: bool = False,
           rollout_avoid: Avoid | None = None) -> ReturnPlan:
    """UCT from `start` over `actions`. `step` makes the tree's edges; `rollout_step` (default
    `step`) plays the rollouts and may hand back states of its own kind (a caller's cheaper
    form), which only it is given again. Stops after `simulations`, or within one step of
    `max_steps` program steps or the `deadline`. `chance`: `step` draws an outcome at random
    (see the module docstring)."""
    started = time.monotonic()
    rng = rng or _random.Random(0)
    random = rng.random
    acts = list(actions)
    width = len(acts)
    calls = Counter(step, max_steps, deadline, on_error)
    roll = rollout_step or step
    if chance:
        return _search_chance(start, acts, step, roll, calls, simulations=simulations, rollout_depth=rollout_depth,
                              max_depth=max_depth, c=c, gamma=gamma, default_q=default_q, temperature=temperature,
                              random=random, avoid=rollout_avoid, started=started)
    log, sqrt, inf = math.log, math.sqrt, math.inf
    # the tree, one list per field, indexed by node (0 is the root): the state key; the node's
    # parent, the edge from it, and that edge's reward and done; its depth, the discounted
    # return from the root to it and gamma ** depth; its visits; and per edge the child (OPEN,
    # CLOSED or a node), the visits and the sum of the returns seen after it
    keys: list[Any] = [start]
    parents, parent_edges, rewards, dones = [-1], [-1], [0.0], [False]
    depths, gains, discounts = [0], [0.0], [1.0]
    visits = [1]
    children = [[OPEN] * width]
    edge_n = [[0] * width]
    edge_w = [[0.0] * width]
    best_return, best_leaf = -inf, 0
    best_rollout: tuple[list[Any], list[tuple[Any, float, bool]]] = ([], [])
    sims = 0

    def select(node: int) -> int:
        """The edge UCB picks at `node` (ties at random), or -1 when every edge is closed."""
        log_n = log(visits[node])
        ch, en, ew = children[node], edge_n[node], edge_w[node]
        top, ties = -inf, []
        for i in range(width):
            if ch[i] == CLOSED:
                continue
            n = en[i]
            u = (ew[i] / n if n else default_q) + c * sqrt(log_n / (n + EPS))
            if u > top:
                top, ties = u, [i]
            elif u == top:
                ties.append(i)
        if not ties:
            return -1
        return ties[0] if len(ties) == 1 else ties[int(random() * len(ties))]

    def expand(node: int, edge: int) -> int:
        """Step the edge once: its child node, or CLOSED when the step raised. (With chance
        nodes, this is where one of several outcomes would be drawn and kept per key.)"""
        calls.steps += 1
        try:
            key, reward, done = step(keys[node], acts[edge])
        except Exception as exc:  # noqa: BLE001 - the program is untrusted; timeouts propagate
            calls.failed(exc, acts[edge])
            children[node][edge] = CLOSED
            return CLOSED
        child = len(keys)
        keys.append(key)
        parents.append(node)
        parent_edges.append(edge)
        rewards.append(reward)
        dones.append(bool(done))
        depths.append(depths[node] + 1)
        gains.append(gains[node] + discounts[node] * reward)
        discounts.append(discounts[node] * gamma)
        visits.append(0)
        children.append([OPEN] * width)
        edge_n.append([0] * width)
        edge_w.append([0.0] * width)
        children[node][edge] = child
        return child

    while sims < simulations and calls.left():
        node = 0
        new = stopped = False
        while not dones[node] and depths[node] < max_depth:  # down the tree
            edge = select(node)
            if edge < 0:
                break  # every action fails here
            child = children[node][edge]
            if child == OPEN:
                if not calls.left():
                    stopped = True  # a simulation cut short is not backed up
                    break
                child = expand(node, edge)
                if child == CLOSED:
                    continue
                new = True
            node = child
            if new:
                break
        if stopped or node == 0:
            break  # out of budget, or every action fails from the start
        value = 0.0
        rolled: list[Any] = []
        trail: list[tuple[Any, float, bool]] = []
        if new and not dones[node]:  # a random rollout from the new node
            value, rolled, trail = _rollout(roll, keys[node], acts, min(rollout_depth, max_depth - depths[node]),
                                            gamma, random, calls, rollout_avoid)
        ret = gains[node] + discounts[node] * value
        if ret > best_return:
            best_return, best_leaf, best_rollout = ret, node, (rolled, trail)
        visits[node] += 1
        while node:  # back up: Q(s, a) averages r + gamma * V(s')
            parent, edge = parents[node], parent_edges[node]
            value = rewards[node] + gamma * value
            edge_n[parent][edge] += 1
            edge_w[parent][edge] += value
            visits[parent] += 1
            node = parent
        sims += 1

    plan = ReturnPlan(gamma=gamma, steps=calls.steps, rollouts=sims, planner="mcts")
    tried = [i for i in range(width) if edge_n[0][i]]
    if tried:
        edge = _decide(tried, edge_n[0], edge_w[0], temperature, random)
        plan.action, plan.value = acts[edge], edge_w[0][edge] / edge_n[0][edge]
        path, node = [], best_leaf
        while node:
            path.append(node)
            node = parents[node]
        path.reverse()
        plan.actions = [acts[parent_edges[n]] for n in path] + best_rollout[0]
        plan.predictions = [(keys[n], rewards[n], dones[n]) for n in path] + best_rollout[1]
        plan.status = FOUND
        if sims < simulations:  # all its simulations is how it ends; fewer, a budget cut it
            calls.stopped(plan)
    elif width and all(ch == CLOSED for ch in children[0]):
        plan.status, plan.reason = ERROR, "every action fails from the start"
    elif not width:
        plan.status, plan.reason = ERROR, "no actions to choose from"
    else:
        calls.stopped(plan, "no simulation was run")
    return finish(plan, started)


def _rollout(roll: Step, state: Any, acts: list[Any], depth: int, gamma: float, random: Any, calls: Counter,
             avoid: Avoid | None) -> tuple[float, list[Any], list[tuple[Any, float, bool]]]:
    """A random rollout of at most `depth` steps from `state`: its discounted return, and the
    actions and what they led to. One step, one random draw and one clock read per step."""
    value, discount = 0.0, 1.0
    rolled: list[Any] = []
    trail: list[tuple[Any, float, bool]] = []
    width = len(acts)
    monotonic = time.monotonic
    steps, most, deadline_at = calls.steps, calls.max_steps, calls.deadline
    for _ in range(depth):
        if steps >= most or monotonic() > deadline_at:
            break
        action = acts[int(random() * width)]
        steps += 1
        try:
            after, reward, done = roll(state, action)
        except Exception as exc:  # noqa: BLE001 - not available here: another action, if any works
            calls.failed(exc, action)
            calls.steps = steps
            found = _instead(roll, state, acts, action, random, calls, avoid)
            steps = calls.steps
            if found is None:
                break
            action, after, reward, done = found
        else:
            if avoid is not None and avoid(reward, done):
                calls.steps = steps
                found = _instead(roll, state, acts, action, random, calls, avoid)
                steps = calls.steps
                if found is not None:
                    action, after, reward, done = found
        state = after
        rolled.append(action)
        trail.append((state, reward, done))
        value += discount * reward
        discount *= gamma
        if done:
            break
    calls.steps = steps
    return value, rolled, trail


def _instead(roll: Step, state: Any, acts: list[Any], failed: Any, random: Any, calls: Counter,
             avoid: Avoid | None = None) -> tuple[Any, Any, float, bool] | None:
    """A rollout's step when `failed` raised at `state` (or gave an outcome to `avoid`): the
    other actions in random order until one works and gives no outcome to avoid (what it does;
    failing that, the first that works), or None when none works or the budget ends."""
    others = [a for a in acts if a is not failed]
    fallback = None   # the first that works but gives an outcome to avoid
    while others and calls.left():
        action = others.pop(int(random() * len(others)))
        calls.steps += 1
        try:
            after, reward, done = roll(state, action)
        except Exception as exc:  # noqa: BLE001
            calls.failed(exc, action)
            continue
        if avoid is not None and avoid(reward, done):
            fallback = fallback or (action, after, reward, done)
            continue
        return action, after, reward, done
    return fallback


def _search_chance(start: Any, acts: list[Any], step: Step, roll: Step, calls: Counter, *, simulations: int,
                   rollout_depth: int, max_depth: int, c: float, gamma: float, default_q: float, temperature: float,
                   random: Any, avoid: Avoid | None, started: float) -> ReturnPlan:
    """UCT over a random world: every pass through an edge steps it (drawing an outcome); nodes
    are shared by (state key, depth); each simulation backs up along its own path."""
    width = len(acts)
    log, sqrt, inf = math.log, math.sqrt, math.inf
    index: dict[tuple[Any, int], int] = {(start, 0): 0}
    keys, depths = [start], [0]
    visits = [1]
    edge_n = [[0] * width]
    edge_w = [[0.0] * width]
    closed = [[False] * width]
    best_return = -inf
    best: tuple[list[Any], list[tuple[Any, float, bool]]] = ([], [])
    sims = 0

    def select(node: int) -> int:
        log_n = log(visits[node])
        en, ew, shut = edge_n[node], edge_w[node], closed[node]
        top, ties = -inf, []
        for i in range(width):
            if shut[i]:
                continue
            n = en[i]
            u = (ew[i] / n if n else default_q) + c * sqrt(log_n / (n + EPS))
            if u > top:
                top, ties = u, [i]
            elif u == top:
                ties.append(i)
        if not ties:
            return -1
        return ties[0] if len(ties) == 1 else ties[int(random() * len(ties))]

    while sims < simulations and calls.left():
        node, path = 0, []                     # (node, edge, reward) of each step taken
        taken: list[Any] = []
        seen: list[tuple[Any, float, bool]] = []
        gain, discount = 0.0, 1.0
        stopped = new = ended = False
        while depths[node] < max_depth:        # down the tree
            edge = select(node)
            if edge < 0:
                break  # every action fails here
            if not calls.left():
                stopped = True  # a simulation cut short is not backed up
                break
            calls.steps += 1
            try:
                key, reward, done = step(keys[node], acts[edge])
            except Exception as exc:  # noqa: BLE001 - the program is untrusted; timeouts propagate
                calls.failed(exc, acts[edge])
                closed[node][edge] = True
                continue
            path.append((node, edge, reward))
            taken.append(acts[edge])
            seen.append((key, reward, bool(done)))
            gain += discount * reward
            discount *= gamma
            if done:
                ended = True
                break
            tag = (key, depths[node] + 1)
            child = index.get(tag)
            if child is None:
                child = index[tag] = len(keys)
                keys.append(key)
                depths.append(depths[node] + 1)
                visits.append(0)
                edge_n.append([0] * width)
                edge_w.append([0.0] * width)
                closed.append([False] * width)
                new = True
            node = child
            if new:
                break
        if stopped or not path:
            break  # out of budget, or every action fails from the start
        value = 0.0
        rolled: list[Any] = []
        trail: list[tuple[Any, float, bool]] = []
        if new and not ended:  # a random rollout from the new node
            value, rolled, trail = _rollout(roll, keys[node], acts, min(rollout_depth, max_depth - depths[node]),
                                            gamma, random, calls, avoid)
        if gain + discount * value > best_return:
            best_return, best = gain + discount * value, (taken + rolled, seen + trail)
        if not ended:
            visits[node] += 1
        for at, edge, reward in reversed(path):  # back up along the path: Q(s, a) averages r + gamma * V(s')
            value = reward + gamma * value
            edge_n[at][edge] += 1
            edge_w[at][edge] += value
            visits[at] += 1
        sims += 1

    plan = ReturnPlan(gamma=gamma, steps=calls.steps, rollouts=sims, planner="mcts")
    tried = [i for i in range(width) if edge_n[0][i]]
    if tried:
        edge = _decide(tried, edge_n[0], edge_w[0], temperature, random)
        plan.action, plan.value = acts[edge], edge_w[0][edge] / edge_n[0][edge]
        plan.actions, plan.predictions = best
        plan.status = FOUND
        if sims < simulations:  # all its simulations is how it ends; fewer, a budget cut it
            calls.stopped(plan)
    elif width and all(closed[0]):
        plan.status, plan.reason = ERROR, "every action fails from the start"
    elif not width:
        plan.status, plan.reason = ERROR, "no actions to choose from"
    else:
        calls.stopped(plan, "no simulation was run")
    return finish(plan, started)


def _decide(tried: list[int], edge_n: list[int], edge_w: list[float], temperature: float, random: Any) -> int:
    """The root's edge to take: the best mean value (ties: the first), or one sampled from
    softmax(Q / temperature). Untried edges are never taken (CWMB's code values them 0, which in
    a world of negative rewards would prefer an action no simulation tried)."""
    means = [edge_w[i] / edge_n[i] for i in tried]
    top = max(means)
    if temperature <= 0:
        return tried[means.index(top)]
    weights = [math.exp((q - top) / temperature) for q in means]
    pick = random() * sum(weights)
    for i, w in zip(tried, weights, strict=True):
        pick -= w
        if pick < 0:
            return i
    return tried[-1]
