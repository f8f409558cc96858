"""What the command modules share: the two consoles, the options several commands take, wc's
errors as one line and an exit code (cli/errors.py maps them), the typed readers of the store,
and the pieces of a command that starts a run (domain options, `--replay`)."""
from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from wc._core.secrets import redact

from . import errors

if TYPE_CHECKING:
    from wc._api import Reader, Settings

T = TypeVar("T")
P = ParamSpec("P")

# piped output is not squeezed into 80 columns: tables stay greppable
# markup is off: messages carry user data and server text ("[report]", "[redacted]", "[/x]") that must
# print as it is; colour comes from Text styles
out = Console(width=None if sys.stdout.isatty() else 200, markup=False)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200, markup=False)

DbOption: Any = typer.Option(None, "--db", envvar="WC_DB", help="Store URL (default: SQLite in the user data dir).")
JsonOption: Any = typer.Option(False, "--json", help="Print JSON on stdout (docs/JSON.md has the schema).")
ObserveOption: Any = typer.Option(None, "--observe", help="ALFWorld: full (every object known, the paper's facts; "
                             "default) or observed (only what the agent has seen; see the API module).")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say `message` as one error line on stderr; the exit to raise."""
    err.print(Text.assemble(("error:", "red"), " ", message), highlight=False, soft_wrap=True)
    return typer.Exit(code)


def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args)`, with wc's errors turned into one line and a non-zero exit."""
    from wc.errors import WcError

    try:
        return fn(*args, **kwargs)
    except WcError as exc:
        raise fail(errors.message(exc), errors.exit_code(exc)) from None


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; turn wc's errors into one line and a non-zero exit."""
    return call(asyncio.run, coro)


def read(db: str | None, fn: Callable[[Reader], T]) -> T:
    """`fn(reader)` on the store (`wc._api.read`: a SQLite store is read without asyncio or the
    ORM); wc's errors become one line and a non-zero exit."""
    from wc._api import read as read_store

    return call(read_store, db, fn)


def listing(db: str | None, fn: Callable[[Reader], list[T]]) -> list[T]:
    """A listing read from the store (`wc._api.read_listing`): empty, not an error, while the
    default store has not been created; a store named with --db or WC_DB must exist."""
    from wc._api import read_listing

    return call(read_listing, db, fn)


