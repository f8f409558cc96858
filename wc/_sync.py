"""The plain synchronous forms of `wc.aio`'s entry points, which `import wc` exposes: each runs
its coroutine to completion, also from inside a running event loop (a notebook), where it runs
on a thread of its own."""
from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import wc.aio as aio

if TYPE_CHECKING:
    import networkx as nx

    from wc._store import CurriculumSummary, ProgramRecord, RunSummary, SweepSummary

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1, thread_name_prefix="wc") as pool:  # a loop runs here already (Jupyter)
        return pool.submit(asyncio.run, coro).result()


def blocking(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """`fn`'s synchronous form, with its signature and docstring."""
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> T:
        return run(fn(*args, **kwargs))
    return call


learn = blocking(aio.learn)
fit = blocking(aio.fit)
resume = blocking(aio.resume)
curriculum = blocking(aio.curriculum)
evaluate = blocking(aio.evaluate)
sweep = blocking(aio.sweep)
lineage = blocking(aio.lineage)
load_recording = blocking(aio.load_recording)
report = blocking(aio.report)


class Store:
    """What the knowledge store holds, for queries: `with wc.Store(db) as store: store.runs()`.
    It opens on first use (never creating a store) and keeps one connection, on an event loop of
    its own thread, until `close()` or the end of the `with` block."""

    def __init__(self, db: str | None = None) -> None:
        self._aio = aio.Store(db)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _call(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="wc-store", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
            try:
                asyncio.run_coroutine_threadsafe(self._aio.open(), loop).result()
            except BaseException:
                self.close()
                raise
        return asyncio.run_coroutine_threadsafe(make(), self._loop).result()

    def open(self) -> Store:
        self._call(lambda: asyncio.sleep(0))
        return self

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._aio.close(), loop).result()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            self._loop = self._thread = None

    def __enter__(self) -> Store:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The store's URL, its password masked."""
        self.open()
        return self._aio.url

    def runs(self) -> list[RunSummary]:
        """Every run with its counters (without per-episode lists)."""
        return self._call(self._aio.runs)

    def run(self, run_id: int) -> RunSummary:
        """One run with its episodes and LLM calls."""
        return self._call(lambda: self._aio.run(run_id))

    def programs(self, *, env: str | None = None, run_id: int | None = None) -> list[ProgramRecord]:
        return self._call(lambda: self._aio.programs(env=env, run_id=run_id))

    def program(self, program_id: int) -> ProgramRecord:
        return self._call(lambda: self._aio.program(program_id))

    def lineage(self, program_id: int) -> nx.DiGraph:
        return self._call(lambda: self._aio.lineage(program_id))

    def curricula(self) -> list[CurriculumSummary]:
        return self._call(self._aio.curricula)

    def sweeps(self) -> list[SweepSummary]:
        return self._call(self._aio.sweeps)

    def sweep(self, sweep_id: int) -> SweepSummary:
        return self._call(lambda: self._aio.sweep(sweep_id))
