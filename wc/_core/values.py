"""The values every layer of wc passes around. This module imports nothing else of wc, so any
layer may use it: states, transitions, API modules, reward modes, statuses and failure records."""
from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

# A state: a list of entities, each a JSON object with a "type" key and its fields.
State = list[dict[str, Any]]

# How φ1 compares a program's reward with the recorded one: by sign, exactly, or as a value within
# a tolerance (`wc._core.tolerance`; continuous worlds, whose next states are compared the same way).
RewardMode = Literal["sign", "exact", "value"]
REWARD_MODES: tuple[str, ...] = ("sign", "exact", "value")


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of an environment, the one shape every layer holds it in: the agent records it,
    the sandbox keeps the distinct ones (and sends them to its workers as `to_json()`), prompts
    show them, and the store's records extend it with where they were recorded. `action` is a
    name, or a list of numbers (continuous and multi-discrete actions)."""

    state: State
    action: Any
    next_state: State
    reward: float
    done: bool
    mission: str = ""

    def to_json(self) -> dict[str, Any]:
        """The worker's wire form (and a prompt test's fixture form)."""
        return {"state": self.state, "action": self.action, "next_state": self.next_state,
                "reward": self.reward, "done": self.done, "mission": self.mission}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transition:
        return cls(data["state"], data["action"], data["next_state"], float(data["reward"]), bool(data["done"]),
                   data.get("mission", ""))


@dataclass(frozen=True)
class ApiModule:
    """The source the LLM reads and programs run against; versioned, never edited in place."""

    name: str
    version: int
    source: str

    @property
    def ref(self) -> str:
        return f"{self.name}_v{self.version}"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"  # Ctrl-C, or a process that died; `resume` continues it
    FAILED = "failed"


class CallStatus(enum.StrEnum):
    """What became of one LLM request (retries are requests of their own)."""

    OK = "ok"
    TRUNCATED = "truncated"          # answered, but cut at the length limit
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    CONNECTION_ERROR = "connection_error"
    REFUSED = "refused"              # the server will not answer this (auth, bad request)
    ERROR = "error"
    REPLAYED = "replayed"            # served from a recording or the store, not asked
    CANCELLED = "cancelled"          # a sibling candidate solved first


ANSWERED: tuple[CallStatus, ...] = (CallStatus.OK, CallStatus.TRUNCATED)
NOT_FAILED: tuple[CallStatus, ...] = ANSWERED + (CallStatus.REPLAYED, CallStatus.CANCELLED)


class Failure(TypedDict, total=False):
    """A program's failure as data (JSON as it is stored and shown to the LLM): its kind
    ("timeout", "memory", "recursion", "forbidden", "malformed", "syntax", "exception",
    "missing", "no_code", "crash"), a message, and the program line where it happened."""

    kind: str
    message: str
    line: int
    code: str


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
    status: str = CallStatus.OK
    error: str | None = None
    finish_reason: str | None = None
    cost_usd: float | None = None   # from the price table when the model has a price
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedAnswer:
    """An answer the store or a recording holds for a request and sample index. `cancelled`: the
    request was sent and cancelled before its answer (a sibling candidate solved first); it has no
    answer, and a replay sends it again only to count it."""

    request_hash: str
    sample: int
    answer: str
    call_id: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cancelled: bool = False
