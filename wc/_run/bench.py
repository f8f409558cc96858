"""`wc bench cwmb`: the Code World Models Benchmark end to end. For each environment: a fit of
its dataset with at most N LLM calls (`wc._run.fit`, with the environment's documentation in the
prompt, as CWMB gives it), the program's accuracy on that dataset in both forms
(`wc._measure.accuracy`; the table shows the paper's, eq. 2), and its normalized return over
`episodes` episodes with CWMB's planner for the environment (`wc._measure.program`: R_random,
R_true with the live environment as the planner's model, R_program planned in the program inside
the sandbox). The means per group (CWMB's discrete and continuous environments) stand beside the
published rows (`wc.datasets.cwmb.PUBLISHED`).

An environment that cannot be measured here (MuJoCo not installed, Humanoid's missing data) is
reported with its error and the others go on; with `data` (one environment of the user's own),
the error is raised. A program whose plan fails at a step plays a random
action there (counted as `plan_failures`).
"""
from __future__ import annotations

import asyncio
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wc._core.config import Settings
from wc._core.tolerance import CWMB
from wc._core.values import RunStatus
from wc._measure.accuracy import CWMB_REWARD, Accuracy, Recorded, accuracy
from wc._measure.program import NormalizedReturn, cwmb_settings, measure_return, predicted
from wc._planning.returns import ReturnPlan
from wc._run.fit import FitConfig, FitResult, data_transitions, fit, make_env, resume_fit
from wc._sandbox.sandbox import Sandbox, SandboxLimits
from wc._store import open_store
from wc.errors import InvalidInput, WcError
from wc.events import BenchEnvEnded, BenchEnvStarted, OnEvent

__all__ = ["BenchEnv", "BenchResult", "bench", "fit_or_reuse"]

DECISION_SECONDS = 300.0  # a bound on one decision of the planner in a program (CWMB's planners take far less)


@dataclass
class BenchEnv:
    """One environment's line of the benchmark."""

    env: str                       # as named (CWMB's id, or the user's environment)
    env_id: str | None = None      # the gymnasium id that made it here
    group: str = "discrete"        # CWMB's group: "discrete" (MCTS) or "continuous" (CEM)
    fit: FitResult | None = None
    accuracy: Accuracy | None = None
    returns: NormalizedReturn | None = None
    plan_failures: int = 0
    error: str | None = None
    failure: WcError | None = field(default=None, repr=False)  # the error itself, for a benchmark of one

    @property
    def normalized_return(self) -> float | None:
        return None if self.returns is None else self.returns.value

    def to_json(self) -> dict[str, Any]:
        run = self.fit.run if self.fit else None
        return {"env": self.env, "env_id": self.env_id, "group": self.group,
                "run_id": run.id if run else None, "program_id": self.fit.program_id if self.fit else None,
                "fits": self.fit.fits if self.fit else None, "llm_calls": run.llm_calls if run else None,
                "tokens": run.prompt_tokens + run.completion_tokens if run else None,
                "wall_seconds": run.wall_seconds if run else None,
                "accuracy_paper": self.accuracy.paper if self.accuracy else None,
                "accuracy_code": self.accuracy.code if self.accuracy else None,
                "normalized_return": self.normalized_return,
                "returns": self.returns.to_json() if self.returns else None, "plan_failures": self.plan_failures,
                "error": self.error}


@dataclass
class BenchResult:
    """The benchmark's lines, their means per group and the published rows beside them."""

    envs: list[BenchEnv]
    max_llm_calls: int
    episodes: int
    model: str | None
    published: Sequence[dict[str, Any]] = field(default_factory=tuple)
    table_accuracy: str = "accuracy_paper"  # the form the table shows (the paper's, eq. 2)

    def means(self) -> dict[str, dict[str, Any]]:
        """Per group, the mean of each measure over the environments that have it."""
        out: dict[str, dict[str, Any]] = {}
        for group in ("discrete", "continuous"):
            lines = [e for e in self.envs if e.group == group]
            if not lines:
                continue
            out[group] = {"envs": len(lines)}
            for key, values in (("accuracy_paper", [e.accuracy.paper for e in lines if e.accuracy]),
                                ("accuracy_code", [e.accuracy.code for e in lines if e.accuracy]),
                                ("normalized_return", [e.normalized_return for e in lines
                                                       if e.normalized_return is not None])):
                out[group][key] = statistics.fmean(values) if values else None
        return out

    def to_json(self) -> dict[str, Any]:
        return {"benchmark": "cwmb", "table_accuracy": self.table_accuracy, "max_llm_calls": self.max_llm_calls,
                "episodes": self.episodes, "model": self.model, "envs": [e.to_json() for e in self.envs],
                "means": self.means(), "published": [dict(p) for p in self.published]}


