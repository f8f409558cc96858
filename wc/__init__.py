"""wc: model-based LLM agents that learn world models by writing code (WorldCoder).

    import wc
    run = wc.learn("minigrid-doorkey", replay=wc.load_recording("minigrid-doorkey"))
    report = wc.evaluate("minigrid-doorkey", from_program=run.best_program_id, episodes=5)
    with wc.Store() as store:
        graph = wc.lineage(run.best_program_id)          # a networkx.DiGraph
        print([r.id for r in store.runs()])

Entry points, each a plain function here and a coroutine of the same name in `wc.aio`:
`learn`, `fit`, `resume`, `curriculum`, `evaluate`, `sweep`, `lineage`, `load_recording`, `report`; `Store` for
queries (`wc.aio.Store` async); `check_program` checks a program against the contract.
Everything else is private (`wc._…` packages; docs/ARCHITECTURE.md draws them).
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = ["Store", "__version__", "aio", "check_program", "curriculum", "evaluate", "fit", "learn", "lineage",
           "load_recording", "report", "resume", "sweep"]

_BLOCKING = {"Store", "curriculum", "evaluate", "fit", "learn", "lineage", "load_recording", "report", "resume",
             "sweep"}


def __getattr__(name: str) -> Any:
    # imported on first use: `import wc` stays light (no store, gymnasium or openai)
    if name == "check_program":
        from wc._run.check import check_program

        return check_program
    if name == "aio":
        return importlib.import_module("wc.aio")
    if name in _BLOCKING:
        return getattr(importlib.import_module("wc._sync"), name)
    raise AttributeError(f"module 'wc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
