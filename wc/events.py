"""What a run tells its caller while it runs: one frozen dataclass per kind of event.

`learn`, `resume`, `curriculum`, `evaluate`, `react` and `sweep` take `on_event`, a callable that
receives each event as it happens; match on the classes:

    def on_event(event: wc.events.Event) -> None:
        match event:
            case EpisodeEnded(episode=i, success=True, steps=n):
                print(f"episode {i} won in {n} steps")
            case CandidateChecked(program_id=pid, fit=fit):
                print(f"program {pid} explains {fit:.0%} of the transitions")

Events are values for views and logs (`event.to_json()` gives `{"kind": …, **fields}`); nothing
the run does depends on what a callback does with them.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "BenchEnvEnded", "BenchEnvStarted", "BudgetStopped", "CandidateChecked", "CellBusy", "CellEnded", "CellEvent",
    "CellKept", "CellStarted", "CurriculumStep", "DatasetReady", "EpisodeEnded", "EpisodeStarted", "Event",
    "Exploring", "LLMCallFailed", "LLMCalled",
    "OnEvent", "PlanSearched", "ProgramTransferred", "RefineEnded", "RefineRound", "RefineSkipped",
    "RefineStarted", "ReplayServed", "SandboxReady", "StartUnsolvable", "StartsReopened", "StartsSetAside",
    "StepLimit", "StepTaken", "SweepCells", "SweepStarted",
]


@dataclass(frozen=True, slots=True)
class Event:
    """The base of every event; `kind` names it in logs."""

    kind: ClassVar[str] = "event"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **dataclasses.asdict(self)}


OnEvent = Callable[[Event], None]


# --------------------------------------------------------------------------- episodes


@dataclass(frozen=True, slots=True)
class EpisodeStarted(Event):
    """An episode began (`resumed`: the steps a crash left recorded, replayed into the env)."""

    kind: ClassVar[str] = "episode_start"
    episode: int
    mission: str
    seed: int
    resumed: int | None = None


@dataclass(frozen=True, slots=True)
class StepTaken(Event):
    """One action in the environment: `t` counts from 0 in its episode; `reward` is None for a
    ReAct answer that named no admissible action (nothing was played)."""

    kind: ClassVar[str] = "step"
    episode: int
    t: int
    action: str | None
    reward: float | None = None


@dataclass(frozen=True, slots=True)
class EpisodeEnded(Event):
    """An episode ended; the plan counters are the agent's (0 for ReAct), `streak` its run of wins."""

    kind: ClassVar[str] = "episode_end"
    episode: int
    success: bool
    steps: int
    total_reward: float = 0.0
    streak: int | None = None
    plans: int = 0
    plans_undecided: int = 0
    plan_seconds: float = 0.0
    plan_nodes: int = 0


@dataclass(frozen=True, slots=True)
class StepLimit(Event):
    """--max-steps is above the environment's own limit: `lifted` when the adapter lifted it."""

    kind: ClassVar[str] = "step_limit"
    episode: int
    requested: int
    own: int
    lifted: bool


@dataclass(frozen=True, slots=True)
class Exploring(Event):
    """This start no longer counts against φ2, so the episode is played exploring; `believed`:
    the program under which it is believed unsolvable (None: its optimism allowance is used up)."""

    kind: ClassVar[str] = "exploring"
    episode: int
    believed: int | None


@dataclass(frozen=True, slots=True)
class PlanSearched(Event):
    """A search for a plan with the current program; `status` "budget" means undecided."""

    kind: ClassVar[str] = "plan"
    found: bool
    explore: bool
    status: str
    length: int
    shortened: int  # steps a shortcut pass took out of the plan found
    nodes: int
    seconds: float
    factor: float
    program_id: int


# --------------------------------------------------------------------------- refinement


@dataclass(frozen=True, slots=True)
class RefineStarted(Event):
    """A refinement began; `reason` is "scratch", "data" or "optimism"."""

    kind: ClassVar[str] = "refine_start"
    reason: str
    transitions: int
    calls_left: int


@dataclass(frozen=True, slots=True)
class RefineRound(Event):
    """A round of REx pulls these arms (program id or None for scratch, and the kind of repair)."""

    kind: ClassVar[str] = "round"
    round: int
    arms: tuple[tuple[int | None, str], ...]


@dataclass(frozen=True, slots=True)
class CandidateChecked(Event):
    """An LLM answer recorded as a program and checked: its fit (φ1), whether it solves φ1+φ2,
    its optimism in words, and why it could not load (`failure`), if so."""

    kind: ClassVar[str] = "candidate"
    program_id: int
    fit: float
    solved: bool
    optimism: str | None
    failure: str | None


@dataclass(frozen=True, slots=True)
class LLMCallFailed(Event):
    """A request of a refinement failed for good (its retries spent); the refinement goes on."""

    kind: ClassVar[str] = "llm_failed"
    error: str


@dataclass(frozen=True, slots=True)
class StartsSetAside(Event):
    """Starts with no plan used up their optimism allowance and no longer count against φ2."""

    kind: ClassVar[str] = "set_aside"
    starts: int


