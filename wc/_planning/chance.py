"""Planning over chance, exactly: finite-horizon dynamic programming over the states a random world
reaches from a start. Pure: no I/O; it runs inside the sandbox like the other planners.

`outcomes(key, action)` gives every outcome of an action, (probability, next key, reward, done)
with probabilities summing to 1 (it may raise: the program is fallible, and that action is then
unavailable in that state). From the start, every state reachable within `horizon - 1` steps is
expanded once (a node is one call of `outcomes`, counted against `max_nodes`); then backward
induction gives, for every state and every number of steps left h <= horizon, the best value
and the action that attains it:

* objective "goal": the probability of reaching the goal (a step with reward > 0 and done)
  within h steps; ties between actions go to the one that gets there sooner (a second value
  discounted by `TIE_GAMMA`), so an agent with time to spare does not dawdle.
* objective "return": the expected sum of rewards over at most h steps, discounted by `gamma`;
  ties broken the same way (an agent does not put off a reward it could have now).

`optimistic` is the most the world could give with positive probability (the best outcome
taken at every step: for "goal", 1 exactly when some policy reaches the goal with positive
probability, which is φ2 for a random world). With `hopeful=True` those values are kept for
every number of steps left, and `hopeful_path` is a trajectory that attains them: actions with
an outcome of positive probability after each, whose return the caller can add up itself (φ2
in a world scored by its return). A search that expanded everything reachable
decides: status "found" (some policy reaches the goal, or any return world) or "exhausted" (no
policy reaches the goal within the horizon, with any probability). A search stopped by its node
or time budget is "budget": undecided, and the caller plans otherwise (MCTS with chance nodes).
"""
from __future__ import annotations

import math
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from wc._planning.result import BUDGET, ERROR, EXHAUSTED, FOUND, Status

Outcome = tuple[float, Any, float, bool]          # probability, next key, reward, done
Outcomes = Callable[[Any, Any], Sequence[Outcome]]
OnError = Callable[[BaseException, Any], None]
Objective = Literal["goal", "return"]

TIE_GAMMA = 0.999      # among equally good actions, the one that reaches the goal (or the reward) sooner
MAX_TABLE = 20_000_000  # states x (horizon + 1) values kept, at most (about 160 MB; hopeful: counted three times)

__all__ = ["MAX_TABLE", "TIE_GAMMA", "ChancePolicy", "Objective", "Outcome", "Outcomes", "success", "solve"]


def success(reward: float, done: bool) -> bool:
    """A step that reaches the goal: positive reward and done (what φ2 asks of a plan)."""
    return done and reward > 0


