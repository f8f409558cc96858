"""`wc sweep`: every (environment, seed) as a run of one sweep, on this process, a Ray cluster or
the shards of a job array; `wc sweep show|list|resume`. wc.sweep does the work."""
from __future__ import annotations

from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from wc._core.secrets import redact
from wc.events import CellBusy, CellEnded, CellEvent, Event, SweepCells, SweepStarted

from . import errors
from .common import (
    DbOption,
    EnvOptionOption,
    JsonOption,
    ObserveOption,
    PlannerOption,
    call,
    env_options,
    err,
    fail,
    listing,
    make_settings,
    out,
    print_json,
    read,
    replaying,
    run_coroutine,
    say_nothing,
    spread_table,
)

app = typer.Typer(help="Every (environment, seed) as a run of one sweep: `wc sweep --envs A,B --seeds 0-4` "
                       "runs one; subcommands show, list and resume them.")

EngineOption = typer.Option(None, "--engine", help="local: concurrent runs of this process (default); ray: a Ray "
                            "task per run on the cluster at --address (the store must be PostgreSQL).")
ParallelOption = typer.Option(4, "--parallel", min=1, help="Runs at once (local: in this process; ray: tasks "
                              "submitted at once).")
ShardOption = typer.Option(None, "--shard", metavar="I/N", help="Play only the cells k with k mod N == I (a job "
                           "array's task I of N); the sweep must exist: `wc sweep --create-only`, then "
                           "`wc sweep resume ID --shard I/N` in each task.")
AddressOption = typer.Option(None, "--address", envvar="RAY_ADDRESS", help="Ray: the cluster's HOST:PORT "
                             "(default RAY_ADDRESS).")
# the options a recording's own configuration replaces: given with --replay, they are an error
_REPLAYED_OPTIONS = ["envs", "seeds", "engine", "shard", "address", "create_only", "model", "episodes", "max_steps",
                     "max_llm_calls", "concurrency", "solved", "min_episodes", "workers", "planner", "games", "observe",
                     "levels", "from_program", "env_option"]


class _SweepView:
    """Progress on stderr: a bar over the cells and a line per run as it ends."""

    def __init__(self) -> None:
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=err, transient=False)
        self.task = self.progress.add_task("runs", total=None)
        self.sweep_id: int | None = None
        self.unfinished: list[dict[str, Any]] = []  # cells this process played that did not finish

    def __call__(self, event: Event) -> None:
        p = self.progress
        match event:
            case SweepStarted(sweep_id=sweep_id):
                self.sweep_id = sweep_id
            case SweepCells(sweep_id=sweep_id, todo=todo, cells=cells, engine=engine, shard=shard):
                self.sweep_id = sweep_id
                kept = cells - todo
                p.console.print(f"sweep {sweep_id}: {todo} run(s) to play of {cells} "
                                f"({engine}{', shard ' + shard if shard != '0/1' else ''}"
                                f"{f', {kept} done or held elsewhere' if kept else ''})", highlight=False)
                p.update(self.task, total=todo)
                p.start()  # once there is something to count: an early error stays one line
            case CellBusy() | CellEnded():
                self._cell_done(event)

    def _cell_done(self, cell: CellEvent) -> None:
        p = self.progress
        p.advance(self.task)
        if isinstance(cell, CellEnded) and cell.status != "finished":
            self.unfinished.append(cell.to_json())
        where = f"{cell.env} seed {cell.seed}"
        if isinstance(cell, CellBusy):
            p.console.print(f"  {where}: left to the live process that runs it", style="yellow")
        elif cell.status is None:
            p.console.print(Text.assemble(f"  {where}: ", ("failed", "red"), f": {cell.error}"), highlight=False)
        else:
            node = f" on {cell.node[:12]}" if cell.node else ""
            mark = (cell.status, "green" if cell.status == "finished" else "yellow")
            p.console.print(Text.assemble(f"  {where}: run {cell.run_id} ", mark,
                                          f"{node}, won {cell.successes}/{cell.episodes} in "
                                          f"{cell.env_steps} steps, {cell.llm_calls} LLM calls"
                                          + (f" ({cell.error})" if cell.error else "")),
                            highlight=False)


def _exit_if_unfinished(view: _SweepView, sweep_id: int) -> None:
    """Runs of this process that failed: the sweep's table is printed, then one line and exit 5
    (the LLM was unavailable for all of them) or 1."""
    if not view.unfinished:
        return
    code = errors.LLM_UNAVAILABLE if all(d.get("failure") == "llm" for d in view.unfinished) else errors.FAILED_RUN
    which = ", ".join(f"{d['env']} seed {d['seed']}" for d in view.unfinished[:4])
    more = f" and {len(view.unfinished) - 4} more" if len(view.unfinished) > 4 else ""
    raise fail(f"{len(view.unfinished)} run(s) of sweep {sweep_id} did not finish ({which}{more}); the rest is "
               f"kept: continue with `wc sweep resume {sweep_id}`", code)


