"""Continuous actions: CEM, and width-based search over the box's corners for a goal it cannot see.

CEM refines what it samples near; over a horizon of 30 steps it cannot see a reward that only
a long, deliberate sequence reaches (MountainCarContinuous's +100 at the flag, after swinging
back and forth for a hundred steps, where every push costs: CEM learns to stand still). So:

1. unless the previous plan (shifted by one, `init`) is longer than CEM's horizon (it is a goal
   plan, below), `wc._planning.iw` searches over a few actions of the box (each dimension at its
   low, middle or high; every combination for up to 3 dimensions, else one dimension off the
   middle at a time) for the sequence the program rewards most;
2. when that sequence *ends in a goal* (done, with its last reward above every other of its
   rewards), it is CEM's first mean over the first `cem.horizon` actions, and its remaining
   actions are played after every sample (`cem.search(then=...)`), so samples are scored over
   the whole way to the goal (2 iterations of 30 samples, `follow`: each costs the whole way);
   the sequence itself is CEM's first sample, so a plan never gets worse, and the next decision
   starts from it (the width-based search is then skipped);
3. otherwise CEM plans as the `cem` preset does, warm-started by the previous plan.

Comparing a long sequence with CEM's short ones by return would be comparing different spans
(in Pendulum a long open-loop tail falls, and its score then says more about the tail than about
the control now), so a long sequence is only followed to a goal.

In a random program (`redraw` given: `step` draws an outcome at every call) the width-based
search plays each node's action once, through an outcome drawn at random, so its goal sequence
is one that reaches the goal with positive probability; CEM then scores every sample, that
sequence first, by its mean return over `cem.draws` plays (`wc._planning.cem`). Pure;
deterministic given the rng and the draws.
"""
from __future__ import annotations

import itertools
import random as _random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wc._planning import cem, iw
from wc._planning.cem import CemSettings
from wc._planning.returns import Cut, OnError, ReturnPlan, Step, finish


@dataclass(frozen=True)
class SeededCemSettings:
    """The two searches' settings; their budgets of steps and time come from the caller."""

    width: iw.WidthSettings = field(default_factory=lambda: iw.WidthSettings())
    cem: CemSettings = field(default_factory=lambda: cem.WC)
    # CEM around a goal plan: each sample is played with the rest of the plan, so fewer of them
    follow: CemSettings = field(default_factory=lambda: CemSettings(iterations=2, samples=30, elites=3, keep=1))

    algorithm = "iw-cem"
    kind = "continuous"
    replan_every = 1

    def search(self, start: Any, step: Step, **budget: Any) -> ReturnPlan:
        return search(start, step, settings=self, **budget)


WC = SeededCemSettings()


def corners(low: Sequence[float], high: Sequence[float]) -> list[tuple[float, ...]]:
    """The actions the width-based search tries: each dimension at its low, middle or high."""
    levels = [(lo, (lo + hi) / 2, hi) for lo, hi in zip(low, high, strict=True)]
    if len(levels) <= 3:
        return [tuple(a) for a in itertools.product(*levels)]
    middle = tuple(m for _, m, _ in levels)
    out = [middle]
    for i, (lo, _, hi) in enumerate(levels):
        out += [middle[:i] + (lo,) + middle[i + 1:], middle[:i] + (hi,) + middle[i + 1:]]
    return out


def ends_in_goal(plan: ReturnPlan) -> bool:
    """The sequence ends the episode with a reward above every other of its rewards (a goal, such
    as MountainCarContinuous's flag; not a fall rewarded like any other step)."""
    rewards = [r for _, r, _ in plan.predictions]
    return plan.done and len(rewards) > 1 and rewards[-1] > max(rewards[:-1])


def search(start: Any, step: Step, *, settings: SeededCemSettings = WC, low: Sequence[float],
           high: Sequence[float], init: Sequence[Sequence[float]] | None = None, features: iw.Features | None = None,
           rng: _random.Random | None = None, deadline: float | None = None, max_steps: int | None = None,
           on_error: OnError | None = None, redraw: Callable[[int, int], None] | None = None,
           optimistic: bool = False) -> ReturnPlan:
    """Width-based search over the box's corners for a goal, then CEM (module docstring);
    `redraw` and `optimistic` as `cem.search` takes them."""
    started = time.monotonic()
    rng = rng or _random.Random(0)
    width, refine = settings.width, settings.cem
    warm = [tuple(float(x) for x in a) for a in init] if init else []
    spent, rollouts, reason = 0, 0, ""
    cut: Cut | None = None
    if len(warm) <= refine.horizon:  # no goal plan to follow: look for one
        seed = width.search(start, corners(low, high), step, features=features, rng=rng, deadline=deadline,
                            max_steps=max_steps, on_error=on_error)
        spent, rollouts, reason, cut = seed.steps, seed.rollouts, seed.reason, seed.cut
        if seed.found and ends_in_goal(seed):
            warm = [tuple(a) for a in seed.actions]
        elif seed.status != "found" or seed.cut is not None:  # an error, or the caller's budget ran out
            seed.planner = "iw-cem"
            return seed
    left = None if max_steps is None else max_steps - spent
    if len(warm) > refine.horizon:
        refine = settings.follow
    plan = cem.search(start, step, low=low, high=high, horizon=refine.horizon, iterations=refine.iterations,
                      samples=refine.samples, elites=refine.elites, keep=refine.keep, gamma=refine.gamma,
                      init=warm[:refine.horizon] or None, then=warm[refine.horizon:], rng=rng, deadline=deadline,
                      max_steps=left, on_error=on_error, draws=refine.draws, redraw=redraw, optimistic=optimistic)
    plan.steps += spent
    plan.rollouts += rollouts
    plan.planner = "iw-cem"
    if plan.cut is None and not plan.reason:  # the goal plan it followed was cut short: so is this search
        plan.cut, plan.reason = cut, reason
    return finish(plan, started)
