"""REx: refine / explore / exploit as a Thompson-sampling bandit over candidate programs.

Pure maths, no I/O. An arm is a (program, repair kind) pair, plus one arm for writing from
scratch. Arm a draws θ ~ Beta(1 + C·h, 1 + C·(1 − h) + n): h is the program's heuristic score and
n how often the arm was pulled; the highest draws are refined next.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

RepairKind = Literal["scratch", "transition", "reward", "optimism"]


@dataclass
class Arm:
    program_id: int | None  # None for the write-from-scratch arm
    kind: RepairKind
    h: float
    n: int = 0

    @property
    def key(self) -> tuple[int | None, str]:
        return (self.program_id, self.kind)


@dataclass
class Rex:
    """The bandit's state; serialisable as plain data for checkpoints."""

    c: float = 5.0
    arms: dict[tuple[int | None, str], Arm] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.arms.setdefault((None, "scratch"), Arm(None, "scratch", 0.0))

    def add(self, program_id: int, kind: RepairKind, h: float) -> Arm:
        arm = self.arms.get((program_id, kind))
        if arm is None:
            arm = self.arms[(program_id, kind)] = Arm(program_id, kind, h)
        else:
            arm.h = h
        return arm

    def remove_program(self, program_id: int) -> None:
        for key in [k for k in self.arms if k[0] == program_id]:
            del self.arms[key]

    def sample(self, arm: Arm, rng: random.Random) -> float:
        return rng.betavariate(1 + self.c * arm.h, 1 + self.c * (1 - arm.h) + arm.n)

    def choose(self, k: int, rng: random.Random) -> list[Arm]:
        """Pull k arms by batched Thompson sampling: each pick draws θ for every arm, takes the
        highest and counts it as pulled before the next pick, so an arm can be pulled twice in one
        round (its requests then show different counterexamples) but less eagerly each time."""
        picks: list[Arm] = []
        for _ in range(k):
            arms = list(self.arms.values())
            draws = [self.sample(a, rng) for a in arms]
            best = max(range(len(arms)), key=lambda i: (draws[i], -i))
            self.pulled(arms[best])
            picks.append(arms[best])
        return picks

    def pulled(self, arm: Arm) -> None:
        arm.n += 1

    def to_json(self) -> dict:
        return {"c": self.c, "arms": [[a.program_id, a.kind, a.h, a.n] for a in self.arms.values()]}

    @classmethod
    def from_json(cls, data: dict) -> Rex:
        rex = cls(c=data["c"], arms={})
        for pid, kind, h, n in data["arms"]:
            rex.arms[(pid, kind)] = Arm(pid, kind, h, n)
        return rex