def _play(make_coro, view: _SweepView):
    try:
        return run_coroutine(make_coro(view))
    except KeyboardInterrupt:
        view.progress.stop()
        which = f" {view.sweep_id}" if view.sweep_id is not None else ""
        hint = f": sweep{which} keeps its finished runs; continue it with `wc sweep resume{which or ' ID'}`"
        err.print(Text.assemble((errors.interrupted_by(), "yellow"), hint), highlight=False)
        raise typer.Exit(errors.interrupted_code()) from None
    finally:
        view.progress.stop()


def _play_and_show(ctx: typer.Context, make_coro, *, url: str, db: str | None, json_out: bool,
                   sweep_id: int | None = None) -> None:
    """Play a sweep under its progress view, then show it, say what to run next, and exit 5 or 1
    when runs of this process did not finish."""
    view = _SweepView()
    view.sweep_id = sweep_id
    summary = _play(make_coro, view)
    _show(summary.id, url, json_out)
    _next_steps(summary.id, db, ctx)
    _exit_if_unfinished(view, summary.id)


def _create_only(names: list[str], seeds: list[int], config, settings, engine: str, json_out: bool) -> None:
    """`--create-only`: record the sweep and print its id, for a job array's shards to play."""
    from wc._api import create_sweep

    sweep_id = run_coroutine(create_sweep(names, seeds, config, settings, engine=engine))
    if json_out:
        print_json({"id": sweep_id})
        return
    out.print(str(sweep_id))
    err.print(f"sweep {sweep_id} recorded ({len(names)} × {len(seeds)} runs); play it with "
              f"`wc sweep resume {sweep_id}`, or split it: `wc sweep resume {sweep_id} --shard I/N` "
              "in each of N processes", highlight=False)


@app.callback(invoke_without_command=True)
def sweep(
    ctx: typer.Context,
    envs: str | None = typer.Option(None, "--envs", help="Comma-separated environments."),
    seeds: str = typer.Option("0", "--seeds", help="Run seeds: 0-4, 0,3,7 or 0-2,10."),
    engine: str | None = EngineOption,
    parallel: int = ParallelOption,
    shard: str | None = ShardOption,
    address: str | None = AddressOption,
    create_only: bool = typer.Option(False, "--create-only", help="Record the sweep and print its id without "
                                     "running it (for a job array's shards)."),
    db: str | None = DbOption,
    model: str | None = typer.Option(None, "--model", envvar="WC_MODEL", help="Chat model name."),
    episodes: int = typer.Option(20, min=1, help="Episodes per run at most."),
    max_steps: int | None = typer.Option(None, min=1, help="Steps per episode (default: the env's limit)."),
    max_llm_calls: int = typer.Option(20, min=0, help="LLM requests per run."),
    concurrency: int = typer.Option(4, min=1, help="LLM candidates a run requests at once."),
    solved: int | None = typer.Option(10, min=1, help="A run stops after this many consecutive successes."),
    min_episodes: int = typer.Option(1, min=1, help="Episodes each run plays at least."),
    workers: int = typer.Option(2, min=1, help="Sandbox worker processes per run."),
    planner: str | None = PlannerOption,
    env_option: list[str] | None = EnvOptionOption,
    games: str | None = typer.Option(None, "--games", help="ALFWorld: a game file, folder or split."),
    observe: str | None = ObserveOption,
    levels: str | None = typer.Option(None, "--levels", help="Sokoban: a level file."),
    from_program: str | None = typer.Option(None, "--from-program", help="Every run starts from this program "
                                            "(or 'auto')."),
    llm_timeout: float | None = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT", help="Seconds per LLM request."),
    replay: str | None = typer.Option(None, "--replay", help="Reproduce a recorded sweep without an LLM, in this "
                                      "process: a shipped recording name or a file from `wc runs export-llm "
                                      "--sweep ID`. Its environments, seeds and configuration replace the other "
                                      "options."),
    json_out: bool = JsonOption,
) -> None:
    """Run every (environment, seed) as a run of one sweep; mean ± spread over seeds at the end."""
    if ctx.invoked_subcommand is not None:
        return
    from wc._api import LearnConfig, parse_seeds
    from wc._api import sweep as api_sweep

    settings = make_settings(db, model, llm_timeout=llm_timeout)
    recording = replaying(ctx, replay, settings.db, _REPLAYED_OPTIONS)
    if recording is not None:
        _play_and_show(ctx, lambda v: api_sweep([], [], settings, parallel=parallel, on_event=v, replay=recording),
                       url=settings.db, db=db, json_out=json_out)
        return
    if not envs:
        raise fail("give the environments with --envs a,b and the seeds with --seeds 0-4")
    names = [e.strip() for e in envs.split(",") if e.strip()]
    chosen = call(parse_seeds, seeds)
    config = LearnConfig(env=names[0] if names else "", env_options=env_options(games, observe=observe, levels=levels,
                                                                                   env_option=env_option),
                         episodes=episodes, max_steps=max_steps, max_llm_calls=max_llm_calls, concurrency=concurrency,
                         solved=solved, min_episodes=min_episodes, workers=workers, planner=planner,
                         from_program=from_program)
    if create_only:
        _create_only(names, chosen, config, settings, engine or "local", json_out)
        return
    if shard:
        raise fail("--shard plays part of an existing sweep: record it with `wc sweep --envs … --create-only`, "
                   "then run `wc sweep resume ID --shard I/N` in each of the N processes")
    _play_and_show(ctx, lambda v: api_sweep(names, chosen, settings, config=config, engine=engine or "local",
                                            parallel=parallel, address=address, on_event=v),
                   url=settings.db, db=db, json_out=json_out)


