"""The figures of `wc report`, pure: store values in, a matplotlib figure (on its own Agg
canvas; matplotlib is imported only here) and what was drawn out.

* `episodes_figure`  success and return per episode of a run;
* `cost_figure`      cumulative LLM calls and tokens against environment steps, one line per run
                     (WorldCoder against ReAct: the paper's cost curve);
* `sweep_figure`     success over the seeds of a sweep per environment: mean and spread;
* `lineage_figure`   the programs of the runs and where each came from, coloured by score, each
                     edge drawn by its kind (a repair, a transfer; across environments dashed red).

Every figure keeps the arrays it handed to matplotlib (`Figure.series`, `.nodes`, `.edges`), so a
test can hold them against the store.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from wc._measure.table import GROUPS
from wc._report.cwmb import BenchSet
from wc._store import CallAtStep, RunSummary, SweepSummary
from wc.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

DPI = 100
EPISODES_SIZE = (9.0, 5.5)   # inches; pixels are these × DPI (no tight bounding box: sizes stay fixed)
COST_SIZE = (13.0, 5.0)
SWEEP_SIZE = (13.0, 5.0)
CWMB_SIZE = (14.0, 5.5)
LINEAGE_SIZE = (13.0, 8.0)
MAX_LABELLED_NODES = 80


@dataclass(frozen=True)
class Series:
    """One thing drawn on one axes: a line (`y`), or a band between `y` and `y2`."""

    axes: str
    label: str
    x: list[float]
    y: list[float]
    y2: list[float] | None = None
    kind: str = "line"  # line, points, band


@dataclass(frozen=True)
class NodeDrawn:
    id: int
    env: str
    score: float | None
    is_model: bool
    position: tuple[float, float]


@dataclass(frozen=True)
class EdgeDrawn:
    parent: int
    child: int
    transfer: bool  # across environments: drawn dashed red
    kind: str = ""  # what the child is of its parent: EDGE_KINDS' label, e.g. "repaired (transition)"


# an edge is drawn by what the child is of its parent (the child's origin): label, colour, line style
EdgeStyle = tuple[str, str, Any]  # label, colour, matplotlib line style
EDGE_KINDS: dict[str, EdgeStyle] = {
    "repair_transition": ("repaired (transition)", "tab:blue", "solid"),
    "repair_reward": ("repaired (reward)", "tab:orange", "solid"),
    "repair_optimism": ("repaired (optimism)", "tab:green", "solid"),
    "transfer": ("transferred (same environment)", "tab:purple", "dotted"),
    "transfer_across": ("transferred across environments", "tab:red", "dashed"),
}
OTHER_EDGE: EdgeStyle = ("derived from", "grey", "solid")  # an origin this wc does not know (a newer store)


def edge_kind(graph: nx.DiGraph, parent: int, child: int) -> EdgeStyle:
    """Label, colour and line style of a lineage edge, by the child's origin."""
    origin = str(graph.nodes[child].get("origin"))
    if origin == "transfer" and graph.nodes[parent].get("env") != graph.nodes[child].get("env"):
        origin = "transfer_across"
    return EDGE_KINDS.get(origin, OTHER_EDGE)


@dataclass
class Figure:
    """A written PNG and what was drawn in it."""

    name: str
    title: str
    caption: str
    width: int   # pixels
    height: int
    series: list[Series] = field(default_factory=list)
    nodes: list[NodeDrawn] = field(default_factory=list)
    edges: list[EdgeDrawn] = field(default_factory=list)
    legend: list[str] = field(default_factory=list)  # the legend's entries, in order
    path: Path | None = None

    def get(self, axes: str, label: str) -> Series:
        """The series drawn with this label on this axes."""
        for s in self.series:
            if s.axes == axes and s.label == label:
                return s
        raise KeyError(f"{self.name} has no series {label!r} on {axes!r}")


def agent_of(run: RunSummary) -> str:
    """The agent that made a run: ReAct baseline runs say so in their configuration."""
    return str((run.config or {}).get("agent", "worldcoder"))


def run_label(run: RunSummary) -> str:
    return f"run {run.id} · {run.env} · {agent_of(run)}"


# ------------------------------------------------------------------------------------------ drawing
# ------------------------------------------------------------------------------------------ drawing


def require_matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ConfigError("wc report needs matplotlib, one of wc's own dependencies: reinstall wc "
                          "(pip install worldcoder)") from None
    return matplotlib


