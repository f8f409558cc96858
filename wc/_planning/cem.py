"""The cross-entropy method over open-loop action sequences in a box: the return planner of the
Code World Models Benchmark (CWMB) for continuous actions, whose settings are the preset `CWMB`.

A plan is `horizon` actions, each a vector of floats between `low` and `high`. Each iteration
draws `samples` sequences from independent normals per step and dimension (clipped to the box),
scores each by its discounted return in the program (played until done), and refits the mean and
standard deviation to the best `elites`. The first distribution is centred in the box with
standard deviation max(|low|, |high|) / 2, as in CWMB's code.

For receding-horizon control wc plans again after every action, so two things make a new plan
start where the last one ended (iCEM's ideas, Pinneri et al. 2020, without its coloured noise):
`init`, the previous plan shifted by one, is the first mean and is itself scored in the first
iteration, so in a deterministic program the new plan is never worse than what remained of the
old one; and the best `keep` elites of an iteration go into the next one without being played
again. MPPI (a softmax of returns instead of elites) would also fit, but its temperature depends
on the scale of the rewards, which here is whatever the learned program says; the elite fraction
does not, and CEM is what CWMB measured with.

A random program (`step` draws an outcome at every call) is planned with *sampled outcomes*:
each sequence is played `draws` times and scored by the mean of its returns (the expected
return, estimated), or with `optimistic` by the best of them (the most return some trajectory
of positive probability reaches: φ2). Before its k-th play the caller's `redraw(k, draws)` sets
the numbers the outcomes are drawn from, so that the k-th play of every sequence meets the same
luck (common random numbers: the search cannot prefer a sequence for luck the others did not
get, and `init`, scored first, keeps its place as in a deterministic program). Without
`redraw` (a deterministic program) a sequence is played once, whatever `draws` says.

Pure Python: a sequence is a list of tuples, the statistics are flat lists, and a sequence is
played with one call of `step` per action. A sequence whose step raises scores -inf (never an
elite); the error goes to `on_error`.
"""
from __future__ import annotations

import math
import random as _random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from wc._planning.result import ERROR, FOUND
from wc._planning.returns import Counter, OnError, ReturnPlan, Step, finish


@dataclass(frozen=True)
class CemSettings:
    """The search's own parameters (its budgets of steps and time come from the caller)."""

    horizon: int = 30
    iterations: int = 5
    samples: int = 60
    elites: int = 6
    keep: int = 2              # elites carried into the next iteration without being played again
    gamma: float = 1.0
    # not a search parameter: how many of a plan's actions the agent plays before planning again
    # (1: receding horizon; CWMB plays the whole plan open loop)
    replan_every: int = 1
    # plays of each sequence in a random program, scored by their mean (module docstring): few,
    # since each costs a whole sequence; a deterministic program's sequence is played once
    draws: int = 4

    algorithm = "cem"
    kind = "continuous"

    def search(self, start: Any, step: Step, **budget: Any) -> ReturnPlan:
        params = asdict(self)
        del params["replan_every"]
        return search(start, step, **params, **budget)


WC = CemSettings()
# CWMB (GIF-MCTS, Dainese et al. 2024): horizon 100, 20 iterations, 1000 samples, 100 elites,
# undiscounted, the plan played open loop
CWMB = CemSettings(horizon=100, iterations=20, samples=1000, elites=100, keep=0, gamma=1.0, replan_every=100)


