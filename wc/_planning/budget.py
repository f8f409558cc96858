"""How much one search may spend, in one place: which planner, expansions, depth and seconds."""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class PlanBudget:
    planner: str = "bfws"
    max_nodes: int = 100_000   # expansions (calls of the program's transition)
    max_depth: int = 250       # actions in a plan
    seconds: float = 10.0
    # steps left in the episode, when acting: a plan found near or past it gets a shortcut pass
    horizon: int | None = None

    def scaled(self, factor: float) -> PlanBudget:
        """The same search with `factor` times the nodes and the time (for back-off)."""
        return replace(self, max_nodes=max(1, int(self.max_nodes * factor)), seconds=self.seconds * factor)
