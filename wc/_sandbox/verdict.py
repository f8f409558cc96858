"""Verdicts on a program, made from what it predicted: the worker says what the program answers,
the caller decides whether that is right.

A sandbox worker runs the program on the recorded transitions and returns *predictions*: a
digest of each predicted next state, each (reward, done) pair, and classified errors. The parent
(`wc._sandbox.sandbox`) holds the recorded data and judges them here, so a program that got past
the Python layer can lie about its own answers but not about whether they are right, and cannot
touch another program's verdict. Plans are checked the same way: a plan is a list of action
names and nothing more until the real environment has played it.

Everything a worker sends is read with `prediction_from_wire`/`plan_from_wire`, which accept
only the expected shapes and sizes (`Malformed` otherwise). Pure: no I/O.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

from wc._core.contract import FAILURE_KINDS, rewards_match
from wc._core.tolerance import CWMB, Tolerance, state_difference
from wc._planning.result import PlanResult
from wc._planning.returns import CUTS, Cut, ReturnPlan, action_choices, add_returns

MAX_FAILURE_DETAILS = 40          # failures kept with their details, newest first
MAX_TEXT = 2000                   # characters of a message or a line of code from a worker
STATUSES = ("found", "exhausted", "budget", "error")


class Malformed(Exception):
    """A worker's reply is not of the shape the protocol allows."""


def digest(key: str) -> str:
    """The digest of a canonical state key (`wc._core.canonical.state_key`) that predictions carry."""
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


@dataclass
class Prediction:
    """What a program answered on one transition: the next state it predicts (a digest, or the
    state itself where states are compared within a tolerance) and the (reward, done) it
    predicts, or the classified error of either call."""

    state: str | list[Any] | None = None
    reward: tuple[float, bool] | None = None
    transition_error: dict[str, Any] | None = None
    reward_error: dict[str, Any] | None = None
    predicted_state: list[Any] | None = None  # the state itself, kept for a repair prompt
    chance: Any = None  # a random answer (wc._sandbox.chance.ChancePrediction): judged by likelihood

    def to_wire(self) -> list[Any]:
        return [self.state, None if self.reward is None else [self.reward[0], self.reward[1]]]


@dataclass
class Outcome:
    """How a program did on one transition: 'o' ok, 'w' wrong, 'e' error, for each function."""

    transition: str
    reward: str
    detail: dict[str, Any] = field(default_factory=dict)


def judge(prediction: Prediction, expected: str, reward: float, done: bool, reward_mode: str, *,
          next_state: list[Any] | None = None, tolerance: Tolerance = CWMB) -> Outcome:
    """φ1 on one transition: the predicted state's digest against the recorded one's (or, for a
    state predicted in full, every number within `tolerance` of `next_state`), the predicted
    reward against the recorded reward and done."""
    detail: dict[str, Any] = {}
    if prediction.transition_error is not None or prediction.state is None:
        t_status = "e"
        detail["transition_error"] = prediction.transition_error or {"kind": "malformed",
                                                                      "message": "no prediction"}
    elif isinstance(prediction.state, list):
        difference = state_difference(prediction.state, next_state, tolerance)
        t_status = "o" if difference.equal else "w"
        if not difference.equal:
            detail["predicted_state"] = prediction.state
            detail["difference"] = difference.to_json()
    elif prediction.state == expected:
        t_status = "o"
    else:
        t_status = "w"
        if prediction.predicted_state is not None:
            detail["predicted_state"] = prediction.predicted_state
    if prediction.reward_error is not None or prediction.reward is None:
        r_status = "e"
        detail["reward_error"] = prediction.reward_error or {"kind": "malformed", "message": "no prediction"}
    elif rewards_match(reward_mode, prediction.reward, reward, done, tolerance):
        r_status = "o"
    else:
        r_status = "w"
        detail["predicted_reward"] = list(prediction.reward)
    return Outcome(t_status, r_status, detail)


# --------------------------------------------------------------------------- reading a worker's reply


def failure_from_wire(data: Any) -> dict[str, Any]:
    """A classified failure as a worker sent it, reduced to the fields wc uses."""
    if not isinstance(data, dict) or data.get("kind") not in FAILURE_KINDS:
        raise Malformed("a failure must be an object with a known kind")
    out: dict[str, Any] = {"kind": data["kind"], "message": _text(data.get("message", ""))}
    if isinstance(data.get("line"), int) and not isinstance(data.get("line"), bool):
        out["line"] = data["line"]
    if isinstance(data.get("code"), str):
        out["code"] = _text(data["code"])
    return out


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise Malformed("expected text")
    return value[:MAX_TEXT]


