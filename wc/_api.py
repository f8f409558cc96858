"""wc's public Python API: everything the command line does, as async functions.

Learning
    `learn(config, settings)`               a run of the agent on one environment (or a replay)
    `resume(run_id, settings)`              continue an interrupted run
    `curriculum(envs, config, settings)`    environments in order, each from the previous program
    `resume_curriculum(curriculum_id, …)`
    `evaluate(env, settings, from_program=ID)` every game of a split once, from a learned program
    `react(env, settings)`                  the ReAct baseline: one LLM call per action, same store
    `sweep(envs, seeds, settings, config=…)` every (env, seed) as a run of one sweep: local, Ray, shards
    `create_sweep`, `resume_sweep(sweep_id, …)`, `sweep_view(sweep_id)`, `sweeps()`

What the store knows (each takes `db`, a store URL; the default is `Settings().db`)
    `run_summary`, `list_runs`, `program`, `programs`, `lineage` (a networkx.DiGraph),
    `export_llm`, `export_llm_curriculum`, `export_llm_sweep` / `load_replay` (recordings),
    `curricula`, `curriculum_summary`,
    `curriculum_steps`, `export_program`, `db_upgrade`, `db_current`,
    `render_episode` (an episode played back as a GIF, PNG sheet or transcript);
    `add_program(env, source)` stores a program written elsewhere, to learn or evaluate from

The machine and the environments
    `doctor(settings)` (the sandbox's walls), `installation(settings)` (store, LLM, extras),
    `env_specs()`, `api_module_source(env)`,
    `check_program(env, source)` (a program against the contract)

Orchestration lives in modules named for what they do: `wc._run.runner` (a run), `wc._run.resume`,
`wc._run.transfer`, `wc._run.curriculum`, `wc._run.recordings`.
"""
from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # what a command needs is imported when it runs: reading commands start fast
    import networkx as nx

    from wc._agent.config import LearnConfig
    from wc._core.config import Settings
    from wc._report.playback import Playback
    from wc._run.bench import bench
    from wc._run.check import ProgramCheck, check_program
    from wc._run.curriculum import CURRICULA, Step, resume_curriculum
    from wc._run.curriculum import expand as expand_curriculum
    from wc._run.curriculum import run as curriculum
    from wc._run.evaluate import EvalReport, evaluate
    from wc._run.fit import FitConfig, fit, resume
    from wc._run.react import react
    from wc._run.runner import learn
    from wc._run.sweep import Shard, create_sweep, parse_seeds, resume_sweep, sweep, sweeps
    from wc._run.sweep import view as sweep_view
    from wc._run.sweep import view_of as sweep_view_of
    from wc._sandbox import jail as jails
    from wc._store import CurriculumSummary, ProgramRecord, RunSummary, Store
    from wc._store.reading import Reader
    from wc.envs.options import parse_env_options

