"""Planners over a world-model program. Pure: no I/O; they run inside the sandbox."""
from wc.planning.bfs import PlanResult, bfs

__all__ = ["PlanResult", "bfs"]
