"""Every LLM request sent, with its answer, tokens, cost and status (no API key is ever stored,
so none can leak from here)."""
from __future__ import annotations

from wc._core.values import LLMCall, RecordedAnswer, request_hash
from wc._store import models as m
from wc._store.base import Database
from wc._store.records import CallAtStep, LLMCallRecord


class LLMCalls:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, run_id: int | None, call: LLMCall) -> int:
        async with self.db.write() as s:
            row = m.LLMCallRow(
                run_id=run_id, purpose=call.purpose, model=call.model, messages=call.messages,
                request_hash=request_hash(call.model, call.messages), sample=call.sample, attempt=call.attempt,
                answer=call.answer, prompt_tokens=call.prompt_tokens, completion_tokens=call.completion_tokens,
                latency_s=call.latency_s, status=call.status, error=call.error, finish_reason=call.finish_reason,
                started_at=call.started_at, cost_usd=call.cost_usd)
            s.add(row)
            await s.flush()
            return row.id

    async def of_run(self, run_id: int) -> list[LLMCallRecord]:
        return await self.db.reading(lambda r: r.llm_calls(run_id))

    async def count(self, run_id: int) -> int:
        return await self.db.reading(lambda r: r.llm_call_count(run_id))

    async def recorded_answers(self, run_id: int) -> list[RecordedAnswer]:
        """Answers the run already paid for, in the order they were received."""
        return await self.db.reading(lambda r: r.recorded_answers(run_id))

    async def at_steps(self, run_id: int) -> list[CallAtStep]:
        """The run's LLM calls in the order sent, each with the number of env steps (transitions)
        recorded before it started: the x-axis of the cost curve (calls and tokens against steps)."""
        return await self.db.reading(lambda r: r.calls_at_steps(run_id))
