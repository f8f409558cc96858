"""Pictures of runs for a researcher: PNG figures and an index.md, built from the store's values.

    result = await report([3, 4], Path("report"), sweep_id=1)

The figures (`run-N-episodes.png`, `cost.png`, `sweep-N.png`, `lineage.png`) are drawn by the pure
builders of `wc._report.figures`; only `report()` opens the store and writes files.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkx as nx

from wc._report.cwmb import BenchSet, bench_markdown, bench_sets
from wc._report.figures import (
    DPI,
    Figure,
    agent_of,
    cost_figure,
    cwmb_figure,
    episodes_figure,
    lineage_figure,
    require_matplotlib,
    sweep_figure,
)
from wc._store import RunSummary, SweepSummary, open_store
from wc.errors import InvalidInput


@dataclass
class ReportResult:
    out: Path
    index: Path
    runs: list[RunSummary]
    figures: list[Figure]
    sweep: SweepSummary | None = None
    notes: list[str] = field(default_factory=list)
    benches: list[BenchSet] = field(default_factory=list)  # stored `wc bench cwmb` run sets (`bench=True`)
    published: list[dict[str, Any]] = field(default_factory=list)

    def figure(self, name: str) -> Figure:
        return next(f for f in self.figures if f.name == name)


# ------------------------------------------------------------------------------------------ index.md
# ------------------------------------------------------------------------------------------ index.md


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|")


def run_table(runs: list[RunSummary]) -> str:
    lines = ["| run | env | agent | status | episodes | successes | env steps | LLM calls | tokens |",
             "|---:|---|---|---|---:|---:|---:|---:|---:|"]
    for r in runs:
        lines.append(f"| {r.id} | {_cell(r.env)} | {agent_of(r)} | {r.status} | {r.episodes} | {r.successes} | "
                     f"{r.env_steps} | {r.llm_calls} | {r.prompt_tokens + r.completion_tokens:,} |")
    return "\n".join(lines)


def sweep_table(sweep: SweepSummary, runs: dict[int, RunSummary]) -> str:
    from wc._report.spread import by_env

    lines = ["| env | seeds run | successes | env steps | LLM calls |", "|---|---:|---:|---:|---:|"]
    for e in by_env(sweep, runs):
        lines.append(f"| {_cell(e.env)} | {e.runs}/{e.seeds} | {e.successes.text()} | {e.env_steps.text()} | "
                     f"{e.llm_calls.text()} |")
    return "\n".join(lines)


def index_markdown(result: ReportResult) -> str:
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"# wc report\n\n{len(result.runs)} run(s), made {made}.\n"]
    if result.runs:
        parts += ["## Runs\n", run_table(result.runs) + "\n"]
    for k, bench in enumerate(result.benches, 1):
        parts += [f"## CWMB benchmark {k}\n", f"`wc bench cwmb`: {bench.title}.\n",
                  bench_markdown(bench, result.published) + "\n"]
    if result.sweep is not None:
        s = result.sweep
        parts += [f"## Sweep {s.id}\n", f"{', '.join(s.envs)} × seeds {', '.join(map(str, s.seeds))} "
                  f"({s.engine}, {s.status}); mean ± std over the seeds run.\n", sweep_table(s, _by_id(result.runs))
                  + "\n"]
    parts.append("## Figures\n")
    for f in result.figures:
        parts.append(f"### {f.title}\n\n{f.caption}\n\n![{f.title}]({f.name})\n")
    for note in result.notes:
        parts.append(f"_{note}_\n")
    return "\n".join(parts)


def _by_id(runs: list[RunSummary]) -> dict[int, RunSummary]:
    return {r.id: r for r in runs}


# ------------------------------------------------------------------------------------------ the report


def _writable(out: Path) -> None:
    """Create DIR, or say in one line why it cannot hold the report."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".wc-report-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise InvalidInput(f"cannot write the report to {out}: {exc.strerror or exc}") from None


async def report(run_ids: list[int], out: Path, *, sweep_id: int | None = None, bench: bool = False,
                 db: str | None = None) -> ReportResult:
    """Write the figures of these runs (and of a sweep's runs) as PNGs in `out`, with an index.md
    linking them and the run table; with `bench`, every stored `wc bench cwmb` run set as its
    table beside the published rows and its figure. An unknown run or sweep is NotFound; an unwritable `out` is
    InvalidInput; without matplotlib, a ConfigError naming the extra."""
    from wc.datasets.cwmb import ENVS, PUBLISHED

    require_matplotlib()
    ids = list(dict.fromkeys(run_ids))
    if not ids and sweep_id is None and not bench:
        raise InvalidInput("name at least one run, a sweep with --sweep, or --bench")
    store = await open_store(db, create=False)
    try:
        benches = bench_sets(await store.measures.all("cwmb"), [e.name for e in ENVS]) if bench else []
        sweep = await store.sweeps.get(sweep_id) if sweep_id is not None else None
        if sweep is not None:
            ids += [r for r in sweep.run_ids if r not in ids]
        runs = [await store.runs.summary(r) for r in ids]
        calls = {r.id: await store.calls.at_steps(r.id) for r in runs}
        graph = nx.DiGraph()
        for r in runs:
            for p in await store.programs.find(run_id=r.id):  # each one's ancestors and descendants
                graph = nx.compose(graph, await store.programs.lineage(p.id))
    finally:
        await store.close()
    _writable(out)
    result = ReportResult(out=out, index=out / "index.md", runs=runs, figures=[], sweep=sweep, benches=benches,
                          published=[dict(p) for p in PUBLISHED])
    if sweep is not None and not sweep.run_ids:
        result.notes.append(f"Sweep {sweep.id} has no runs yet.")
    if bench and not benches:
        result.notes.append("No `wc bench cwmb` run set is stored yet.")
    drawings = [cwmb_figure(b, result.published, k) for k, b in enumerate(benches, 1)]
    if runs:
        drawings.append(cost_figure(runs, calls))
    if sweep is not None and sweep.run_ids:
        drawings.append(sweep_figure(sweep, _by_id(runs)))
    if graph.number_of_nodes():
        drawings.append(lineage_figure(graph))
    else:
        result.notes.append("No lineage figure: these runs stored no programs (ReAct runs write none).")
    drawings += [episodes_figure(r) for r in runs]
    for fig, figure in drawings:
        figure.path = out / figure.name
        try:
            fig.savefig(figure.path, dpi=DPI, format="png")
        except OSError as exc:
            raise InvalidInput(f"cannot write {figure.path}: {exc.strerror or exc}") from None
        result.figures.append(figure)
    result.index.write_text(index_markdown(result))
    return result
