"""The knowledge store. Only this package talks SQL."""
from wc.errors import RunBusy
from wc.store.records import (
                              CallAtStep,
                              CurriculumSummary,
                              EpisodeRecord,
                              EpisodeSummary,
                              LLMCallRecord,
                              LLMCallSummary,
                              ProgramRecord,
                              RunRecord,
                              RunSummary,
                              SweepCell,
                              SweepSummary,
                              TransitionRecord,
)
from wc.store.runs import holder_alive
from wc.store.store import Store

__all__ = ["CallAtStep", "CurriculumSummary", "EpisodeRecord", "EpisodeSummary", "LLMCallRecord", "LLMCallSummary",
           "ProgramRecord", "RunBusy", "RunRecord", "RunSummary", "Store", "SweepCell", "SweepSummary",
           "TransitionRecord", "holder_alive"]
