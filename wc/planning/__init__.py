"""Planners over a world-model program. Pure: no I/O; they run inside the sandbox.

Each takes a start key, the actions of a state, and `expand(key, action) -> (key, reward,
done)`, and returns a `PlanResult` whose status says whether a failure is known (exhausted) or
only a budget's limit (undecided).
"""
from wc.planning.bfs import bfs
from wc.planning.budget import PlanBudget
from wc.planning.result import PlanResult
from wc.planning.width import bfws

PLANNERS = {"bfws": bfws, "bfs": bfs}

__all__ = ["PLANNERS", "PlanBudget", "PlanResult", "bfs", "bfws"]
