"""Program versions, their scores, and lineage across runs and environments."""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from wc._core.contract import CONTRACT_VERSION
from wc._store import models as m
from wc._store.base import Database
from wc._store.records import FitRecord, ProgramRecord, iso_utc

if TYPE_CHECKING:  # networkx takes a noticeable share of start-up: imported when a lineage is built
    import networkx as nx


class Programs:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, *, run_id: int | None, environment_id: int, api_module_id: int, source: str,
                  origin: str, parents: list[int], llm_call_id: int | None = None) -> int:
        """Store a program version (once per run, environment and source; programs stored outside
        any run, once per environment and source) and its lineage edges."""
        digest = hashlib.sha256(source.encode()).hexdigest()
        async with self.db.write() as s:
            find = select(m.ProgramRow.id).where(m.ProgramRow.run_id == run_id, m.ProgramRow.source_hash == digest,
                                                 m.ProgramRow.environment_id == environment_id)
            program_id = (await s.execute(find)).scalars().first()
            if program_id is None:
                try:
                    async with s.begin_nested():
                        row = m.ProgramRow(run_id=run_id, environment_id=environment_id, api_module_id=api_module_id,
                                           source=source, source_hash=digest, origin=origin, llm_call_id=llm_call_id,
                                           contract_version=CONTRACT_VERSION)
                        s.add(row)
                        await s.flush()
                    program_id = row.id
                except IntegrityError:  # a concurrent candidate stored the same source first
                    program_id = (await s.execute(find)).scalars().one()
            edges = [{"child_id": program_id, "parent_id": p} for p in dict.fromkeys(parents) if p != program_id]
            if edges:  # concurrent candidates may add the same edge: the second is a no-op
                await s.execute(self.db.insert(m.ProgramParent).values(edges).on_conflict_do_nothing())
            return program_id

    async def add_fit(self, program_id: int, fit: FitRecord) -> None:
        """Record that `program_id` was fitted from `fit.parent_id` (its lineage edge too); a
        second record of the same program keeps the first."""
        values = dict(fit.to_json(), program_id=program_id)
        async with self.db.write() as s:
            await s.execute(self.db.insert(m.ProgramParent).values(child_id=program_id, parent_id=fit.parent_id)
                            .on_conflict_do_nothing())
            await s.execute(self.db.insert(m.ProgramFit).values(**values).on_conflict_do_nothing())

    async def score(self, program_id: int, *, n_transitions: int, explained: int, fit: float,
                    optimism_ok: int | None, optimism_total: int | None, score: float,
                    errors: dict[str, Any] | None, optimism_undecided: int | None = None) -> None:
        async with self.db.write() as s:
            await s.execute(update(m.ProgramRow).where(m.ProgramRow.id == program_id).values(
                n_transitions=n_transitions, explained=explained, fit=fit, optimism_ok=optimism_ok,
                optimism_total=optimism_total, optimism_undecided=optimism_undecided, score=score, errors=errors))

    async def get(self, program_id: int) -> ProgramRecord:
        return await self.db.reading(lambda r: r.program(program_id))

    async def find(self, *, env: str | None = None, run_id: int | None = None) -> list[ProgramRecord]:
        """Stored programs, optionally of one environment or run, oldest first (an unknown run
        is NotFound)."""
        return await self.db.reading(lambda r: r.programs(env=env, run_id=run_id))

    async def lineage(self, program_id: int) -> nx.DiGraph:
        """Ancestors and descendants of a program as a DiGraph (edges parent -> child), each node
        carrying its environment, run, origin, scores, whether it became its run's model, and the
        offline dataset its run learned from (`dataset`, `dataset_name`; None for a run that acted)."""
        import networkx as nx

        rows, edges = await self.db.reading(lambda r: r.lineage_rows(program_id))
        graph = nx.DiGraph()
        for pid, run_id, origin, fit, score, explained, n, created, env, best, dataset, dataset_name in rows:
            graph.add_node(pid, env=env, run=run_id, origin=origin, fit=fit, score=score, explained=explained,
                           n_transitions=n, created_at=iso_utc(created), is_model=best == pid, dataset=dataset,
                           dataset_name=dataset_name)
        graph.add_edges_from(edges)
        return graph

    async def transfer_candidates(self, api_module_name: str, exclude_env: str) -> list[tuple[str, str, ProgramRecord]]:
        """For each other environment whose programs use the same API module: its best program
        (the runs' final models first, then by score), as (environment name, env id, program)."""
        return await self.db.reading(lambda r: r.transfer_candidates(api_module_name, exclude_env))
