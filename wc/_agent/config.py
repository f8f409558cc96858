"""What decides what a run does: its configuration, stored with the run (and with a recording)."""
from __future__ import annotations

import math
import types
import typing
from dataclasses import asdict, dataclass, field
from typing import Any

from wc._core.tolerance import CWMB, Tolerance
from wc._planning import PlanBudget
from wc._sandbox.param_fit import FitBudget
from wc.errors import InvalidInput


@dataclass
class LearnConfig:
    """Everything that decides what a run does; stored with the run."""

    env: str
    env_options: dict[str, Any] = field(default_factory=dict)  # domain options, e.g. {"games": PATH}
    episodes: int = 20
    max_steps: int | None = None       # per episode; the environment's own limit when None
    max_llm_calls: int = 20
    max_cost_usd: float | None = None  # no request is sent that could take the run's LLM cost past this
    concurrency: int = 4               # arms pulled at once after the first request of a refinement
    seed: int = 0
    solved: int | None = 10            # stop after this many consecutive successes …
    min_episodes: int = 1              # … once at least this many episodes were played (the paper: 11)
    c: float = 5.0                     # REx exploration constant
    min_transitions: int = 10          # distinct transitions before the first synthesis
    epsilon: float = 0.0               # chance of a random action while following a plan
    refine_cooldown: int = 10          # new transitions before retrying after a failed refinement
    max_shown: int = 12                # transitions shown when writing from scratch
    max_starts: int = 8                # recent episode starts checked for optimism (φ2)
    # LLM requests a start may cost while a program that fits every transition has no plan from it
    # (a complete search); then its episode is played exploring, and it no longer counts against
    # φ2 until new data contradicts the program. None: unbounded (the paper's φ2)
    optimism_requests: int | None = 1
    workers: int = 2                   # sandbox worker processes
    # goal worlds: "bfws" (width-based, default) or "bfs" (shortest plans); worlds scored by their
    # return: "mcts" or "mcts-cwmb" (discrete actions), "cem" or "cem-cwmb" (continuous); None: the
    # domain's choice (bfws; MCTS or CEM by the action space), resolved before the run is stored
    planner: str | None = None
    plan_max_nodes: int = PlanBudget.max_nodes
    plan_seconds: float = PlanBudget.seconds
    plan_max_depth: int = PlanBudget.max_depth
    call_timeout: float = 2.0          # seconds per call of a program
    from_program: int | str | None = None  # a program id to start from, or "auto"
    describe: str = "data"             # "docs": the environment's documentation in the prompt (`--describe`)
    # how near a predicted number must be to the recorded one in worlds judged by value (CWMB's allclose)
    rtol: float = CWMB.rtol
    atol: float = CWMB.atol
    # worlds scored by their return: the return an episode must reach, in place of gymnasium's
    # `spec.reward_threshold` (None: gymnasium's, where it gives one)
    reward_threshold: float | None = None
    # a program's PARAMS fitted to the data before φ1 judges it (issue 30), within this budget: seconds
    # of its worker's time and a sample of the transitions; the API module states the convention
    fit_params: bool = True
    fit_seconds: float = 10.0
    fit_transitions: int = 500

    def __post_init__(self) -> None:
        self.tolerance  # noqa: B018 - a bad rtol or atol is an InvalidInput at once
        if self.reward_threshold is not None and not math.isfinite(self.reward_threshold):
            raise InvalidInput(f"--reward-threshold must be a finite number, not {self.reward_threshold}")
        self.fit_budget  # noqa: B018 - so is a bad fit budget

    @property
    def fit_budget(self) -> FitBudget | None:
        return fit_budget(self.fit_params, self.fit_seconds, self.fit_transitions)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def plan_budget(self) -> PlanBudget:
        return PlanBudget(planner=self.planner or PlanBudget.planner, max_nodes=self.plan_max_nodes,
                          max_depth=self.plan_max_depth, seconds=self.plan_seconds)

    @property
    def tolerance(self) -> Tolerance:
        return Tolerance(rtol=self.rtol, atol=self.atol)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LearnConfig:
        """A configuration as stored (with a run, or in a recording); a value of the wrong type
        is an InvalidInput that names it, not a crash later on."""
        if not isinstance(data, dict):
            raise InvalidInput(f"a configuration must be a JSON object, not {type(data).__name__}")
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        hints = typing.get_type_hints(cls)
        for key, value in values.items():
            if not _accepts(hints[key], value):
                raise InvalidInput(f"configuration field {key!r} cannot be {value!r}")
        if "env" not in values:
            raise InvalidInput("the configuration names no environment ('env')")
        if "planner" not in data:  # stored before the planner was a setting: it planned breadth-first
            values.update(planner="bfs", plan_seconds=10.0, plan_max_depth=100)
        if "optimism_requests" not in data:  # stored before optimism had a bound: it had none
            values["optimism_requests"] = None
        if "fit_params" not in data:  # stored before PARAMS were fitted: nothing was, and prompts did not say so
            values["fit_params"] = False
        return cls(**values)


def fit_budget(fit_params: bool, seconds: float, transitions: int) -> FitBudget | None:
    """The budget of one fit of PARAMS (a run's or a fit's settings), None where they are not
    fitted; a bad one is an InvalidInput."""
    if not fit_params:
        return None
    try:
        return FitBudget(seconds=seconds, transitions=transitions)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _accepts(hint: Any, value: Any) -> bool:
    """Whether a JSON value fits a LearnConfig field's type (int, float, str, bool, dict, unions)."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(arg, value) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return True
