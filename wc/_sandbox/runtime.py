"""What runs inside a sandbox worker: restricted execution of a program, its predictions on the
recorded transitions (judged by `wc._sandbox.verdict`), and the entry point of planning.

Pure: no I/O. The worker process adds the OS limits and the socket; benchmarks and tests call
this module in-process to measure the sandbox's overhead against the same work.
"""
from __future__ import annotations

import builtins
import json
import sys
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wc._core.canonical import state_key
from wc._core.contract import (
    MalformedOutput,
    decode_entity,
    decode_state,
    encode_state,
    encode_value,
    reward_pair,
    rewards_match,
)
from wc._core.tolerance import CWMB, Tolerance
from wc._core.values import Transition
from wc._sandbox import timer
from wc._sandbox.failures import classify
from wc._sandbox.guard import API_FILE, PROGRAM_FILE, screen
from wc._sandbox.modules import SANDBOX_MODULE, restricted_builtins
from wc._sandbox.outcomes import chance_class, is_random
from wc._sandbox.plan import plan
from wc._sandbox.timer import CallTimeout
from wc._sandbox.verdict import MAX_FAILURE_DETAILS, Outcome, Prediction, digest, judge, judge_chance

Compare = Callable[[list[dict[str, Any]], list[dict[str, Any]]], list[dict[str, Any]]]

__all__ = ["CallTimeout", "CompiledProgram", "MalformedOutput", "Outcome", "Prediction", "Transition",
           "action_generator", "api_namespace", "classify", "compare_key", "comparison", "compile_program",
           "search_estimator", "search_focus", "search_frontier", "decode_entity", "decode_state", "encode_state",
           "encode_value", "evaluate", "plan", "predict", "predict_one", "reward_pair", "rewards_match",
           "state_key"]


def api_namespace(api_source: str, guarded: bool = True) -> dict[str, Any]:
    """Execute the API module under the same restrictions as programs. `guarded=False` runs it
    with the real builtins: only to test the OS jail on its own."""
    # dataclasses generates __init__ methods with the globals of the class's module (the
    # sandbox's dataclass() sets it to SANDBOX_MODULE): give that module the restricted builtins
    module = sys.modules.setdefault(SANDBOX_MODULE, types.ModuleType(SANDBOX_MODULE))
    module.__dict__["__builtins__"] = restricted_builtins() if guarded else builtins.__dict__
    ns: dict[str, Any] = {"__builtins__": restricted_builtins() if guarded else builtins.__dict__,
                          "__name__": SANDBOX_MODULE}
    exec(compile(screen(api_source, API_FILE) if guarded else api_source, API_FILE, "exec"), ns)
    return ns


# --------------------------------------------------------------------------- programs


@dataclass
class CompiledProgram:
    source: str
    ns: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None
    # the API module's Choice class (its chance helpers), taken before the program ran: what
    # `wc._sandbox.outcomes` reads a random transition by; None for a module without them
    chance: type | None = None

    @property
    def transition(self) -> Callable:
        return self.namespace["transition"]

    @property
    def reward(self) -> Callable:
        return self.namespace["reward"]

    @property
    def namespace(self) -> dict[str, Any]:
        """The loaded program's namespace (only for a program that loaded)."""
        assert self.ns is not None, "the program did not load"
        return self.ns


def compile_program(api_ns: dict[str, Any], source: str, call_timeout: float = 2.0,
                    guarded: bool = True) -> CompiledProgram:
    """Run the program's top level in a copy of the API namespace (`guarded=False`: without the
    Python layer, only to test the OS jail on its own)."""
    ns = dict(api_ns)
    ns["__builtins__"] = restricted_builtins() if guarded else builtins.__dict__
    try:
        code = compile(screen(source) if guarded else source, PROGRAM_FILE, "exec")
        with timer.limit(call_timeout):
            exec(code, ns)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, (KeyboardInterrupt, SystemExit)) and not _from_program(exc):
            raise
        return CompiledProgram(source, failure=classify(exc, source))
    missing = [name for name in ("transition", "reward") if not callable(ns.get(name))]
    if missing:
        return CompiledProgram(source, failure={
            "kind": "missing", "message": f"the program does not define {' and '.join(missing)}()"})
    return CompiledProgram(source, ns=ns, chance=chance_class(api_ns))


