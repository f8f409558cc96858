"""Commands for scripts and for finding things: `wc runs export` (tables for pandas), `wc db path`
(where the store is), and the lines `wc learn` ends with (where the run went, what to run next)."""
from __future__ import annotations

import typer

from wc._core.secrets import redact
from wc._core.values import RunStatus

from .common import DbOption, JsonOption, err, make_settings, out, print_json, run_coroutine


def runs_export(run: int = typer.Argument(..., help="Run id."),
                fmt: str = typer.Option("csv", "--format", help="csv, or parquet (the parquet extra: pyarrow)."),
                out_dir: str = typer.Option(".", "--out", help="Folder for the two files (made if missing)."),
                db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """Write a run's episodes and transitions as two tables (run-ID-episodes, run-ID-transitions) for
    pandas; states are JSON text columns."""
    from wc._report.export import export_run

    done = run_coroutine(export_run(run, out_dir, fmt, make_settings(db).db))
    if json_out:
        print_json({"run_id": done.run_id, "format": done.format, "episodes": str(done.episodes),
                     "transitions": str(done.transitions), "n_episodes": done.n_episodes,
                     "n_transitions": done.n_transitions})
        return
    out.print(f"{done.episodes} ({done.n_episodes} episodes)\n{done.transitions} ({done.n_transitions} transitions)",
              highlight=False)


def db_path(db: str | None = DbOption) -> None:
    """The store URL in use (--db, else WC_DB, else the default SQLite file), password masked."""
    out.print(redact(make_settings(db).db), highlight=False, markup=False, soft_wrap=True)


def print_next_steps(summary, db: str | None, db_given: bool) -> None:
    """After a run: where it is stored and the two or three commands worth running next (stderr,
    so that `--json` output stays clean)."""
    if summary.status == RunStatus.FAILED:
        return
    url = redact(make_settings(db).db)
    flag = f" --db {url}" if db_given else ""
    commands = []
    if summary.best_program_id:
        commands.append((f"wc programs show {summary.best_program_id}{flag}", "the learned program"))
    commands.append((f"wc runs show {summary.id}{flag}", "episodes, LLM calls, tokens and cost"))
    commands.append((f"wc report {summary.id} --out report-{summary.id}{flag}", "figures of the run"))
    width = max(len(c) for c, _ in commands)
    err.print(f"run {summary.id} is stored in {url} (`wc db path` shows the store); next:", highlight=False,
              markup=False, soft_wrap=True)
    for command, what in commands:
        err.print(f"  {command.ljust(width)}   {what}", highlight=False, markup=False, soft_wrap=True)