# re-exported names, imported on first use: name -> (module, attribute)
_LAZY = {
    "LearnConfig": ("wc._agent.config", "LearnConfig"),
    "ProgramCheck": ("wc._run.check", "ProgramCheck"),
    "check_program": ("wc._run.check", "check_program"),
    "Settings": ("wc._core.config", "Settings"),
    "CURRICULA": ("wc._run.curriculum", "CURRICULA"),
    "Step": ("wc._run.curriculum", "Step"),
    "resume_curriculum": ("wc._run.curriculum", "resume_curriculum"),
    "expand_curriculum": ("wc._run.curriculum", "expand"),
    "curriculum": ("wc._run.curriculum", "run"),
    "EvalReport": ("wc._run.evaluate", "EvalReport"),
    "evaluate": ("wc._run.evaluate", "evaluate"),
    "react": ("wc._run.react", "react"),
    "learn": ("wc._run.runner", "learn"),
    "resume": ("wc._run.fit", "resume"),   # a fit continues as a fit, any other run as learn's
    "fit": ("wc._run.fit", "fit"),
    "bench": ("wc._run.bench", "bench"),
    "FitConfig": ("wc._run.fit", "FitConfig"),
    "sweep": ("wc._run.sweep", "sweep"),
    "resume_sweep": ("wc._run.sweep", "resume_sweep"),
    "create_sweep": ("wc._run.sweep", "create_sweep"),
    "sweep_view": ("wc._run.sweep", "view"),
    "sweeps": ("wc._run.sweep", "sweeps"),
    "sweep_view_of": ("wc._run.sweep", "view_of"),
    "Shard": ("wc._run.sweep", "Shard"),
    "parse_seeds": ("wc._run.sweep", "parse_seeds"),
    "parse_env_options": ("wc.envs.options", "parse_env_options"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'wc._api' has no attribute {name!r}")


__all__ = ["CURRICULA", "Check", "EvalReport", "FitConfig", "LearnConfig", "ProgramCheck", "Settings", "Step",
           "add_program", "bench",
           "api_module", "api_module_source",
           "check_program", "evaluate", "installation", "react",
           "curricula", "curriculum", "curriculum_steps", "curriculum_summary", "db_current", "db_upgrade", "doctor",
           "env_specs", "expand_curriculum", "export_llm", "export_llm_curriculum", "export_llm_sweep",
           "export_program", "fit", "learn", "lineage", "list_runs",
           "load_replay", "program", "LevelInfo", "sokoban_levels",
           "programs", "render_episode", "resume", "resume_curriculum", "run_summary", "Shard", "create_sweep",
           "parse_seeds", "parse_env_options",
           "resume_sweep", "sweep", "sweep_view", "sweep_view_of", "sweeps", "read", "read_listing"]

T = TypeVar("T")



async def _with_store(db: str | None, fn: Callable[[Store], Awaitable[T]], *, create: bool = False) -> T:
    """`fn` on the store, opened for it and closed after; only writing commands create a store."""
    from wc._core.config import Settings
    from wc._store import Store

    store = await Store.open(db or Settings().db, create=create)
    try:
        return await fn(store)
    finally:
        await store.close()


def read(db: str | None, fn: Callable[[Reader], T]) -> T:
    """`fn` on a Reader of the store (`wc._store.reading`: runs, run, programs, program, curricula,
    curriculum, sweeps, sweep): a SQLite store at this wc's schema is read synchronously, without
    asyncio or the ORM, which is most of a read-only command's start-up; others through the
    async store. Never creates a store."""
    from wc._core.location import db_url
    from wc._store.reading import read as read_store

    return read_store(db_url(db), fn)


def read_listing(db: str | None, fn: Callable[[Reader], list[T]]) -> list[T]:
    """`read` for a listing: the default store (no `db`, no WC_DB) that no run has created yet
    holds nothing, so the listing is empty; a store that was named and does not exist is still
    a StoreError ("no store at PATH": a typo must not look like an empty store)."""
    from wc._core.location import db_url, default_db_url, sqlite_file

    url = db_url(db)
    path = sqlite_file(url)
    if url == default_db_url() and path is not None and not path.exists():
        return []
    return read(db, fn)


async def run_summary(run_id: int, db: str | None = None) -> RunSummary:
    return await _with_store(db, lambda s: s.runs.summary(run_id))


async def list_runs(db: str | None = None) -> list[RunSummary]:
    """Every run with its counters (without per-episode and per-call lists)."""
    return await _with_store(db, lambda s: s.runs.summaries())


async def add_program(env: str, source: str, db: str | None = None, **env_options: Any) -> int:
    """Store a program written elsewhere (by hand, a reference model) for an environment, outside
    any run, so that `learn(from_program=…)` or `evaluate` can start from it; its id."""
    from wc import envs

    adapter = envs.make(env, **env_options)
    try:
        async def fn(store: Store) -> int:
            env_id = await envs.record_environment(store, adapter)
            api_id = await store.environments.ensure_api_module(adapter.api)
            return await store.programs.add(run_id=None, environment_id=env_id, api_module_id=api_id, source=source,
                                            origin="scratch", parents=[], llm_call_id=None)
        return await _with_store(db, fn, create=True)
    finally:
        adapter.close()


async def program(program_id: int, db: str | None = None) -> ProgramRecord:
    return await _with_store(db, lambda s: s.programs.get(program_id))


async def programs(*, env: str | None = None, run_id: int | None = None, db: str | None = None) -> list[ProgramRecord]:
    return await _with_store(db, lambda s: s.programs.find(env=env, run_id=run_id))  # NotFound: unknown run


async def lineage(program_id: int, db: str | None = None) -> nx.DiGraph:
    """Ancestors and descendants of a program, across runs and environments (edges parent -> child)."""
    return await _with_store(db, lambda s: s.programs.lineage(program_id))


async def export_llm(run_id: int, db: str | None = None) -> dict:
    """A run's LLM answers and configuration, as a recording for `learn(replay=...)`."""
    from wc._run import recordings

    return await _with_store(db, lambda s: recordings.export(s, run_id))


async def export_llm_curriculum(curriculum_id: int, db: str | None = None) -> dict:
    """A curriculum's recording: its environments and configuration, and each step run's answers."""
    from wc._run import recordings

    return await _with_store(db, lambda s: recordings.export_curriculum(s, curriculum_id))


async def export_llm_sweep(sweep_id: int, db: str | None = None) -> dict:
    """A sweep's recording: its environments, seeds and configuration, and each cell run's answers."""
    from wc._run import recordings

    return await _with_store(db, lambda s: recordings.export_sweep(s, sweep_id))


async def load_replay(ref: str, db: str | None = None) -> dict:
    """A recording: a run id in the store, a file written by `export_llm`, or a shipped name."""
    from wc._run import recordings

    if ref.isdigit():
        return await _with_store(db, lambda s: recordings.load(ref, s))
    return await recordings.load(ref)


async def curricula(db: str | None = None) -> list[CurriculumSummary]:
    return await _with_store(db, lambda s: s.curricula.all())


async def curriculum_summary(curriculum_id: int, db: str | None = None) -> CurriculumSummary:
    return await _with_store(db, lambda s: s.curricula.get(curriculum_id))


async def curriculum_steps(curriculum_id: int, db: str | None = None) -> tuple[CurriculumSummary, list[Step]]:
    """A curriculum and, for each of its environments, the run that learned it (or None)."""
    from wc._run.curriculum import steps

    return await steps(curriculum_id, db)


async def render_episode(run_id: int, episode: int, out: Path, db: str | None = None) -> Playback:
    """Episode `episode` of a run played back from its seed and actions: an animated GIF, a PNG
    sheet of frames, or a text transcript (by `out`'s suffix; text worlds write transcripts)."""
    from wc._report.playback import render

    return await render(run_id, episode, out, db)


def changed_params(before: str, after: str) -> list[tuple[str, float | None, float | None]] | None:
    """What `wc programs diff` shows for two programs with PARAMS: the values that changed, as
    (name, before, after); None when either declares none or can not be read, or when more than
    the values differs (then the code does)."""
    from wc._sandbox.params import ParamsError, changed, declared, rewrite

    try:
        a, b = declared(before), declared(after)
        if a is None or b is None or list(a.values) != list(b.values) or rewrite(before, b.values) != after:
            return None
    except (ParamsError, SyntaxError):
        return None
    return changed(a.values, b.values)


async def export_program(program_id: int, db: str | None = None) -> str:
    """A standalone file: the API module the program was written against, then the program."""
    async def fn(store: Store) -> str:
        record = await store.programs.get(program_id)
        api_source = await store.environments.api_module_source(record.api_module)
        return (f"# wc program {record.id} ({record.origin}), environment {record.environment}, "
                f"run {record.run_id}, API module {record.api_module}\n"
                f"# The API module comes first, then the program, as wc runs them.\n\n"
                f"{api_source.rstrip()}\n\n\n# ---- program {record.id} ----\n\n{record.source.rstrip()}\n")
    return await _with_store(db, fn)


async def db_upgrade(db: str | None = None) -> str:
    """Create or upgrade the store's schema; the revision it is at."""
    from wc._store.db import head_revision

    await _with_store(db, lambda s: asyncio.sleep(0), create=True)
    return head_revision()


async def db_current(db: str | None = None) -> tuple[str | None, str]:
    """The store's schema revision (without changing it) and this wc's newest."""
    from wc._core.config import Settings
    from wc._store.db import create_engine, current_revision, head_revision, require_existing

    url = db or Settings().db
    require_existing(url)
    engine = create_engine(url)
    try:
        return await current_revision(engine), head_revision()
    finally:
        await engine.dispose()


async def doctor(settings: Settings | None = None) -> tuple[dict[str, Any], list[jails.Layer]]:
    """Start a sandbox worker as `learn` would and report which of its walls stand: what the
    worker itself finds (user, files, network, processes, limits) and what is seen from outside."""
    from wc._core.config import Settings
    from wc._core.values import ApiModule
    from wc._sandbox import jail as jails
    from wc._sandbox.sandbox import Sandbox, SandboxLimits
    from wc.errors import SandboxError

    settings = settings or Settings()
    refused = None
    try:
        jails.select(settings.sandbox)
        policy = settings.sandbox
    except SandboxError as exc:  # no jail here: show what a worker would find without it, and that runs refuse
        refused, policy = str(exc), "python"
    async with Sandbox(ApiModule("doctor", 0, ""), [], "exact", workers=1,
                       limits=SandboxLimits(jail=policy)) as sandbox:
        facts = await sandbox.probe()
    facts["refused"] = refused
    return facts, jails.layers(facts, settings.sandbox)


@dataclass
class Check:
    """One thing `wc doctor` checks about the installation: ok, not ok (with a fix), or only
    informative (`ok` None: e.g. no store yet, which the first run creates). `needed_for` names
    what of a run fails without it ("store", "llm", "sandbox"; None: an optional extra), which
    the command line turns into its exit code."""

    name: str
    ok: bool | None
    detail: str
    fix: str = ""
    needed_for: str | None = None


async def installation(settings: Settings | None = None) -> list[Check]:
    """The store (reachable, migrated), the LLM (reachable, the model answers a one-token
    request), and the optional extras."""
    import importlib.util
    import shutil

    from wc._core.config import Settings
    from wc._core.secrets import redact
    from wc._llm.openai_backend import OpenAIChat
    from wc._store.db import known_revision, sqlite_file
    from wc.errors import WcError

    settings = settings or Settings()
    checks: list[Check] = []
    path = sqlite_file(settings.db)
    if path is not None and not path.exists():
        checks.append(Check("store", None, f"no store yet at {path}; the first run creates it", needed_for="store"))
    else:
        try:
            current, head = await db_current(settings.db)
        except WcError as exc:
            checks.append(Check("store", False, str(exc), "check the store URL (WC_DB)", needed_for="store"))
        else:
            where = f"{redact(settings.db)} at schema {current or 'none'}"
            if current == head:
                checks.append(Check("store", True, where, needed_for="store"))
            elif current is None or known_revision(current):  # a writing command upgrades it
                checks.append(Check("store", None, f"{where}; the next run brings it to {head}",
                                    "or upgrade it now (db upgrade)", needed_for="store"))
            else:
                checks.append(Check("store", False, f"{where}, newer than this wc ({head}) understands",
                                    "upgrade wc", needed_for="store"))
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if not key:
        checks.append(Check("LLM", False, "no LLM configured", "set OPENAI_API_KEY (and OPENAI_BASE_URL for "
                            "vLLM, Ollama or another OpenAI-compatible server)", needed_for="llm"))
    else:
        llm = OpenAIChat(model=settings.model, api_key=key, base_url=settings.openai_base_url,
                         timeout=min(settings.llm_timeout, 30.0), retries=0, max_tokens=1, max_failures=1)
        try:
            started = asyncio.get_running_loop().time()
            await llm.complete([{"role": "user", "content": "Say OK."}], purpose="doctor")
            took = asyncio.get_running_loop().time() - started
            checks.append(Check("LLM", True, f"{settings.model} at {llm.url} answered in {took:.1f} s",
                                needed_for="llm"))
        except WcError as exc:
            checks.append(Check("LLM", False, str(exc), "check OPENAI_API_KEY, OPENAI_BASE_URL and the model name",
                                needed_for="llm"))
        finally:
            await llm.close()
    for name, modules, fix in (("ALFWorld extra", ("alfworld", "textworld"), "pip install 'worldcoder[alfworld]'"),):
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        checks.append(Check(name, not missing, "installed" if not missing else f"missing: {', '.join(missing)}",
                            fix if missing else ""))
    bwrap = shutil.which("bwrap")
    checks.append(Check("bubblewrap", bwrap is not None, bwrap or "not installed",
                        "" if bwrap else "apt-get install bubblewrap (the OS jail for LLM-written code)",
                        needed_for="sandbox"))
    return checks


def api_module_source(env: str) -> str:
    """The API module an environment's programs are written against, verbatim."""
    from wc import envs

    return envs.api_module(env).source


def api_module(env: str) -> Any:
    """The API module (name, version, source) an environment's programs are written against."""
    from wc import envs

    return envs.api_module(env)


def env_specs() -> list[Any]:
    from wc import envs

    return envs.list_envs()


@dataclass(frozen=True)
class LevelInfo:
    """One level of a Sokoban collection, as `wc envs levels` lists it."""

    index: int                   # what reset(seed) plays when seed % n == index
    title: str
    boxes: int
    width: int
    height: int
    solvability: Any = None      # wc.envs.sokoban.Solvability, or None when not checked


def sokoban_levels(path: str, *, check: bool = False, budget: int | None = None) -> list[LevelInfo]:
    """The levels of a Sokoban level file (XSB or Boxoban) or shipped set; with `check`, the
    bounded solver's verdict on each (`unknown` when its budget runs out: never an error). A
    malformed level is a LevelError that names it."""
    from wc.envs.sokoban import DEFAULT_SOLVER_BUDGET, SHIPPED_SETS, load_levels, shipped_levels
    from wc.envs.sokoban.solver import check_level

    levels = shipped_levels(path) if path in SHIPPED_SETS else load_levels(path)
    out = []
    for i, level in enumerate(levels):
        cells = level.cells()
        verdict = check_level(level, budget or DEFAULT_SOLVER_BUDGET) if check else None
        out.append(LevelInfo(i, level.title, len(level.boxes), max(x for x, _ in cells) + 1,
                             max(y for _, y in cells) + 1, verdict))
    return out
