"""The LLM client protocol and the values it produces."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Protocol


# statuses of recorded calls: those that carry an answer, and those that are not failures
ANSWERED = ("ok", "truncated")
NOT_FAILED = ANSWERED + ("replayed", "cancelled")


def request_hash(model: str, messages: list[dict[str, str]]) -> str:
    """Identifies a request by what was asked: for accounting, resume and replay."""
    return hashlib.sha256(json.dumps([model, messages], sort_keys=True).encode()).hexdigest()


@dataclass
class LLMCall:
    """One request sent (retries are separate requests), as the store records it."""

    purpose: str
    model: str
    messages: list[dict[str, str]]
    sample: int = 0
    attempt: int = 1
    answer: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    status: str = "ok"  # ok | truncated | rate_limited | timeout | server_error | connection_error | refused | error
    error: str | None = None
    finish_reason: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Completion:
    text: str
    call: LLMCall


OnCall = Callable[[LLMCall], Awaitable[None]]


class ChatClient(Protocol):
    model: str
    wait: "WaitClock"

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
