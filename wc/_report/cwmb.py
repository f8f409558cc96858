"""`wc bench cwmb`'s run sets as the store keeps them, for `wc report`: the stored lines grouped by
what makes them comparable (the fits' model, call budget, description, seed and whether they fitted
PARAMS; the episodes, step limit and seed they were measured with), the latest line per
environment, in CWMB's order, with the means per group beside the published rows. Pure: measure
records in, values and markdown out."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wc._measure.table import GROUPS, group_means
from wc._store import MeasureRecord

__all__ = ["BenchSet", "bench_markdown", "bench_sets"]


@dataclass
class BenchSet:
    """One stored benchmark: its settings and its lines (`BenchEnv.to_json` as stored)."""

    model: str | None
    max_llm_calls: int | None
    describe: str | None
    seed: int | None
    episodes: int | None
    max_steps: int | None
    fit_params: bool = False  # the fits fitted PARAMS (fits stored before PARAMS existed did not)
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def title(self) -> str:
        steps = f", at most {self.max_steps} steps" if self.max_steps else ""
        params = ", PARAMS fitted" if self.fit_params else ", PARAMS not fitted"
        returns = f"{self.episodes} episodes per return{steps}" if self.episodes != 0 else "return not measured"
        return (f"{self.model or 'no LLM'}, ≤ {self.max_llm_calls} LLM calls per environment, --describe "
                f"{self.describe}{params}, seed {self.seed}, {returns}")

    def means(self) -> dict[str, dict[str, Any]]:
        return group_means(self.lines)


def bench_sets(measures: Sequence[MeasureRecord], order: Sequence[str] = ()) -> list[BenchSet]:
    """The stored lines grouped into run sets (oldest set first); in each, the latest line of each
    environment, ordered as `order` names them (CWMB's environments), then by name."""
    sets: dict[tuple[Any, ...], BenchSet] = {}
    for m in measures:
        c, s = m.run_config, m.settings
        key = (m.model, c.get("max_llm_calls"), c.get("describe"), c.get("seed"), s.get("episodes"),
               s.get("max_steps"), bool(c.get("fit_params", False)))
        found = sets.setdefault(key, BenchSet(*key))
        found.lines = [line for line in found.lines if line.get("env") != m.result.get("env")] + [m.result]
    rank = {name: i for i, name in enumerate(order)}
    for found in sets.values():
        found.lines.sort(key=lambda line: (rank.get(str(line.get("env")), len(rank)), str(line.get("env"))))
    return list(sets.values())


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def bench_markdown(bench: BenchSet, published: Sequence[dict[str, Any]]) -> str:
    """The set's lines (both accuracy forms, the normalized return, the returns, tokens, times),
    then its means per group beside the published rows."""
    rows = ["| environment | group | run | LLM calls | tokens | accuracy (paper) | accuracy (code) | normalized return "
            "| R_program / R_true / R_random | planner s / action | wall time |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for j in bench.lines:
        r = j.get("returns")
        rs = "-" if not r else (f"{r['R_program']['mean']:.1f} / {r['R_true']['mean']:.1f} / "
                                f"{r['R_random']['mean']:.1f}")
        per_action = j.get("planner_seconds_per_action")
        wall = (j.get("wall_seconds") or 0.0) + (j.get("measure_seconds") or 0.0)
        rows.append(f"| {j.get('env')} | {j.get('group')} | {j.get('run_id')} | {j.get('llm_calls')} | "
                    f"{j.get('tokens') or 0:,} | {_num(j.get('accuracy_paper'), 3)} | "
                    f"{_num(j.get('accuracy_code'), 3)} | "
                    f"{_num(j.get('normalized_return')) if j.get('return_measured', True) else 'not measured'} | "
                    f"{rs} | "
                    f"{'-' if per_action is None else f'{per_action * 1000:.1f} ms'} | {wall:.1f} s |")
    means = bench.means()
    table = ["| method | LLM calls | discrete: accuracy / return | continuous: accuracy / return |",
             "|---|---:|---|---|"]
    for p in published:
        table.append(f"| {p['method']} | {p['llm_calls']} | {p['discrete'][0]:.2f} / {p['discrete'][1]:.2f} | "
                     f"{p['continuous'][0]:.2f} / {p['continuous'][1]:.2f} |")

    def cell(group: str) -> str:
        m = means.get(group)
        if not m:
            return "-"
        return (f"{_num(m['accuracy_paper'])} (code's form {_num(m['accuracy_code'])}) / "
                f"{_num(m['normalized_return'])} ({m['envs']} envs)")
    table.append(f"| **wc, {bench.model or 'no LLM'}** | {bench.max_llm_calls} | "
                 + " | ".join(cell(g) for g in GROUPS) + " |")
    return "\n".join(rows) + "\n\nMeans per group beside CWMB's published rows (accuracy in the paper's form, eq. 2; " \
        "rewards and done compared exactly, as CWMB's released code does):\n\n" + "\n".join(table)