def _from_program(exc: BaseException) -> bool:
    return any(f.filename == PROGRAM_FILE for f in traceback.extract_tb(exc.__traceback__))


# --------------------------------------------------------------------------- predictions (φ1)


def compare_key(state: list[dict[str, Any]], next_state: list[dict[str, Any]], compare: Compare | None) -> str:
    """The key a prediction of `next_state` must have: of the part `compare` keeps, if any."""
    return state_key(next_state if compare is None else compare(state, next_state))


def predict_one(program: CompiledProgram, t: Transition, call_timeout: float,
                compare: Compare | None = None, full: bool = False, next_key: str | None = None,
                tolerance: Tolerance = CWMB, point: bool = False) -> Prediction:
    """The program's answers on one transition. `compare(state, next_state)`, a domain's trusted
    hint, is the part of a next state a program is held to; `next_key` is that part's key
    (`compare_key`; computed here when not given). The predicted state is given by its digest
    (and itself where it differs from the recorded one), or, `full`, itself: where states are
    judged within a tolerance. Where `transition` or `reward` answers with a Choice (a random
    program), the answer is `chance.predict_chance`'s instead (`Prediction.chance`): its
    distribution pruned to what can match the record (in order within `tolerance` when `full`),
    which the parent judges by likelihood; `point` adds its most probable next state (CWMB's
    accuracy). A random answer's functions are called again there: they state probabilities,
    they do not draw, so the second call answers the same."""
    ns = program.namespace
    out = Prediction()
    try:
        with timer.limit(call_timeout):
            value = program.transition(decode_state(ns, t.state), t.action)
            if program.chance is not None and is_random(value, program.chance):
                return _chance(program, t, call_timeout, full, tolerance, point)
            predicted = encode_state(value)
        if compare is not None:
            predicted = compare(t.state, predicted)
        if full:
            out.state = predicted
        else:
            key = state_key(predicted)
            out.state = digest(key)
            if key != (next_key if next_key is not None else compare_key(t.state, t.next_state, compare)):
                out.predicted_state = predicted
    except (Exception, CallTimeout) as exc:  # noqa: BLE001
        out.transition_error = classify(exc, program.source)
    try:
        with timer.limit(call_timeout):
            value = program.reward(decode_state(ns, t.state), t.action, decode_state(ns, t.next_state), t.mission)
            if program.chance is not None and is_random(value, program.chance):
                return _chance(program, t, call_timeout, full, tolerance, point)
            pair = reward_pair(value)
        if not (pair[0] == pair[0] and abs(pair[0]) != float("inf")):
            raise MalformedOutput(f"reward() must return a finite number, not {pair[0]}")
        out.reward = pair
    except (Exception, CallTimeout) as exc:  # noqa: BLE001
        out.reward_error = classify(exc, program.source)
    return out


def _chance(program: CompiledProgram, t: Transition, call_timeout: float, full: bool,
            tolerance: Tolerance, point: bool) -> Prediction:
    from wc._sandbox.chance import predict_chance

    return Prediction(chance=predict_chance(program, t, call_timeout, ordered=full, tolerance=tolerance, point=point))


def predict(program: CompiledProgram, transitions: list[Transition], call_timeout: float = 2.0,
            compare: Compare | None = None, full: bool = False,
            next_keys: list[str] | None = None, tolerance: Tolerance = CWMB,
            point: bool = False) -> list[Prediction]:
    """The program's answers on each transition (`next_keys`: their `compare_key`s, kept by a
    worker; computed here when not given; `point`: a random answer with its most probable next
    state, see `predict_one`); after a call that timed out or ran out of memory, the
    rest are not tried (a program that loops or swells once is not given the time to do it on
    every transition)."""
    if program.failure is not None:
        failed = Prediction(transition_error=program.failure, reward_error=program.failure)
        return [failed] * len(transitions)
    out: list[Prediction] = []
    with timer.installed():
        for i, t in enumerate(transitions):
            p = predict_one(program, t, call_timeout, compare, full, None if next_keys is None else next_keys[i],
                            tolerance, point)
            out.append(p)
            errors = (p.transition_error, p.reward_error) if p.chance is None else \
                (p.chance.transition_error, p.chance.reward_error)
            stopped = [e for e in errors if e and e.get("kind") in ("timeout", "memory")]
            if stopped:
                skipped = dict(stopped[0], message=stopped[0]["message"] + " (later transitions not tried)")
                out += [Prediction(transition_error=skipped, reward_error=skipped)] * (len(transitions) - len(out))
                break
    return out


