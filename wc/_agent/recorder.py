"""What refinement records, into the store: its programs and their scores; its events to the run's caller."""
from __future__ import annotations

from typing import Any

from wc._store import Store
from wc._synth.refine import Candidate, Recorder
from wc.events import Event, OnEvent


class StoreRecorder(Recorder):
    def __init__(self, store: Store, run_id: int, environment_id: int, api_module_id: int, emit: OnEvent) -> None:
        self.store = store
        self.run_id = run_id
        self.environment_id = environment_id
        self.api_module_id = api_module_id
        self.emit = emit

    async def program(self, source: str, origin: str, parents: list[int], llm_call_id: int | None) -> int:
        return await self.store.programs.add(run_id=self.run_id, environment_id=self.environment_id,
                                            api_module_id=self.api_module_id, source=source, origin=origin,
                                            parents=parents, llm_call_id=llm_call_id)

    async def scores(self, cand: Candidate) -> None:
        ev, opt = cand.evaluation, cand.optimism
        errors: dict[str, Any] = dict(ev.error_counts())
        if ev.load_failure:
            errors = {"load": ev.load_failure}
        await self.store.programs.score(
            cand.program_id, n_transitions=ev.n, explained=ev.explained, fit=ev.fit,
            optimism_ok=None if opt is None else opt.ok, optimism_total=None if opt is None else len(opt.plans),
            optimism_undecided=None if opt is None else opt.undecided, score=cand.score, errors=errors or None)

    def event(self, event: Event) -> None:
        self.emit(event)
