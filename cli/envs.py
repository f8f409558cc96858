"""`wc envs list|show|levels`: the environments wc can learn, their API modules, Sokoban's levels."""
from __future__ import annotations

import sys

import typer
from rich.table import Table

from .common import JsonOption, call, out, print_json

app = typer.Typer(help="Environments wc can learn.", no_args_is_help=True)


@app.command("list")
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


@app.command("show")
def envs_show(env: str = typer.Argument(..., help="Environment name or id."), json_out: bool = JsonOption) -> None:
    """Print the API module source the LLM sees for ENV, verbatim."""
    from wc._api import api_module

    api = call(api_module, env)
    if json_out:
        print_json({"env": env, "name": api.name, "version": api.version, "source": api.source})
        return
    sys.stdout.write(api.source)


@app.command("levels")
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
        print_json([asdict(lv) for lv in levels])
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