MAX_SHOWN_STATE = 200_000  # characters of a wrong prediction kept to show the LLM (a reply stays bounded)
MAX_CHANCE_REPLY = 8 << 20   # bytes of random answers one reply carries (frames.MAX_REPLY is 16 MiB)
MAX_CHANCE_ONE = 1 << 20     # bytes of one transition's random answer, pruned to what can match the record


def wire_predictions(predictions: list[Prediction]) -> dict[str, Any]:
    """Predictions as a worker sends them: a digest and a reward per transition, and the details
    of the newest failures (a predicted state too large to show is left out). Random answers go
    in "c" by index (`ChancePrediction.to_wire`); one larger than MAX_CHANCE_ONE as JSON is sent
    as a malformed transition instead, and once MAX_CHANCE_REPLY is reached the reply stops: "n"
    says how many transitions it answers, and the parent asks again for the rest."""
    chance: dict[str, Any] = {}
    size, answered = 0, len(predictions)
    for index, p in enumerate(predictions):
        if p.chance is None:
            continue
        wire = p.chance.to_wire()
        length = len(json.dumps(wire))
        if length > MAX_CHANCE_ONE:
            wire = type(p.chance)(rewards=p.chance.rewards, reward_error=p.chance.reward_error, transition_error={
                "kind": "malformed", "message": f"transition() returned a distribution too large to judge ({length:,} "
                "bytes as JSON, pruned to the outcomes that can match the record)"}).to_wire()
            length = len(json.dumps(wire))
        size += length
        if size > MAX_CHANCE_REPLY and index > 0:
            answered = index
            break
        chance[str(index)] = wire
    total, predictions = len(predictions), predictions[:answered]
    details: dict[str, Any] = {}
    for index in range(len(predictions) - 1, -1, -1):  # newest first: the freshest evidence
        p = predictions[index]
        shown = p.predicted_state
        if shown is not None and len(state_key(shown)) > MAX_SHOWN_STATE:
            shown = None
        detail = {k: v for k, v in (("transition_error", p.transition_error), ("reward_error", p.reward_error),
                                    ("predicted_state", shown)) if v is not None}
        if detail:
            details[str(index)] = detail
            if len(details) >= MAX_FAILURE_DETAILS:
                break
    out: dict[str, Any] = {"p": [p.to_wire() for p in predictions], "detail": details}
    if chance:
        out["c"] = chance
    if answered < total:
        out["n"] = answered
    return out


def evaluate(program: CompiledProgram, transitions: list[Transition], reward_mode: str,
             call_timeout: float = 2.0, compare: Compare | None = None,
             tolerance: Tolerance | None = None) -> list[Outcome]:
    """φ1 in-process: the program's predictions, judged against the transitions (states within
    `tolerance` when one is given, else exactly; a random answer by its likelihood)."""
    outcomes = []
    full = tolerance is not None
    keys = [compare_key(t.state, t.next_state, compare) for t in transitions]
    predictions = predict(program, transitions, call_timeout, compare, full, keys, tolerance or CWMB)
    for p, t, key in zip(predictions, transitions, keys, strict=True):
        if p.chance is not None:
            outcomes.append(judge_chance(p.chance, t.next_state, t.reward, t.done, reward_mode, ordered=full,
                                         tolerance=tolerance or CWMB)[0])
            continue
        outcome = judge(p, digest(key), t.reward, t.done, reward_mode, next_state=t.next_state,
                        tolerance=tolerance or CWMB)
        if outcome.transition == "w" and compare is not None:  # the part of the next state it was held to
            outcome.detail["expected_state"] = compare(t.state, t.next_state)
        outcomes.append(outcome)
    return outcomes


# --------------------------------------------------------------------------- actions


def _action_namespace(source: str) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "wc_actions"}
    exec(compile(source, "<actions>", "exec"), ns)
    return ns


def action_generator(source: str | None) -> Callable[[list[dict[str, Any]]], list[str]] | None:
    """The environment's own (trusted) `candidate_actions(state)` for state-dependent action sets,
    e.g. text commands built from templates and the entities in an imagined state."""
    return _action_namespace(source).get("candidate_actions") if source else None


