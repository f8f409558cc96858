"""The SQL knowledge store. Only this package talks SQL."""
from wc.store.repo import CurriculumSummary, ProgramRecord, RunBusy, RunSummary, Store

__all__ = ["CurriculumSummary", "ProgramRecord", "RunBusy", "RunSummary", "Store"]
