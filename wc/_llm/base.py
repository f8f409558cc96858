"""The LLM client protocol and the values it produces."""
from __future__ import annotations

import copy
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from wc._core.values import LLMCall


@dataclass
class Completion:
    text: str
    call: LLMCall


OnCall = Callable[[LLMCall], Awaitable[None]]
T = TypeVar("T")


class ChatClient(Protocol):
    model: str
    wait: WaitClock
    on_call: OnCall | None  # told of every request sent, answered or not (the store records them)
    may_send: Callable[[float | None], bool] | None  # asked before every attempt, with its estimated cost

    async def complete(self, messages: list[dict[str, str]], *, purpose: str, sample: int = 0) -> Completion:
        """One answer; raises wc.errors.LLMError when the request failed after its retries."""

    def with_hooks(self, *, on_call: OnCall | None, may_send: Callable[[float | None], bool] | None) -> ChatClient:
        """This client as a run uses it: the same connection, model and wait clock, its requests
        reported to `on_call` and each attempt asked of `may_send`. A new object: the client given
        to a run is never changed from outside."""


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

    def with_hooks(self, *, on_call: OnCall | None, may_send: Callable[[float | None], bool] | None) -> NoLLM:
        return hooked(self, on_call, may_send)


def hooked(client: T, on_call: OnCall | None, may_send: Callable[[float | None], bool] | None) -> T:
    """A shallow copy of `client` with these hooks: what it holds (connection, limit, clock,
    recorded answers) is shared, so the copy and the original are one client to the server."""
    view = copy.copy(client)
    view.on_call, view.may_send = on_call, may_send  # type: ignore[attr-defined]
    return view
