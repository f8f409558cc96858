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

`episodes=0` measures the accuracy only (where the return is too costly: CWMB's CEM on MuJoCo
plans with up to 2 million environment steps per plan); the line then says its return was not
measured. R_random is the mean of `RANDOM_EPISODES` episodes whatever `episodes` is, as CWMB's
released code measures it (`src/experiments/eval_envs_random_policy.py`, `n_episodes=10`).
`fit_params` (with `fit_seconds`, `fit_transitions`) is the fit's: a program's PARAMS fitted to
the data before it is judged, or not; it is part of the fit's stored configuration, so a line
with fitting and one without are two fits, each reused and resumed on its own.

Every line is stored (`store.measures`, kind "cwmb", under the episodes, step limit and seed it
was measured with), so a benchmark run again reuses its fits and its measures (resumable, as
sweeps are), and `wc report` draws the benchmark from the store. With `engine="ray"` each
environment is a Ray task (`cluster.map_on_ray`, as a sweep's cells are) on a cluster whose nodes
share a PostgreSQL store; the driver reads the lines back from it.
"""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wc._agent.config import fit_budget
from wc._core.config import Settings
from wc._core.tolerance import CWMB
from wc._core.values import RunStatus
from wc._measure.accuracy import CWMB_REWARD, Accuracy, Recorded, accuracy
from wc._measure.program import NormalizedReturn, cwmb_settings, measure_return, predicted
from wc._measure.table import group_means
from wc._planning.returns import ReturnPlan
from wc._run.fit import FitConfig, FitResult, data_transitions, fit, make_env, resume_fit
from wc._sandbox.sandbox import Sandbox, SandboxLimits
from wc._store import open_store
from wc.errors import InvalidInput, WcError
from wc.events import BenchEnvEnded, BenchEnvStarted, OnEvent

if TYPE_CHECKING:
    from wc._store import Store

__all__ = ["BenchEnv", "BenchResult", "bench", "fit_or_reuse"]

ENGINES = ("local", "ray")
MEASURE = "cwmb"  # the kind of a benchmark line in the store's measures
DECISION_SECONDS = 300.0  # a bound on one decision of the planner in a program (CWMB's planners take far less)
RANDOM_EPISODES = 10  # R_random's episodes (CWMB's eval_envs_random_policy.py), whatever `episodes` is


@dataclass
class BenchEnv:
    """One environment's line of the benchmark."""

    env: str                       # as named (CWMB's id, or the user's environment)
    env_id: str | None = None      # the gymnasium id that made it here
    group: str = "discrete"        # CWMB's group: "discrete" (MCTS) or "continuous" (CEM)
    fit_params: bool | None = None  # the fit fitted a program's PARAMS to the data (None: no fit)
    fit: FitResult | None = None
    accuracy: Accuracy | None = None
    returns: NormalizedReturn | None = None
    plan_failures: int = 0
    measure_seconds: float | None = None  # the time the accuracy and the three returns took
    error: str | None = None
    failure: WcError | None = field(default=None, repr=False)  # the error itself, for a benchmark of one

    @property
    def normalized_return(self) -> float | None:
        return None if self.returns is None else self.returns.value

    @property
    def return_measured(self) -> bool:
        """The three returns were measured (False: accuracy only, `episodes=0`, or an error first)."""
        return self.returns is not None

    @property
    def planner_seconds_per_action(self) -> float | None:
        """The planner's time per action in the program (R_program's episodes)."""
        return None if self.returns is None else self.returns.program.seconds_per_action

    def to_json(self) -> dict[str, Any]:
        run = self.fit.run if self.fit else None
        return {"env": self.env, "env_id": self.env_id, "group": self.group, "fit_params": self.fit_params,
                "run_id": run.id if run else None, "program_id": self.fit.program_id if self.fit else None,
                "fits": self.fit.fits if self.fit else None, "llm_calls": run.llm_calls if run else None,
                "tokens": run.prompt_tokens + run.completion_tokens if run else None,
                "prompt_tokens": run.prompt_tokens if run else None,
                "completion_tokens": run.completion_tokens if run else None,
                "wall_seconds": run.wall_seconds if run else None, "measure_seconds": self.measure_seconds,
                "planner_seconds_per_action": self.planner_seconds_per_action,
                "accuracy_paper": self.accuracy.paper if self.accuracy else None,
                "accuracy_code": self.accuracy.code if self.accuracy else None,
                "accuracy": self.accuracy.to_json() if self.accuracy else None,
                "normalized_return": self.normalized_return, "return_measured": self.return_measured,
                "returns": self.returns.to_json() if self.returns else None, "plan_failures": self.plan_failures,
                "error": self.error}

    def restore(self, result: dict[str, Any]) -> None:
        """The measures of a stored line (`to_json` as it was stored) put back."""
        self.env_id, self.group = result.get("env_id"), result.get("group", self.group)
        self.fit_params = result.get("fit_params", self.fit_params)
        self.accuracy = Accuracy.from_json(result["accuracy"]) if result.get("accuracy") else None
        self.returns = NormalizedReturn.from_json(result["returns"]) if result.get("returns") else None
        self.plan_failures, self.measure_seconds = int(result.get("plan_failures") or 0), result.get("measure_seconds")


@dataclass
class BenchResult:
    """The benchmark's lines, their means per group and the published rows beside them."""

    envs: list[BenchEnv]
    max_llm_calls: int
    episodes: int
    model: str | None
    fit_params: bool = True
    published: Sequence[dict[str, Any]] = field(default_factory=tuple)
    table_accuracy: str = "accuracy_paper"  # the form the table shows (the paper's, eq. 2)

    def means(self) -> dict[str, dict[str, Any]]:
        """Per group, the mean of each measure over the environments that have it."""
        return group_means([e.to_json() for e in self.envs])

    def to_json(self) -> dict[str, Any]:
        return {"benchmark": "cwmb", "table_accuracy": self.table_accuracy, "max_llm_calls": self.max_llm_calls,
                "episodes": self.episodes, "returns_measured": self.episodes > 0,
                "random_episodes": RANDOM_EPISODES if self.episodes > 0 else 0, "fit_params": self.fit_params,
                "model": self.model, "envs": [e.to_json() for e in self.envs],
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
                seed: int = 0, fresh: bool = False, engine: str = "local", parallel: int = 4,
                address: str | None = None, fit_params: bool = True, fit_seconds: float = 10.0,
                fit_transitions: int = 500, on_event: OnEvent | None = None) -> BenchResult:
    """Run the benchmark on `names` (default: CWMB's 18 environments), or on one environment of the
    user's own with `data` (a JSONL file in CWMB's form). Fits and measures of the same settings
    already in the store are reused, an interrupted fit resumed (`fit_or_reuse`), unless `fresh`.
    `engine="ray"`: each environment a Ray task on the cluster at `address` (or RAY_ADDRESS), at
    most `parallel` at once; the store must be PostgreSQL. `episodes=0`: the accuracy only.
    `fit_params`, `fit_seconds`, `fit_transitions`: the fits' fitting of PARAMS (`FitConfig`)."""
    from wc.datasets import cwmb

    settings = settings or Settings()
    emit: OnEvent = on_event or (lambda event: None)
    if engine not in ENGINES:
        raise InvalidInput(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
    if parallel < 1:
        raise InvalidInput("--parallel must be at least 1")
    if episodes < 0:
        raise InvalidInput("--episodes cannot be negative (0: measure the accuracy only)")
    chosen = environments(names, data)
    options = Options(data, max_llm_calls, episodes, max_steps, describe, seed, fresh, fit_params, fit_seconds,
                      fit_transitions)
    fit_budget(fit_params, fit_seconds, fit_transitions)  # a bad fit budget is an InvalidInput at once
    if engine == "ray":
        from wc._run.cluster import connect_ray, require_shared_store

        require_shared_store(settings, "benchmark")
        connect_ray(address)  # an unreachable cluster runs nothing
        lines = await _on_ray(chosen, options, settings, parallel=parallel, address=address, emit=emit)
    else:
        lines = []
        for index, name in enumerate(chosen):
            emit(BenchEnvStarted(env=name, index=index, of=len(chosen)))
            lines.append(await _one(name, options, settings, emit=emit))
            _ended(lines[-1], emit)
    for line in lines:
        if line.error is not None and data is not None:  # the user's one environment and data: said as an error
            raise line.failure or InvalidInput(line.error)
    model = next((line.fit.run.model for line in lines if line.fit and line.fit.run.model), None)
    return BenchResult(lines, max_llm_calls, episodes, model, fit_params, cwmb.PUBLISHED)


@dataclass(frozen=True)
class Options:
    """What a benchmark's line depends on besides the environment (what a Ray task is given)."""

    data: str | None
    max_llm_calls: int
    episodes: int
    max_steps: int | None
    describe: str
    seed: int
    fresh: bool = False
    fit_params: bool = True
    fit_seconds: float = 10.0
    fit_transitions: int = 500

    def fit_config(self, name: str) -> FitConfig:
        return FitConfig(env=name, data=self.data or "cwmb", max_llm_calls=self.max_llm_calls,
                         describe=self.describe, seed=self.seed, fit_params=self.fit_params,
                         fit_seconds=self.fit_seconds, fit_transitions=self.fit_transitions)

    @property
    def measured_with(self) -> dict[str, Any]:
        """What a stored line was measured with besides its fit (its program; the fit's own
        configuration, `fit_params` included, is its run's)."""
        return {"episodes": self.episodes, "max_steps": self.max_steps, "seed": self.seed,
                "random_episodes": RANDOM_EPISODES if self.episodes > 0 else 0}


def _ended(line: BenchEnv, emit: OnEvent) -> None:
    emit(BenchEnvEnded(env=line.env, run_id=line.fit.run.id if line.fit else None,
                       accuracy=line.accuracy.paper if line.accuracy else None,
                       normalized_return=line.normalized_return))


async def fit_or_reuse(config: FitConfig, settings: Settings, emit: OnEvent, *,
                       node: str | None = None) -> FitResult:
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
            return await resume_fit(run.id, settings, on_event=emit, node=node)
    return await fit(config, settings, on_event=emit, node=node)


async def _finished_fit(store: Store, run_id: int) -> FitResult:
    """A finished fit's result, read back from the store."""
    run = await store.runs.summary(run_id)
    record = await store.runs.get(run_id)
    if record.dataset_id is None:
        raise InvalidInput(f"run {run_id} is a fit whose dataset is no longer in the store; fit again")
    dataset = await store.datasets.get(record.dataset_id)
    program = await store.programs.get(run.best_program_id) if run.best_program_id else None
    n = program.n_transitions or 0 if program else 0
    explained = program.explained or 0 if program else 0
    return FitResult(run, dataset, run.best_program_id, bool(program and n and explained == n), explained, n)


def _group(name: str, adapter: Any = None) -> str:
    """CWMB's group of the environment; for one of the user's own, by its adapter's actions
    ("discrete" until it is made)."""
    from wc.datasets import cwmb

    try:
        return "discrete" if cwmb.env(name).discrete else "continuous"
    except WcError:
        return "continuous" if adapter is not None and adapter.action_space.kind == "continuous" else "discrete"


async def _one(name: str, options: Options, settings: Settings, *, emit: OnEvent,
               node: str | None = None) -> BenchEnv:
    """One environment: fit (or reuse the fit), then measure (or reuse the stored measure, else
    store it); an error that stops it is kept on its line."""
    line = BenchEnv(name, group=_group(name), fit_params=options.fit_params)
    try:
        config = options.fit_config(name)
        line.fit = await (fit(config, settings, on_event=emit, node=node) if options.fresh
                          else fit_or_reuse(config, settings, emit, node=node))
        adapter = make_env(name, {})
        try:
            line.env_id, line.group = adapter.env_id, _group(name, adapter)
            if line.fit.program_id is not None and not await _stored(line, options, settings):
                started = time.monotonic()
                await _measure(line, adapter, settings, episodes=options.episodes, max_steps=options.max_steps,
                               seed=options.seed)
                line.measure_seconds = time.monotonic() - started
                await _store(line, options, settings)
        finally:
            adapter.close()
    except WcError as exc:
        line.error, line.failure = str(exc), exc
    return line


async def _stored(line: BenchEnv, options: Options, settings: Settings) -> bool:
    """Whether the store holds this fit's line measured with these options (then put back)."""
    assert line.fit is not None
    store = await open_store(settings.db)
    try:
        found = await store.measures.find(line.fit.run.id, line.fit.program_id, MEASURE, options.measured_with)
    finally:
        await store.close()
    if found is not None:
        line.restore(found.result)
    return found is not None


async def _store(line: BenchEnv, options: Options, settings: Settings) -> None:
    assert line.fit is not None
    store = await open_store(settings.db)
    try:
        await store.measures.add(line.fit.run.id, line.fit.program_id, MEASURE, options.measured_with,
                                 line.to_json())
    finally:
        await store.close()


# --------------------------------------------------------------------------- on Ray


def _env_on_node(index: int, name: str, options: Options, settings: Settings) -> dict[str, Any]:
    """A Ray task: one environment's line, fitted and measured on whichever node Ray chose (the
    fit's run records that node), stored in the shared store; its error comes back as a value."""
    import ray

    from wc._core.secrets import redact

    node = ray.get_runtime_context().get_node_id()
    line = asyncio.run(_one(name, options, settings, emit=lambda event: None, node=node))
    return {"index": index, "run_id": line.fit.run.id if line.fit else None, "node": node,
            "error": None if line.error is None else redact(line.error)}


async def _on_ray(chosen: list[str], options: Options, settings: Settings, *, parallel: int, address: str | None,
                  emit: OnEvent) -> list[BenchEnv]:
    """Every environment as a Ray task; each line read back from the store as the node left it."""
    from wc._run.cluster import map_on_ray

    lines: list[BenchEnv | None] = [None] * len(chosen)

    async def ended(index: int, result: dict[str, Any] | None, died: str | None) -> None:
        name = chosen[index]
        line = BenchEnv(name, error=died or (result or {}).get("error"))
        if line.error is None:
            line = await _read_back(name, options, settings)
        lines[index] = line
        _ended(line, emit)

    await map_on_ray(_env_on_node, [(i, name, options, settings) for i, name in enumerate(chosen)],
                     parallel=parallel, address=address,
                     started=lambda i: emit(BenchEnvStarted(env=chosen[i], index=i, of=len(chosen))), ended=ended)
    return [line or BenchEnv(name, error="not measured") for name, line in zip(chosen, lines, strict=True)]


async def _read_back(name: str, options: Options, settings: Settings) -> BenchEnv:
    """The line a node stored: its fit (the latest finished one of these settings) and measure."""
    line = BenchEnv(name, fit_params=options.fit_params)
    store = await open_store(settings.db)
    try:
        wanted = options.fit_config(name).to_json()
        done = [r for r in await store.runs.summaries() if r.config == wanted and r.status == RunStatus.FINISHED]
        if done:
            line.fit = await _finished_fit(store, done[-1].id)
    finally:
        await store.close()
    if line.fit is None or (line.fit.program_id is not None and not await _stored(line, options, settings)):
        line.error = "the node stored no result for it"
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
        if episodes == 0:  # the accuracy only
            return
        line.returns, line.plan_failures = await _returns(sandbox, source, adapter, episodes=episodes,
                                                          max_steps=max_steps, seed=seed)


async def _returns(sandbox: Sandbox, source: str, adapter: Any, *, episodes: int, max_steps: int | None,
                   seed: int) -> tuple[NormalizedReturn, int]:
    """R_random, R_true and R_program (planned in the program inside the sandbox), played in a
    thread of their own: the live environment's steps and the true model's planning are
    synchronous, the sandbox's answers come from this loop."""
    loop = asyncio.get_running_loop()
    settings = cwmb_settings(adapter, episode_steps=max_steps)
    planner = "cem-cwmb" if adapter.action_space.kind == "continuous" else "mcts-cwmb"
    rng = random.Random(seed)
    failures = 0

    def decide(state: list[dict[str, Any]], n: int, left: int) -> list[Any]:
        nonlocal failures
        plan: ReturnPlan = asyncio.run_coroutine_threadsafe(sandbox.plan_return(
            source, state, adapter.mission, adapter.action_space, planner=planner, time_limit=DECISION_SECONDS,
            seed=seed * 1_000_003 + n, horizon=left), loop).result()  # a random program: planned over chance
        if plan.action is None:
            failures += 1
            return [adapter.sample_action(rng)]
        if settings.replan_every <= 1 or not plan.actions:
            return [plan.action]
        return list(plan.actions[:settings.replan_every])

    returns = await asyncio.to_thread(measure_return, adapter, decide, planner=planner, episodes=episodes,
                                      seed=seed, max_steps=max_steps, random_episodes=RANDOM_EPISODES)
    return returns, failures
