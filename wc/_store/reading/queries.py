"""What every read shares: the connection a Reader queries, and how a run's liveness and the
store's datetimes are read."""
from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from wc._core.values import RunStatus

STALE_AFTER = timedelta(seconds=30)  # a running run whose heartbeat is older has no live process
BATCH = 500  # ids per IN (...) list


def holder_alive(owner: str | None, heartbeat_at: datetime | None) -> bool:
    """Whether the process named `host:pid` still runs: asked directly on this host, judged by
    its heartbeat elsewhere."""
    beat = aware(heartbeat_at)
    if owner is None or beat is None or datetime.now(UTC) - beat > STALE_AFTER:
        return False
    host, _, pid = owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    return True


def aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite hands back naive datetimes
        return moment.replace(tzinfo=UTC)
    return moment


def live_status(status: str, owner: str | None, heartbeat_at: datetime | None) -> str:
    """'running' only while a live process holds the run; a killed one reads 'interrupted'."""
    if status == RunStatus.RUNNING and not holder_alive(owner, heartbeat_at):
        return RunStatus.INTERRUPTED
    return status


def batches(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), BATCH):
        yield ids[i:i + BATCH]



class Queries:
    """Queries on one synchronous connection (or the sync face of an async session)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def _all(self, query) -> list[Any]:
        return list(self.conn.execute(query).all())

    def _ids(self, query) -> list[int]:
        return [row[0] for row in self.conn.execute(query).all()]