@dataclass(frozen=True, slots=True)
class RefineEnded(Event):
    """A refinement ended; `program_id` and `fit` are the program now acted with (None: none)."""

    kind: ClassVar[str] = "refine_end"
    solved: bool
    calls: int
    program_id: int | None
    fit: float | None
    set_aside: int = 0


@dataclass(frozen=True, slots=True)
class RefineSkipped(Event):
    """The program does not fit and nothing may be asked (`why`: "budget" or "cooldown"): acting
    with it unrefined. Said once per program and reason."""

    kind: ClassVar[str] = "refine_skipped"
    reason: str
    why: str
    program_id: int
    fit: float
    calls_left: int
    transitions: int


@dataclass(frozen=True, slots=True)
class StartsReopened(Event):
    """New data contradicts the program: starts believed unsolvable or set aside count again."""

    kind: ClassVar[str] = "reopened"
    believed: int
    set_aside: int


@dataclass(frozen=True, slots=True)
class StartUnsolvable(Event):
    """A start set aside is believed unsolvable under the program (a complete search found no
    plan); `believed` counts such starts."""

    kind: ClassVar[str] = "unsolvable"
    program_id: int
    mission: str
    believed: int


# --------------------------------------------------------------------------- the run around the agent


@dataclass(frozen=True, slots=True)
class LLMCalled(Event):
    """A request was answered or failed (`status`), with its latency in seconds and tokens."""

    kind: ClassVar[str] = "llm_call"
    status: str
    latency: float
    purpose: str
    tokens: int


@dataclass(frozen=True, slots=True)
class BudgetStopped(Event):
    """No more requests may be sent: `reason` says which limit (e.g. the cost) stopped them."""

    kind: ClassVar[str] = "budget"
    reason: str


@dataclass(frozen=True, slots=True)
class SandboxReady(Event):
    """The sandbox is up; `active` is False when LLM-written code runs without the OS jail."""

    kind: ClassVar[str] = "sandbox"
    jail: str
    active: bool


@dataclass(frozen=True, slots=True)
class DatasetReady(Event):
    """A fit's dataset is in the store: `imported` now, or found there from an earlier import."""

    kind: ClassVar[str] = "dataset"
    dataset_id: int
    name: str
    transitions: int
    episodes: int
    imported: bool


@dataclass(frozen=True, slots=True)
class BenchEnvStarted(Event):
    """`wc bench cwmb` begins an environment (`index` of `of`)."""

    kind: ClassVar[str] = "bench_env_start"
    env: str
    index: int
    of: int


@dataclass(frozen=True, slots=True)
class BenchEnvEnded(Event):
    """`wc bench cwmb` measured an environment: its fit's run, accuracy (the paper's form) and
    normalized return (None: "n/a", or not measured)."""

    kind: ClassVar[str] = "bench_env_end"
    env: str
    run_id: int | None
    accuracy: float | None
    normalized_return: float | None


@dataclass(frozen=True, slots=True)
class ProgramTransferred(Event):
    """A program of another run (`from_program`, of `env`) stored as `program_id` for this run;
    all None when --from-program auto found no program that fits."""

    kind: ClassVar[str] = "transfer"
    from_program: int | None
    program_id: int | None
    env: str | None


@dataclass(frozen=True, slots=True)
class ReplayServed(Event):
    """A resumed run's answers: `hits` served from the store, `misses` asked anew."""

    kind: ClassVar[str] = "replay"
    hits: int
    misses: int


@dataclass(frozen=True, slots=True)
class CurriculumStep(Event):
    """A curriculum moves to its environment number `index` (from 0) of `of`."""

    kind: ClassVar[str] = "curriculum_step"
    index: int
    env: str
    of: int


# --------------------------------------------------------------------------- sweeps


@dataclass(frozen=True, slots=True)
class SweepStarted(Event):
    kind: ClassVar[str] = "sweep_start"
    sweep_id: int


@dataclass(frozen=True, slots=True)
class SweepCells(Event):
    """What this process plays of a sweep: `todo` of its `cells` (this shard's, on `engine`)."""

    kind: ClassVar[str] = "sweep_cells"
    sweep_id: int
    todo: int
    cells: int
    shard: str
    engine: str


@dataclass(frozen=True, slots=True)
class CellEvent(Event):
    """A cell of a sweep (an environment and a seed) and, once it has one, its run's counters."""

    index: int
    env: str
    seed: int
    run_id: int | None
    error: str | None = None
    status: str | None = None
    episodes: int | None = None
    successes: int | None = None
    env_steps: int | None = None
    llm_calls: int | None = None
    node: str | None = None
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class CellStarted(CellEvent):
    kind: ClassVar[str] = "cell_start"


@dataclass(frozen=True, slots=True)
class CellEnded(CellEvent):
    """A cell's run ended (`status`), or failed before it had one (`error`)."""

    kind: ClassVar[str] = "cell_end"


@dataclass(frozen=True, slots=True)
class CellKept(CellEvent):
    """A cell whose run already finished: kept as it is."""

    kind: ClassVar[str] = "cell_kept"


@dataclass(frozen=True, slots=True)
class CellBusy(CellEvent):
    """A cell whose run another live process holds: left to it."""

    kind: ClassVar[str] = "cell_busy"