def _new_figure(size: tuple[float, float]) -> MplFigure:
    """A figure on its own Agg canvas: no pyplot, no global backend, nothing shown."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


class _Recorder:
    """Draws on axes and keeps exactly the arrays it passed to matplotlib."""

    def __init__(self) -> None:
        self.series: list[Series] = []

    def line(self, ax: Axes, name: str, x: Sequence[float], y: Sequence[float], label: str, **kw: Any) -> None:
        ax.plot(list(x), list(y), label=label, **kw)
        self.series.append(Series(name, label, [float(v) for v in x], [float(v) for v in y]))

    def points(self, ax: Axes, name: str, x: Sequence[float], y: Sequence[float], label: str, **kw: Any) -> None:
        ax.scatter(list(x), list(y), label=label, **kw)
        self.series.append(Series(name, label, [float(v) for v in x], [float(v) for v in y], kind="points"))

    def bars(self, ax: Axes, name: str, x: Sequence[float], heights: Sequence[float], label: str, **kw: Any) -> None:
        ax.bar(list(x), list(heights), label=label, **kw)
        self.series.append(Series(name, label, [float(v) for v in x], [float(v) for v in heights], kind="bars"))

    def band(self, ax: Axes, name: str, x: Sequence[float], lo: Sequence[float], hi: Sequence[float], label: str,
             **kw: Any) -> None:
        ax.fill_between(list(x), list(lo), list(hi), label=label, **kw)
        self.series.append(Series(name, label, [float(v) for v in x], [float(v) for v in lo],
                                  [float(v) for v in hi], kind="band"))


def _pixels(size: tuple[float, float]) -> tuple[int, int]:
    return round(size[0] * DPI), round(size[1] * DPI)


def episodes_figure(run: RunSummary) -> tuple[MplFigure, Figure]:
    """Success and return per episode of one run (its RunSummary with episode_list)."""
    fig = _new_figure(EPISODES_SIZE)
    rec = _Recorder()
    top, bottom = fig.subplots(2, 1, sharex=True)
    episodes = run.episode_list
    xs = [e.index for e in episodes]
    won = [1.0 if e.success else 0.0 for e in episodes]
    rate, wins = [], 0
    for i, e in enumerate(episodes):
        wins += int(e.success)
        rate.append(wins / (i + 1))
    rec.points(top, "success", [x for x, w in zip(xs, won, strict=True) if w],
               [1.0] * int(sum(won)), "won", color="tab:green", marker="o", zorder=3)
    rec.points(top, "success", [x for x, w in zip(xs, won, strict=True) if not w],
               [0.0] * (len(won) - int(sum(won))), "lost", color="tab:red", marker="x", zorder=3)
    rec.line(top, "success", xs, rate, "success rate so far", color="tab:blue")
    top.set_ylim(-0.1, 1.1)
    top.set_ylabel("success")
    top.set_title(f"{run_label(run)}: {run.successes}/{run.episodes} episodes won")
    fig.legend(*top.get_legend_handles_labels(), loc="outside right upper", fontsize="small")
    top.grid(alpha=0.3)
    rec.line(bottom, "return", xs, [e.total_reward for e in episodes], "return", color="tab:purple", marker=".")
    bottom.set_xlabel("episode")
    bottom.set_ylabel("return (total reward)")
    bottom.grid(alpha=0.3)
    if xs:
        bottom.set_xticks(xs if len(xs) <= 30 else xs[::max(1, len(xs) // 20)])
    w, h = _pixels(EPISODES_SIZE)
    return fig, Figure(f"run-{run.id}-episodes.png", f"Run {run.id}: success and return per episode",
                       f"{run_label(run)}: each episode won or lost, the success rate so far, and its return.",
                       w, h, rec.series)


def cost_points(run: RunSummary, calls: list[CallAtStep]) -> tuple[list[int], list[int], list[int]]:
    """Env steps, cumulative calls and cumulative tokens: (0, 0), one point per call at the step it
    followed, and the run's last step (so the curve ends at the run's totals)."""
    xs, n_calls, tokens = [0], [0], [0]
    for i, c in enumerate(calls):
        xs.append(c.env_step)
        n_calls.append(i + 1)
        tokens.append(tokens[-1] + c.prompt_tokens + c.completion_tokens)
    xs.append(max(run.env_steps, xs[-1]))
    n_calls.append(n_calls[-1])
    tokens.append(tokens[-1])
    return xs, n_calls, tokens


def cost_figure(runs: list[RunSummary], calls: dict[int, list[CallAtStep]]) -> tuple[MplFigure, Figure]:
    """Cumulative LLM calls and tokens against environment steps, a line per run."""
    fig = _new_figure(COST_SIZE)
    rec = _Recorder()
    left, right = fig.subplots(1, 2)
    estimated = False
    for run in runs:
        xs, n_calls, tokens = cost_points(run, calls.get(run.id, []))
        estimated |= any(not c.exact for c in calls.get(run.id, []))
        style = {"drawstyle": "steps-post", "linestyle": "--" if agent_of(run) == "react" else "-"}
        rec.line(left, "LLM calls", xs, n_calls, run_label(run), **style)
        rec.line(right, "tokens", xs, tokens, run_label(run), **style)
    left.set_title("cumulative LLM calls")
    right.set_title("cumulative tokens (prompt + completion)")
    # symmetric log: a run of 2 calls stays readable beside one of 200 (linear below the threshold)
    for ax, what, linear in ((left, "LLM calls", 1.0), (right, "tokens", 100.0)):
        ax.set_xlabel("environment steps")
        ax.set_yscale("symlog", linthresh=linear)
        ax.set_ylabel(f"{what} (symmetric log scale)")
        ax.grid(alpha=0.3, which="both")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
    # one legend for both (the same runs), beside them so that it hides no line
    fig.legend(*left.get_legend_handles_labels(), loc="outside right upper",
               fontsize="small" if len(runs) <= 8 else "x-small")
    note = " Some calls are placed by episode times (transitions recorded before schema 0006)." if estimated else ""
    w, h = _pixels(COST_SIZE)
    return fig, Figure("cost.png", "Cost: LLM calls and tokens against environment steps",
                       "Each call is placed at the number of environment steps recorded before it started; "
                       "ReAct runs are dashed." + note, w, h, rec.series)


def seed_spread(runs: list[RunSummary]) -> tuple[list[int], list[float], list[float], list[int]]:
    """Per episode index, over the runs that played it: the mean success, its standard deviation
    (population) and how many runs count."""
    longest = max((len(r.episode_list) for r in runs), default=0)
    xs, mean, std, count = [], [], [], []
    for i in range(longest):
        values = [1.0 if r.episode_list[i].success else 0.0 for r in runs if len(r.episode_list) > i]
        xs.append(i)
        mean.append(statistics.fmean(values))
        std.append(statistics.pstdev(values))
        count.append(len(values))
    return xs, mean, std, count


def cumulative_spread(runs: list[RunSummary]) -> tuple[list[int], list[float], list[float], list[float]]:
    """Per episode index: the mean, min and max over runs of the episodes won so far (runs that
    stopped earlier, e.g. by the stop rule, no longer count)."""
    longest = max((len(r.episode_list) for r in runs), default=0)
    so_far = [[sum(e.success for e in r.episode_list[:i + 1]) for i in range(len(r.episode_list))] for r in runs]
    xs, mean, lo, hi = [], [], [], []
    for i in range(longest):
        values = [float(s[i]) for s in so_far if len(s) > i]
        xs.append(i)
        mean.append(statistics.fmean(values))
        lo.append(min(values))
        hi.append(max(values))
    return xs, mean, lo, hi


def sweep_figure(sweep: SweepSummary, runs: dict[int, RunSummary]) -> tuple[MplFigure, Figure]:
    """For each environment of a sweep: success per episode as mean ± std over its seeds, and the
    episodes won so far as mean with a min–max band."""
    fig = _new_figure(SWEEP_SIZE)
    rec = _Recorder()
    left, right = fig.subplots(1, 2)
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive"]
    for k, env in enumerate(sweep.envs):
        members = [runs[c.run_id] for c in sweep.cells if c.env == env and c.run_id is not None and c.run_id in runs]
        if not members:
            continue
        color = colors[k % len(colors)]
        label = f"{env} ({len(members)} seeds)"
        xs, mean, std, _ = seed_spread(members)
        rec.band(left, "success", xs, [max(0.0, m - s) for m, s in zip(mean, std, strict=True)],
                 [min(1.0, m + s) for m, s in zip(mean, std, strict=True)], f"{env} ±std", color=color, alpha=0.2)
        rec.line(left, "success", xs, mean, label, color=color, marker=".")
        cx, cmean, lo, hi = cumulative_spread(members)
        rec.band(right, "episodes won", cx, lo, hi, f"{env} min–max", color=color, alpha=0.2)
        rec.line(right, "episodes won", cx, cmean, label, color=color, marker=".")
    left.set_title(f"sweep {sweep.id}: success per episode (mean ± std over seeds)")
    left.set_ylabel("success rate")
    left.set_ylim(-0.05, 1.05)
    right.set_title(f"sweep {sweep.id}: episodes won so far (mean, min–max over seeds)")
    right.set_ylabel("episodes won")
    for ax in (left, right):
        ax.set_xlabel("episode")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    w, h = _pixels(SWEEP_SIZE)
    return fig, Figure(f"sweep-{sweep.id}.png", f"Sweep {sweep.id}: spread over seeds",
                       f"Sweep {sweep.id} ({', '.join(sweep.envs)} × seeds {', '.join(map(str, sweep.seeds))}): "
                       "at each episode, over the seeds whose run played it.", w, h, rec.series)


def lineage_layout(graph: nx.DiGraph) -> dict[int, tuple[float, float]]:
    """Generations left to right (a program to the right of what it came from), programs
    of one generation stacked by environment, then id."""
    order = {env: i for i, env in enumerate(dict.fromkeys(graph.nodes[n].get("env") for n in sorted(graph.nodes)))}
    pos: dict[int, tuple[float, float]] = {}
    for depth, generation in enumerate(nx.topological_generations(graph)):
        stacked = sorted(generation, key=lambda n: (order[graph.nodes[n].get("env")], n))
        for k, node in enumerate(stacked):
            pos[node] = (float(depth), float(-(k - (len(stacked) - 1) / 2)))
    return pos


def lineage_figure(graph: nx.DiGraph) -> tuple[MplFigure, Figure]:
    """The programs as a graph (edges parent -> child), coloured by score (grey: not scored),
    outlined when a program became its run's model; each edge by its kind (`edge_kind`)."""
    require_matplotlib()
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D

    fig = _new_figure(LINEAGE_SIZE)
    ax = fig.subplots()
    pos = lineage_layout(graph)
    cmap, norm = colormaps["viridis"], Normalize(0.0, 1.0)
    nodes = sorted(graph.nodes)
    colors = [cmap(norm(graph.nodes[n]["score"])) if graph.nodes[n].get("score") is not None else "lightgrey"
              for n in nodes]
    models = [n for n in nodes if graph.nodes[n].get("is_model")]
    nx.draw_networkx_nodes(graph, pos, nodelist=nodes, node_color=colors, node_size=700, ax=ax,
                           edgecolors=["black" if n in models else "dimgrey" for n in nodes],
                           linewidths=[3.0 if n in models else 0.8 for n in nodes])
    across = [(p, c) for p, c in graph.edges if graph.nodes[p].get("env") != graph.nodes[c].get("env")]
    by_kind: dict[EdgeStyle, list[tuple[int, int]]] = {}
    for p, c in sorted(graph.edges):
        by_kind.setdefault(edge_kind(graph, p, c), []).append((p, c))
    kinds = [k for k in [*EDGE_KINDS.values(), OTHER_EDGE] if k in by_kind]  # the legend's fixed order
    for label, colour, style in kinds:
        nx.draw_networkx_edges(graph, pos, edgelist=by_kind[(label, colour, style)], ax=ax, edge_color=colour,
                               style=style, width=2.0 if style != "solid" else 1.2, arrows=True, node_size=700)
    if len(nodes) <= MAX_LABELLED_NODES:
        for n in nodes:  # the id in the node, the environment under it
            score = graph.nodes[n].get("score")
            ink = "white" if score is not None and score < 0.55 else "black"  # readable on viridis
            ax.annotate(str(n), pos[n], ha="center", va="center", fontsize=8, color=ink, weight="bold")
            ax.annotate(str(graph.nodes[n].get("env")), pos[n], xytext=(0, -17), textcoords="offset points",
                        ha="center", va="top", fontsize=7)
    fig.colorbar(_scalar_mappable(cmap, norm), ax=ax, label="score h(p)", shrink=0.8)
    handles = [Line2D([], [], color=colour, linestyle=style, linewidth=2, label=label)
               for label, colour, style in kinds]
    handles += [Line2D([], [], marker="o", color="w", markerfacecolor="lightgrey", markeredgecolor="black",
                       markeredgewidth=3, markersize=12, label="a run's final model"),
                Line2D([], [], marker="o", color="w", markerfacecolor="lightgrey", markersize=12, label="not scored")]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)), fontsize="small")
    ax.margins(0.08, 0.08)
    envs = sorted({str(graph.nodes[n].get("env")) for n in nodes})
    ax.set_title(f"program lineage: {len(nodes)} programs, {len(across)} transfers across environments "
                 f"({', '.join(envs)})")
    ax.set_axis_off()
    w, h = _pixels(LINEAGE_SIZE)
    drawn_nodes = [NodeDrawn(n, str(graph.nodes[n].get("env")), graph.nodes[n].get("score"), n in models, pos[n])
                   for n in nodes]
    drawn_edges = [EdgeDrawn(p, c, (p, c) in set(across), edge_kind(graph, p, c)[0]) for p, c in sorted(graph.edges)]
    return fig, Figure("lineage.png", "Program lineage",
                       "Programs left to right by generation, each labelled with its id and environment and coloured "
                       "by score; a thick outline marks a run's final model; each edge is drawn by what the child "
                       "is of its parent (a repair of its transition, reward or optimism, or a transfer; dashed red: "
                       "a transfer across environments).", w, h, nodes=drawn_nodes, edges=drawn_edges,
                       legend=[str(hd.get_label()) for hd in handles])


