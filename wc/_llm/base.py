"""The LLM client protocol and the values it produces."""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from wc._core.values import LLMCall


@dataclass
class Completion:
    text: str
    call: LLMCall


OnCall = Callable[[LLMCall], Awaitable[None]]


class ChatClient(Protocol):
    model: str
    wait: WaitClock
    on_call: OnCall | None  # told of every request sent, answered or not (the store records them)
    may_send: Callable[[float | None], bool] | None  # asked before every attempt, with its estimated cost

    async def complete(self, messages: list[dict[str, str]], *, purpose: str, sample: int = 0) -> Completion:
        """One answer; raises wc.errors.LLMError when the request failed after its retries."""


class WaitClock:
    """Time during which at least one request was outstanding (the union of the intervals)."""

    def __init__(self) -> None:
        self.outstanding = 0
        self.total = 0.0
        self._since = 0.0

    def enter(self) -> None:
        if self.outstanding == 0:
            self._since = time.monotonic()
        self.outstanding += 1

    def exit(self) -> None:
        self.outstanding -= 1
        if self.outstanding == 0:
            self.total += time.monotonic() - self._since

    @property
    def seconds(self) -> float:
        return self.total + (time.monotonic() - self._since if self.outstanding else 0.0)


class NoLLM:
    """The client of a run allowed no LLM call (`max_llm_calls=0`): nothing is configured and
    nothing is asked; a request is a CallBudgetSpent, as for any spent budget."""

    def __init__(self, model: str = "none") -> None:
        self.model = model
        self.wait = WaitClock()
        self.on_call: OnCall | None = None
        self.may_send: Callable[[float | None], bool] | None = None

    async def complete(self, messages: list[dict[str, str]], *, purpose: str, sample: int = 0) -> Completion:
        from wc.errors import CallBudgetSpent

        raise CallBudgetSpent("this run may send no LLM request (its call budget is 0)")