def environments(names: Sequence[str] | None, data: str | None) -> list[str]:
    """The environments to run: `names` (CWMB's ids), or all of CWMB's; with `data`, exactly one
    environment of the user's own (InvalidInput otherwise)."""
    from wc.datasets import cwmb

    if data is not None:
        if not names or len(names) != 1:
            raise InvalidInput("--data gives the dataset of one environment: name it with --envs ENV")
        return list(names)
    if not names:
        return [e.name for e in cwmb.ENVS]
    return [cwmb.env(n).name for n in names]  # UnknownEnvironment for a name CWMB does not have


async def bench(names: Sequence[str] | None = None, settings: Settings | None = None, *, data: str | None = None,
                max_llm_calls: int = 10, episodes: int = 10, max_steps: int | None = None, describe: str = "docs",
                seed: int = 0, fresh: bool = False, on_event: OnEvent | None = None) -> BenchResult:
    """Run the benchmark on `names` (default: CWMB's 18 environments), or on one environment of the
    user's own with `data` (a JSONL file in CWMB's form). Fits of the same settings already in the
    store are reused or resumed (`fit_or_reuse`) unless `fresh`."""
    from wc.datasets import cwmb

    settings = settings or Settings()
    emit: OnEvent = on_event or (lambda event: None)
    chosen = environments(names, data)
    lines = []
    for index, name in enumerate(chosen):
        emit(BenchEnvStarted(env=name, index=index, of=len(chosen)))
        line = await _one(name, data, settings, max_llm_calls=max_llm_calls, episodes=episodes,
                          max_steps=max_steps, describe=describe, seed=seed, fresh=fresh, emit=emit)
        if line.error is not None and data is not None:  # the user's one environment and data: said as an error
            raise line.failure or InvalidInput(line.error)
        lines.append(line)
        emit(BenchEnvEnded(env=name, run_id=line.fit.run.id if line.fit else None,
                           accuracy=line.accuracy.paper if line.accuracy else None,
                           normalized_return=line.normalized_return))
    model = next((line.fit.run.model for line in lines if line.fit and line.fit.run.model), None)
    return BenchResult(lines, max_llm_calls, episodes, model, cwmb.PUBLISHED)


async def fit_or_reuse(config: FitConfig, settings: Settings, emit: OnEvent) -> FitResult:
    """The fit a benchmark needs: an earlier fit of the same configuration in the store when there
    is one (finished: reused; interrupted, failed, or left running by a process that died: resumed
    once more), else a new one.
    So a benchmark run again, after Ctrl-C or a crash, pays for no fit twice."""
    store = await open_store(settings.db)
    try:
        wanted = config.to_json()
        earlier = [r for r in await store.runs.summaries() if r.config == wanted]
        done = [r for r in earlier if r.status == RunStatus.FINISHED]
        if done:
            return await _finished_fit(store, done[-1].id)
    finally:
        await store.close()
    for run in reversed(earlier):
        if run.status in (RunStatus.INTERRUPTED, RunStatus.FAILED, RunStatus.RUNNING):  # RunBusy if one holds it
            return await resume_fit(run.id, settings, on_event=emit)
    return await fit(config, settings, on_event=emit)


async def _finished_fit(store: Any, run_id: int) -> FitResult:
    """A finished fit's result, read back from the store."""
    run = await store.runs.summary(run_id)
    record = await store.runs.get(run_id)
    dataset = await store.datasets.get(record.dataset_id)
    program = await store.programs.get(run.best_program_id) if run.best_program_id else None
    n = program.n_transitions or 0 if program else 0
    explained = program.explained or 0 if program else 0
    return FitResult(run, dataset, run.best_program_id, bool(program and n and explained == n), explained, n)