def say_nothing(what: str) -> None:
    """An empty listing, said in words (on stderr: stdout stays empty for scripts)."""
    err.print(f"no {what} yet", highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def make_settings(db: str | None = None, model: str | None = None, **extra: Any) -> Settings:
    from wc._core.config import Settings

    values = {k: v for k, v in {"db": db, "model": model, **extra}.items() if v is not None}
    return Settings(**values)


EnvOptionOption = typer.Option(None, "--env-option", metavar="KEY=VALUE", help="A keyword argument of "
                               "gymnasium.make, repeatable (e.g. is_slippery=false); VALUE is read as JSON when it "
                               "parses, else as a string. Stored with the run.")
PlannerOption = typer.Option(None, "--planner", help="Goal worlds: bfws (best-first width search, the default) or "
                             "bfs (shortest plans). Worlds scored by their return: iw, mcts or mcts-cwmb (discrete "
                             "actions; iw, width-based search, by default), iw-cem, cem or cem-cwmb (continuous; "
                             "iw-cem by default).")
RtolOption = typer.Option(1e-5, "--rtol", min=0, help="Worlds judged by value: relative tolerance of a predicted "
                          "number against the recorded one (CWMB's allclose).")
RewardThresholdOption = typer.Option(None, "--reward-threshold", help="Worlds scored by their return: the "
                                    "return an episode must reach (default: gymnasium's spec.reward_threshold; "
                                    "Pendulum and CliffWalking have none). The run is solved when the mean of "
                                    "its last --solved episodes reaches it.")
AtolOption = typer.Option(1e-5, "--atol", min=0, help="Worlds judged by value: absolute tolerance.")
FitParamsOption = typer.Option(True, "--fit-params/--no-fit-params", help="Fit a program's PARAMS (its declared "
                               "constants) to the data before judging it.")
FitSecondsOption = typer.Option(10.0, "--fit-seconds", min=0.01, help="Budget of one fit of PARAMS: seconds at a "
                                "nominal 10,000 program calls a second, a count of evaluations that decides where it "
                                "stops (the same values on any machine); 3x is a wall-time cap.")
FitTransitionsOption = typer.Option(500, "--fit-transitions", min=1, max=4096, help="Transitions one fit of PARAMS "
                                    "uses at most (spread over the data).")


def env_options(games: str | None, *, observe: str | None = None, levels: str | None = None,
                env_option: list[str] | None = None) -> dict[str, Any]:
    """The domain options given on the command line (ALFWorld's games and observation mode,
    Sokoban's levels, gymnasium.make's keyword arguments from --env-option); a domain that does
    not take one says so."""
    from wc._api import parse_env_options

    options: dict[str, Any] = {k: v for k, v in {"games": games, "observe": observe, "levels": levels}.items()
                               if v is not None}
    if env_option:
        options["env_kwargs"] = call(parse_env_options, env_option)
    return options


def replaying(ctx: typer.Context, replay: str | None, db: str, overridden: list[str]) -> dict[str, Any] | None:
    """The recording `--replay` names (None without it), after refusing the flags it would
    override; says on stderr what is replayed."""
    if not replay:
        return None
    from wc._api import load_replay

    _refuse_overridden(ctx, overridden)
    recording = run_coroutine(load_replay(replay, db))
    what = {"sweep": "a recorded sweep", "curriculum": "a recorded curriculum"}.get(
        str(recording.get("kind") or "run"), "a recorded session")
    where = recording.get("env") or ", ".join(map(str, recording.get("envs", [])))
    count = sum(len(r["calls"]) for r in recording.get("runs", [recording]))
    err.print(f"replaying {what} of {where} ({recording['model']}, {count} LLM answers)"
              f"{': ' + recording['label'] if recording.get('label') else ''}", highlight=False)
    return recording


def _refuse_overridden(ctx: typer.Context, names: list[str]) -> None:
    """--replay takes the recording's configuration: flags it would silently ignore are an error."""
    def on_command_line(name: str) -> bool:  # typer may carry its own copy of click's ParameterSource
        return getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"

    given = [f"--{n.replace('_', '-')}" for n in names if on_command_line(n)]
    if given:
        raise fail(f"--replay reproduces the recording's configuration; {', '.join(given)} would be ignored "
                   "(drop them, or learn without --replay)", 2)


def print_summary(s) -> None:
    """A run's counters as a table (the end of `wc learn`, the head of `wc runs show`)."""
    table = Table(title=f"run {s.id}: {s.env} ({s.status})", show_header=False)
    rows = [
        ("episodes", f"{s.episodes} ({s.successes} won)"),
        ("env steps", str(s.env_steps)),
        ("LLM calls", f"{s.llm_calls} ({s.llm_calls_failed} failed)"),
        ("tokens", f"{s.prompt_tokens} prompt + {s.completion_tokens} completion"),
        ("programs", str(s.programs)),
        ("cost", "unknown (no price for this model)" if s.cost_usd is None else f"${s.cost_usd:.4f}"),
        ("best program", str(s.best_program_id) if s.best_program_id else "none"),
        ("wall time", f"{s.wall_seconds:.1f} s (waiting for the LLM {s.llm_wait_seconds:.1f} s)"),
        ("model", s.model or "none (the run was allowed no LLM call)"),
    ]
    if s.unsolvable:
        rows.append(("believed unsolvable", f"{s.unsolvable} start{'s' if s.unsolvable > 1 else ''}"))
    if s.error:
        rows.append(("error", s.error))
    for k, v in rows:
        table.add_row(k, v)
    out.print(table)


def fit_budget_text(f) -> str:
    """A stored fit's budget (its seconds and the count of evaluations they make) and what cut it
    short: a fit cut by its count is reproducible, one cut by the wall-time cap depends on the
    machine it ran on, and says so."""
    budget = f"budget {f.budget_seconds:g} s" + (f" = {f.budget_evaluations} evaluations"
                                                 if f.budget_evaluations is not None else "")
    if f.cut == "evaluations":
        return budget + ", cut by its count"
    if f.cut == "time":
        return budget + ", cut by the wall-time cap: not reproducible"
    return budget


def spread_table(rows, *, title: str) -> Table:
    """Environments as columns, each quantity as `mean ± std` over the seeds run (`wc sweep show`,
    `wc runs compare --sweep`)."""
    table = Table("", *[e.env for e in rows], title=title)
    for label, fn in [
        ("runs (finished)", lambda e: f"{e.runs}/{e.seeds} ({e.finished})"),
        ("episodes won", lambda e: e.successes.text()),
        ("success rate", lambda e: e.success_rate.text(2)),
        ("episodes", lambda e: e.episodes.text()),
        ("env steps", lambda e: e.env_steps.text()),
        ("steps to first success", lambda e: e.steps_to_first_success.text()),
        ("LLM calls", lambda e: e.llm_calls.text()),
        ("tokens", lambda e: e.tokens.text(0)),
        ("wall seconds", lambda e: e.wall_seconds.text()),
    ]:
        table.add_row(label, *[fn(e) for e in rows])
    return table


class RedactingStream:
    """stdout or stderr with every write passed through the redactor: nothing wc prints carries
    an API key (tables, JSON, errors and tracebacks alike)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, flush, encoding, buffer, …
        return getattr(self._stream, name)
