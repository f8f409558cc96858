"""Planners over a world-model program. Pure: no I/O; they run inside the sandbox.

Each takes a start key, the actions of a state, and `expand(key, action) -> (key, reward,
done)`, and returns a `PlanResult` whose status says whether a failure is known (exhausted) or
only a budget's limit (undecided).

Worlds scored by their return have planners of their own (`mcts`, `cem`), which return a
`ReturnPlan`; `RETURN_PLANNERS` names their settings, CWMB's presets among them.
"""
from wc._planning import cem, iw, mcts, seeded
from wc._planning.bfs import bfs
from wc._planning.budget import PlanBudget
from wc._planning.result import PlanResult
from wc._planning.returns import ReturnBudget, ReturnPlan
from wc._planning.width import bfws

PLANNERS = {"bfws": bfws, "bfs": bfs}
RETURN_PLANNERS: dict[str, mcts.MctsSettings | cem.CemSettings | iw.WidthSettings | seeded.SeededCemSettings] = {
    "iw": iw.WC, "mcts": mcts.WC, "mcts-cwmb": mcts.CWMB, "iw-cem": seeded.WC, "cem": cem.WC, "cem-cwmb": cem.CWMB}
# the return planner a world gets unless one is named, by the kind of its actions
DEFAULT_RETURN_PLANNERS = {"discrete": "iw", "continuous": "iw-cem"}

__all__ = ["DEFAULT_RETURN_PLANNERS", "PLANNERS", "RETURN_PLANNERS", "PlanBudget", "PlanResult", "ReturnBudget",
           "ReturnPlan", "bfs", "bfws",
           "cem", "iw", "mcts", "seeded"]
