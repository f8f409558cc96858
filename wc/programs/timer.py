"""A wall-clock limit per call of a program, by SIGALRM (inside a worker's main thread).

`installed()` puts the handler in place once for a batch of calls (a search makes tens of
thousands), so that each `limit()` costs two `setitimer` calls and nothing else.
"""
from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any


class CallTimeout(BaseException):
    """Raised by the timer when one call of a program runs too long (not catchable as Exception)."""


def _raise_timeout(signum, frame):
    raise CallTimeout()


class limit:
    """Interrupt the calls inside after `seconds` of wall time (0: no limit)."""

    enabled = True
    __slots__ = ("seconds", "previous")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.previous: Any = None

    def __enter__(self) -> limit:
        if self.enabled and self.seconds > 0:
            if signal.getsignal(signal.SIGALRM) is not _raise_timeout:
                self.previous = signal.signal(signal.SIGALRM, _raise_timeout)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled and self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if self.previous is not None:
                signal.signal(signal.SIGALRM, self.previous)


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """The handler in place for every `limit` inside (restored after)."""
    if not limit.enabled:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
