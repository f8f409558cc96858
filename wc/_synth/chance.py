"""What the LLM is told about a random world. Pure functions from data to prompt text, for
`wc._synth.prompts` to put in a repair request:

* `nondeterminism`: the same state and action led to different outcomes (found from the
  records alone, `frequencies.varied`), said plainly to a program that returns one next state:
  it cannot explain them, and the API module's choice() and vary() can;
* `improbable`: the recorded transitions a program calls impossible (φ1 fails on them) or very
  unlikely, each with the program's own most probable outcomes for that state and action where
  the worker sent them;
* `frequencies`: the (state, action)s whose outcome frequencies disagree with the program's
  probabilities (`frequencies.disagreements`), each outcome's count and share beside the
  program's probability, and the test that says so.

Each outcome is told as what changed (`wc._core.canonical.diff_states`), then the reward and done,
so that outcomes of one state and action read side by side.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from wc._core.canonical import diff_states
from wc._core.values import Transition
from wc._sandbox.frequencies import ALPHA, MIN_VISITS, Disagreement, Visits
from wc._sandbox.likelihood import EPSILON, UNLIKELY
from wc._synth.prompts import PromptContext, _indent

__all__ = ["WHAT_CHANCE_IS_FOR", "frequencies", "improbable", "nondeterminism", "outcome_text"]


# what probabilities are for: a program that hedges over what it has not seen yet (every unvisited cell
# a hole with probability 0.2) explains all data and plans timidly, and new data never refutes it
WHAT_CHANCE_IS_FOR = ("Use probabilities only for what the world itself does at random (what the data shows happening "
                      "differently from the same state and action), not for what the data has not shown yet (a cell "
                      "never visited, a rule never tried): there, write your best guess as a certain outcome, one "
                      "under which the mission can be completed. When later data disagrees with it, you will be "
                      "shown that data.")


def outcome_text(state: list[dict[str, Any]], next_state: list[dict[str, Any]], reward: float | None = None,
                 done: bool | None = None) -> str:
    """One outcome of a state and action: what changed, then the reward and done if known."""
    changes = diff_states(state, next_state)
    text = "; ".join(changes) if changes else "nothing changed"
    if reward is not None:
        text += f"; reward {reward:g}, done {done}"
    return text


def _where(ctx: PromptContext, t: Transition) -> list[str]:
    return [f"In this state (mission {json.dumps(t.mission)}):", _indent(ctx.render(t.state))]


def nondeterminism(ctx: PromptContext, transitions: Sequence[Transition], visits: Sequence[Visits], *,
                   limit: int = 2, shown: int = 4) -> str:
    """Tell a program that returns one next state that the data holds the same state and action
    with different outcomes (the `limit` most visited such pairs, `shown` outcomes each)."""
    if not visits:
        return ""
    lines = ["The environment is random: the same state and action led to different outcomes, so a transition() "
             "that returns a single next state cannot explain them all. Return the possible next states with their "
             "probabilities instead (choice() and vary() in the API module); reward() is then called with each "
             "possible next state. " + WHAT_CHANCE_IS_FOR, ""]
    for v in visits[:limit]:
        first = transitions[v.first]
        lines += _where(ctx, first)
        lines.append(f"action {json.dumps(v.action)} was taken {v.count} times:")
        for outcome in v.outcomes[:shown]:
            t = transitions[outcome[0]]
            times = "once" if len(outcome) == 1 else f"{len(outcome)} times"
            lines.append(f"  - {times}: " + outcome_text(t.state, t.next_state, t.reward, t.done))
        if len(v.outcomes) > shown:
            lines.append(f"  - and {len(v.outcomes) - shown} other outcomes")
        lines.append("")
    if len(visits) > limit:
        lines.append(f"({len(visits) - limit} more states and actions were seen with different outcomes.)")
    return "\n".join(lines).rstrip()


def improbable(ctx: PromptContext, transitions: Sequence[Transition], likelihoods: Sequence[float],
               indices: Sequence[int], *, likely: Mapping[int, Sequence[tuple[float, list[dict[str, Any]]]]]
               | None = None, limit: int = 3) -> str:
    """The recorded transitions (`indices`, least likely first) that the program calls impossible
    or very unlikely, with its probability for each and, where `likely[i]` gives them, the
    program's own most probable outcomes for that state and action."""
    picked = sorted(indices, key=lambda i: likelihoods[i])[:limit]
    if not picked:
        return ""
    lines: list[str] = []
    for n, i in enumerate(picked):
        t, L = transitions[i], likelihoods[i]
        verdict = ("your program gives it no probability: it says this cannot happen" if L < EPSILON else
                   f"your program gives it probability {L:.3g}, very unlikely for something that was seen")
        lines += [f"Recorded transition {n + 1}: {verdict}.", *_where(ctx, t),
                  f"action: {json.dumps(t.action)}",
                  "what happened: " + outcome_text(t.state, t.next_state, t.reward, t.done)]
        for p, state in (likely or {}).get(i, ()):
            lines.append(f"  your program's outcome with probability {p:.3g}: " + outcome_text(t.state, state))
        lines.append("")
    rest = len(indices) - len(picked)
    if rest:
        lines.append(f"({rest} more recorded transitions are impossible or below probability {UNLIKELY:g} under "
                     "your program.)")
    return "\n".join(lines).rstrip()


def frequencies(ctx: PromptContext, transitions: Sequence[Transition], found: Sequence[Disagreement], *,
                min_visits: int = MIN_VISITS, limit: int = 2, shown: int = 5) -> str:
    """The (state, action)s whose outcome frequencies disagree with the program's probabilities,
    each outcome's count and share beside the probability the program gives it."""
    if not found:
        return ""
    lines = ["Your program's probabilities disagree with how often things happened. Each state and action seen at "
             f"least {min_visits} times had its outcome counts tested against your probabilities; these differ "
             f"beyond chance (significant at {ALPHA:g} after correcting for the {found[0].tested} tested):", ""]
    for d in found[:limit]:
        v = d.visits
        first = transitions[v.first]
        lines += _where(ctx, first)
        lines.append(f"action {json.dumps(v.action)}, taken {v.count} times ({d.test.method} test, "
                     f"p = {d.test.p_value:.2g}):")
        for outcome, p in list(zip(v.outcomes, d.probabilities, strict=True))[:shown]:
            t = transitions[outcome[0]]
            lines.append(f"  - seen {len(outcome)} times ({len(outcome) / v.count:.0%}), your program says "
                         f"{p:.1%}: " + outcome_text(t.state, t.next_state, t.reward, t.done))
        rest = max(0.0, 1.0 - sum(d.probabilities))
        if rest > 0.005:
            lines.append(f"  - never seen: your program gives all its other outcomes {rest:.1%}")
        lines.append("")
    return "\n".join(lines).rstrip()
