"""The `wc` command: the command modules assembled into one Typer app, and the entry point that
turns usage errors, Ctrl-C and SIGTERM into one line and an exit code. Each module parses its
commands' arguments, calls wc._api and renders with rich; no logic lives in the command line."""
from __future__ import annotations

import signal
import sys

import typer

from . import baseline, bench, curriculum, db, doctor, envs, errors, fit, learn, programs, report, runs, sweep
from .common import RedactingStream

app = typer.Typer(help="WorldCoder: LLM agents that learn world models by writing code.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)


def _print_version(value: bool) -> None:
    if value:
        import wc

        sys.stdout.write(f"wc {wc.__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print wc's version and exit.")) -> None:
    """WorldCoder: LLM agents that learn world models by writing code."""


# the root's own commands, then the groups, in the order `wc --help` lists them
app.command()(learn.learn)
app.command()(fit.fit)
app.command("eval")(learn.eval_)
app.command()(doctor.doctor)
app.command()(learn.resume)
app.command("report")(report.report)
app.add_typer(envs.app, name="envs")
app.add_typer(runs.app, name="runs")
app.add_typer(programs.app, name="programs")
app.add_typer(db.app, name="db")
app.add_typer(curriculum.app, name="curriculum")
app.add_typer(baseline.app, name="baseline")
app.add_typer(sweep.app, name="sweep")
app.add_typer(bench.app, name="bench")


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    sys.stdout = RedactingStream(sys.stdout)
    sys.stderr = RedactingStream(sys.stderr)
    signal.signal(signal.SIGTERM, errors.on_sigterm)  # SLURM's, `timeout`'s and `kill`'s stop: as Ctrl-C
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # a shell starts a background job (`wc learn ... &` in a script) with SIGINT ignored; SIGTERM is
        # turned into SIGINT, so it must be heard, or a `kill` would not stop the run
        signal.signal(signal.SIGINT, signal.default_int_handler)
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