def search_focus(source: str | None) -> Callable[[list[dict[str, Any]], str, list[str]], list[str]] | None:
    """The environment's own (trusted, optional) `focus(state, mission, actions)`: the actions a
    search tries first for a mission. A search with it that finds nothing is followed by one
    with every action, so a focus never turns into a verdict against the program."""
    return _action_namespace(source).get("focus") if source else None


def comparison(source: str | None) -> Compare | None:
    """The environment's own (trusted, optional) `comparable(state, next_state)`: the part of a
    next state a program must predict, for domains where some of it cannot be known (objects
    first seen in ALFWorld's observed mode)."""
    return _action_namespace(source).get("comparable") if source else None


def search_frontier(source: str | None) -> Callable[[list[dict[str, Any]], str], list[Any]] | None:
    """The environment's own (trusted, optional) `frontier(state, mission)`: what is left to
    explore that may matter for the mission; a search whose goal is out of sight plans to
    explore one of these."""
    return _action_namespace(source).get("frontier") if source else None


def search_estimator(source: str | None) -> Callable[[list[dict[str, Any]], str], Any] | None:
    """The environment's own (trusted, optional) `estimator(state, mission)`: from a search's
    start, a function `estimate(state) -> float | None` (lower is closer to the goal, None a dead
    state) that guides a best-first search (`wc._sandbox.plan.guided`)."""
    return _action_namespace(source).get("estimator") if source else None


# --------------------------------------------------------------------------- the contract, checked


def check(program: CompiledProgram, transitions: list[Transition], call_timeout: float = 2.0,
          limit: int = 10) -> list[str]:
    """What a program does against the contract on recorded transitions: signatures, return
    values, inputs left unmodified, the same answer twice. Distinct problems, at most `limit`."""
    import inspect

    from wc._core.contract import FUNCTIONS

    if program.failure is not None:
        return [f"the program does not load: [{program.failure['kind']}] {program.failure['message']}"]
    problems: list[str] = []

    def note(text: str) -> None:
        if text not in problems and len(problems) < limit:
            problems.append(text)

    for name, params in FUNCTIONS.items():
        try:
            inspect.signature(program.namespace[name]).bind(*params)
        except (TypeError, ValueError):
            note(f"{name}() must take ({', '.join(params)})")
    if problems:
        return problems
    ns = program.namespace
    with timer.installed():
        for t in transitions:
            try:
                with timer.limit(call_timeout):
                    given = decode_state(ns, t.state)
                    first = _answer(program, program.transition(given, t.action), state=True)
                    if state_key(encode_state(given)) != state_key(t.state):
                        note("transition() modified the state it was given (build the next state from a copy)")
                    again = _answer(program, program.transition(decode_state(ns, t.state), t.action), state=True)
                    if first != again:
                        note("transition() answered differently for the same state and action")
                    before, after = decode_state(ns, t.state), decode_state(ns, t.next_state)
                    pair = _answer(program, program.reward(before, t.action, after, t.mission), state=False)
                    if state_key(encode_state(before)) != state_key(t.state) or \
                            state_key(encode_state(after)) != state_key(t.next_state):
                        note("reward() modified a state it was given")
                    if _answer(program, program.reward(decode_state(ns, t.state), t.action,
                                                       decode_state(ns, t.next_state), t.mission), state=False) != pair:
                        note("reward() answered differently for the same arguments")
            except (Exception, CallTimeout) as exc:  # noqa: BLE001
                failure = classify(exc, program.source)
                where = f" (line {failure['line']}: {failure.get('code', '')})" if failure.get("line") else ""
                note(f"a call failed on a recorded transition: [{failure['kind']}] {failure['message']}{where}")
    return problems


def _answer(program: CompiledProgram, value: Any, *, state: bool) -> Any:
    """A program's answer as a comparable value: a state's key or a (reward, done) pair, or, for
    a random answer, its distribution read and checked (`wc._sandbox.outcomes`) as JSON."""
    if program.chance is not None and is_random(value, program.chance):
        from wc._sandbox.distribution import rewards_to_json
        from wc._sandbox.outcomes import read_reward, read_state

        read = read_state(value, program.chance).to_json() if state else \
            rewards_to_json(read_reward(value, program.chance))
        return json.dumps(read, sort_keys=True)
    return state_key(encode_state(value)) if state else reward_pair(value)