@dataclass
class ChancePolicy:
    """The optimal values and actions of a finite-horizon random world, for every state reached
    from the start and every number of steps left (0 ... horizon)."""

    objective: Objective
    horizon: int
    gamma: float
    actions: list[Any]
    status: Status = BUDGET
    reason: str = ""
    nodes: int = 0                 # calls of `outcomes`
    states: int = 0                # states reached (expanded or terminal-free leaves)
    seconds: float = 0.0
    first_error: dict[str, Any] | None = None
    index: dict[Any, int] = field(default_factory=dict)   # key -> state number
    keys: list[Any] = field(default_factory=list)
    values: list[array] = field(default_factory=list)     # values[h][s]
    best: list[array] = field(default_factory=list)       # best[h][s]: action index, -1 for none
    optimistic: list[float] = field(default_factory=list)  # per state, for the full horizon
    hopes: list[array] = field(default_factory=list)      # hopes[h][s]: the optimistic value (hopeful=True)
    tie_hopes: list[array] = field(default_factory=list)  # the same, discounted by TIE_GAMMA more: ties to the sooner
    depths: list[int] = field(default_factory=list)       # per state: the fewest steps from the start
    edges: list[list[tuple[int, list[tuple[float, int, float, bool]]]]] = field(default_factory=list)

    @property
    def solved(self) -> bool:
        """Everything reachable was expanded: the values are exact."""
        return self.status in (FOUND, EXHAUSTED)

    def value(self, key: Any, steps_left: int | None = None) -> float:
        """The optimal value of `key` with `steps_left` steps (default: the horizon); 0 for a
        state not reached from the start within the horizon."""
        h = self.horizon if steps_left is None else min(steps_left, self.horizon)
        s = self.index.get(key)
        return 0.0 if s is None or h <= 0 or not self.values else self.values[h][s]

    def action(self, key: Any, steps_left: int | None = None) -> Any:
        """The optimal action in `key` with `steps_left` steps left, or None (no action works
        there, the state was not reached, or no steps are left)."""
        h = self.horizon if steps_left is None else min(steps_left, self.horizon)
        s = self.index.get(key)
        if s is None or h <= 0 or not self.best:
            return None
        a = self.best[h][s]
        return None if a < 0 else self.actions[a]

    def covers(self, key: Any, steps_left: int) -> bool:
        """Whether the values of `key` with `steps_left` steps are exact: everything reachable
        from it within those steps was expanded (a state met `d` steps from the start, with at
        most `horizon - d` steps left). A kept policy answers such a state as a new search would."""
        s = self.index.get(key)
        return self.solved and s is not None and 0 < steps_left and self.depths[s] + steps_left <= self.horizon

    def hopeful_path(self, key: Any, steps_left: int | None = None) -> list[tuple[Any, Outcome]]:
        """From `key`, the trajectory of positive probability with the most return (the best
        action and the best outcome at each step, by `hopes`): (action, outcome) pairs until
        done or no steps left. Empty without `hopes` (solved with hopeful=False)."""
        h = self.horizon if steps_left is None else min(steps_left, self.horizon)
        path: list[tuple[Any, Outcome]] = []
        s = self.index.get(key)
        goal, gamma = self.objective == "goal", self.gamma
        while s is not None and h > 0 and self.hopes:
            below, tie_below = self.hopes[h - 1], self.tie_hopes[h - 1]
            top = tie_top = -math.inf
            pick = None
            for a, out in self.edges[s]:
                for p, c, r, d in out:
                    if p <= 0:
                        continue
                    now = (1.0 if success(r, d) else 0.0) if goal else r
                    worth = now if d else now + gamma * below[c]
                    tie_worth = now if d else now + gamma * TIE_GAMMA * tie_below[c]
                    near = 1e-12 * max(1.0, abs(top)) if top > -math.inf else 0.0
                    if worth > top + near or (worth >= top - near and tie_worth > tie_top):
                        top, tie_top, pick = worth, tie_worth, (a, (p, c, r, d))
            if pick is None:
                break
            a, (p, c, r, d) = pick
            path.append((self.actions[a], (p, self.keys[c], r, d)))
            if d:
                break
            s, h = c, h - 1
        return path

    def likely_path(self, key: Any, steps_left: int | None = None, limit: int = 1000) -> list[tuple[Any, Outcome]]:
        """Following the policy from `key`, the most probable outcome at each step: (action,
        outcome) pairs until done, no action, or no steps left."""
        h = self.horizon if steps_left is None else min(steps_left, self.horizon)
        path: list[tuple[Any, Outcome]] = []
        s = self.index.get(key)
        while s is not None and h > 0 and len(path) < limit:
            a = self.best[h][s] if self.best else -1
            if a < 0:
                break
            outcomes = next(o for i, o in self.edges[s] if i == a)
            p, child, r, done = max(outcomes, key=lambda o: o[0])
            path.append((self.actions[a], (p, self.keys[child], r, done)))
            if done:
                break
            s, h = child, h - 1
        return path


def solve(start: Any, actions: Sequence[Any], outcomes: Outcomes, *, horizon: int, objective: Objective = "goal",
          gamma: float = 1.0, max_nodes: int = 20_000, max_outcomes: int = 100_000, deadline: float | None = None,
          on_error: OnError | None = None, hopeful: bool = False) -> ChancePolicy:
    """The optimal finite-horizon policy from `start` (see the module docstring). `max_nodes`
    bounds the calls of `outcomes`, `max_outcomes` the outcomes they give in all (the work of a
    world whose actions have hundreds of outcomes each); `hopeful` keeps the optimistic values
    for every number of steps left (`hopeful_path`)."""
    started = time.monotonic()
    if horizon < 0 or not 0.0 <= gamma <= 1.0:
        raise ValueError("the horizon is >= 0 and gamma in [0, 1]")
    acts = list(actions)
    policy = ChancePolicy(objective, horizon, gamma if objective == "return" else 1.0, acts)
    if not acts:
        policy.status, policy.reason = ERROR, "no actions to choose from"
        return _done(policy, started)
    index, keys = policy.index, policy.keys
    index[start] = 0
    keys.append(start)
    depths = policy.depths
    depths.append(0)
    edges = policy.edges
    edges.append([])
    frontier, depth, failures, listed = [0], 0, 0, 0
    queued = [True]   # per state: waiting for, or given, its expansion
    width = len(acts)
    while frontier and depth < horizon:  # every state reachable in fewer than `horizon` steps
        after: list[int] = []
        for done_here, s in enumerate(frontier):
            # every state found at a depth below the horizon must be expanded: stop as soon as
            # those still waiting cannot fit in the budget (a world whose outcomes multiply the
            # states gives up after a few expansions, not after the whole budget)
            waiting = (len(frontier) - done_here + (len(after) if depth + 1 < horizon else 0)) * width
            per_node = listed / policy.nodes if policy.nodes else 1.0
            if policy.nodes + waiting > max_nodes or listed + waiting * per_node > max_outcomes:
                policy.reason = (f"budget of {max_nodes} expansions and {max_outcomes} outcomes too small: "
                                 f"{policy.nodes} expansions ({listed} outcomes) made and {waiting} still to make")
                return _done(policy, started)
            for a, action in enumerate(acts):
                if deadline is not None and time.monotonic() > deadline:
                    policy.reason = "time budget spent"
                    return _done(policy, started)
                policy.nodes += 1
                try:
                    found = outcomes(keys[s], action)
                except Exception as exc:  # noqa: BLE001 - the program is untrusted; timeouts propagate
                    failures += 1
                    if on_error is not None:
                        on_error(exc, action)
                    continue
                listed += len(found)
                out = []
                for p, child, r, done in found:
                    c = index.get(child)
                    if c is None:
                        c = index[child] = len(keys)
                        keys.append(child)
                        depths.append(depth + 1)
                        edges.append([])
                        queued.append(False)
                    if not done and not queued[c]:  # an ending's state is kept, not expanded
                        queued[c] = True
                        after.append(c)
                    out.append((float(p), c, float(r), bool(done)))
                edges[s].append((a, out))
        frontier, depth = after, depth + 1
    policy.states = len(keys)
    if len(keys) * (horizon + 1) * (3 if hopeful else 1) > MAX_TABLE:
        policy.reason = f"{len(keys)} states x {horizon + 1} steps left is more than the {MAX_TABLE} values kept"
        return _done(policy, started)
    _backward(policy, hopeful)
    if objective == "goal":
        policy.status = FOUND if policy.optimistic[0] > 0 else EXHAUSTED
        if policy.status == EXHAUSTED:
            policy.reason = f"no policy reaches the goal within {horizon} steps, with any probability"
    else:
        policy.status = FOUND
    if failures and not any(edges[0]) and horizon > 0:
        policy.status, policy.reason = ERROR, "every action fails from the start"
    return _done(policy, started)


