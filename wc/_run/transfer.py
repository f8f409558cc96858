"""Transfer: a run that starts from stored programs instead of from nothing.

`from_program` is a program id, or "auto": the best program of each other environment written
against the same API module, the environments ranked by how alike their names are.
"""
from __future__ import annotations

import re

from wc._store import ProgramRecord, Store
from wc.envs import stored_name
from wc.envs.base import EnvAdapter
from wc.errors import InvalidInput

AUTO_CANDIDATES = 3


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t and t not in {"v0", "minigrid", "wc"}}


def similarity(a: tuple[str, str], b: tuple[str, str]) -> float:
    """How alike two environments are by name: Jaccard overlap of the words in their names and ids."""
    ta, tb = _tokens(" ".join(a)), _tokens(" ".join(b))
    return len(ta & tb) / len(ta | tb) if ta | tb else 0.0


async def named(store: Store, from_program: int | str | None) -> ProgramRecord | None:
    """The program `from_program` names (NotFound when there is none; InvalidInput for what is
    neither an id nor 'auto'); None for 'auto' or nothing."""
    if from_program is None or str(from_program).lower() == "auto":
        return None
    try:
        program_id = int(from_program)
    except (TypeError, ValueError):
        raise InvalidInput(f"from_program takes a program id or 'auto', not {from_program!r}") from None
    return await store.programs.get(program_id)


async def sources(store: Store, from_program: int | str | None, adapter: EnvAdapter) -> list[ProgramRecord]:
    """The stored programs a run starts from (none without `from_program`)."""
    if from_program is None:
        return []
    if str(from_program).lower() == "auto":
        found = await store.programs.transfer_candidates(adapter.api.name, stored_name(adapter))
        found.sort(key=lambda item: (similarity((item[0], item[1]), (stored_name(adapter), adapter.env_id)),
                                     item[2].score or 0.0), reverse=True)
        return [program for _, _, program in found[:AUTO_CANDIDATES]]
    program = await named(store, from_program)
    return [program] if program is not None else []