def _group(name: str, adapter: Any) -> str:
    from wc.datasets import cwmb

    try:
        return "discrete" if cwmb.env(name).discrete else "continuous"
    except WcError:
        return "continuous" if adapter.action_space.kind == "continuous" else "discrete"


async def _one(name: str, data: str | None, settings: Settings, *, max_llm_calls: int, episodes: int,
               max_steps: int | None, describe: str, seed: int, fresh: bool, emit: OnEvent) -> BenchEnv:
    """One environment: fit, then measure; an error that stops it is kept on its line."""
    line = BenchEnv(name)
    try:
        config = FitConfig(env=name, data=data or "cwmb", max_llm_calls=max_llm_calls, describe=describe, seed=seed)
        line.fit = await (fit(config, settings, on_event=emit) if fresh else fit_or_reuse(config, settings, emit))
        adapter = make_env(name, {})
        try:
            line.env_id, line.group = adapter.env_id, _group(name, adapter)
            if line.fit.program_id is not None:
                await _measure(line, adapter, settings, episodes=episodes, max_steps=max_steps, seed=seed)
        finally:
            adapter.close()
    except WcError as exc:
        line.error, line.failure = str(exc), exc
    return line


async def _measure(line: BenchEnv, adapter: Any, settings: Settings, *, episodes: int, max_steps: int | None,
                   seed: int) -> None:
    """The fitted program's accuracy on the dataset and its normalized return, in the sandbox."""
    assert line.fit is not None and line.fit.program_id is not None
    store = await open_store(settings.db)
    try:
        source = (await store.programs.get(line.fit.program_id)).source
        rows = await store.datasets.transitions(line.fit.dataset.id)
    finally:
        await store.close()
    limits = SandboxLimits(jail=settings.sandbox)
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, limits=limits,
                       action_source=adapter.action_source, tolerance=CWMB) as sandbox:
        index = [sandbox.add(t) for t in data_transitions(rows, line.fit.dataset.mission)]
        found = await sandbox.predictions(source)
        preds = [predicted(found[i]) for i in index] if found is not None else None
        if preds is None:  # a program whose worker fails predicts nothing right
            from wc._measure.accuracy import Predicted

            preds = [Predicted(None, None, None) for _ in rows]
        line.accuracy = accuracy(preds, [Recorded.of(t) for t in rows], state_tol=CWMB, reward_tol=CWMB_REWARD,
                                 whole_state=bool(adapter.layout.digits))
        line.returns, line.plan_failures = await _returns(sandbox, source, adapter, episodes=episodes,
                                                          max_steps=max_steps, seed=seed)


async def _returns(sandbox: Sandbox, source: str, adapter: Any, *, episodes: int, max_steps: int | None,
                   seed: int) -> tuple[NormalizedReturn, int]:
    """R_random, R_true and R_program (planned in the program inside the sandbox), played in a
    thread of their own: the live environment's steps and the true model's planning are
    synchronous, the sandbox's answers come from this loop."""
    loop = asyncio.get_running_loop()
    settings = cwmb_settings(adapter)
    planner = "cem-cwmb" if adapter.action_space.kind == "continuous" else "mcts-cwmb"
    rng = random.Random(seed)
    failures = 0

    def decide(state: list[dict[str, Any]], n: int) -> list[Any]:
        nonlocal failures
        plan: ReturnPlan = asyncio.run_coroutine_threadsafe(sandbox.plan_return(
            source, state, adapter.mission, adapter.action_space, planner=planner, time_limit=DECISION_SECONDS,
            seed=seed * 1_000_003 + n), loop).result()
        if plan.action is None:
            failures += 1
            return [adapter.sample_action(rng)]
        if settings.replan_every <= 1 or not plan.actions:
            return [plan.action]
        return list(plan.actions[:settings.replan_every])

    returns = await asyncio.to_thread(measure_return, adapter, decide, planner=settings, episodes=episodes,
                                      seed=seed, max_steps=max_steps)
    return returns, failures