def _scalar_mappable(cmap: Any, norm: Any) -> Any:
    from matplotlib.cm import ScalarMappable

    mappable = ScalarMappable(norm=norm, cmap=cmap)
    mappable.set_array([])
    return mappable


def cwmb_figure(bench: BenchSet, published: Sequence[dict[str, Any]], index: int) -> tuple[MplFigure, Figure]:
    """A stored `wc bench cwmb` run set: per environment, both accuracy forms and the normalized
    return; per CWMB group, its means beside the published rows' (accuracy, normalized return).
    A measure that is "n/a" (R_true not above R_random) or missing draws no bar."""
    fig = _new_figure(CWMB_SIZE)
    rec = _Recorder()
    left, right = fig.subplots(1, 2, width_ratios=[max(3, len(bench.lines)), 3])
    width = 0.27
    xs = list(range(len(bench.lines)))
    for k, (key, label, color) in enumerate((("accuracy_paper", "accuracy (paper, eq. 2)", "tab:blue"),
                                             ("accuracy_code", "accuracy (released code)", "tab:cyan"),
                                             ("normalized_return", "normalized return", "tab:orange"))):
        have = [(x, line[key]) for x, line in zip(xs, bench.lines, strict=True) if line.get(key) is not None]
        rec.bars(left, "environments", [x + (k - 1) * width for x, _ in have], [v for _, v in have], label,
                 width=width, color=color)
    left.set_xticks(xs, [str(line.get("env")) for line in bench.lines], rotation=45, ha="right", fontsize="small")
    left.set_title(f"wc bench cwmb: {bench.model or 'no LLM'}, ≤ {bench.max_llm_calls} calls")
    left.axhline(1.0, color="grey", lw=0.5)
    left.legend(fontsize="small")
    means = bench.means()
    groups = [g for g in GROUPS if g in means]
    rows = [(f"wc, {bench.model or 'no LLM'}", {g: (means[g]["accuracy_paper"], means[g]["normalized_return"])
                                                for g in groups})]
    rows += [(str(p["method"]), {g: tuple(p[g]) for g in groups}) for p in published]
    step = 1.0 / (len(rows) + 1)
    colors = ["tab:red", "tab:grey", "tab:olive", "tab:brown", "tab:purple"]
    for k, (method, values) in enumerate(rows):
        x, heights = [], []
        for gi, g in enumerate(groups):
            for mi in range(2):  # accuracy, then normalized return
                if values[g][mi] is not None:
                    x.append(gi * 2 + mi + (k - len(rows) / 2) * step)
                    heights.append(values[g][mi])
        rec.bars(right, "means", x, heights, method, width=step, color=colors[k % len(colors)])
    right.set_xticks([gi * 2 + mi for gi in range(len(groups)) for mi in range(2)],
                     [f"{g}\n{m}" for g in groups for m in ("accuracy", "return")], fontsize="small")
    right.set_title("means beside CWMB's published rows")
    right.legend(fontsize="x-small")
    for ax in (left, right):
        ax.grid(alpha=0.3, axis="y")
    w, h = _pixels(CWMB_SIZE)
    return fig, Figure(f"cwmb-{index}.png", f"CWMB benchmark {index}: {bench.title}",
                       "Per environment, the accuracy on CWMB's data in both forms and the normalized return; "
                       "per group, the means beside the published rows (accuracy in the paper's form).",
                       w, h, rec.series)
