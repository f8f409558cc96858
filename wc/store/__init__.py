"""The SQL knowledge store. Only this package talks SQL."""
from wc.errors import RunBusy
from wc.store.repo import CurriculumSummary, ProgramRecord, RunSummary, Store

__all__ = ["CurriculumSummary", "ProgramRecord", "RunBusy", "RunSummary", "Store"]
