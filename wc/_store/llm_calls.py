"""Every LLM request sent, with its answer, tokens, cost and status (no API key is ever stored,
so none can leak from here)."""
from __future__ import annotations

import bisect
from datetime import UTC, datetime

from sqlalchemy import func, select

from wc._core.values import ANSWERED, LLMCall, RecordedAnswer, request_hash
from wc._store import models as m
from wc._store.base import Database
from wc._store.reading import aware
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

    async def at_steps(self, run_id: int) -> list[CallAtStep]:
        """The run's LLM calls in the order sent, each with the number of env steps (transitions)
        recorded before it started: the x-axis of the cost curve (calls and tokens against steps)."""
        async with self.db.read() as s:
            calls = (await s.execute(select(m.LLMCallRow.id, m.LLMCallRow.started_at, m.LLMCallRow.prompt_tokens,
                                            m.LLMCallRow.completion_tokens, m.LLMCallRow.status)
                                     .where(m.LLMCallRow.run_id == run_id).order_by(m.LLMCallRow.id))).all()
            if not calls:
                return []
            times = [aware(t) for t in (await s.execute(
                select(m.TransitionRow.recorded_at).where(m.TransitionRow.run_id == run_id)
                .order_by(m.TransitionRow.id))).scalars()]
            exact = all(t is not None for t in times)
            episodes = [] if exact else (await s.execute(
                select(m.Episode.started_at, m.Episode.finished_at, m.Episode.steps)
                .where(m.Episode.run_id == run_id).order_by(m.Episode.index))).all()
        recorded = sorted(t for t in times if t is not None)
        out = []
        for call_id, started, ptok, ctok, status in calls:
            at = started if started.tzinfo is not None else started.replace(tzinfo=UTC)
            step = bisect.bisect_right(recorded, at) if exact else _estimated(episodes, at, len(times))
            out.append(CallAtStep(call_id, at, step, ptok, ctok, status, exact))
        return out


def _estimated(episodes, moment: datetime, total: int) -> int:
    """Steps before `moment` from episode times alone: the steps of the episodes finished by then,
    and of the one under way a share proportional to its elapsed time."""
    steps = 0
    for started, finished, n in episodes:
        started, finished = aware(started), aware(finished)
        if finished is not None and finished <= moment:
            steps += n
        elif started is not None and started <= moment and finished is not None and finished > started:
            steps += int(n * (moment - started) / (finished - started))
    return min(steps, total)
