"""The Ray engine of sweeps and benchmarks: join a cluster as its driver, and play a sweep's cells
(or a benchmark's environments, `map_on_ray`) as Ray tasks (one CPU each) on whichever nodes Ray
chooses; the store is the PostgreSQL server every node reaches."""
from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from wc._core.secrets import redact
from wc._run.sweep import _cell_event, _open, play_cell
from wc.errors import ConfigError, InvalidInput, RunBusy, WcError
from wc.events import CellBusy, CellEnded, CellStarted, OnEvent

if TYPE_CHECKING:
    from wc._core.config import Settings
    from wc._store import SweepCell


def _play_cell_on_node(sweep_id: int, index: int, settings: Settings) -> dict[str, Any]:
    """A Ray task: play one cell on whichever node Ray chose, recording that node with the run.
    wc's own errors come back as values (the run is in the store either way)."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    try:
        run = asyncio.run(play_cell(sweep_id, index, settings, node=node))
    except RunBusy as exc:
        return {"index": index, "run_id": None, "busy": True, "error": redact(str(exc)), "node": node}
    except WcError as exc:
        return {"index": index, "run_id": None, "error": redact(str(exc)), "node": node}
    return {"index": index, "run_id": run.id, "error": run.error, "node": node}


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("the Ray engine needs Ray: pip install 'worldcoder[ray]'") from None
    return ray


def connect_ray(address: str | None) -> Any:
    """Join the Ray cluster at `address` (or RAY_ADDRESS) as its driver; the `ray` module. An
    address nothing answers at fails within seconds, before Ray's own minutes of retrying."""
    import socket

    ray = _ray()
    if ray.is_initialized():
        return ray
    where = address or os.environ.get("RAY_ADDRESS")
    if not where:
        raise ConfigError("no Ray cluster named: give --address HOST:PORT or set RAY_ADDRESS (`ray start --head` "
                          "starts one and prints its address)")
    host, _, port = where.removeprefix("ray://").rpartition(":")
    if not port.isdigit():
        raise InvalidInput(f"a Ray address is HOST:PORT, not {where!r}")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except OSError as exc:
        raise ConfigError(f"no Ray cluster answers at {where} ({exc.strerror or exc}); start one with "
                          "`ray start --head` or fix --address / RAY_ADDRESS") from None
    try:  # on this thread: Ray sets its signal handlers on the main one
        ray.init(address=where, logging_level=logging.WARNING, log_to_driver=False)
    except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError, …
        raise ConfigError(f"cannot join the Ray cluster at {where}: {type(exc).__name__}: "
                          f"{redact(str(exc))[:300]}") from None
    return ray


def require_shared_store(settings: Settings, what: str) -> None:
    """The Ray engine's store must be one every node reaches: PostgreSQL (InvalidInput otherwise)."""
    if not settings.db.startswith("postgresql"):
        raise InvalidInput(f"a Ray {what} needs a store every node reaches: PostgreSQL (--db "
                           f"postgresql+asyncpg://user@host/db), not {redact(settings.db)}")


async def map_on_ray(fn: Callable[..., dict[str, Any]], calls: Sequence[tuple[Any, ...]], *, parallel: int,
                     address: str | None, started: Callable[[int], None],
                     ended: Callable[[int, dict[str, Any] | None, str | None], Awaitable[None]]) -> None:
    """`fn(*calls[i])` for every i, each as a Ray task (one CPU) on the cluster at `address` (or
    RAY_ADDRESS), at most `parallel` submitted at once: `started(i)` as one is submitted,
    `ended(i, result, None)` as it returns, `ended(i, None, why)` if the task itself died (node
    lost, worker killed). Interrupted, the tasks in flight are cancelled."""
    ray = connect_ray(address)
    task = ray.remote(num_cpus=1, max_retries=2)(fn)
    by_ref: dict[Any, int] = {}
    waiting = list(range(len(calls)))
    try:
        while waiting or by_ref:
            while waiting and len(by_ref) < parallel:
                index = waiting.pop(0)
                started(index)
                by_ref[task.remote(*calls[index])] = index
            done, _ = await asyncio.to_thread(ray.wait, list(by_ref), num_returns=1)
            for ref in done:
                index = by_ref.pop(ref)
                try:
                    result = await asyncio.to_thread(ray.get, ref)
                except Exception as exc:  # noqa: BLE001 - the task died (node lost, worker killed)
                    await ended(index, None, f"the Ray task failed: {type(exc).__name__}: "
                                             f"{redact(str(exc)).splitlines()[0][:300]}")
                    continue
                await ended(index, result, None)
    except BaseException:
        for ref in by_ref:  # the tasks stop; their runs are marked interrupted and resume later
            ray.cancel(ref)
        raise


async def run_ray(sweep_id: int, cells: list[SweepCell], settings: Settings, *, parallel: int,
                  address: str | None, emit: OnEvent) -> None:
    """Each cell as a Ray task (one CPU) on the cluster at `address` (or RAY_ADDRESS), at most
    `parallel` submitted at once; the store is the PostgreSQL server every node reaches."""

    async def ended(index: int, result: dict[str, Any] | None, died: str | None) -> None:
        cell = cells[index]
        if result is None:
            emit(_cell_event(CellEnded, cell, error=died))
            return
        if result.get("busy"):
            emit(_cell_event(CellBusy, cell, error=result["error"]))
            return
        run = None
        if result["run_id"] is not None:
            store = await _open(settings.db)
            try:
                run = await store.runs.summary(result["run_id"])
            finally:
                await store.close()
        emit(_cell_event(CellEnded, cell, run, result["error"]))

    await map_on_ray(_play_cell_on_node, [(sweep_id, cell.index, settings) for cell in cells], parallel=parallel,
                     address=address, started=lambda index: emit(_cell_event(CellStarted, cells[index])),
                     ended=ended)
