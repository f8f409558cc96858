"""φ2 where the reward is not a goal: a plan in the program whose predicted return reaches a target.

The target is the run's `--reward-threshold`, else gymnasium's `spec.reward_threshold` where it
gives one, else the mean return of the run's recent episodes (reached, not exceeded: a program
that predicts what the agent achieves is not refuted for being right; `Learner.returned`).
A return planner (MCTS, CEM) looks a bounded horizon ahead, so its best sequence rarely spans a
whole episode; what the rest of the episode adds is unknown, and the rule reads the plan as
optimistically as its evidence allows:

* the plan's return plus, for every step the episode has left after it (from a start: its step
  limit), the best of its per-step average, the average of its last quarter (where it ends up)
  and the best reward of a recorded step that did not end its episode (`ReturnGoal.best_step`:
  the program explains that reward, so the world gives it somewhere, and it may recur; past the
  horizon the planner saw nothing, and a horizon is a budget, never pessimism), is the episode's
  predicted return. A Pendulum plan from hanging down pays for its swing-up within a 30-step
  horizon and is still swinging at its end; CartPole's 1 a step and Taxi's -1 are kept up either
  way (Taxi's +20 ends its episode: it happens once); and
* a plan that ends the episode by the program's own rules (done) is worth at least its return.

A plan reaching the target is *found*; one below it, from a search that ran to its own settings,
refutes the program (*exhausted*: the prompt says the planner's best plan falls short); a search
stopped by its time or step budget is *undecided*, never pessimism; a program that cannot be
planned in is an *error*.

Every such target is a mean over episodes (gymnasium's threshold is one): an optimal Taxi
episode from a far start returns less than 8, a Pendulum hanging straight down less than -200.
So (`by_mean`) one start's shortfall is read against the program's own predictions from every
start it was judged from (`PredictedReturns`): the start is *found* when their mean reaches the
target, *undecided* while fewer than `MEAN_EVIDENCE` starts have been judged (one start below a
mean is no evidence yet), and refuted only when the mean of at least that many falls short.
Pure: no I/O.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from wc._planning import PlanBudget
from wc._planning.result import BUDGET, ERROR, EXHAUSTED, FOUND, PlanResult
from wc._planning.returns import ReturnPlan


@dataclass
class ReturnGoal:
    """What φ2 asks of a program in a return world; `target` None: nothing to reach yet."""

    action_space: Any
    planner: str
    target: float | None
    episode_steps: int     # the steps an episode has from its start (the environment's limit)
    seconds: float = 10.0  # per start
    seed: int = 0
    by_mean: bool = False  # the target is a mean over episodes (gymnasium's threshold): module docstring
    predicted: PredictedReturns = field(default_factory=lambda: PredictedReturns())
    best_step: float | None = None  # the best reward of a recorded step that did not end its episode


MEAN_EVIDENCE = 4  # starts judged under a program before the mean of its predictions may refute it


class PredictedReturns:
    """Each program's predicted return from each start it was judged from (the newest
    `per_program` starts of the newest `programs` programs): the mean `by_mean` reads."""

    def __init__(self, programs: int = 16, per_program: int = 64) -> None:
        self.programs, self.per_program = programs, per_program
        self._by_program: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()

    def add(self, program: str, start: str, value: float) -> tuple[float, int]:
        """Record `value` from `start` (a newer value replaces an older one); the mean over the
        program's starts and how many there are."""
        starts = self._by_program.pop(program, None) or OrderedDict()
        self._by_program[program] = starts
        while len(self._by_program) > self.programs:
            self._by_program.popitem(last=False)
        starts.pop(start, None)
        starts[start] = value
        while len(starts) > self.per_program:
            starts.popitem(last=False)
        return sum(starts.values()) / len(starts), len(starts)

    def to_json(self) -> dict[str, dict[str, float]]:
        """For a run's checkpoint: a resumed run reads the same means as the uninterrupted one."""
        return {program: dict(starts) for program, starts in self._by_program.items()}

    def restore(self, data: Any) -> None:
        self._by_program.clear()
        for program, starts in (data or {}).items():
            self._by_program[str(program)] = OrderedDict((str(k), float(v)) for k, v in starts.items())