def _backward(policy: ChancePolicy, hopeful: bool = False) -> None:
    """Backward induction over steps left, 1 ... horizon (values[0] is all zeros); `hopeful`:
    the optimistic values kept for each (`policy.hopes`)."""
    n, goal, gamma = len(policy.keys), policy.objective == "goal", policy.gamma
    tie_gamma = gamma * TIE_GAMMA   # the tie-breaker: the same value, discounted a little more
    edges = policy.edges
    # what each outcome is worth now, and whether it continues: (p, child, immediate, continues)
    steps = [[(a, [(p, c, (1.0 if success(r, d) else 0.0) if goal else r, not d)
                   for p, c, r, d in out]) for a, out in edges[s]] for s in range(n)]
    previous = array("d", bytes(8 * n))
    tie_previous = array("d", bytes(8 * n))
    policy.values = [previous]
    policy.best = [array("i", [-1]) * n]
    optimistic = [0.0] * n
    tie_hopes = [0.0] * n   # hopeful: the optimistic value discounted a little more, to break its ties
    if hopeful:
        policy.hopes, policy.tie_hopes = [array("d", optimistic)], [array("d", tie_hopes)]
    for _ in range(policy.horizon):
        current = array("d", bytes(8 * n))
        tie_current = array("d", bytes(8 * n))
        best = array("i", [-1]) * n
        hopes = [0.0] * n
        tie_next = [0.0] * n
        for s in range(n):
            top, top_tie, choice, hope, tie_hope = -math.inf, -math.inf, -1, -math.inf, -math.inf
            for a, out in steps[s]:
                q = tie = 0.0
                for p, c, now, more in out:
                    if more:
                        q += p * (now + gamma * previous[c])
                        tie += p * (now + tie_gamma * tie_previous[c])
                        worth = now + gamma * optimistic[c]
                    else:
                        q += p * now
                        tie += p * now
                        worth = now
                    if p <= 0.0:
                        continue   # an outcome that cannot happen is no hope
                    if not hopeful:
                        if worth > hope:
                            hope = worth
                        continue
                    tie_worth = now + tie_gamma * tie_hopes[c] if more else now
                    near = 1e-12 * max(1.0, abs(hope)) if hope > -math.inf else 0.0
                    if worth > hope + near or (worth >= hope - near and tie_worth > tie_hope):
                        hope, tie_hope = worth, tie_worth
                near = 1e-12 * max(1.0, abs(top)) if top > -math.inf else 0.0
                better = q > top + near or (q >= top - near and tie > top_tie)
                if better:
                    top, top_tie, choice = q, tie, a
            if choice >= 0:
                current[s], tie_current[s], best[s] = top, top_tie, choice
                if hope > -math.inf:
                    hopes[s], tie_next[s] = hope, tie_hope
        policy.values.append(current)
        policy.best.append(best)
        if hopeful:
            policy.hopes.append(array("d", hopes))
            policy.tie_hopes.append(array("d", tie_next))
        previous, tie_previous, optimistic, tie_hopes = current, tie_current, hopes, tie_next
    policy.optimistic = optimistic


def _done(policy: ChancePolicy, started: float) -> ChancePolicy:
    policy.states = len(policy.keys)
    policy.seconds = time.monotonic() - started
    return policy
