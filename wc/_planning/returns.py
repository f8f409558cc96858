"""What a planner that maximises return gives back, and what the two such planners share.

The goal planners (`bfs`, `bfws`) look for reward > 0 and done; worlds scored by their return
(CartPole, Pendulum, the Code World Models Benchmark) need a planner that prefers more reward:
`wc._planning.mcts` over discrete actions and `wc._planning.cem` over a box of continuous ones.
Both call the same black-box `step(key, action) -> (next key, reward, done)` as the goal
planners (it may raise: the program is fallible) and return a `ReturnPlan`.

A `ReturnPlan` holds two things a caller uses differently: `action`, what to do now (for MCTS the
root's best action by its mean value, which is an estimate), and `actions`, the best whole
sequence the search evaluated, with what the program predicted along it when the search played
it (`predictions`, `discounted`, `total`, `done`: in a deterministic program these are exact,
not estimates).
Pure: no I/O.
"""
from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from wc._planning.result import Status

MAX_JOINT_ACTIONS = 1024   # a multi-discrete space is searched as the product of its parts, up to this many

# step(key, action) -> (next key, reward, done); it may raise
Step = Callable[[Any, Any], tuple[Any, float, bool]]
OnError = Callable[[BaseException, Any], None]
# which of a search's budgets ran out before it ended: its program steps or its time
Cut = Literal["steps", "time"]
CUTS: tuple[Cut, ...] = ("steps", "time")


def cut_reason(cut: Cut, max_steps: int | None = None) -> str:
    """A cut in words, for a plan's `reason` (readers use `ReturnPlan.cut`, not these words)."""
    if cut == "time":
        return "time budget spent"
    return f"step budget of {max_steps} spent" if max_steps is not None else "step budget spent"


@dataclass
class ReturnPlan:
    """The best action now, the best sequence found and what the program predicts along it."""

    action: Any = None        # what to do now; None when no action could be evaluated
    actions: list[Any] = field(default_factory=list)  # the best sequence evaluated (cut after done)
    # what the program predicts after each of `actions`: (state key, reward, done)
    predictions: list[tuple[Any, float, bool]] = field(default_factory=list)
    discounted: float = 0.0   # the predicted return of `actions`, discounted by `gamma`
    total: float = 0.0        # the same, undiscounted
    done: bool = False        # `actions` ends the episode (by the program's own rules)
    value: float = 0.0        # the planner's estimate for `action` (MCTS: its mean value at the root)
    gamma: float = 1.0
    steps: int = 0            # calls of `step` (program steps)
    rollouts: int = 0         # MCTS simulations or CEM sequences evaluated
    seconds: float = 0.0
    status: Status = "budget"  # "found": a sequence was evaluated; "budget": none in time; "error"
    reason: str = ""          # why the search stopped early, or why there is no plan
    # the budget that ran out before the search ended (None: it ended by itself); a found plan
    # that was cut is not all the search would have found
    cut: Cut | None = None
    first_error: dict[str, Any] | None = None
    planner: str = ""

    @property
    def found(self) -> bool:
        return self.status == "found"


@dataclass(frozen=True)
class ReturnBudget:
    """How much one decision of a return planner may spend (`PlanBudget`'s counterpart)."""

    planner: str = "auto"        # a name of RETURN_PLANNERS, or "auto": MCTS if discrete, CEM if continuous
    max_steps: int = 10_000_000  # program steps (calls of transition and reward)
    seconds: float = 10.0


class Counter:
    """One search's calls of `step`, against its step budget and deadline (both checked before
    every call, so a search stops within one call of either)."""

    __slots__ = ("step", "max_steps", "deadline", "on_error", "steps", "cut")

    def __init__(self, step: Step, max_steps: int | None, deadline: float | None, on_error: OnError | None) -> None:
        self.step = step
        self.max_steps = max_steps if max_steps is not None else 1 << 62
        self.deadline = deadline if deadline is not None else float("inf")
        self.on_error = on_error
        self.steps = 0
        self.cut: Cut | None = None  # which budget ran out (None while neither has)

    def left(self) -> bool:
        """Whether another call may be made (records which budget ran out when not). Tight
        loops check `steps` and `deadline` themselves and call this once they see either spent."""
        if self.cut is not None:
            return False
        if self.steps >= self.max_steps:
            self.cut = "steps"
        elif time.monotonic() > self.deadline:
            self.cut = "time"
        return self.cut is None

    @property
    def spent(self) -> str:
        """Which budget ran out, in words ("" while neither has)."""
        return cut_reason(self.cut, self.max_steps) if self.cut is not None else ""

    def stopped(self, plan: ReturnPlan, fallback: str = "") -> None:
        """Tell `plan` which budget ran out, if one did (its `cut`, and its `reason` in words);
        else give it `fallback` as its reason."""
        plan.cut, plan.reason = self.cut, self.spent or fallback

    def failed(self, exc: BaseException, action: Any) -> None:
        if self.on_error is not None:
            self.on_error(exc, action)


def finish(plan: ReturnPlan, started: float) -> ReturnPlan:
    """Fill in the returns of the plan's sequence from what the program predicted along it."""
    add_returns(plan)
    plan.seconds = time.monotonic() - started
    return plan


def add_returns(plan: ReturnPlan) -> None:
    """The plan's discounted and undiscounted return and done, from its predictions."""
    discount = 1.0
    plan.discounted = plan.total = 0.0
    for _, reward, _ in plan.predictions:
        plan.discounted += discount * reward
        plan.total += reward
        discount *= plan.gamma
    plan.done = bool(plan.predictions) and plan.predictions[-1][2]


def action_choices(action_space: Any) -> tuple[str, list[Any], tuple[list[float], list[float]] | None]:
    """(kind, discrete actions, continuous box) of an action space: any object or mapping with
    `kind` ("discrete", "continuous" or "multidiscrete") and `names`, `low`/`high` or `nvec`."""
    def get(name: str) -> Any:
        return action_space.get(name) if isinstance(action_space, Mapping) else getattr(action_space, name, None)

    kind = get("kind")
    if kind == "discrete":
        names = list(get("names") or ())
        if not names:
            raise ValueError("a discrete action space needs its action names")
        return kind, names, None
    if kind == "multidiscrete":
        nvec = [int(n) for n in get("nvec") or ()]
        if not nvec or min(nvec) < 1:
            raise ValueError("a multi-discrete action space needs its sizes (nvec)")
        if math.prod(nvec) > MAX_JOINT_ACTIONS:
            raise ValueError(f"a multi-discrete space of {math.prod(nvec)} joint actions is more than MCTS "
                             f"searches ({MAX_JOINT_ACTIONS})")
        return kind, list(itertools.product(*(range(n) for n in nvec))), None
    if kind == "continuous":
        low, high = [float(x) for x in get("low") or ()], [float(x) for x in get("high") or ()]
        if not low or len(low) != len(high) or not all(math.isfinite(x) for x in low + high) or \
                any(a > b for a, b in zip(low, high, strict=True)):
            raise ValueError("a continuous action space needs finite bounds (low <= high) of the same size")
        return kind, [], (low, high)
    raise ValueError(f"unknown kind of action space: {kind!r}")