@app.command("resume")
def sweep_resume(
    ctx: typer.Context,
    sweep_id: int = typer.Argument(..., metavar="ID"),
    engine: str | None = typer.Option(None, "--engine", help="local or ray (default: the sweep's own)."),
    parallel: int = ParallelOption,
    shard: str | None = typer.Option(None, "--shard", metavar="I/N", help="Play only the cells k with k mod N "
                                     "== I (a job array's task I of N)."),
    address: str | None = AddressOption,
    db: str | None = DbOption,
    llm_timeout: float | None = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT", help="Seconds per LLM request."),
    json_out: bool = JsonOption,
) -> None:
    """Play what is left of a sweep: finished runs are kept, interrupted ones resumed, the rest started."""
    from wc._api import Shard, resume_sweep

    part = call(Shard.parse, shard) if shard else None
    settings = make_settings(db, llm_timeout=llm_timeout)
    _play_and_show(ctx, lambda v: resume_sweep(sweep_id, settings, engine=engine, parallel=parallel, shard=part,
                                               address=address, on_event=v),
                   url=settings.db, db=db, json_out=json_out, sweep_id=sweep_id)


@app.command("show")
def sweep_show(sweep_id: int = typer.Argument(..., metavar="ID"), db: str | None = DbOption,
               json_out: bool = JsonOption) -> None:
    """One sweep: mean ± spread over seeds per environment, and each (environment, seed)'s run."""
    _show(sweep_id, db, json_out)


@app.command("list")
def sweep_list(db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """Sweeps in the store."""
    found = listing(db, lambda r: r.sweeps())
    if json_out:
        print_json([s.to_json() for s in found])
        return
    if not found:
        say_nothing("sweeps")
        return
    table = Table("id", "status", "engine", "environments", "seeds", "runs", "created")
    for s in found:
        table.add_row(str(s.id), s.status, s.engine, ", ".join(s.envs), ",".join(map(str, s.seeds)),
                      f"{len(s.run_ids)}/{len(s.cells)}", s.created_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)


def _show(sweep_id: int, db: str | None, json_out: bool) -> None:
    from wc._api import sweep_view_of

    v = read(db, lambda r: sweep_view_of(r, sweep_id))
    if json_out:
        print_json(v.to_json())
        return
    s = v.sweep
    out.print(spread_table(v.by_env, title=f"sweep {s.id} ({s.status}, {s.engine}): mean ± std over seeds "
                                           f"{','.join(map(str, s.seeds))}"))
    cells = Table("env", "seed", "run", "status", "node", "won", "steps", "LLM calls", "best program",
                  title="runs")
    for c in s.cells:
        r = v.run_of(c)
        if r is None:
            cells.add_row(c.env, str(c.seed), "-", "pending", "", "", "", "", "")
            continue
        cells.add_row(c.env, str(c.seed), str(r.id), r.status, (r.node or "-")[:16], f"{r.successes}/{r.episodes}",
                      str(r.env_steps), str(r.llm_calls), str(r.best_program_id or "-"))
    out.print(cells)


def _next_steps(sweep_id: int, db: str | None, ctx: typer.Context) -> None:
    given = getattr(ctx.get_parameter_source("db"), "name", None) == "COMMANDLINE"
    flag = f" --db {redact(db)}" if given and db else ""
    err.print(f"next: `wc sweep show {sweep_id}{flag}`, `wc runs compare --sweep {sweep_id}{flag}`, "
              f"`wc report --sweep {sweep_id} --out report-sweep-{sweep_id}{flag}`", highlight=False, markup=False,
              soft_wrap=True)