def search(start: Any, step: Step, *, low: Sequence[float], high: Sequence[float], horizon: int = WC.horizon,
           iterations: int = WC.iterations, samples: int = WC.samples, elites: int = WC.elites, keep: int = WC.keep,
           gamma: float = WC.gamma, init: Sequence[Sequence[float]] | None = None, rng: _random.Random | None = None,
           deadline: float | None = None, max_steps: int | None = None, on_error: OnError | None = None,
           then: Sequence[Sequence[float]] = (), draws: int = WC.draws,
           redraw: Callable[[int, int], None] | None = None, optimistic: bool = False) -> ReturnPlan:
    """CEM from `start` over sequences of `horizon` actions in the box [low, high]; `init`, a
    previous plan (shifted), warm-starts it. `then`: actions played after every sequence (the
    rest of a longer plan, open loop), so that a sequence is scored by where that plan takes it.
    `redraw`: `step` is random; each sequence is played `draws` times, `redraw(k, draws)` before
    the k-th, and scored by the mean of their returns (`optimistic`: the best); the plan's
    predictions are its longest play's (`optimistic`: its best play's). Stops after `iterations`,
    or within one step of `max_steps` program steps or the `deadline` (a sequence cut short is
    not scored)."""
    started = time.monotonic()
    dims = len(low)
    if dims == 0 or len(high) != dims or any(a > b for a, b in zip(low, high, strict=True)):
        raise ValueError("the action box needs as many lows as highs, each low <= its high")
    check(dims, horizon=horizon, samples=samples, elites=elites, keep=keep, init=init, draws=draws)
    plays = draws if redraw is not None else 1
    rng = rng or _random.Random(0)
    gauss = rng.gauss
    lows = [float(x) for x in low] * horizon      # per step and dimension, flat
    highs = [float(x) for x in high] * horizon
    mean = [(a + b) / 2 for a, b in zip(lows, highs, strict=True)]
    spread = [max(abs(a), abs(b)) / 2 for a, b in zip(lows, highs, strict=True)]
    std = list(spread)
    calls = Counter(step, max_steps, deadline, on_error)
    first: list[tuple[float, ...]] | None = None
    if init is not None:
        flat = [float(x) for action in list(init)[:horizon] for x in action]
        flat = [lo if x < lo else hi if x > hi else x for x, lo, hi in zip(flat, lows, highs, strict=False)]
        mean[:len(flat)] = flat
        first = _grouped(mean, dims)

    tail = [tuple(float(x) for x in action) for action in then]
    trail: list[tuple[Any, float, bool]] = []  # what the program predicted along the sequence played last

    def play_once(seq: list[tuple[float, ...]]) -> float | None:
        """The discounted return of `seq` (-inf when a step raises), None when the budget ends."""
        nonlocal trail
        state, total, discount, trail = start, 0.0, 1.0, []
        record = trail.append
        steps, most, deadline_at, monotonic = calls.steps, calls.max_steps, calls.deadline, time.monotonic
        try:
            for action in (seq + tail if tail else seq):
                if steps >= most or monotonic() > deadline_at:
                    calls.steps = steps
                    calls.left()
                    return None
                steps += 1
                try:
                    state, reward, done = step(state, action)
                except Exception as exc:  # noqa: BLE001 - the program is untrusted; timeouts propagate
                    calls.failed(exc, list(action))
                    return -math.inf
                record((state, reward, done))
                total += discount * reward
                discount *= gamma
                if done:
                    break
            return total
        finally:
            calls.steps = steps

    def play(seq: list[tuple[float, ...]]) -> float | None:
        """The sequence's score: its return, or over `plays` draws their mean (or best); `trail`
        left as the longest play's, the whole sequence unless every play ended early (or the
        best play's)."""
        nonlocal trail
        if redraw is None:
            return play_once(seq)
        scores: list[float] = []
        kept = trail
        for k in range(plays):
            redraw(k, plays)
            score = play_once(seq)
            if score is None:
                return None
            if score == -math.inf:
                return score
            if k == 0 or (score > max(scores) if optimistic else len(trail) > len(kept)):
                kept = trail
            scores.append(score)
        trail = kept
        return max(scores) if optimistic else sum(scores) / plays

    best_score, best, best_trail = -math.inf, None, trail
    played = failed = 0
    carried: list[tuple[float, list[tuple[float, ...]]]] = []
    stopped = False
    for _ in range(iterations):
        scored = list(carried)
        for _ in range(samples - len(carried)):
            if first is not None:
                seq, first = first, None
            else:
                seq = _grouped([lo if x < lo else hi if x > hi else x
                                for x, lo, hi in zip(map(gauss, mean, std), lows, highs, strict=True)], dims)
            score = play(seq)
            if score is None:
                stopped = True
                break
            played += 1
            if score == -math.inf:
                failed += 1
                continue
            scored.append((score, seq))
            if score > best_score:
                best_score, best, best_trail = score, seq, trail
        if stopped:
            break
        top = sorted(scored, key=_score, reverse=True)[:elites]  # stable: ties keep their order
        if top:
            mean, std = _fit([seq for _, seq in top], len(mean))
        carried = top[:keep]

    plan = ReturnPlan(gamma=gamma, steps=calls.steps, rollouts=played, planner="cem")
    if best is not None:
        plan.predictions = best_trail
        plan.action, plan.actions = list(best[0]), [list(a) for a in (best + tail)[:len(best_trail)]]
        plan.value, plan.status = best_score, FOUND
        if stopped:
            calls.stopped(plan)
    elif played and failed == played:
        plan.status, plan.reason = ERROR, "every sequence tried fails"
    else:
        calls.stopped(plan, "no sequence was played")
    return finish(plan, started)


def check(dims: int, *, horizon: int, samples: int, elites: int, keep: int,
          init: Sequence[Sequence[float]] | None = None, draws: int = 1) -> None:
    """ValueError unless the settings (and a warm start for a box of `dims` dimensions) make sense."""
    if horizon < 1 or samples < 1 or not 1 <= elites <= samples or not 0 <= keep <= elites or draws < 1:
        raise ValueError("CEM needs horizon, samples, draws >= 1 and 0 <= keep <= elites <= samples")
    if init is not None and any(len(action) != dims for action in init):
        raise ValueError(f"a warm start's actions have {dims} numbers each, as the box has")


def _score(item: tuple[float, Any]) -> float:
    return item[0]


def _grouped(flat: list[float], dims: int) -> list[tuple[float, ...]]:
    """A flat list of floats as a sequence of `dims`-tuples (one per step)."""
    return list(zip(*[iter(flat)] * dims, strict=True))


def _fit(seqs: list[list[tuple[float, ...]]], size: int) -> tuple[list[float], list[float]]:
    """Mean and (population) standard deviation per step and dimension of the elites."""
    rows = [[x for action in seq for x in action] for seq in seqs]
    n = len(rows)
    mean = [sum(column) / n for column in zip(*rows, strict=True)]
    std = [math.sqrt(sum((x - m) ** 2 for x in column) / n) for column, m in zip(zip(*rows, strict=True), mean,
                                                                              strict=True)]
    assert len(mean) == size
    return mean, std
