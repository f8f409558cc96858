"""`wc report`: PNG figures of runs and sweeps, and an index.md linking them (wc.report draws them)."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from .common import fail, make_settings, run_coroutine
from .common import out as console


def report(
    runs: list[int] | None = typer.Argument(None, metavar="RUN...", help="Run ids."),
    sweep: int | None = typer.Option(None, "--sweep", metavar="ID", help="Also the runs of this sweep, with "
                                     "their mean and spread over seeds per environment."),
    bench: bool = typer.Option(False, "--bench", help="Also every stored `wc bench cwmb` run set: its table beside "
                               "CWMB's published rows (both accuracy forms, the normalized return) and its figure."),
    out: Path = typer.Option(..., "--out", help="Directory for the PNGs and index.md (created if missing)."),
    db: str | None = typer.Option(None, "--db", envvar="WC_DB", help="Store URL (default: SQLite in the user "
                                  "data dir)."),
) -> None:
    """Figures: success and return per episode, LLM calls and tokens against env steps, spread over
    seeds, and the program lineage; with index.md and the run table; with --bench, the stored CWMB
    benchmarks beside the published rows."""
    from wc._report.report import report as make_report


    if not runs and sweep is None and not bench:
        raise fail("name the runs to report (`wc runs list` shows them), a sweep with --sweep ID, or --bench")
    result = run_coroutine(make_report(list(runs or []), out, sweep_id=sweep, bench=bench, db=make_settings(db).db))
    for figure in result.figures:
        console.print(f"{figure.path}  {figure.width}×{figure.height}  {figure.title}", highlight=False)
    for note in result.notes:
        console.print(note, style="dim", highlight=False)
    console.print(Text.assemble((str(result.index), "bold"), " links them, with the run table"), highlight=False)
