"""The `wc` command: parse arguments, call wc._api, render with rich. No logic lives here."""
from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import Any

import typer
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from wc._core.values import RunStatus

from . import errors, scripting
from .common import (
    DbOption,
    JsonOption,
    ObserveOption,
    RedactingStream,
    call,
    env_options,
    err,
    fail,
    listing,
    make_settings,
    out,
    print_json,
    print_summary,
    read,
    replaying,
    run_coroutine,
    say_nothing,
    spread_table,
)
from .progress import _LearnView
from .report import report
from .sweep import sweep_app

app = typer.Typer(help="WorldCoder: LLM agents that learn world models by writing code.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
envs_app = typer.Typer(help="Environments wc can learn.", no_args_is_help=True)
runs_app = typer.Typer(help="Recorded runs.", no_args_is_help=True)
programs_app = typer.Typer(help="Stored world-model programs.", no_args_is_help=True)
db_app = typer.Typer(help="The store: where it is, its schema.", no_args_is_help=True)
curriculum_app = typer.Typer(help="Learn environments in order, each from the previous one's program. "
                                  "`wc curriculum --envs a,b,c` runs one; subcommands list, show and resume them.")


def _print_version(value: bool) -> None:
    if value:
        import wc

        sys.stdout.write(f"wc {wc.__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print wc's version and exit.")) -> None:
    """WorldCoder: LLM agents that learn world models by writing code."""


app.add_typer(envs_app, name="envs")
app.add_typer(runs_app, name="runs")
app.add_typer(programs_app, name="programs")
app.add_typer(db_app, name="db")
app.add_typer(curriculum_app, name="curriculum")

# ---------------------------------------------------------------------------- learn


ReplayOption: Any = typer.Option(None, "--replay", help="Reproduce a recorded session without an LLM: a shipped "
                                 "recording name or a file from `wc runs export-llm` (a run id too, for a single "
                                 "run). Its configuration replaces the other options.")


