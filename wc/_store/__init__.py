"""The knowledge store. Only this package talks SQL.

`Store` (async, the ORM, migrations) loads on first use: reading a SQLite store needs only
`wc._store.reading` and the records, which is what keeps read-only commands fast to start."""
from typing import TYPE_CHECKING, Any

from wc._store.reading import holder_alive
from wc._store.records import (
    CallAtStep,
    CurriculumSummary,
    DatasetRecord,
    DataTransition,
    EpisodeRecord,
    EpisodeSummary,
    EpisodeTrace,
    FitRecord,
    LLMCallRecord,
    LLMCallSummary,
    MeasureRecord,
    ProgramRecord,
    RunRecord,
    RunSummary,
    StepRecord,
    SweepCell,
    SweepSummary,
    TransitionRecord,
    UnsolvableStartRecord,
)
from wc.errors import RunBusy

if TYPE_CHECKING:
    from wc._store.store import Store, open_store


def __getattr__(name: str) -> Any:
    if name in ("Store", "open_store"):
        from wc._store import store

        return getattr(store, name)
    raise AttributeError(f"module 'wc._store' has no attribute {name!r}")


__all__ = ["CallAtStep", "CurriculumSummary", "DataTransition", "DatasetRecord", "EpisodeRecord", "EpisodeSummary",
           "EpisodeTrace", "FitRecord", "LLMCallRecord", "LLMCallSummary", "MeasureRecord", "ProgramRecord", "RunBusy",
           "RunRecord", "RunSummary", "StepRecord", "Store", "SweepCell", "SweepSummary", "TransitionRecord",
           "UnsolvableStartRecord",
           "holder_alive", "open_store"]
