"""`wc programs show|list|lineage|diff|export`: stored world-model programs."""
from __future__ import annotations

import sys

import typer
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from .common import (
    DbOption,
    JsonOption,
    err,
    fail,
    fit_budget_text,
    listing,
    make_settings,
    out,
    print_json,
    read,
    run_coroutine,
    say_nothing,
)

app = typer.Typer(help="Stored world-model programs.", no_args_is_help=True)


@app.command("show")
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
    if p.fitted is not None:
        _show_fit(p.fitted)
    if sys.stdout.isatty():
        out.print(Syntax(p.source, "python"))
    else:
        sys.stdout.write(p.source)


def _show_fit(f) -> None:
    """The fit that made a program: its values (before -> after), budget, sample, misses left and
    the parameters the data does not determine; on stderr with the header."""
    res, ident = f.residuals, f.identifiability
    err.print(f"fitted from program {f.parent_id}: {f.status}, {f.evaluations} evaluations in {f.seconds:.2f} s "
              f"({fit_budget_text(f)}), on {len(f.sample)} of {f.n_transitions} transitions, "
              f"{res.get('within', 0)} within the tolerance", highlight=False)
    undetermined = {n for group in ident.get("undetermined") or [] for n in group}
    table = Table("parameter", "declared", "fitted", "std error")
    for name, value in f.fitted.items():
        std = (ident.get("std_errors") or {}).get(name)
        table.add_row(name, f"{f.initial.get(name, float('nan')):.6g}", f"{value:.10g}",
                      "undetermined" if name in undetermined else "-" if std is None else f"{std:.2g}")
    err.print(table)
    misses = res.get("max_error") or {}
    if misses:
        err.print("largest miss per field: " + ", ".join(f"{k} {v:.3g}" for k, v in misses.items()), highlight=False)
    for group in ident.get("undetermined") or []:
        err.print(f"not determined by the data, only together: {', '.join(group)}", highlight=False)


@app.command("list")
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


@app.command("lineage")
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


@app.command("diff")
def programs_diff(a: int = typer.Argument(...), b: int = typer.Argument(...), db: str | None = DbOption) -> None:
    """Unified diff of two programs' sources; for two versions that differ only in their fitted
    PARAMS, the values that changed."""
    import difflib

    from wc._api import changed_params

    pa, pb = read(db, lambda r: (r.program(a), r.program(b)))
    if pa.source == pb.source:  # said on stderr: stdout stays an (empty) diff for patch and scripts
        err.print(f"programs {a} and {b} are identical", highlight=False)
        return
    values = changed_params(pa.source, pb.source)
    if values is not None:
        err.print(f"programs {a} and {b} differ only in their PARAMS values:", highlight=False)
        for name, before, after in values:
            sys.stdout.write(f"{name}: {before!r} -> {after!r}\n")
        return
    diff = difflib.unified_diff(pa.source.splitlines(keepends=True), pb.source.splitlines(keepends=True),
                                fromfile=f"program {a}", tofile=f"program {b}")
    sys.stdout.writelines(diff)


@app.command("export")
def programs_export(program_id: int = typer.Argument(..., metavar="ID"), db: str | None = DbOption) -> None:
    """A standalone Python file: the API module, then the program (for reading and testing)."""
    from wc._api import export_program

    sys.stdout.write(run_coroutine(export_program(program_id, make_settings(db).db)))
