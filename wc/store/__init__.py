"""The SQL knowledge store. Only this package talks SQL."""
from wc.store.repo import ProgramRecord, RunSummary, Store

__all__ = ["ProgramRecord", "RunSummary", "Store"]
