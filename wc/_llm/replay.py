"""Serving recorded answers: an answer already paid for is never paid for again.

`ReplayingChat` wraps a client. The n-th time a request (model and messages) with a given sample
index is asked, it gets the n-th answer recorded for it, if there is one; otherwise the wrapped
client asks the server. Resuming a run uses this with the run's own recorded calls.

A recording also holds the requests that were sent and cancelled before their answer (a round's
siblings, when one candidate solved first: whether a sibling's answer had arrived by then depends
on scheduling). A strict replay (no wrapped client) sends such a request again as cancelled: it
is reported and counted as the recorded one was, and has no answer. Its ReplayMiss is read only
when the run needs that answer, i.e. when the replay diverged from the recording.
"""
from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from wc._core.values import CallStatus, LLMCall, RecordedAnswer, request_hash
from wc._llm.base import ChatClient, Completion, OnCall, WaitClock, hooked
from wc.errors import ReplayMiss


@dataclass
class Served:
    """Recorded answers served, and requests the recording did not hold (passed on)."""

    hits: int = 0
    misses: int = 0


class ReplayingChat:
    def __init__(self, inner: ChatClient | None, recorded: Iterable[RecordedAnswer], *, model: str | None = None,
                 record_hits: bool = False) -> None:
        """`record_hits`: report served answers to `on_call` as calls of status 'replayed' (a new
        run reproducing a recording); False when they are the run's own, already stored."""
        self.inner = inner
        self.record_hits = record_hits
        self.model = model or (inner.model if inner is not None else "replay")
        self.wait = inner.wait if inner is not None else WaitClock()  # nothing is waited for
        self._queues: dict[tuple[str, int], deque[RecordedAnswer]] = defaultdict(deque)
        for rec in recorded:
            self._queues[(rec.request_hash, rec.sample)].append(rec)
        self.served = Served()
        self.on_call: OnCall | None = None
        self.may_send: Callable[[float | None], bool] | None = None

    def with_hooks(self, *, on_call: OnCall | None, may_send: Callable[[float | None], bool] | None) -> ReplayingChat:
        view = hooked(self, on_call, may_send)  # the queues and counts stay shared: one recording served once
        if self.inner is not None:
            view.inner = self.inner.with_hooks(on_call=on_call, may_send=may_send)
        return view

    @property
    def hits(self) -> int:
        return self.served.hits

    @property
    def misses(self) -> int:
        return self.served.misses

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    async def complete(self, messages: list[dict[str, str]], *, purpose: str, sample: int = 0) -> Completion:
        queue = self._queues.get((request_hash(self.model, messages), sample))
        if queue and queue[0].cancelled and self.inner is not None:
            queue.popleft()  # resuming: the answer is needed now and can be asked for
            queue = None
        if queue and queue[0].cancelled:
            await self._cancelled(queue.popleft(), messages, purpose, sample)
        if queue:
            rec = queue.popleft()
            self.served.hits += 1
            call = LLMCall(purpose=purpose, model=self.model, messages=messages, sample=sample, answer=rec.answer,
                           prompt_tokens=rec.prompt_tokens, completion_tokens=rec.completion_tokens,
                           status=CallStatus.REPLAYED)
            call.meta["id"] = rec.call_id
            if self.record_hits and self.on_call is not None:
                await self.on_call(call)
            return Completion(rec.answer, call)
        self.served.misses += 1
        if self.inner is None:
            raise ReplayMiss(f"the recording has no answer for this {purpose} request (sample {sample}); "
                             "the run diverged from the recorded one")
        return await self.inner.complete(messages, purpose=purpose, sample=sample)

    async def _cancelled(self, rec: RecordedAnswer, messages: list[dict[str, str]], purpose: str,
                         sample: int) -> None:
        """The recorded request was cancelled before its answer: report it as such, then fail."""
        self.served.hits += 1
        call = LLMCall(purpose=purpose, model=self.model, messages=messages, sample=sample, answer=None,
                       status=CallStatus.CANCELLED, error="cancelled in the recording")
        call.meta["id"] = rec.call_id
        if self.record_hits and self.on_call is not None:
            await self.on_call(call)
        raise ReplayMiss(f"the recording's {purpose} request (sample {sample}) was cancelled before its answer, "
                         "as a sibling candidate solved first; this replay needs the answer: the run diverged "
                         "from the recorded one")

    async def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            await close()


RECORDING_FORMAT = "wc-llm-recording"


def load_recording(data: dict) -> tuple[dict, list[RecordedAnswer]]:
    """A recording written by `wc runs export-llm`: its header and its answers, in order."""
    if data.get("format") != RECORDING_FORMAT:
        raise ValueError(f"not a wc LLM recording (format is {data.get('format')!r})")
    answers = [RecordedAnswer(c["request_hash"], int(c["sample"]), c["answer"] or "", None,
                              int(c.get("prompt_tokens", 0)), int(c.get("completion_tokens", 0)),
                              cancelled=c.get("answer") is None)
               for c in data["calls"] if c.get("answer") is not None or c.get("status") == CallStatus.CANCELLED]
    return data, answers
