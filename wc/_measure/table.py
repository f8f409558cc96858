"""The benchmark's table as numbers: per CWMB group (discrete: MCTS, continuous: CEM), the mean of
each measure over the environments that have it. Pure: `wc bench cwmb` and `wc report` both
compute it, from lines as `BenchEnv.to_json` writes them (and the store keeps them)."""
from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["GROUPS", "MEASURES", "group_means"]

GROUPS = ("discrete", "continuous")
MEASURES = ("accuracy_paper", "accuracy_code", "normalized_return")


def group_means(lines: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per group with lines: `envs` (how many) and the mean of each of MEASURES over the lines
    that have a value (None: none has)."""
    out: dict[str, dict[str, Any]] = {}
    for group in GROUPS:
        mine = [line for line in lines if line.get("group") == group]
        if not mine:
            continue
        out[group] = {"envs": len(mine)}
        for key in MEASURES:
            values = [line[key] for line in mine if line.get(key) is not None]
            out[group][key] = statistics.fmean(values) if values else None
    return out
