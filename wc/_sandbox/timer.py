"""A wall-clock limit per call of a program, by SIGALRM (inside a worker's main thread).

`installed()` puts the handler in place once for a batch of calls (a search makes tens of
thousands), so that each `limit()` costs two `setitimer` calls and nothing else.

This timer is a courtesy: it turns a slow call into a classified `timeout` with its line. A
program can catch it, or loop in C where it never fires, so the limit is also enforced from
outside: inside a worker, `beat` is a counter in memory the parent shares, which moves at every
call's start and end and at every step of the worker's own work (`tick`); the parent kills a
worker whose counter stands still for longer than a call may take (`wc._sandbox.processes`).
That also catches program code that runs where no call is timed (a finalizer, say).
"""
from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from typing import Any


class CallTimeout(BaseException):
    """Raised by the timer when one call of a program runs too long (not catchable as Exception)."""


def _raise_timeout(signum, frame):
    raise CallTimeout()


# set in a sandbox worker: memory shared with the parent, as unsigned 64-bit counters
beat: Any = None


def tick() -> None:
    """Progress of the worker's own work (between calls of the program)."""
    if beat is not None:
        beat[0] += 1


class limit:
    """Interrupt the calls inside after `seconds` of wall time (0: no limit)."""

    enabled = True
    __slots__ = ("seconds", "previous")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.previous: Any = None

    def __enter__(self) -> limit:
        if beat is not None:
            beat[0] += 1
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
        if beat is not None:
            beat[0] += 1


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


class rolling:
    """The same wall-clock limit per call for a tight loop of many short calls (a planner's
    rollouts), at the cost of one clock read per call instead of two timer system calls.

    Armed once on entry; `tick()` before each call re-arms it, and moves the beat, once `every`
    seconds have passed since it was last armed. A call is therefore interrupted after at least
    `seconds - every` and at most `seconds` of its own time. `rearm()` re-arms at once: after a
    `limit` inside (whose exit disarms the timer)."""

    __slots__ = ("seconds", "every", "armed", "previous")

    def __init__(self, seconds: float, every: float = 0.01) -> None:
        self.seconds = seconds
        self.every = every
        self.armed = 0.0
        self.previous: Any = None

    def __enter__(self) -> rolling:
        if limit.enabled and self.seconds > 0 and signal.getsignal(signal.SIGALRM) is not _raise_timeout:
            self.previous = signal.signal(signal.SIGALRM, _raise_timeout)
        self.rearm()
        return self

    def rearm(self) -> None:
        self.armed = time.monotonic()
        if limit.enabled and self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        if beat is not None:
            beat[0] += 1

    def tick(self) -> None:
        if time.monotonic() - self.armed > self.every:
            self.rearm()

    def __exit__(self, *exc: object) -> None:
        if limit.enabled and self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if self.previous is not None:
                signal.signal(signal.SIGALRM, self.previous)
        if beat is not None:
            beat[0] += 1
