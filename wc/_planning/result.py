"""What a planner returns: a plan, or why there is none, and whether that "none" is known.

A search that enumerated every state reachable within its depth limit and found no goal is
*exhausted*: the program offers no plan (φ2 fails). A search stopped by its node or time budget is
*undecided*: a plan may exist beyond what it tried, so it says nothing against the program.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["found", "exhausted", "budget", "error"]
FOUND: Status = "found"
EXHAUSTED: Status = "exhausted"
BUDGET: Status = "budget"
ERROR: Status = "error"  # the program could not be planned in at all (does not load, crashed)


@dataclass
class PlanResult:
    """A plan to the goal, or the reason none was found."""

    found: bool
    actions: list[str] = field(default_factory=list)
    # what the model predicts after each action: (state key, reward, done)
    predictions: list[tuple[Any, float, bool]] = field(default_factory=list)
    nodes: int = 0          # expansions: calls of the program's transition
    reason: str = ""
    first_error: dict[str, Any] | None = None
    status: Status = "budget"
    states: int = 0         # distinct states generated
    depth: int = 0          # deepest state expanded
    seconds: float = 0.0
    planner: str = ""
    # the plan leads to seeing something not seen yet (the goal being out of sight), not to the goal
    explore: bool = False
    shortened: int = 0      # steps a shortcut pass took out of the plan found (planning.shortcut)

    @property
    def exhaustive(self) -> bool:
        """No plan exists in the program within the depth limit (not merely none found)."""
        return self.status == EXHAUSTED

    @property
    def undecided(self) -> bool:
        """Stopped by its budget: no verdict on the program."""
        return self.status == BUDGET


# A state's key: any hashable value (wc's planners get tuples of interned entity ids).
# expand(key, action) -> (next key, reward, done); it may raise (programs are fallible)
Expand = Callable[[Any, str], tuple[Any, float, bool]]
# the actions worth trying in a state, by its key
Actions = Sequence[str] | Callable[[Any], Sequence[str]]
OnError = Callable[[BaseException, str], None]


class BudgetSpent(Exception):
    """A search's node or time budget ran out; the message says which."""


@dataclass
class Expansions:
    """One search's calls of `expand`, counted against its node budget and deadline (checked
    before each call); an edge whose call fails is skipped and shown to `on_error`."""

    expand: Expand
    max_nodes: int
    deadline: float | None = None
    on_error: OnError | None = None
    nodes: int = 0

    def of(self, key: Any, actions: Actions) -> Iterator[tuple[str, Any, float, bool]]:
        """(action, child, reward, done) for each action of `key`; BudgetSpent when the budget ends."""
        for action in (actions(key) if callable(actions) else actions):
            if self.nodes >= self.max_nodes:
                raise BudgetSpent(f"node budget of {self.max_nodes} spent")
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise BudgetSpent("time budget spent")
            self.nodes += 1
            try:
                child, reward, done = self.expand(key, action)
            except Exception as exc:  # noqa: BLE001 - the program is untrusted; timeouts propagate
                if self.on_error is not None:
                    self.on_error(exc, action)
                continue
            yield action, child, reward, done


def unwind(parents: dict, key: Hashable) -> tuple[list[str], list[tuple[Any, float, bool]]]:
    """The actions (and what each led to) from the start to `key`, following parent links."""
    actions: list[str] = []
    predictions: list[tuple[Any, float, bool]] = []
    while parents[key] is not None:
        prev, action, reward, done = parents[key][:4]
        actions.append(action)
        predictions.append((key, reward, done))
        key = prev
    actions.reverse()
    predictions.reverse()
    return actions, predictions
