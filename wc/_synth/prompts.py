"""What the LLM is asked. Pure functions from data to chat messages.

The long unchanging part (instructions, API module, current program) comes first and the
varying part (the transitions shown) last, so providers' prompt caches apply.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wc._core.canonical import diff_states
from wc._core.contract import CHANCE_HELPERS, PARAMS_DOC, prompt_rules
from wc._core.tolerance import CWMB, Tolerance
from wc._core.values import State, Transition
from wc._planning.result import PlanResult

SYSTEM = """You write world models: Python programs that predict how an environment behaves.

The environment's API module is already loaded; your code can use its names directly (do not
import it, and do not redefine its classes):

```python
{api}
```

How to answer:
- Reply with your reasoning in a few sentences if you like, then the code in ```python fenced blocks.
{contract}
- Write general rules that hold for any layout, position and mission, not rules for the
  particular examples shown.
- Write every function out in full; never elide code ("rest unchanged", "...").
- When asked to fix a program you may return only the functions you change: they replace the
  functions of the same name, and the rest of the program is kept."""

DESCRIPTION = """

The environment's documentation (its names may differ from the API module's; the API module's
names are the ones your code uses):

<documentation>
{text}
</documentation>"""

REWARD_NOTE = {
    "sign": "Rewards are judged by sign only: positive, or not.",
    "exact": "Rewards must match exactly.",
}


@dataclass(frozen=True)
class PromptContext:
    """What prompts need to know about the environment. `tolerance`: how near a predicted number
    must be to the recorded one, in worlds whose states and rewards are numbers ("value" mode)."""

    api_source: str
    reward_mode: str
    render: Callable[[State], str]
    tolerance: Tolerance | None = None
    description: str | None = None  # the environment's documentation (`--describe docs`); None: data only

    @property
    def chance(self) -> bool:
        """The API module carries the chance helpers: a program may describe a random transition."""
        return CHANCE_HELPERS in self.api_source

    @property
    def params(self) -> bool:
        """The API module states the PARAMS convention: constants may be left to wc's fit."""
        return PARAMS_DOC in self.api_source

    @property
    def numeric(self) -> bool:
        """States and rewards judged as numbers within a tolerance (continuous worlds)."""
        return self.reward_mode == "value"


def reward_note(ctx: PromptContext) -> str:
    if ctx.numeric:
        rule = (ctx.tolerance or CWMB).describe()
        return (f"Next states and rewards are compared with the recorded ones as numbers: {rule}; integers and "
                "`done` exactly.")
    return REWARD_NOTE[ctx.reward_mode]


def system_message(ctx: PromptContext) -> dict[str, str]:
    content = SYSTEM.format(api=ctx.api_source.strip(), contract=prompt_rules(ctx.chance, ctx.params))
    if ctx.description:
        content += DESCRIPTION.format(text=ctx.description.strip())
    return {"role": "system", "content": content}


def describe_transition(ctx: PromptContext, t: Transition, number: int, *, show_state: bool = True) -> str:
    if ctx.numeric:
        return _describe_numeric(t, number)
    changes = diff_states(t.state, t.next_state)
    lines = [f"Transition {number}: mission {json.dumps(t.mission)}"]
    if show_state:
        lines += ["state before:", _indent(ctx.render(t.state))]
    lines += [f"action: {t.action}",
              "what changed: " + ("; ".join(changes) if changes else "nothing (the next state equals the state)"),
              f"reward: {t.reward:g}, done: {t.done}"]
    return "\n".join(lines)


def _describe_numeric(t: Transition, number: int) -> str:
    """A transition of a continuous world: both states in full, every number as recorded (a
    program has to reproduce them to within the tolerance)."""
    return "\n".join([f"Transition {number}:",
                      f"state: {_numbers(t.state)}",
                      f"action: {json.dumps(t.action)}",
                      f"next state: {_numbers(t.next_state)}",
                      f"reward: {t.reward!r}, done: {t.done}"])


def _numbers(state: State) -> str:
    return "; ".join(f"{e.get('type')}(" + ", ".join(f"{k}={v!r}" for k, v in e.items() if k != "type") + ")"
                     for e in state)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _code(source: str) -> str:
    return f"```python\n{source.strip()}\n```"


def _current(program: str, params: str) -> list[str]:
    """The program a request is about, and after it, where wc fitted its PARAMS, the fitted values
    and what they still miss (`wc._synth.fitting.describe`): every request that shows a program
    says the same of its fit."""
    return ["The current world model:", _code(program), "", *([params, ""] if params else [])]


# ------------------------------------------------------------------ choosing what to show


def effect_signature(t: Transition) -> tuple:
    """What kind of thing happened: the action, which fields of which entity types changed,
    what appeared or vanished, the reward's sign and done."""
    kinds: list[tuple[Any, ...]] = []
    for line in diff_states(t.state, t.next_state):
        head, _, rest = line.partition("(")
        if " changed " in line:
            fields = [part.split(":")[0].strip() for part in line.split(" changed ", 1)[1].split(", ")
                      if ":" in part]
            kinds.append((head, "changed", tuple(fields)))
        else:
            kinds.append((head, line.rsplit(" ", 1)[-1]))
    return (t.action, tuple(sorted(kinds)), t.reward > 0, t.reward < 0, bool(t.done))


def choose_informative(transitions: list[Transition], limit: int = 12) -> list[int]:
    """Indices of up to `limit` transitions, one per distinct kind of effect first (so each
    action and each kind of change is shown once), then others to fill, in recorded order."""
    chosen: list[int] = []
    seen: set[tuple] = set()
    for i, t in enumerate(transitions):
        sig = effect_signature(t)
        if sig not in seen:
            seen.add(sig)
            chosen.append(i)
    if len(chosen) > limit:  # keep the rarest kinds: rewards and done first, then changes over no-ops
        def rank(i: int) -> tuple:
            sig = effect_signature(transitions[i])
            return (not (sig[2] or sig[3] or sig[4]), len(sig[1]) == 0, i)
        chosen = sorted(sorted(chosen, key=rank)[:limit])
    if len(chosen) < limit:
        actions_shown = {transitions[i].action for i in chosen}
        for i, t in enumerate(transitions):
            if len(chosen) >= limit:
                break
            if i not in chosen and t.action not in actions_shown:
                chosen.append(i)
                actions_shown.add(t.action)
        chosen.sort()
    return chosen


def _vector(t: Transition) -> list[float]:
    return [float(v) for e in t.state for k, v in e.items()
            if k != "type" and isinstance(v, (int, float)) and not isinstance(v, bool)]


def choose_spread(transitions: list[Transition], candidates: list[int], limit: int, first: list[int]) -> list[int]:
    """Indices of up to `limit` transitions of a continuous world, spread over the state space:
    starting from `first`, each next one the farthest (in fields scaled by their spread) from
    those chosen. Hundreds of near-identical steps of one episode show one thing; these show
    the range the world covers."""
    vectors = {i: _vector(transitions[i]) for i in candidates}
    width = max((len(v) for v in vectors.values()), default=0)
    scale = []
    for k in range(width):
        column = [v[k] for v in vectors.values() if len(v) > k and v[k] == v[k] and abs(v[k]) != float("inf")]
        spread = (max(column) - min(column)) if column else 0.0
        scale.append(spread or 1.0)

    def distance(a: list[float], b: list[float]) -> float:
        if len(a) != len(b):
            return float("inf")
        return sum(((x - y) / s) ** 2 for x, y, s in zip(a, b, scale, strict=False) if x == x and y == y)

    chosen = list(dict.fromkeys(first))[:limit]
    nearest = {i: min((distance(vectors[i], vectors[c]) for c in chosen), default=float("inf"))
               for i in candidates if i not in chosen}
    while len(chosen) < limit and nearest:
        far = max(nearest, key=lambda i: (nearest[i], -i))
        chosen.append(far)
        del nearest[far]
        for i in nearest:
            nearest[i] = min(nearest[i], distance(vectors[i], vectors[far]))
    return sorted(chosen)


def choose_informative_numeric(transitions: list[Transition], limit: int = 12) -> list[int]:
    """For a continuous world: each discrete action, each ending (done or not) and each reward
    value (where rewards take a few values) once, then transitions spread over the state space."""
    discrete = all(isinstance(t.action, str) for t in transitions)
    few_rewards = len({t.reward for t in transitions}) <= 6
    first: dict[tuple, int] = {}
    for i, t in enumerate(transitions):
        if discrete:
            first.setdefault(("action", t.action), i)
        first.setdefault(("done", bool(t.done)), i)
        if few_rewards:
            first.setdefault(("reward", t.reward), i)
    return choose_spread(transitions, list(range(len(transitions))), limit, sorted(set(first.values()))[:limit])


def choose_passing(transitions: list[Transition], passing: list[int], failing: int, limit: int = 3) -> list[int]:
    """Explained transitions most like the failing one: same action first, distinct effects."""
    action = transitions[failing].action
    same = [i for i in passing if transitions[i].action == action]
    other = [i for i in passing if transitions[i].action != action]
    out: list[int] = []
    seen: set[tuple] = set()
    for i in reversed(same + other[::-1]):
        sig = effect_signature(transitions[i])
        if sig in seen:
            continue
        seen.add(sig)
        out.append(i)
        if len(out) >= limit:
            break
    return sorted(out)


# ------------------------------------------------------------------ the four kinds of request


CHANCE_NOTE = ("If the same state and action can lead to different next states, return them with their probabilities "
               "(choice(), vary()).")


def scratch(ctx: PromptContext, transitions: list[Transition], shown: list[int], chance: str = "") -> list[
        dict[str, str]]:
    """Ask for a program from scratch; `chance`: what the data says of a random world
    (`wc._synth.chance.nondeterminism`), shown after the transitions."""
    chosen = ("chosen to show each action and each kind of ending, and spread over the states seen so far"
              if ctx.numeric else "chosen to show each kind of effect seen so far")
    body = [
        f"Here are transitions observed in the environment, {chosen}.",
        "",
        *[describe_transition(ctx, transitions[i], n + 1) + "\n" for n, i in enumerate(shown)],
        *([chance, ""] if chance else []),
        f"Write `transition` and `reward` so that they explain all of these transitions and generalise to "
        f"the rest of the environment. {reward_note(ctx)}" + (" " + CHANCE_NOTE if ctx.chance else ""),
    ]
    return [system_message(ctx), {"role": "user", "content": "\n".join(body)}]


def repair(ctx: PromptContext, program: str, transitions: list[Transition], passing: list[int], failing: int,
           detail: dict[str, Any], part: str, chance: str = "", params: str = "") -> list[dict[str, str]]:
    """Ask to fix `part` ('transition' or 'reward') given one transition it gets wrong; `chance`:
    what a random world's data says against the program (`wc._synth.chance`'s texts), shown
    before the request; `params`: the values wc fitted to the program's PARAMS and what they
    still miss (`wc._synth.fitting.describe`), shown after the program."""
    t = transitions[failing]
    explained = [describe_transition(ctx, transitions[i], n + 1) + "\n"
                 for n, i in enumerate(passing)]
    wrong = describe_transition(ctx, t, len(passing) + 1)
    if part == "transition":
        if "transition_error" in detail:
            verdict = "but calling transition() on it failed: " + _failure_text(detail["transition_error"])
        elif "probability" in detail:  # a random program's: the recorded next state is not among its outcomes
            verdict = (f"but transition() gives its next state probability {detail['probability']:.3g}: it says this "
                       "cannot happen.")
        elif ctx.numeric and "difference" in detail:
            verdict = "but transition() predicted a next state outside the tolerance: " + _difference_text(
                detail["difference"], ctx)
        else:
            predicted = detail.get("predicted_state") or []
            off = diff_states(predicted, detail.get("expected_state") or t.next_state)
            mine = diff_states(t.state, predicted)
            verdict = ("but transition() predicted a different next state. Your program's changes: "
                       + ("; ".join(mine) if mine else "nothing")
                       + ".\nWhat your prediction gets wrong (predicted -> actual): "
                       + ("; ".join(off) if off else "(entity order only)"))
    else:
        if "reward_error" in detail:
            verdict = "but calling reward() on it failed: " + _failure_text(detail["reward_error"])
        elif "predicted_rewards" in detail:
            pairs = "; ".join(f"(reward={r!r}, done={d!r}) with probability {p:.3g}"
                              for p, (r, d) in detail["predicted_rewards"])
            verdict = f"but reward() gave the recorded next state only these outcomes: {pairs}."
        else:
            r, done = detail.get("predicted_reward", [None, None])
            verdict = f"but reward() returned (reward={r!r}, done={done!r}) instead of the observed values."
    body = _current(program, params)
    if explained:
        body += ["It explains these transitions correctly:", "", *explained]
    body += ["It does not explain this one:", "", wrong, verdict, ""]
    if chance:
        body += [chance, ""]
    body += [f"Fix `{part}` (and helpers as needed) so the program explains this transition and still explains the "
             f"others. {reward_note(ctx)}" + (" " + CHANCE_NOTE if ctx.chance else "")]
    return [system_message(ctx), {"role": "user", "content": "\n".join(body)}]


def frequencies(ctx: PromptContext, program: str, chance: str, params: str = "") -> list[dict[str, str]]:
    """Ask to fix a random program's probabilities: it gives every recorded transition a positive
    probability, but outcome frequencies refute them (`chance`: `wc._synth.chance.frequencies`'s
    text, with the counts and shares); `params` as in `repair`."""
    body = ["The current world model:", _code(program), ""]
    if params:
        body += [params, ""]
    body += ["It gives every recorded transition a positive probability, but not the right ones.", "", chance, "",
             "Fix the probabilities in `transition` and `reward` (and helpers as needed) so that they match how often "
             "each outcome happens, for these states and actions and for the others that work the same way, and the "
             "program still gives every recorded transition a positive probability. " + reward_note(ctx) + " "
             + CHANCE_NOTE]
    return [system_message(ctx), {"role": "user", "content": "\n".join(body)}]


def optimism(ctx: PromptContext, program: str, start: State, mission: str, plan: PlanResult,
             n_transitions: int, params: str = "") -> list[dict[str, str]]:
    """Ask for a program in which the mission can be completed, saying how thoroughly the
    search looked: only an exhaustive search (or a program that cannot be searched) comes here.
    `params`: its fit, as `repair` shows it."""
    if ctx.numeric:
        return _optimism_for_return(ctx, program, start, mission, plan, n_transitions, params)
    if plan.status == "exhausted":
        how = (f"But a complete search of the program from the initial state below finds no sequence of actions "
               f"that completes this mission ({plan.reason}; {plan.nodes} actions tried). This is not a search "
               f"budget running out: in the program as written the mission cannot be completed")
    else:
        how = f"No search is possible in the program from this initial state ({plan.reason or 'it fails'})"
    return _optimism_request(
        ctx, program, start, mission, plan, n_transitions, params, how, "searching",
        "Success is a step for which reward() returns a positive reward and done=True. Either the model is missing "
        "how something works that the agent has not tried yet, or reward() does not recognise success. Change the "
        "program so that the mission can be completed in it, in the way the environment most plausibly works, while "
        "still explaining what was observed.")


RETURN_RULE = ("A plan's predicted return over the episode is its own return plus, for every step the episode has "
               "after it, the best of its average reward per step, that of its last quarter and the best reward "
               "observed on a step that did not end its episode; a plan that ends the episode (done) is worth at "
               "least its own return")


def _optimism_for_return(ctx: PromptContext, program: str, start: State, mission: str, plan: PlanResult,
                         n_transitions: int, params: str) -> list[dict[str, str]]:
    """φ2 where the reward is not a goal: the planner in the program finds no plan whose predicted
    return reaches the target (wc._sandbox.return_goal)."""
    if plan.status == "exhausted":
        how = (f"But the planner inside the program, run to its own settings from the initial state below, finds no "
               f"plan that reaches the target return ({plan.reason}). {RETURN_RULE}. This is not a planning budget "
               f"running out")
    else:
        how = f"No planning is possible in the program from this initial state ({plan.reason or 'it fails'})"
    return _optimism_request(
        ctx, program, start, mission, plan, n_transitions, params, how, "planning",
        "The target is the environment's reward threshold, a mean over episodes: from a hard start less may be "
        "optimal, so the program's predicted returns are averaged over the starts it was judged from (without a "
        "threshold, the target is the mean return of the agent's recent episodes). "
        "Either the model is missing how something works that the agent has not tried yet, reward() gives less than "
        "the environment would, or done ends episodes too early. Change the program so that the target can be "
        "reached in it, in the way the environment most plausibly works, while still explaining what was observed.")


def _optimism_request(ctx: PromptContext, program: str, start: State, mission: str, plan: PlanResult,
                      n_transitions: int, params: str, how: str, searching: str,
                      closing: str) -> list[dict[str, str]]:
    """The one frame of both optimism requests: the program, why no plan was found, the start and
    what to change."""
    if plan.first_error:
        how += f"; while {searching}, the program failed: " + _failure_text(plan.first_error)
    body = [
        *_current(program, params),
        (f"It explains all {n_transitions} transitions observed so far. {how}." if n_transitions else
         f"No transitions have been observed yet. {how}."),
        f"mission: {json.dumps(mission)}",
        "initial state:", _indent(ctx.render(start)), "",
        closing,
    ]
    return [system_message(ctx), {"role": "user", "content": "\n".join(body)}]


def repair_load(ctx: PromptContext, program: str, failure: dict[str, Any], params: str = "") -> list[
        dict[str, str]]:
    """Ask to fix a program that fails before any transition can be tried on it (`params`: its
    fit, where it has one, as `repair` shows it)."""
    body = [*_current(program, params),
            "It cannot be used: " + _failure_text(failure), "",
            "Fix the program so that it loads and defines `transition` and `reward` as the API module describes. "
            f"{reward_note(ctx)}"]
    return [system_message(ctx), {"role": "user", "content": "\n".join(body)}]


def _difference_text(difference: dict[str, Any], ctx: PromptContext) -> str:
    tol = ctx.tolerance or CWMB
    parts = []
    for e in difference.get("errors", []):
        recorded = e.get("recorded")
        allowed = (f"; allowed {tol.atol + tol.rtol * abs(recorded):.3g}"
                   if isinstance(recorded, (int, float)) and not isinstance(recorded, bool) else "")
        off = f", off by {e['error']:.3g}" if e.get("error") is not None else ""
        parts.append(f"{e['path']}: predicted {e.get('predicted')!r}, recorded {recorded!r}{off}{allowed}")
    more = f"; and {difference['more']} more" if difference.get("more") else ""
    return "; ".join(parts) + more


def _failure_text(failure: dict[str, Any]) -> str:
    text = f"[{failure.get('kind')}] {failure.get('message')}"
    if failure.get("line"):
        text += f" (line {failure['line']}: {failure.get('code', '')})"
    return text