@app.command()
def learn(
    ctx: typer.Context,
    env: str = typer.Option(..., "--env", help="Short name (wc envs list), gymnasium id, or module:EnvId."),
    db: str | None = DbOption,
    model: str | None = typer.Option(None, "--model", envvar="WC_MODEL", help="Chat model name."),
    episodes: int = typer.Option(20, min=1, help="Episodes to play at most."),
    max_steps: int | None = typer.Option(None, min=1, help="Steps per episode (default: the env's limit)."),
    max_llm_calls: int = typer.Option(20, min=0, help="LLM requests allowed in the whole run."),
    max_cost: float | None = typer.Option(None, "--max-cost", min=0, help="Dollars the run's LLM requests may "
                                          "cost: no request is sent that could exceed it (prices: WC_PRICES)."),
    concurrency: int = typer.Option(4, min=1, help="LLM candidates requested at once after a first failed try."),
    seed: int = typer.Option(0, help="Run seed S: episode i plays env seed 1009·S + i; every random choice "
                             "derives from S."),
    solved: int | None = typer.Option(10, min=1, help="Stop after this many consecutive successes."),
    llm_timeout: float | None = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT", help="Seconds per LLM request."),
    workers: int = typer.Option(2, min=1, help="Sandbox worker processes."),
    planner: str = typer.Option("bfws", "--planner", help="bfws: best-first width search (default); "
                                "bfs: breadth-first search (shortest plans, slower on large worlds)."),
    games: str | None = typer.Option(None, "--games", help="ALFWorld: a game file, a folder of games, or a "
                                        "split of the downloaded data (train, valid_seen, valid_unseen)."),
    observe: str | None = ObserveOption,
    levels: str | None = typer.Option(None, "--levels", help="Sokoban: a level file (XSB, or a Boxoban "
                                      "collection of `; N` levels) or a shipped set; episode i plays level "
                                      "(env seed) mod the number of levels."),
    from_program: str | None = typer.Option(None, "--from-program", help="Start from a stored program id, or "
                                               "'auto' for the best programs of the most similar environments."),
    min_episodes: int = typer.Option(1, min=1, help="Play at least this many episodes before --solved may stop "
                                     "the run (the paper's rule: 11 episodes, the last 10 won)."),
    optimism_requests: int = typer.Option(1, "--optimism-requests", min=0, help="LLM requests a start may cost "
                                          "while a program that fits every transition finds no plan from it (a "
                                          "complete search); then it is played exploring and may be believed "
                                          "unsolvable."),
    replay: str | None = typer.Option(None, "--replay", help="Reproduce a recorded session without an LLM: a run "
                                         "id, a file from `wc runs export-llm`, or a shipped recording name. Its "
                                         "configuration replaces the other options."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Learn a world model of ENV by acting, recording and asking an LLM to write code."""
    from wc._api import LearnConfig
    from wc._api import learn as api_learn

    settings = make_settings(db, model, llm_timeout=llm_timeout)
    recording = replaying(ctx, replay, settings.db, [
        "model", "episodes", "max_steps", "max_llm_calls", "max_cost", "concurrency", "seed", "solved", "workers",
        "planner", "games", "observe", "levels", "from_program", "min_episodes", "optimism_requests"])
    config = LearnConfig(env=env, env_options=env_options(games, observe=observe, levels=levels),
                         from_program=from_program,
                         min_episodes=min_episodes, episodes=episodes, max_steps=max_steps, max_llm_calls=max_llm_calls,
                         concurrency=concurrency, seed=seed, solved=solved, workers=workers, planner=planner,
                         max_cost_usd=max_cost, optimism_requests=optimism_requests)
    model_name = recording["model"] + " (replayed)" if recording else \
        settings.model if max_llm_calls > 0 else "no LLM (--max-llm-calls 0)"
    summary = _with_progress(episodes, lambda view, on_start: api_learn(config, settings, on_event=view,
                                                                         on_start=on_start, replay=recording),
                             f"learning {env} with {model_name}")
    _finish(summary, json_out)
    scripting.print_next_steps(summary, db, getattr(ctx.get_parameter_source("db"), "name", None) == "COMMANDLINE")


baseline_app = typer.Typer(help="Baselines in the same harness and store, for comparison.", no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")


@baseline_app.command("react")
def baseline_react(
    ctx: typer.Context,
    env: str = typer.Option(..., "--env", help="Short name (wc envs list), gymnasium id, or module:EnvId."),
    games: str | None = typer.Option(None, "--games", help="ALFWorld: a game file, folder or split."),
    levels: str | None = typer.Option(None, "--levels", help="Sokoban: a level file (XSB, or a Boxoban "
                                      "collection of `; N` levels) or a shipped set; episode i plays level "
                                      "(env seed) mod the number of levels."),
    episodes: int = typer.Option(10, min=1, help="Episodes (ALFWorld: game i of the split; else env seed i)."),
    max_steps: int | None = typer.Option(None, min=1, help="Steps per episode (default: the env's limit)."),
    seed: int = typer.Option(0, help="Run seed S: episode i plays env seed 1009·S + i, as `wc learn` does."),
    db: str | None = DbOption,
    model: str | None = typer.Option(None, "--model", envvar="WC_MODEL", help="Chat model name."),
    replay: str | None = ReplayOption,
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """ReAct: ask the LLM for every action (a thought, then an action), recording every call and step."""
    from wc._api import react

    settings = make_settings(db, model)
    recording = replaying(ctx, replay, settings.db, ["games", "levels", "episodes", "max_steps", "seed", "model"])
    what = f"{recording['model']} (replayed)" if recording else settings.model
    summary = _with_progress(int(recording["config"]["episodes"]) if recording else episodes,
                             lambda view, on_start: react(
        env, settings, episodes=episodes, seed=seed, env_options=env_options(games, levels=levels),
        max_steps=max_steps, on_event=view, on_start=on_start, replay=recording), f"ReAct on {env} with {what}")
    _finish(summary, json_out)


@app.command("eval")
def eval_(
    env: str = typer.Option(..., "--env", help="Short name (wc envs list), gymnasium id, or module:EnvId."),
    from_program: str = typer.Option(..., "--from-program", help="The learned program to start from (an id, or "
                                     "'auto')."),
    games: str | None = typer.Option(None, "--games", help="ALFWorld: the split or folder whose games are each "
                                     "played once (e.g. valid_seen)."),
    levels: str | None = typer.Option(None, "--levels", help="Sokoban: a level file (XSB, or a Boxoban "
                                      "collection of `; N` levels) or a shipped set; episode i plays level "
                                      "(env seed) mod the number of levels."),
    episodes: int | None = typer.Option(None, min=1, help="Games to play (default: every game of the split; "
                                        "MiniGrid and Sokoban: 20 seeds)."),
    max_llm_calls: int = typer.Option(0, min=0, help="LLM requests the evaluation may spend to keep learning."),
    observe: str | None = ObserveOption,
    db: str | None = DbOption,
    model: str | None = typer.Option(None, "--model", envvar="WC_MODEL", help="Chat model name."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Play every game of a split once from a learned program: success per task type, LLM calls, steps."""
    from wc._api import evaluate

    settings = make_settings(db, model)
    report = _with_progress(episodes or 0, lambda view, on_start: evaluate(
        env, settings, from_program=from_program, env_options=env_options(games, observe=observe, levels=levels),
        episodes=episodes,
        max_llm_calls=max_llm_calls, on_event=view, on_start=on_start), f"evaluating {env} from program {from_program}")
    if json_out:
        sys.stdout.write(json.dumps(report.to_json(), default=str, indent=2) + "\n")
    else:
        table = Table("task type", "games", "won", "success", title=f"run {report.run.id}: {env}")
        for group, n, won in report.table():
            table.add_row(group, str(n), str(won), f"{won / n:.0%}" if n else "-")
        out.print(table)
        if report.observe:
            out.print(f"observation mode {report.observe}", highlight=False)
        games_played = len(report.games) or 1
        out.print(f"{report.won_without_llm} of {len(report.games)} games won without any LLM call; "
                  f"{report.run.llm_calls} LLM calls, {report.run.prompt_tokens + report.run.completion_tokens:,} "
                  f"tokens, {report.run.env_steps / games_played:.1f} env steps per game", highlight=False)
    if report.run.status == RunStatus.FAILED:
        raise fail(str(report.run.error), errors.FAILED_RUN)


def _with_progress(episodes: int, make_coro, what: str):
    """Run a learning coroutine with the progress view; Ctrl-C says how to resume."""
    view = _LearnView(episodes)
    started: list[int] = []

    def on_start(run_id: int) -> None:
        started.append(run_id)
        view.progress.stop()
        err.print(f"run {run_id}: {what}", highlight=False)
        view.progress.start()

    try:
        result = run_coroutine(make_coro(view, on_start))
        view.finish(result)
        return result
    except KeyboardInterrupt:
        view.progress.stop()
        if started:
            err.print(Text.assemble((errors.interrupted_by(), "yellow"), f": run {started[-1]} is marked "
                                    f"interrupted; continue it with `wc resume {started[-1]}`"), highlight=False)
        else:
            err.print(errors.interrupted_by(), style="yellow")
        raise typer.Exit(errors.interrupted_code()) from None
    finally:
        view.progress.stop()


def _finish(summary, json_out: bool) -> None:
    if json_out:
        out.print_json(json.dumps(summary.to_json(), default=str))
    else:
        print_summary(summary)
    if summary.status == RunStatus.FAILED:
        resumable = "can be resumed" in str(summary.error) or summary.failure == "llm"
        hint = f"; continue with `wc resume {summary.id}`" if resumable else ""
        code = errors.LLM_UNAVAILABLE if summary.failure == "llm" else errors.FAILED_RUN
        raise fail(str(summary.error) + hint, code)


# ---------------------------------------------------------------------------- doctor


@app.command()
def doctor(db: str | None = DbOption,
           json_out: bool = typer.Option(False, "--json", help="The findings as JSON.")) -> None:
    """Check the installation (store, LLM, extras) and show which walls of the sandbox stand (OS
    jail, namespaces, user, filesystem, network, processes, limits, Python layer). Exits 0 when
    everything a run needs works, else 4 (the store), 5 (the LLM) or 6 (the sandbox)."""
    from wc._api import doctor as api_doctor
    from wc._api import installation
    from wc.errors import WcError

    settings = make_settings(db)
    checks = run_coroutine(installation(settings))
    sandbox_error: str | None = None
    try:
        facts, layers = asyncio.run(api_doctor(settings))
    except WcError as exc:  # the sandbox itself cannot start: said, with the checks, and exit 6
        facts, layers, sandbox_error = {}, [], errors.message(exc)
    code = errors.doctor_code([c.needed_for for c in checks if c.ok is False],
                              sandbox_down=sandbox_error is not None or not all(x.active for x in layers))
    if json_out:
        payload = {"checks": [{"name": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix,
                               "needed_for": c.needed_for} for c in checks],
                   "layers": [{"name": x.name, "active": x.active, "detail": x.detail} for x in layers],
                   "worker": facts, "sandbox_error": sandbox_error, "exit_code": code}
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        raise typer.Exit(code)
    found = Table("check", "", "found", "fix", title="wc installation")
    for c in checks:
        mark = Text("ok", "green") if c.ok else Text("–", "yellow") if c.ok is None else Text("missing", "red")
        found.add_row(c.name, mark, c.detail, c.fix)
    out.print(found)
    if sandbox_error is not None:
        out.print(Text.assemble(("the sandbox cannot start", "bold red"), f": {sandbox_error}"), highlight=False)
    else:
        table = Table("layer", "", "what a program in the sandbox finds", title="wc sandbox")
        for layer in layers:
            table.add_row(layer.name, Text("on", "green") if layer.active else Text("off", "red"), layer.detail)
        out.print(table)
        missing = [x.name for x in layers if not x.active]
        if missing:
            out.print(Text.assemble((f"not active: {', '.join(missing)}", "bold red"),
                                    ". Install bubblewrap (apt-get install bubblewrap) for the OS jail; without it wc "
                                    "refuses to run LLM-written code unless WC_SANDBOX=python (unsafe)."),
                      highlight=False)
        else:
            out.print("every layer is active", style="green")
    if code:
        failing = [c.name for c in checks if c.ok is False and c.needed_for]
        if sandbox_error is not None or not all(x.active for x in layers):
            failing.append("the sandbox's walls")
        err.print(f"not ready for a run: {', '.join(dict.fromkeys(failing))} (exit {code})", highlight=False)
    raise typer.Exit(code)


# ---------------------------------------------------------------------------- envs


@envs_app.command("list")
def envs_list(json_out: bool = JsonOption) -> None:
    """Short names of environments (any MiniGrid-…-v0 id or module:EnvId also works)."""
    from wc._api import env_specs

    if json_out:
        print_json([spec.to_json() for spec in env_specs()])
        return
    table = Table("name", "gymnasium id", "domain", "task")
    for spec in env_specs():
        table.add_row(spec.name, spec.env_id, spec.domain, spec.description)
    out.print(table)


@envs_app.command("show")
def envs_show(env: str = typer.Argument(..., help="Environment name or id."), json_out: bool = JsonOption) -> None:
    """Print the API module source the LLM sees for ENV, verbatim."""
    from wc._api import api_module

    api = call(api_module, env)
    if json_out:
        print_json({"env": env, "name": api.name, "version": api.version, "source": api.source})
        return
    sys.stdout.write(api.source)


@envs_app.command("levels")
def envs_levels(
    path: str = typer.Argument(..., help="A Sokoban level file (XSB or Boxoban) or a shipped set (small, teleport)."),
    check: bool = typer.Option(False, "--check", help="Run the bounded breadth-first solver on each level."),
    budget: int | None = typer.Option(None, "--budget", min=1, help="States the solver may search per level "
                                      "(default 100,000)."),
    json_out: bool = typer.Option(False, "--json", help="Print the levels as JSON on stdout."),
) -> None:
    """List the levels of a Sokoban collection; with --check, whether each is solvable, unsolvable,
    or unknown (the solver's budget ran out: says nothing about the level)."""
    from dataclasses import asdict

    from wc._api import sokoban_levels

    levels = call(lambda: sokoban_levels(path, check=check, budget=budget))
    if json_out:
        sys.stdout.write(json.dumps([asdict(lv) for lv in levels], indent=2) + "\n")
        return
    table = Table("level", "title", "boxes", "size", *(["solvable"] if check else []), title=path)
    for lv in levels:
        row = [str(lv.index), lv.title, str(lv.boxes), f"{lv.width}x{lv.height}"]
        if check:
            row.append(lv.solvability.describe())
        table.add_row(*row)
    out.print(table)
    if check:
        counts = [f"{sum(1 for lv in levels if lv.solvability.verdict == v)} {v}"
                  for v in ("solvable", "unsolvable", "unknown")]
        out.print(f"{len(levels)} levels: {', '.join(counts)}", highlight=False)


# ---------------------------------------------------------------------------- runs


@runs_app.command("list")
def runs_list(db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """Runs in the store with their status and counters."""
    runs = listing(db, lambda r: r.runs())
    if json_out:
        print_json([s.to_json(details=False) for s in runs])
        return
    if not runs:
        say_nothing("runs")
        return
    table = Table("id", "env", "status", "episodes", "won", "steps", "LLM calls", "best program", "created")
    for s in runs:
        table.add_row(str(s.id), s.env, s.status, str(s.episodes), str(s.successes), str(s.env_steps),
                      str(s.llm_calls), str(s.best_program_id or "-"), s.created_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)


@runs_app.command("show")
def runs_show(run: int = typer.Argument(..., help="Run id."), db: str | None = DbOption,
              episode: int | None = typer.Option(None, "--episode", min=0, metavar="N", help="Episode N step by "
                                                 "step: each action, where it came from, what changed, and what "
                                                 "the program predicted where it was wrong."),
              json_out: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """One run: counters, episodes and programs; with --episode N, that episode step by step."""
    if episode is not None:
        _show_episode(run, episode, db, json_out)
        return
    summary = read(db, lambda r: r.run(run))
    if json_out:
        sys.stdout.write(json.dumps(summary.to_json(), default=str, indent=2) + "\n")
        return
    print_summary(summary)
    table = Table("episode", "seed", "steps", "return", "won", "plans", "undecided", "planning", title="episodes")
    for e in summary.episode_list:
        won = ("yes" if e.success else "no") if e.finished else "(unfinished)"
        table.add_row(str(e.index), str(e.seed), str(e.steps), f"{e.total_reward:.2f}", won, str(e.plans),
                      str(e.plans_undecided), f"{e.plan_seconds:.1f} s")
    out.print(table)
    if summary.llm_call_list:
        calls = Table("call", "at", "purpose", "status", "tokens", "cumulative tokens", "cost", "latency",
                      title="LLM calls over time")
        total = 0
        spent = 0.0
        start = summary.llm_call_list[0].started_at
        for c in summary.llm_call_list:
            total += c.prompt_tokens + c.completion_tokens
            spent += c.cost_usd or 0.0
            calls.add_row(str(c.id), f"+{(c.started_at - start).total_seconds():.0f} s", c.purpose, c.status,
                          f"{c.prompt_tokens + c.completion_tokens:,}", f"{total:,}",
                          "-" if c.cost_usd is None else f"${spent:.4f}", f"{c.latency_s:.1f} s")
        out.print(calls)
    if summary.unsolvable_list:
        starts = Table("first episode", "mission", "state", "program", "believed", "reopened",
                       title="starts believed unsolvable (no plan in the program, which fitted all data)")
        for u in summary.unsolvable_list:
            starts.add_row("-" if u.episode is None else str(u.episode), u.mission, u.state_hash[:10],
                           str(u.program_id), u.believed_at.strftime("%H:%M:%S") if u.believed_at else "-",
                           u.reopened_at.strftime("%H:%M:%S") if u.reopened_at else "no")
        out.print(starts)


def _show_episode(run: int, episode: int, db: str | None, json_out: bool) -> None:
    trace = read(db, lambda r: r.episode_trace(run, episode))
    if json_out:
        print_json(trace.to_json())
        return
    from wc._core.canonical import diff_states

    e = trace.episode
    outcome = ("won" if e.success else "lost") if e.finished else "unfinished"
    out.print(f"run {run}, episode {e.index} of {trace.env} (seed {e.seed}): {outcome} in {e.steps} steps, "
              f"return {e.total_reward:.2f}\ntask: {e.mission}", highlight=False, markup=False)
    table = Table("step", "action", "from", "reward", "what changed", "the program's prediction", title="steps")
    for s in trace.steps:
        changes = "; ".join(diff_states(s.state, s.next_state)) or "nothing"
        if s.done or s.truncated:
            changes += " [done]" if s.done else " [truncated]"
        predicted = {"held": "held", None: "-"}.get(s.prediction) or "wrong: " + "; ".join(
            diff_states(s.next_state, s.predicted_state or []))
        table.add_row(str(s.step), s.action, s.action_source or "-", f"{s.reward:.2f}", changes,
                      predicted if s.prediction != "failed" else Text(predicted, "red"))
    out.print(table)
    if len(trace.steps) < e.steps:
        out.print(f"{e.steps - len(trace.steps)} of the {e.steps} steps changed nothing the store keeps (a ReAct "
                  "action that was not admissible)", highlight=False)


@runs_app.command("render")
def runs_render(run: int = typer.Argument(..., help="Run id."),
                episode: int = typer.Option(0, "--episode", min=0, metavar="N", help="The episode (default 0)."),
                out_file: str = typer.Option(..., "--out", metavar="FILE", help="episode.gif (animated), "
                                             "episode.png (a sheet of frames) or episode.txt (a transcript; the "
                                             "form for text worlds such as ALFWorld)."),
                db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """Watch an episode: replayed in its environment from its seed and recorded actions, each frame
    with the action, where it came from, and the program's prediction where it was wrong."""
    from pathlib import Path

    from wc._api import render_episode

    done = run_coroutine(render_episode(run, episode, Path(out_file), make_settings(db).db))
    if json_out:
        print_json({"path": str(done.path), "format": done.format, "steps": done.steps, "frames": done.frames,
                     "frame_size": list(done.frame_size) if done.frame_size else None,
                     "mispredicted": done.mispredicted})
        return
    what = f"{done.frames} frames of {done.frame_size[0]}x{done.frame_size[1]}" if done.frame_size else "a transcript"
    wrong = f", the program's prediction wrong at step(s) {', '.join(map(str, done.mispredicted))}" \
        if done.mispredicted else ""
    out.print(f"{done.path}: {what}, {done.steps} steps{wrong}", highlight=False, markup=False, soft_wrap=True)


# ---------------------------------------------------------------------------- programs


@programs_app.command("show")
def programs_show(program_id: int = typer.Argument(..., metavar="ID"), db: str | None = DbOption,
                  json_out: bool = JsonOption) -> None:
    """Print a program's source, with its origin and scores as a header on stderr."""
    p = read(db, lambda r: r.program(program_id))
    if json_out:
        print_json(p.to_json())
        return
    fit = "not evaluated" if p.fit is None else f"{p.explained}/{p.n_transitions} transitions explained"
    err.print(f"program {p.id}: {p.origin}, run {p.run_id}, env {p.environment}, parents "
              f"{p.parents or 'none'}, {fit}, API {p.api_module}", highlight=False)
    if sys.stdout.isatty():
        out.print(Syntax(p.source, "python"))
    else:
        sys.stdout.write(p.source)


@programs_app.command("list")
def programs_list(run: int | None = typer.Option(None, "--run", help="Only this run's programs."),
                  env: str | None = typer.Option(None, "--env", help="Only this environment's programs."),
                  db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """Stored programs with environment, run, origin, parents and scores."""
    # a named run must exist (NotFound); without one, a store not yet created lists nothing
    found = (read if run is not None else listing)(db, lambda r: r.programs(env=env, run_id=run))
    if json_out:
        print_json([p.to_json() for p in found])
        return
    if not found:
        say_nothing("programs")
        return
    table = Table("id", "env", "run", "origin", "parents", "fit", "optimism", "score")
    for p in found:
        fit = "-" if p.fit is None else f"{p.explained}/{p.n_transitions}"
        opt = "-" if p.optimism_total is None else f"{p.optimism_ok}/{p.optimism_total}" + (
            f" ({p.optimism_undecided} undecided)" if p.optimism_undecided else "")
        table.add_row(str(p.id), p.environment, str(p.run_id or "-"), p.origin,
                      ",".join(map(str, p.parents)) or "-", fit, opt, "-" if p.score is None else f"{p.score:.2f}")
    out.print(table)


@app.command()
def resume(run: int = typer.Argument(..., help="Run id."), db: str | None = DbOption,
           llm_timeout: float | None = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT",
                                                       help="Seconds per LLM request."),
           json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout.")) -> None:
    """Continue an interrupted run from its last checkpoint (recorded LLM answers are not paid again)."""
    from wc._api import resume as api_resume
    from wc._api import run_summary

    settings = make_settings(db, llm_timeout=llm_timeout)
    before = run_coroutine(run_summary(run, settings.db))
    summary = _with_progress(int(before.config.get("episodes", 20)),
                             lambda view, on_start: api_resume(run, settings, on_event=view, on_start=on_start),
                             f"resuming {before.env} ({before.status}, {before.env_steps} steps recorded)")
    _finish(summary, json_out)


# ---------------------------------------------------------------------------- curriculum


@curriculum_app.callback(invoke_without_command=True)
def curriculum(
    ctx: typer.Context,
    envs: str | None = typer.Option(None, "--envs", help="Comma-separated environments, in order, or the "
                                       "name of a built-in curriculum (minigrid)."),
    db: str | None = DbOption,
    model: str | None = typer.Option(None, "--model", envvar="WC_MODEL"),
    episodes: int = typer.Option(20, min=1, help="Episodes per environment at most."),
    max_steps: int | None = typer.Option(None, min=1),
    max_llm_calls: int = typer.Option(20, min=0, help="LLM requests per environment."),
    concurrency: int = typer.Option(4, min=1),
    seed: int = typer.Option(0),
    solved: int | None = typer.Option(10, min=1),
    min_episodes: int = typer.Option(1, min=1, help="Episodes each environment plays at least."),
    from_program: str | None = typer.Option(None, "--from-program", help="Program for the first environment."),
    llm_timeout: float | None = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT"),
    replay: str | None = typer.Option(None, "--replay", help="Reproduce a recorded curriculum without an LLM: a "
                                      "shipped recording name or a file from `wc runs export-llm --curriculum ID`. "
                                      "Its environments and configuration replace the other options."),
) -> None:
    """Learn environments in order, each starting from the previous one's final program."""
    if ctx.invoked_subcommand is not None:
        return
    from wc._api import LearnConfig
    from wc._api import curriculum as api_curriculum
    from wc._api import expand_curriculum as expand

    settings = make_settings(db, model, llm_timeout=llm_timeout)
    recording = replaying(ctx, replay, settings.db, [
        "envs", "model", "episodes", "max_steps", "max_llm_calls", "concurrency", "seed", "solved", "min_episodes",
        "from_program"])
    if recording is not None:
        names = [str(e) for e in recording.get("envs", [])]
        episodes = int(recording["config"].get("episodes", episodes)) if isinstance(recording.get("config"),
                                                                                     dict) else episodes
    elif not envs:
        raise fail("give the environments with --envs a,b,c (or --envs minigrid for the paper's curriculum)")
    else:
        names = expand(envs)
    config = LearnConfig(env=names[0] if names else "", episodes=episodes, max_steps=max_steps,
                         max_llm_calls=max_llm_calls, concurrency=concurrency, seed=seed, solved=solved,
                         min_episodes=min_episodes, from_program=from_program)
    group = _with_progress(episodes * max(1, len(names)),
                           lambda view, on_start: api_curriculum(names, config, settings, on_event=view,
                                                                 on_start=on_start, replay=recording),
                           f"curriculum {' -> '.join(names)}")
    _print_curriculum(group.id, settings.db)


def _print_curriculum(curriculum_id: int, db, json_out: bool = False) -> None:
    from wc._api import curriculum_steps

    group, steps = run_coroutine(curriculum_steps(curriculum_id, db))
    if json_out:
        print_json(dict(group.to_json(), steps=[step.to_json() for step in steps]))
        return
    table = Table("step", "env", "run", "status", "episodes", "won", "steps", "LLM calls", "final program",
                  title=f"curriculum {group.id} ({group.status})")
    for step in steps:
        s = step.run
        if s is None:
            table.add_row(str(step.index + 1), step.env, "-", "pending", "", "", "", "", "")
            continue
        table.add_row(str(step.index + 1), step.env, str(s.id), s.status, str(s.episodes), str(s.successes),
                      str(s.env_steps), str(s.llm_calls), str(s.best_program_id or "-"))
    out.print(table)


@curriculum_app.command("list")
def curriculum_list(db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """Curricula in the store."""
    groups = listing(db, lambda r: r.curricula())
    if json_out:
        print_json([g.to_json() for g in groups])
        return
    if not groups:
        say_nothing("curricula")
        return
    table = Table("id", "status", "environments", "runs", "created")
    for g in groups:
        table.add_row(str(g.id), g.status, " -> ".join(g.envs), ",".join(map(str, g.run_ids)) or "-",
                      g.created_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)


@curriculum_app.command("show")
def curriculum_show(curriculum_id: int = typer.Argument(..., metavar="ID"), db: str | None = DbOption,
                    json_out: bool = JsonOption) -> None:
    """One curriculum: its environments and their runs."""
    _print_curriculum(curriculum_id, make_settings(db).db, json_out)


@curriculum_app.command("resume")
def curriculum_resume(curriculum_id: int = typer.Argument(..., metavar="ID"), db: str | None = DbOption,
                      llm_timeout: float | None = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT")) -> None:
    """Continue a curriculum: resume its interrupted run, then run the environments left."""
    from wc._api import curriculum_summary, resume_curriculum

    settings = make_settings(db, llm_timeout=llm_timeout)
    group = run_coroutine(curriculum_summary(curriculum_id, settings.db))
    done = _with_progress(20 * len(group.envs),
                          lambda view, on_start: resume_curriculum(curriculum_id, settings, on_event=view,
                                                                   on_start=on_start),
                          f"curriculum {curriculum_id}")
    _print_curriculum(done.id, settings.db)


# ---------------------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(db: str | None = DbOption) -> None:
    """Create the schema or upgrade it to this wc's version."""
    from wc._api import db_upgrade as upgrade

    out.print(f"schema at revision {run_coroutine(upgrade(make_settings(db).db))}")


@db_app.command("current")
def db_current(db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """The schema revision of the store, and this wc's."""
    from wc._api import db_current as current

    revision, head = run_coroutine(current(make_settings(db).db))
    state = "up to date" if revision == head else ("empty" if revision is None else "needs `wc db upgrade`")
    if json_out:
        print_json({"revision": revision, "head": head, "up_to_date": revision == head})
        return
    out.print(f"store revision {revision or 'none'}; this wc expects {head} ({state})")


# ---------------------------------------------------------------------------- comparisons and programs


@runs_app.command("results")
def runs_results(runs: list[int] | None = typer.Argument(None, help="Run ids (default: every finished run)."),
                 db: str | None = DbOption,
                 note: str | None = typer.Option(None, help="A paragraph on how the runs were made (the model, …)."),
                 ) -> None:
    """Markdown for docs/RESULTS.md: the runs beside the paper's bar, with how to reproduce them."""
    from wc._api import run_summary
    from wc._report.results import results_markdown

    settings = make_settings(db)
    chosen = [run_coroutine(run_summary(r, settings.db)) for r in runs] if runs else \
        [r for r in listing(db, lambda reader: reader.runs()) if r.status == RunStatus.FINISHED]
    command = ("wc runs results" + (" " + " ".join(map(str, runs)) if runs else "") + " --db URL"
               + (" --note TEXT" if note else "") + " > docs/RESULTS.md")
    sys.stdout.write(results_markdown(chosen, command=command, note=note))


@runs_app.command("export-llm")
def runs_export_llm(run: int | None = typer.Argument(None, help="Run id (a WorldCoder or ReAct run)."),
                    db: str | None = DbOption,
                    label: str | None = typer.Option(None, help="What the recording is, stored in it."),
                    sweep: int | None = typer.Option(None, "--sweep", metavar="ID", help="Every run of a sweep, "
                                                     "for `wc sweep --replay`."),
                    curriculum: int | None = typer.Option(None, "--curriculum", metavar="ID", help="Every run "
                                                          "of a curriculum, for `wc curriculum --replay`.")) -> None:
    """Write LLM calls as a recording that replays without an LLM: a run's (`wc learn --replay FILE`,
    or `wc baseline react --replay FILE` for a ReAct run), a sweep's or a curriculum's."""
    from wc._api import export_llm, export_llm_curriculum, export_llm_sweep

    if sum(x is not None for x in (run, sweep, curriculum)) != 1:
        raise fail("name one run, or one sweep with --sweep ID, or one curriculum with --curriculum ID")
    url = make_settings(db).db
    if run is not None:
        data = run_coroutine(export_llm(run, url))
    elif sweep is not None:
        data = run_coroutine(export_llm_sweep(sweep, url))
    else:
        data = run_coroutine(export_llm_curriculum(int(curriculum or 0), url))
    if label:
        data = {"label": label, **data}
    sys.stdout.write(json.dumps(data, indent=1) + "\n")


@runs_app.command("compare")
def runs_compare(runs: list[int] | None = typer.Argument(None, help="Run ids."), db: str | None = DbOption,
                 sweep: int | None = typer.Option(None, "--sweep", metavar="ID", help="A sweep's environments "
                                                  "side by side: mean ± std over its seeds."),
                 json_out: bool = typer.Option(False, "--json")) -> None:
    """Runs side by side: successes, env steps to first success, LLM calls, tokens, cost, time; with
    --sweep, a sweep's environments as mean ± std over seeds."""
    if not runs and sweep is None:
        raise fail("name the runs to compare (`wc runs list` shows them), or a sweep with --sweep ID")
    if sweep is not None:
        from wc._api import sweep_view_of

        view = read(db, lambda r: sweep_view_of(r, sweep))
        if json_out and not runs:
            print_json([e.to_json() for e in view.by_env])
            return
        if not json_out:
            out.print(spread_table(view.by_env, title=f"sweep {sweep}: mean ± std over seeds "
                                                      f"{','.join(map(str, view.sweep.seeds))}"))
        if not runs:
            return
    summaries = read(db, lambda r: [r.run(i) for i in runs or []])
    if json_out:
        if sweep is not None:
            print_json({"runs": [s.to_json(details=False) for s in summaries],
                         "sweep": [e.to_json() for e in view.by_env]})
        else:
            print_json([s.to_json(details=False) for s in summaries])
        return
    table = Table("", *[str(s.id) for s in summaries], title="runs compared")
    rows = [
        ("env", lambda s: s.env), ("model", lambda s: s.model or "-"), ("status", lambda s: s.status),
        ("episodes (won)", lambda s: f"{s.episodes} ({s.successes})"), ("env steps", lambda s: str(s.env_steps)),
        ("steps to first success", lambda s: str(s.steps_to_first_success or "-")),
        ("LLM calls", lambda s: str(s.llm_calls)),
        ("tokens", lambda s: f"{s.prompt_tokens + s.completion_tokens:,}"),
        ("cost", lambda s: "-" if s.cost_usd is None else f"${s.cost_usd:.4f}"),
        ("wall (LLM wait)", lambda s: f"{s.wall_seconds:.1f} s ({s.llm_wait_seconds:.1f} s)"),
    ]
    for label, fn in rows:
        table.add_row(label, *[fn(s) for s in summaries])
    out.print(table)


@programs_app.command("lineage")
def programs_lineage(program_id: int = typer.Argument(..., metavar="ID"), db: str | None = DbOption,
                     fmt: str = typer.Option("tree", "--format", help="tree, json, dot or graphml.")) -> None:
    """A program's ancestors and descendants, across runs and environments."""
    from wc._api import lineage
    from wc._report.lineage import to_dot, to_graphml, to_json

    if fmt not in ("tree", "json", "dot", "graphml"):
        raise fail(f"unknown format {fmt!r}; use tree, json, dot or graphml")
    graph = run_coroutine(lineage(program_id, make_settings(db).db))
    if fmt == "json":
        sys.stdout.write(to_json(graph) + "\n")
    elif fmt == "dot":
        sys.stdout.write(to_dot(graph, program_id))
    elif fmt == "graphml":
        sys.stdout.write(to_graphml(graph))
    else:
        from rich.tree import Tree

        roots = [n for n in graph.nodes if graph.in_degree(n) == 0]
        top = Tree(f"lineage of program {program_id} (★ = the run's model)")
        _add_subtrees(top, graph, roots, program_id)
        out.print(top)


def _add_subtrees(tree, graph, roots, focus) -> None:
    from wc._report.lineage import label

    shown: set[int] = set()

    def add(parent, node) -> None:
        text = Text(label(graph, node), style="bold reverse" if node == focus else "")
        if node in shown:
            parent.add(Text.assemble(text, (" (shown above)", "dim")))
            return
        shown.add(node)
        branch = parent.add(text)
        for child in sorted(graph.successors(node)):
            add(branch, child)

    for root in sorted(roots):
        add(tree, root)


@programs_app.command("diff")
def programs_diff(a: int = typer.Argument(...), b: int = typer.Argument(...), db: str | None = DbOption) -> None:
    """Unified diff of two programs' sources."""
    import difflib

    pa, pb = read(db, lambda r: (r.program(a), r.program(b)))
    if pa.source == pb.source:  # said on stderr: stdout stays an (empty) diff for patch and scripts
        err.print(f"programs {a} and {b} are identical", highlight=False)
        return
    diff = difflib.unified_diff(pa.source.splitlines(keepends=True), pb.source.splitlines(keepends=True),
                                fromfile=f"program {a}", tofile=f"program {b}")
    sys.stdout.writelines(diff)


@programs_app.command("export")
def programs_export(program_id: int = typer.Argument(..., metavar="ID"), db: str | None = DbOption) -> None:
    """A standalone Python file: the API module, then the program (for reading and testing)."""
    from wc._api import export_program

    sys.stdout.write(run_coroutine(export_program(program_id, make_settings(db).db)))


app.command("report")(report)
runs_app.command("export")(scripting.runs_export)
db_app.command("path")(scripting.db_path)
app.add_typer(sweep_app, name="sweep")


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    sys.stdout = RedactingStream(sys.stdout)
    sys.stderr = RedactingStream(sys.stderr)
    signal.signal(signal.SIGTERM, errors.on_sigterm)  # SLURM's, `timeout`'s and `kill`'s stop: as Ctrl-C
    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:  # outside a run (a run's commands say how to resume it)
        sys.stderr.write(f"{errors.interrupted_by()}\n")
        sys.exit(errors.interrupted_code())
    except Exception as exc:
        if type(exc).__name__ == "Abort":  # click's name for a KeyboardInterrupt it caught
            sys.stderr.write(f"{errors.interrupted_by()}\n")
            sys.exit(errors.interrupted_code())
        # click's usage errors (typer carries its own click): one line, exit 2
        if not hasattr(exc, "format_message") or type(exc).__name__ == "NoArgsIsHelpError":
            if hasattr(exc, "show"):
                exc.show()
                sys.exit(getattr(exc, "exit_code", 2))
            raise
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "wc"
        sys.stderr.write(f"error: {exc.format_message()} (`{where} --help` shows the options)\n")
        sys.exit(getattr(exc, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
