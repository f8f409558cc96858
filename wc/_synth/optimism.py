"""Optimism with a bound: how many LLM requests a start may cost when no plan exists from it.

φ2 asks for a plan from every recorded start, and real collections have starts with none
(procedural levels, Boxoban levels a bounded search calls "unknown"): an unbounded φ2 then spends
the whole LLM budget asking for "optimistic" repairs of a program that is right. So once a program
fits every transition and a complete search in it finds no plan from a start (the start
*blocks*), the start may hold a refinement open for at most `limit` requests. After that it is
*set aside*: it no longer counts against φ2, and its episode is played exploring. If the program
still fits what was seen and still finds no plan from it, the start is *believed unsolvable*
(under that program). Data that contradicts the program *reopens* every start set aside or
believed: each counts again, with its allowance back.

Pure bookkeeping: the refiner spends, the agent sets aside, believes, reopens and stores.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class OptimismBudget:
    """Requests spent per start while it blocked, starts believed unsolvable (with the program
    that found no plan), and starts judged undecided under a program (not judged again under it).
    `limit` None is the unbounded φ2 of the paper."""

    limit: int | None = 1
    spent: dict[str, int] = field(default_factory=dict)
    believed: dict[str, int] = field(default_factory=dict)
    judged: dict[str, int] = field(default_factory=dict)

    def counts(self, key: str) -> bool:
        """Whether the start counts against φ2: not believed unsolvable, allowance not used up."""
        return key not in self.believed and (self.limit is None or self.spent.get(key, 0) < self.limit)

    def left(self, key: str) -> int | None:
        """Requests the start may still cost (None: no bound)."""
        return None if self.limit is None else max(0, self.limit - self.spent.get(key, 0))

    def spend(self, key: str, requests: int) -> None:
        if self.limit is not None:  # unbounded, nothing is ever set aside: nothing to count
            self.spent[key] = self.spent.get(key, 0) + requests

    def set_aside(self) -> list[str]:
        """Starts whose allowance is used up and that are not believed unsolvable (yet)."""
        return [k for k in self.spent if not self.counts(k) and k not in self.believed]

    def believe(self, key: str, program_id: int) -> None:
        self.believed[key] = program_id
        self.judged.pop(key, None)

    def plan_found(self, key: str) -> None:
        """The program now has a plan from a start set aside: it counts again (and is satisfied)."""
        self.spent.pop(key, None)
        self.judged.pop(key, None)

    def reopen(self) -> bool:
        """New data contradicts the program: every start set aside or believed counts again.
        True when there was anything to reopen."""
        had = bool(self.spent or self.believed or self.judged)
        self.spent.clear()
        self.believed.clear()
        self.judged.clear()
        return had

    def to_json(self) -> dict[str, Any]:
        """What a checkpoint keeps (beliefs are rows of their own in the store)."""
        return {"spent": dict(self.spent), "judged": dict(self.judged)}

    def restore(self, data: dict[str, Any] | None, believed: dict[str, int]) -> None:
        data = data or {}
        self.spent = {str(k): int(v) for k, v in (data.get("spent") or {}).items()}
        self.judged = {str(k): int(v) for k, v in (data.get("judged") or {}).items()}
        self.believed = dict(believed)
