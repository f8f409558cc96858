"""Every LLM request sent, with its answer, tokens, cost and status (no API key is ever stored,
so none can leak from here)."""
from __future__ import annotations

from sqlalchemy import func, select

from wc.store import models as m
from wc.store.base import Database
from wc.store.records import LLMCallRecord
from wc.values import ANSWERED, LLMCall, RecordedAnswer, request_hash


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
        async with self.db.read() as s:
            rows = await s.execute(select(m.LLMCallRow).where(m.LLMCallRow.run_id == run_id).order_by(m.LLMCallRow.id))
            return [LLMCallRecord(r.id, r.purpose, r.model, r.messages, r.request_hash, r.sample, r.attempt, r.answer,
                                  r.prompt_tokens, r.completion_tokens, r.latency_s, r.status, r.error, r.cost_usd,
                                  r.started_at) for r in rows.scalars()]

    async def count(self, run_id: int) -> int:
        async with self.db.read() as s:
            return int((await s.execute(select(func.count()).select_from(m.LLMCallRow)
                                        .where(m.LLMCallRow.run_id == run_id))).scalar_one())

    async def recorded_answers(self, run_id: int) -> list[RecordedAnswer]:
        """Answers the run already paid for, in the order they were received."""
        async with self.db.read() as s:
            rows = await s.execute(select(m.LLMCallRow).where(
                m.LLMCallRow.run_id == run_id, m.LLMCallRow.status.in_(ANSWERED)).order_by(m.LLMCallRow.id))
            return [RecordedAnswer(r.request_hash, r.sample, r.answer or "", r.id, r.prompt_tokens,
                                   r.completion_tokens) for r in rows.scalars()]
