"""What refinement records, into the store: its programs and their scores; its events to the run's caller."""
from __future__ import annotations

from typing import Any

from wc._store import FitRecord, Store
from wc._synth.fitting import Fitted
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

    async def fit(self, program_id: int, parent_id: int, fitted: Fitted) -> None:
        f = fitted.fit
        residuals = {"max_error": f.max_error, "rms": f.rms, "within": f.within, "sample": f.sample,
                     "failed": f.failed, "cost_initial": f.cost_initial, "cost_final": f.cost_final}
        await self.store.programs.add_fit(program_id, FitRecord(
            parent_id=parent_id, status=f.status, message=f.message, initial=f.initial, fitted=f.values,
            budget_seconds=fitted.budget.seconds, n_transitions=fitted.n_transitions, sample=fitted.sample,
            seconds=f.seconds, evaluations=f.evaluations, residuals=residuals,
            budget_evaluations=fitted.budget.evaluations(len(fitted.sample)), cut=f.cut,
            identifiability={"rank": f.rank, "undetermined": f.undetermined, "std_errors": f.std_errors}))

    def event(self, event: Event) -> None:
        self.emit(event)
