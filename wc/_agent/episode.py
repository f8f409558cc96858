"""One episode as the agent plays it: where it stands, its plan, and how planning went in it;
and where a run stands when it resumes (an episode a crash left open)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wc._core.values import State
from wc._planning import PlanResult
from wc._store import TransitionRecord


@dataclass
class OpenEpisode:
    """An episode a crash left unfinished: replayed into the env, then continued."""

    id: int
    index: int
    seed: int | None
    mission: str
    transitions: list[TransitionRecord]  # in step order


@dataclass
class ResumePoint:
    next_episode: int
    streak: int
    open_episode: OpenEpisode | None
    checkpoint: dict[str, Any]
    returns: list[float] = field(default_factory=list)  # finished episodes' returns, in order


@dataclass
class PlanBackoff:
    """When to plan again after a search that found nothing, and with how much budget: an
    undecided search is retried later with twice the budget (up to MAX_FACTOR), after 1, 2, 4, …
    exploring steps; a found plan resets it. So the agent never re-plans at full budget on every
    step, and a budget-limited search does not stall an episode."""

    MAX_FACTOR = 4.0
    MAX_WAIT = 16

    next_step: int = 0
    wait: int = 0
    factor: float = 1.0

    def due(self, t: int) -> bool:
        return t >= self.next_step

    def failed(self, t: int, undecided: bool) -> None:
        self.wait = min(self.MAX_WAIT, max(1, self.wait * 2))
        self.next_step = t + self.wait
        if undecided:
            self.factor = min(self.MAX_FACTOR, self.factor * 2)

    def reset(self) -> None:
        self.next_step, self.wait, self.factor = 0, 0, 1.0


@dataclass
class PlanStats:
    """Planning in one episode, recorded with it."""

    plans: int = 0
    undecided: int = 0
    seconds: float = 0.0
    nodes: int = 0

    def add(self, result: PlanResult) -> None:
        self.plans += 1
        self.undecided += int(result.undecided)
        self.seconds += result.seconds
        self.nodes += result.nodes


@dataclass
class Episode:
    """An episode under way: its state, what it has played, and the plan being followed."""

    index: int
    id: int              # in the store
    mission: str
    start: str           # its start's key (wc._core.canonical.start_key)
    state: State
    total: float = 0.0   # reward so far
    steps: int = 0
    max_steps: int = 0   # its step limit, read after its reset
    plan: list[Any] = field(default_factory=list)
    warm: list[Any] = field(default_factory=list)  # a return world's plan after the action played
    expected: list[Any] = field(default_factory=list)  # the program's prediction after each planned action
    optimism_checked: bool = False  # optimism was asked for from a state of this episode
    planned_with: int | None = None  # the program the backoff below belongs to
    goal_with: int | None = None  # a return world's program last asked for a goal plan in this episode
    backoff: PlanBackoff = field(default_factory=PlanBackoff)
    stats: PlanStats = field(default_factory=PlanStats)
    success: bool = False
    terminated: bool = False
    truncated: bool = False


@dataclass(frozen=True)
class Outcome:
    """How `Agent.run` ended: the run's status, the episodes it now has, and why it stopped:
    "solved" (the streak of wins the configuration asks for) or "episodes" (all were played)."""

    status: str
    episodes: int
    stopped: str
