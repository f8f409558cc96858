"""The `wc` command: parse arguments, call wc.api, render with rich. No logic lives here."""
from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.syntax import Syntax
from rich.table import Table

app = typer.Typer(help="WorldCoder: LLM agents that learn world models by writing code.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
envs_app = typer.Typer(help="Environments wc can learn.", no_args_is_help=True)
runs_app = typer.Typer(help="Recorded runs.", no_args_is_help=True)
programs_app = typer.Typer(help="Stored world-model programs.", no_args_is_help=True)
app.add_typer(envs_app, name="envs")
app.add_typer(runs_app, name="runs")
app.add_typer(programs_app, name="programs")

# piped output is not squeezed into 80 columns: tables stay greppable
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

DbOption = typer.Option(None, "--db", envvar="WC_DB", help="Store URL (default: SQLite in the user data dir).")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True, markup=True)
    return typer.Exit(code)


def _run(coro) -> Any:
    """Run a coroutine; turn wc's errors into one line and a non-zero exit."""
    from wc.errors import NotFound, WcError

    try:
        return asyncio.run(coro)
    except NotFound as exc:
        raise _fail(str(exc), 3) from None
    except WcError as exc:
        raise _fail(str(exc)) from None


def _settings(db: str | None = None, model: str | None = None, **extra: Any):
    from wc.config import Settings

    values = {k: v for k, v in {"db": db, "model": model, **extra}.items() if v is not None}
    return Settings(**values)


# ---------------------------------------------------------------------------- learn


class _LearnView:
    """Progress on stderr: a bar over episodes and a line per refinement."""

    def __init__(self, episodes: int) -> None:
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                                 TimeElapsedColumn(), console=err, transient=False)
        self.task = self.progress.add_task("episodes", total=episodes, info="")
        self.steps = self.calls = self.successes = 0
        self.fit = "-"

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        p = self.progress
        if kind == "step":
            self.steps += 1
        elif kind == "llm_call":
            self.calls += 1
            if data["status"] not in ("ok", "truncated", "cancelled"):
                p.console.print(f"  LLM request failed ({data['status']}); retrying or moving on", style="yellow")
        elif kind == "refine_start":
            p.console.print(f"  refining ({data['reason']}) on {data['transitions']} distinct transitions, "
                            f"{data['calls_left']} LLM calls left")
        elif kind == "candidate":
            extra = f", failure: {data['failure']}" if data.get("failure") else ""
            opt = f", optimism {data['optimism']}" if data.get("optimism") else ""
            p.console.print(f"    candidate program {data['program_id']}: fit {data['fit']:.2f}{opt}{extra}"
                            + ("  [green]solves φ1+φ2[/]" if data.get("solved") else ""))
        elif kind == "refine_end":
            if data.get("fit") is not None:
                self.fit = f"{data['fit']:.2f}"
            state = "[green]solved[/]" if data["solved"] else "[yellow]not solved[/]"
            p.console.print(f"  refinement {state}: current program {data['program_id']}, {data['calls']} calls")
        elif kind == "episode_end":
            self.successes += int(data["success"])
            p.advance(self.task)
            mark = "[green]won[/]" if data["success"] else "[red]lost[/]"
            p.console.print(f"episode {data['episode']}: {mark} in {data['steps']} steps")
        p.update(self.task, info=f"steps {self.steps}  wins {self.successes}  LLM calls {self.calls}  fit {self.fit}")


