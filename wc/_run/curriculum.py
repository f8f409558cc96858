"""Curricula: environments learned in order, each run starting from the previous run's final
program, as one group that can be listed, shown and resumed."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from wc import envs
from wc._agent.config import LearnConfig
from wc._core.config import Settings
from wc._core.values import RunStatus
from wc._llm.base import ChatClient
from wc._run import recordings, transfer
from wc._run.runner import learn, no_llm, resume
from wc._store import CurriculumSummary, RunSummary, open_store
from wc.errors import InvalidInput
from wc.events import CurriculumStep, OnEvent

CURRICULA: dict[str, list[str]] = {
    # the paper's MiniGrid curriculum
    "minigrid": ["minigrid-empty", "minigrid-doorkey", "minigrid-unlock", "minigrid-fetch",
                 "minigrid-unlockpickup", "minigrid-blockedunlockpickup"],
}


@dataclass
class Step:
    """One environment of a curriculum and the run that learned it (None: not yet)."""

    index: int
    env: str
    run: RunSummary | None

    def to_json(self) -> dict[str, Any]:
        """A curriculum step of docs/JSON.md: the run without its episode and call lists."""
        return {"index": self.index, "env": self.env, "run": self.run and self.run.to_json(details=False)}


def expand(names: str | list[str]) -> list[str]:
    """The environments of a curriculum: a built-in name, or a comma-separated list."""
    if isinstance(names, str):
        return CURRICULA.get(names) or [e.strip() for e in names.split(",") if e.strip()]
    return list(names)


async def steps(curriculum_id: int, db: str | None = None) -> tuple[CurriculumSummary, list[Step]]:
    """A curriculum and, for each of its environments, its latest run."""
    store = await open_store(db, create=False)
    try:
        group = await store.curricula.get(curriculum_id)
        runs = [await store.runs.summary(r) for r in group.run_ids]
    finally:
        await store.close()
    out = []
    for index, env in enumerate(group.envs):
        mine = [r for r in runs if r.curriculum_index == index]
        out.append(Step(index, env, mine[-1] if mine else None))
    return group, out


async def run(env_names: list[str], config: LearnConfig, settings: Settings | None = None, *,
              on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None,
              llm_factory: Callable[[], ChatClient] | None = None,
              replay: dict[str, Any] | None = None) -> CurriculumSummary:
    """Learn environments in order, each run starting from the previous run's final program. With
    `replay` (a recording of a curriculum), its environments and configuration are used and each
    step's run is served its recorded answers: no LLM or API key is needed."""
    settings = settings or Settings()
    if replay is not None:
        recordings.expect(replay, "curriculum")
        env_names, config = list(replay["envs"]), LearnConfig.from_json(replay["config"])
    for name in env_names:  # unknown names fail before anything is recorded
        envs.make(name, **config.env_options).close()
    store = await open_store(settings.db)
    try:
        await transfer.named(store, config.from_program)  # the first run's program must exist
        if llm_factory is None and replay is None and config.max_llm_calls > 0 and settings.openai_api_key is None:
            raise no_llm(config.from_program)  # before a curriculum is recorded that could not run
        curriculum_id = await store.curricula.create(env_names, config.to_json())
    finally:
        await store.close()
    return await resume_curriculum(curriculum_id, settings, on_event=on_event, on_start=on_start,
                                   llm_factory=llm_factory, replay=replay)


async def resume_curriculum(curriculum_id: int, settings: Settings | None = None, *,
                            on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None,
                            llm_factory: Callable[[], ChatClient] | None = None,
                            replay: dict[str, Any] | None = None) -> CurriculumSummary:
    """Run what is left of a curriculum: resume its unfinished run, then the remaining envs
    (with `replay`, each new step's run is served its recorded answers)."""
    settings = settings or Settings()
    emit: OnEvent = on_event or (lambda event: None)

    def client(index: int) -> ChatClient | None:
        if replay is not None:
            recorded = recordings.part(replay, "index", index)
            if recorded is None:
                raise InvalidInput(f"the recording holds no run for step {index + 1} ({group.envs[index]})")
            return recordings.client(recorded)
        return llm_factory() if llm_factory else None

    async def set_status(status: str) -> CurriculumSummary:
        store = await open_store(settings.db)
        try:
            await store.curricula.set_status(curriculum_id, status)
            return await store.curricula.get(curriculum_id)
        finally:
            await store.close()

    group, _ = await steps(curriculum_id, settings.db)
    base = LearnConfig.from_json(group.config)
    previous_best: int | None = None
    for index, env_name in enumerate(group.envs):
        latest = (await steps(curriculum_id, settings.db))[1][index].run
        emit(CurriculumStep(index=index, env=env_name, of=len(group.envs)))
        if latest is not None and latest.status == RunStatus.FINISHED:
            summary = latest
        elif latest is not None:
            summary = await resume(latest.id, settings, llm=llm_factory() if llm_factory else None,
                                   on_event=on_event, on_start=on_start)
        else:
            config = replace(base, env=env_name, from_program=previous_best if index > 0 else base.from_program)
            summary = await learn(config, settings, llm=client(index), on_event=on_event,
                                  on_start=on_start, curriculum_id=curriculum_id, curriculum_index=index)
        if summary.status != RunStatus.FINISHED:
            return await set_status(summary.status)
        previous_best = summary.best_program_id
    return await set_status(RunStatus.FINISHED)