GOAL_NODES = 20_000     # the goal search beside a return planner: program steps …
GOAL_SECONDS = 2.0      # … and seconds, at most


def goal_budget(budget: PlanBudget, steps_left: int) -> PlanBudget:
    """The budget of the breadth-first search for a plan that ends the episode with a positive
    reward, which backs a return planner over discrete actions (rollouts rarely reach a sparse
    reward such as Taxi's drop-off): small, since most return worlds have no such goal."""
    return replace(budget, planner="bfs", max_nodes=min(budget.max_nodes, GOAL_NODES),
                   seconds=min(budget.seconds, GOAL_SECONDS), horizon=steps_left)


def predicted_return(plan: ReturnPlan, steps_left: int, best_step: float | None = None) -> float:
    """The episode's predicted return from a plan of the program (module docstring)."""
    n = len(plan.predictions)
    if n == 0:
        return float("-inf")
    tail = [r for _, r, _ in plan.predictions[-max(1, n // 4):]]
    rate = max(plan.total / n, sum(tail) / len(tail), -float("inf") if best_step is None else best_step)
    kept_up = plan.total + rate * max(steps_left - n, 0)
    return max(kept_up, plan.total) if plan.done else kept_up


def with_goal_plan(verdict: PlanResult, goal_plan: PlanResult, goal: ReturnGoal) -> PlanResult:
    """A verdict below the target, overturned by a goal plan whose return reaches it."""
    value = sum(r for _, r, _ in goal_plan.predictions)
    if verdict.status != EXHAUSTED or not goal_plan.found or goal.target is None or value < goal.target:
        return verdict
    return PlanResult(True, actions=goal_plan.actions, predictions=goal_plan.predictions, nodes=goal_plan.nodes,
                      status=FOUND, reason=f"a plan to a positive reward that ends the episode returns {value:g}",
                      seconds=goal_plan.seconds, planner=goal_plan.planner, depth=len(goal_plan.actions))


def by_mean(verdict: PlanResult, value: float, mean: float, judged_starts: int, goal: ReturnGoal) -> PlanResult:
    """A start's verdict below a threshold that is a mean (module docstring): `value` is the
    start's predicted return, `mean` that of the program over `judged_starts` starts."""
    if verdict.status != EXHAUSTED or goal.target is None or not goal.by_mean:
        return verdict
    if mean >= goal.target:
        return replace(verdict, found=True, status=FOUND,
                       reason=f"predicted return {value:g} from this start; the threshold {goal.target:g} is a mean "
                              f"over episodes, and the program's mean over {judged_starts} starts is {mean:g}")
    if judged_starts < MEAN_EVIDENCE:
        return replace(verdict, status=BUDGET,
                       reason=f"predicted return {value:g} from this start, below the threshold {goal.target:g}, "
                              f"which is a mean over episodes: {judged_starts} of the {MEAN_EVIDENCE} starts "
                              f"a mean needs so far")
    return replace(verdict, reason=f"{verdict.reason}; the program's mean over the {judged_starts} starts it was "
                                   f"judged from, {mean:g}, is below it too")


def judged(plan: ReturnPlan, goal: ReturnGoal) -> PlanResult:
    """A return plan as φ2's verdict on one start (a PlanResult, as a goal planner's)."""
    common: dict[str, Any] = dict(actions=list(plan.actions), predictions=list(plan.predictions), nodes=plan.steps,
                  first_error=plan.first_error, seconds=plan.seconds, planner=plan.planner,
                  depth=len(plan.actions))
    if plan.status == "error":
        return PlanResult(False, reason=plan.reason or "the program cannot be planned in", status=ERROR, **common)
    if plan.status != "found" or plan.cut is not None:
        return PlanResult(False, reason=plan.reason or "the planning budget ran out", status=BUDGET, **common)
    value = predicted_return(plan, goal.episode_steps, goal.best_step)
    if goal.target is None or value >= goal.target:
        return PlanResult(True, reason=f"predicted return {value:g}", status=FOUND, **common)
    return PlanResult(False, status=EXHAUSTED, **common,
                      reason=f"the best plan the {plan.planner} planner found predicts a return of {value:g} over the "
                             f"episode, below the target of {goal.target:g}")