@app.command()
def learn(
    env: str = typer.Option(..., "--env", help="Short name (wc envs list), gymnasium id, or module:EnvId."),
    db: Optional[str] = DbOption,
    model: Optional[str] = typer.Option(None, "--model", envvar="WC_MODEL", help="Chat model name."),
    episodes: int = typer.Option(20, min=1, help="Episodes to play at most."),
    max_steps: Optional[int] = typer.Option(None, min=1, help="Steps per episode (default: the env's limit)."),
    max_llm_calls: int = typer.Option(20, min=0, help="LLM requests allowed in the whole run."),
    concurrency: int = typer.Option(4, min=1, help="LLM candidates requested at once after a first failed try."),
    seed: int = typer.Option(0, help="Seed of the first episode (episode i uses seed + i)."),
    solved: Optional[int] = typer.Option(10, min=1, help="Stop after this many consecutive successes."),
    llm_timeout: Optional[float] = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT", help="Seconds per LLM request."),
    workers: int = typer.Option(2, min=1, help="Sandbox worker processes."),
    games: Optional[str] = typer.Option(None, "--games", help="ALFWorld: a game file, a folder of games, or a "
                                        "split of the downloaded data (train, valid_seen, valid_unseen)."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Learn a world model of ENV by acting, recording and asking an LLM to write code."""
    from wc.api import LearnConfig, learn as api_learn

    settings = _settings(db, model, llm_timeout=llm_timeout)
    config = LearnConfig(env=env, env_options={"games": games} if games else {}, episodes=episodes, max_steps=max_steps, max_llm_calls=max_llm_calls,
                         concurrency=concurrency, seed=seed, solved=solved, workers=workers)
    view = _LearnView(episodes)
    started: list[int] = []

    def on_start(run_id: int) -> None:
        started.append(run_id)
        err.print(f"run {run_id}: learning {env} with {settings.model}", highlight=False)
        view.progress.start()

    try:
        summary = _run(api_learn(config, settings, on_event=view, on_start=on_start))
    except KeyboardInterrupt:
        view.progress.stop()
        err.print(f"[yellow]interrupted[/]: run {started[0] if started else '?'} is marked interrupted")
        raise typer.Exit(130) from None
    finally:
        view.progress.stop()
    if json_out:
        out.print_json(json.dumps(summary.to_json(), default=str))
    else:
        _print_summary(summary)
    if summary.status == "failed":
        raise _fail(str(summary.error))


def _print_summary(s) -> None:
    table = Table(title=f"run {s.id}: {s.env} ({s.status})", show_header=False)
    rows = [
        ("episodes", f"{s.episodes} ({s.successes} won)"),
        ("env steps", str(s.env_steps)),
        ("LLM calls", f"{s.llm_calls} ({s.llm_calls_failed} failed)"),
        ("tokens", f"{s.prompt_tokens} prompt + {s.completion_tokens} completion"),
        ("programs", str(s.programs)),
        ("best program", str(s.best_program_id) if s.best_program_id else "none"),
        ("wall time", f"{s.wall_seconds:.1f} s (waiting for the LLM {s.llm_wait_seconds:.1f} s)"),
        ("model", s.model),
    ]
    for k, v in rows:
        table.add_row(k, v)
    out.print(table)


# ---------------------------------------------------------------------------- envs


@envs_app.command("list")
def envs_list() -> None:
    """Short names of environments (any MiniGrid-…-v0 id or module:EnvId also works)."""
    from wc.api import env_specs

    table = Table("name", "gymnasium id", "domain", "task")
    for spec in env_specs():
        table.add_row(spec.name, spec.env_id, spec.domain, spec.description)
    out.print(table)


@envs_app.command("show")
def envs_show(env: str = typer.Argument(..., help="Environment name or id.")) -> None:
    """Print the API module source the LLM sees for ENV, verbatim."""
    from wc.api import api_module_source
    from wc.errors import WcError

    try:
        source = api_module_source(env)
    except WcError as exc:
        raise _fail(str(exc)) from None
    sys.stdout.write(source)


# ---------------------------------------------------------------------------- runs


@runs_app.command("list")
def runs_list(db: Optional[str] = DbOption) -> None:
    """Runs in the store with their status and counters."""
    from wc.api import list_runs

    runs = _run(list_runs(_settings(db).db))
    table = Table("id", "env", "status", "episodes", "won", "steps", "LLM calls", "best program", "created")
    for s in runs:
        table.add_row(str(s.id), s.env, s.status, str(s.episodes), str(s.successes), str(s.env_steps),
                      str(s.llm_calls), str(s.best_program_id or "-"), s.created_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)


@runs_app.command("show")
def runs_show(run: int = typer.Argument(..., help="Run id."), db: Optional[str] = DbOption,
              json_out: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """One run: counters, episodes and programs."""
    from wc.api import run_summary

    summary = _run(run_summary(run, _settings(db).db))
    if json_out:
        sys.stdout.write(json.dumps(summary.to_json(), default=str, indent=2) + "\n")
        return
    _print_summary(summary)
    table = Table("episode", "seed", "steps", "return", "won", title="episodes")
    for e in summary.episode_list:
        table.add_row(str(e.index), str(e.seed), str(e.steps), f"{e.total_reward:.2f}", "yes" if e.success else "no")
    out.print(table)


# ---------------------------------------------------------------------------- programs


@programs_app.command("show")
def programs_show(program_id: int = typer.Argument(..., metavar="ID"), db: Optional[str] = DbOption) -> None:
    """Print a program's source, with its origin and scores as a header on stderr."""
    from wc.api import program

    p = _run(program(program_id, _settings(db).db))
    fit = "not evaluated" if p.fit is None else f"{p.explained}/{p.n_transitions} transitions explained"
    err.print(f"program {p.id}: {p.origin}, run {p.run_id}, env {p.environment}, parents "
              f"{p.parents or 'none'}, {fit}, API {p.api_module}", highlight=False)
    if sys.stdout.isatty():
        out.print(Syntax(p.source, "python"))
    else:
        sys.stdout.write(p.source)


@programs_app.command("list")
def programs_list(run: int = typer.Option(..., "--run", help="Run id."), db: Optional[str] = DbOption) -> None:
    """Programs written during a run, with origin, parents and scores."""
    from wc.api import run_programs

    table = Table("id", "origin", "parents", "fit", "optimism", "score")
    for p in _run(run_programs(run, _settings(db).db)):
        fit = "-" if p.fit is None else f"{p.explained}/{p.n_transitions}"
        opt = "-" if p.optimism_total is None else f"{p.optimism_ok}/{p.optimism_total}"
        table.add_row(str(p.id), p.origin, ",".join(map(str, p.parents)) or "-", fit, opt,
                      "-" if p.score is None else f"{p.score:.2f}")
    out.print(table)


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    app()


if __name__ == "__main__":
    main()