def _reward(value: Any) -> tuple[float, bool]:
    if not isinstance(value, list) or len(value) != 2:
        raise Malformed("a reward prediction is [reward, done]")
    r, done = value
    if isinstance(r, bool) or not isinstance(r, (int, float)) or not math.isfinite(r) or not isinstance(done, bool):
        raise Malformed("a reward prediction is [number, bool]")
    return float(r), done


def _entity_list(value: Any) -> bool:
    """Whether `value` has the shape of a state (a list of entity objects with a type) that
    prompts can show; anything else a worker calls a prediction is left out."""
    return isinstance(value, list) and all(isinstance(e, dict) and isinstance(e.get("type"), str) and
                                           all(_json_value(v, 3) for v in e.values()) for e in value)


def _json_value(value: Any, depth: int) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if depth <= 0:
        return False
    if isinstance(value, list):
        return all(_json_value(v, depth - 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_value(v, depth - 1) for k, v in value.items())
    return False


def predictions_from_wire(reply: Any, count: int) -> list[Prediction]:
    """The predictions of a worker's reply for up to `count` transitions (fewer, at least one, when
    the reply says so in "n": its random answers filled it), or Malformed."""
    if not isinstance(reply, dict) or not isinstance(reply.get("p"), list):
        raise Malformed(f"expected {count} predictions")
    answered = reply.get("n", count)
    if type(answered) is not int or not (answered == count or 1 <= answered < count) or len(reply["p"]) != answered:
        raise Malformed(f"expected {count} predictions (or at least one, and as many as the reply says)")
    count = answered
    details = reply.get("detail", {})
    if not isinstance(details, dict) or len(details) > 2 * MAX_FAILURE_DETAILS:
        raise Malformed("too many failure details")
    out = []
    for item in reply["p"]:
        if not isinstance(item, list) or len(item) != 2:
            raise Malformed("a prediction is [state digest, reward]")
        state, reward = item
        if state is not None and not (isinstance(state, str) and len(state) == 24) and not _entity_list(state):
            raise Malformed("a predicted state is a digest of 24 hexadecimal characters, or a list of entities")
        out.append(Prediction(state, None if reward is None else _reward(reward)))
    for index_text, detail in details.items():
        try:
            index = int(index_text)
        except ValueError:
            raise Malformed("a failure detail is keyed by its index") from None
        if not 0 <= index < count or not isinstance(detail, dict):
            raise Malformed("a failure detail for a transition that was not asked about")
        p = out[index]
        if "transition_error" in detail:
            p.transition_error = failure_from_wire(detail["transition_error"])
        if "reward_error" in detail:
            p.reward_error = failure_from_wire(detail["reward_error"])
        if _entity_list(detail.get("predicted_state")):
            p.predicted_state = detail["predicted_state"]
    _chance_from_wire(reply.get("c", {}), out)
    for p in out:  # an error without its detail (beyond the newest few) is still an error
        if p.chance is not None:
            continue
        if p.state is None and p.transition_error is None:
            p.transition_error = {"kind": "exception", "message": "the call failed (details of older failures "
                                                                  "are not kept)"}
        if p.reward is None and p.reward_error is None:
            p.reward_error = {"kind": "exception", "message": "the call failed (details of older failures are not "
                                                              "kept)"}
    return out


def _chance_from_wire(data: Any, out: list[Prediction]) -> None:
    """Random answers by index, each read as a pruned distribution with every rule checked
    again (`ChancePrediction.from_wire`); its failures read as any other failure."""
    from wc._sandbox.chance import ChancePrediction
    from wc._sandbox.distribution import OutcomeError

    if not isinstance(data, dict):
        raise Malformed("random answers are keyed by their index")
    for index_text, item in data.items():
        try:
            index = int(index_text)
        except ValueError:
            raise Malformed("a random answer is keyed by its index") from None
        if not 0 <= index < len(out) or out[index].state is not None or out[index].reward is not None:
            raise Malformed("a random answer for a transition that was not asked about, or answered already")
        try:
            cp = ChancePrediction.from_wire(item)
        except (OutcomeError, ValueError, TypeError) as exc:
            raise Malformed(f"a random answer breaks the rules of distributions: {exc}") from None
        cp.transition_error = None if cp.transition_error is None else failure_from_wire(cp.transition_error)
        cp.reward_error = None if cp.reward_error is None else failure_from_wire(cp.reward_error)
        if cp.likely is not None and not all(_entity_list(state) for _, state in cp.likely):
            raise Malformed("a random answer's likely outcomes are states")
        if cp.mode is not None and not _entity_list(cp.mode):
            raise Malformed("a random answer's most probable next state is a state")
        out[index].chance = cp


def judge_chance(prediction: Any, next_state: list[Any], reward: float, done: bool, reward_mode: str, *,
                 ordered: bool = False, tolerance: Tolerance = CWMB) -> tuple[Outcome, float]:
    """φ1 on one transition a random program answered (`ChancePrediction`): its likelihood, and
    the statuses a deterministic answer gets ('o' possible, 'w' impossible, 'e' failed) for
    `transition` (the recorded next state's probability) and `reward` (the recorded pair's,
    given that state); a transition whose parts are possible but whose product falls below
    `EPSILON` is the transition's to fix. Malformed when the distribution cannot be judged."""
    from wc._sandbox.distribution import OutcomeError
    from wc._sandbox.likelihood import possible, reward_probability, state_probability

    detail: dict[str, Any] = {}
    p_state = p_reward = 0.0
    try:
        if prediction.transition_error is not None or prediction.distribution is None:
            t_status = "e"
            detail["transition_error"] = prediction.transition_error or {"kind": "malformed",
                                                                         "message": "no prediction"}
        else:
            p_state = state_probability(prediction.distribution, next_state, ordered=ordered, tolerance=tolerance)
            t_status = "o" if possible(p_state) else "w"
    except OutcomeError as exc:
        raise Malformed(str(exc)) from None
    if prediction.reward_error is not None or prediction.rewards is None:
        r_status = "e"
        detail["reward_error"] = prediction.reward_error or {"kind": "malformed", "message": "no prediction"}
    else:
        p_reward = reward_probability(prediction.rewards, reward, done, reward_mode, tolerance)
        r_status = "o" if possible(p_reward) else "w"
    likelihood = p_state * p_reward
    if t_status == r_status == "o" and not possible(likelihood):
        t_status = "w"
    if t_status == "w":
        detail["probability"] = p_state
        if prediction.likely:
            detail["likely"] = [[p, s] for p, s in prediction.likely]
    if r_status == "w":
        detail["predicted_rewards"] = [[p, [r, d]] for p, (r, d) in prediction.rewards[:5]]
    return Outcome(t_status, r_status, detail), likelihood


def plan_from_wire(data: Any, *, actions: tuple[str, ...] | None, max_depth: int) -> PlanResult:
    """A plan as a worker reported it, trusted as nothing more than a sequence of valid action
    names (`actions`: the environment's fixed set, or None where actions are text commands
    that depend on the state)."""
    if not isinstance(data, dict):
        raise Malformed("a plan is an object")
    found, status = data.get("found"), data.get("status")
    if not isinstance(found, bool) or status not in STATUSES or (found != (status == "found")):
        raise Malformed("a plan says whether it was found, consistently with its status")
    plan = data.get("actions", [])
    if not isinstance(plan, list) or len(plan) > max_depth or not all(isinstance(a, str) and len(a) <= 500
                                                                     for a in plan):
        raise Malformed("a plan's actions are at most max_depth names")
    if actions is not None and any(a not in actions for a in plan):
        raise Malformed("a plan names an action the environment does not have")
    predictions = data.get("predictions", [])
    if not isinstance(predictions, list) or len(predictions) != (len(plan) if found else 0):
        raise Malformed("a plan predicts one state per action")
    checked = []
    for p in predictions:
        if not isinstance(p, list) or len(p) != 3 or not isinstance(p[0], str):
            raise Malformed("a planned step's prediction is [state key, reward, done]")
        checked.append((p[0], *_reward(p[1:])))
    numbers = {}
    for name in ("nodes", "states", "depth"):
        value = data.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise Malformed(f"a plan's {name} is a count")
        numbers[name] = value
    seconds = data.get("seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise Malformed("a plan's seconds is a number")
    first_error = data.get("first_error")
    return PlanResult(found, actions=list(plan), predictions=checked, reason=_text(data.get("reason", "")),
                      first_error=None if first_error is None else failure_from_wire(first_error), status=status,
                      seconds=float(seconds), planner=_text(data.get("planner", "")),
                      explore=bool(data.get("explore", False)) and found, **numbers)


RETURN_STATUSES = ("found", "budget", "error")


def return_plan_from_wire(data: Any, action_space: Any, *, max_len: int) -> ReturnPlan:
    """A return plan as a worker reported it (`dataclasses.asdict` of a `ReturnPlan`), trusted as
    nothing more than actions of `action_space` with what the program predicted after each: its
    returns are summed here from those predictions, the planner's own estimate (`value`) is only
    checked to be a number, and a plan stops at its first predicted done."""
    kind, choices, box = action_choices(action_space)
    if not isinstance(data, dict):
        raise Malformed("a return plan is an object")
    status = data.get("status")
    if status not in RETURN_STATUSES:
        raise Malformed("a return plan's status is found, budget or error")
    found = status == "found"
    known = {tuple(c) if isinstance(c, tuple) else c for c in choices}

    def valid(action: Any) -> bool:
        if kind == "discrete":
            return isinstance(action, str) and action in known
        if not isinstance(action, list):
            return False
        if kind == "multidiscrete":
            return all(type(x) is int for x in action) and tuple(action) in known
        assert box is not None
        return len(action) == len(box[0]) and all(
            not isinstance(x, bool) and isinstance(x, (int, float)) and lo <= x <= hi
            for x, lo, hi in zip(action, box[0], box[1], strict=True))

    action, actions = data.get("action"), data.get("actions", [])
    if (action is not None) != found or (found and not valid(action)):
        raise Malformed("a return plan has an action of the environment exactly when it found one")
    if not isinstance(actions, list) or len(actions) > max_len or not all(valid(a) for a in actions):
        raise Malformed(f"a return plan's sequence is at most {max_len} actions of the environment")
    predictions = data.get("predictions", [])
    if not isinstance(predictions, list) or len(predictions) != (len(actions) if found else 0):
        raise Malformed("a return plan predicts one state per action")
    checked = []
    for p in predictions:
        if not isinstance(p, list) or len(p) != 3 or not isinstance(p[0], str):
            raise Malformed("a planned step's prediction is [state key, reward, done]")
        checked.append((p[0], *_reward(p[1:])))
    if any(done for _, _, done in checked[:-1]):
        raise Malformed("a return plan goes on after the episode ends")
    numbers: dict[str, Any] = {}
    for name in ("steps", "rollouts"):
        value = data.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise Malformed(f"a return plan's {name} is a count")
        numbers[name] = value
    for name in ("value", "gamma", "seconds"):
        value = data.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise Malformed(f"a return plan's {name} is a number")
        numbers[name] = float(value)
    if not 0.0 <= numbers["gamma"] <= 1.0:
        raise Malformed("a return plan's gamma is between 0 and 1")
    first_error = data.get("first_error")
    reason = _text(data.get("reason", ""))
    cut = data["cut"] if "cut" in data else _cut_in_words(reason)
    if cut is not None and cut not in CUTS:
        raise Malformed(f"a return plan's cut is null or one of {', '.join(CUTS)}")
    plan = ReturnPlan(action=action, actions=list(actions), predictions=checked, status=status, reason=reason,
                      cut=cut, planner=_text(data.get("planner", "")),
                      first_error=None if first_error is None else failure_from_wire(first_error), **numbers)
    add_returns(plan)
    return plan


def _cut_in_words(reason: str) -> Cut | None:
    """The cut of a plan reported before plans said it (`ReturnPlan.cut`): read, as then, from
    `Counter`'s words in its reason ("step budget of N spent", "time budget spent")."""
    if "budget" not in reason or not reason.endswith("spent"):
        return None
    return "time" if reason.endswith("time budget spent") else "steps"


def problems_from_wire(data: Any, limit: int = 10) -> list[str]:
    if not isinstance(data, list) or len(data) > limit:
        raise Malformed("a check returns a short list of problems")
    return [_text(p) for p in data]
