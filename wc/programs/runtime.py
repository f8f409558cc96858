"""What runs inside a sandbox worker: restricted execution, state (de)serialisation,
φ1 evaluation and planning over a program.

Pure: no I/O. The worker process adds the OS limits and the pipe; benchmarks call this module
in-process to measure the sandbox's overhead against the same work.
"""
from __future__ import annotations

import builtins
import dataclasses
import json
import signal
import sys
import time
import traceback
import types
from dataclasses import dataclass, field
from typing import Any, Callable

from wc.planning.bfs import PlanResult, bfs
from wc.programs.canonical import state_key
from wc.programs.guard import API_FILE, PROGRAM_FILE, Forbidden, restricted_builtins, screen


class CallTimeout(BaseException):
    """Raised by the timer when one call of a program runs too long (not catchable as Exception)."""


class MalformedOutput(Exception):
    """A program returned a value outside the contract."""


# --------------------------------------------------------------------------- restricted exec


def api_namespace(api_source: str, guarded: bool = True) -> dict[str, Any]:
    """Execute the API module under the same restrictions as programs. `guarded=False` runs it
    with the real builtins: only to test the OS jail on its own."""
    # dataclasses looks up the defining module in sys.modules for string annotations, and
    # generates __init__ methods with that module's globals: give it the restricted builtins too
    module = sys.modules.setdefault("wc_world", types.ModuleType("wc_world"))
    module.__dict__["__builtins__"] = restricted_builtins() if guarded else builtins.__dict__
    ns: dict[str, Any] = {"__builtins__": restricted_builtins() if guarded else builtins.__dict__,
                          "__name__": "wc_world"}
    exec(compile(screen(api_source, API_FILE) if guarded else api_source, API_FILE, "exec"), ns)
    return ns


# --------------------------------------------------------------------------- failures


def classify(exc: BaseException, source: str | None = None) -> dict[str, Any]:
    """A failure as data: kind, message, and the program line where it happened."""
    if isinstance(exc, CallTimeout):
        kind = "timeout"
    elif isinstance(exc, MemoryError):
        kind = "memory"
    elif isinstance(exc, RecursionError):
        kind = "recursion"
    elif isinstance(exc, Forbidden):
        kind = "forbidden"
    elif isinstance(exc, MalformedOutput):
        kind = "malformed"
    elif isinstance(exc, SyntaxError):
        kind = "syntax"
    else:
        kind = "exception"
    line = None
    if isinstance(exc, SyntaxError) and exc.filename == PROGRAM_FILE:
        line = exc.lineno
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == PROGRAM_FILE:
                line = frame.lineno
    message = f"{type(exc).__name__}: {exc}"
    if kind == "timeout":
        message = "the call did not finish within its time limit (an endless loop?)"
    elif kind == "memory":
        message = "the call exceeded the memory limit"
    failure: dict[str, Any] = {"kind": kind, "message": message[:2000]}
    if line is not None:
        failure["line"] = line
        if source is not None:
            lines = source.splitlines()
            if 0 < line <= len(lines):
                failure["code"] = lines[line - 1].strip()
    return failure


# --------------------------------------------------------------------------- programs


@dataclass
class CompiledProgram:
    source: str
    ns: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None

    @property
    def transition(self) -> Callable:
        return self.ns["transition"]

    @property
    def reward(self) -> Callable:
        return self.ns["reward"]


def compile_program(api_ns: dict[str, Any], source: str, call_timeout: float = 2.0,
                    guarded: bool = True) -> CompiledProgram:
    """Run the program's top level in a copy of the API namespace (`guarded=False`: without the
    Python layer, only to test the OS jail on its own)."""
    ns = dict(api_ns)
    ns["__builtins__"] = restricted_builtins() if guarded else builtins.__dict__
    try:
        code = compile(screen(source) if guarded else source, PROGRAM_FILE, "exec")
        with call_limit(call_timeout):
            exec(code, ns)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, (KeyboardInterrupt, SystemExit)) and not _from_program(exc):
            raise
        return CompiledProgram(source, failure=classify(exc, source))
    missing = [name for name in ("transition", "reward") if not callable(ns.get(name))]
    if missing:
        return CompiledProgram(source, failure={
            "kind": "missing", "message": f"the program does not define {' and '.join(missing)}()"})
    return CompiledProgram(source, ns=ns)


def _from_program(exc: BaseException) -> bool:
    return any(f.filename == PROGRAM_FILE for f in traceback.extract_tb(exc.__traceback__))


class call_limit:
    """Interrupt a call after `seconds` of wall time (SIGALRM; main thread of a worker only)."""

    enabled = True

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __enter__(self):
        if self.enabled and self.seconds > 0:
            self.previous = signal.signal(signal.SIGALRM, _raise_timeout)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.enabled and self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def _raise_timeout(signum, frame):
    raise CallTimeout()


# --------------------------------------------------------------------------- states


def decode_entity(ns: dict[str, Any], data: dict[str, Any]) -> Any:
    cls = ns.get(data.get("type"))
    if not isinstance(cls, type):
        raise MalformedOutput(f"no entity class named {data.get('type')!r}")
    kwargs = {k: decode_entity(ns, v) if isinstance(v, dict) and "type" in v else v
              for k, v in data.items() if k != "type"}
    return cls(**kwargs)


def decode_state(ns: dict[str, Any], state: list[dict[str, Any]]) -> list[Any]:
    return [decode_entity(ns, e) for e in state]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def encode_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str, float)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"type": type(value).__name__}
        for name in _field_names(type(value)):
            out[name] = encode_value(getattr(value, name))
        return out
    if isinstance(value, (list, tuple)):
        return [encode_value(v) for v in value]
    raise MalformedOutput(f"a state may hold entities, numbers, strings, booleans and lists, not {type(value).__name__}")


def encode_state(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, (list, tuple)):
        raise MalformedOutput(f"transition() must return a list of entities, not {type(value).__name__}")
    out = []
    for item in value:
        if not (dataclasses.is_dataclass(item) and not isinstance(item, type)):
            raise MalformedOutput(f"a state holds entity objects, not {type(item).__name__}")
        out.append(encode_value(item))
    return out


def reward_pair(value: Any) -> tuple[float, bool]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise MalformedOutput(f"reward() must return (reward, done), not {value!r}"[:300])
    r, done = value
    if isinstance(r, bool) or not isinstance(r, (int, float)):
        raise MalformedOutput(f"reward() must return a number as reward, not {type(r).__name__}")
    if not isinstance(done, bool) and done not in (0, 1):
        raise MalformedOutput(f"reward() must return a bool as done, not {type(done).__name__}")
    return float(r), bool(done)


def rewards_match(mode: str, predicted: tuple[float, bool], reward: float, done: bool) -> bool:
    if predicted[1] != done:
        return False
    if mode == "sign":
        return (predicted[0] > 0) == (reward > 0)
    return abs(predicted[0] - reward) <= 1e-6


# --------------------------------------------------------------------------- evaluation (φ1)


@dataclass
class Transition:
    """One distinct recorded transition, as the worker keeps it."""

    state: list[dict[str, Any]]
    action: str
    next_state: list[dict[str, Any]]
    reward: float
    done: bool
    mission: str
    next_key: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Transition":
        t = cls(data["state"], data["action"], data["next_state"], float(data["reward"]), bool(data["done"]),
                data.get("mission", ""))
        t.next_key = state_key(t.next_state)
        return t


@dataclass
class Outcome:
    """How a program did on one transition: 'o' ok, 'w' wrong, 'e' error, for each function."""

    transition: str
    reward: str
    detail: dict[str, Any] = field(default_factory=dict)


def evaluate_one(program: CompiledProgram, t: Transition, reward_mode: str, call_timeout: float) -> Outcome:
    ns = program.ns
    detail: dict[str, Any] = {}
    try:
        with call_limit(call_timeout):
            predicted = encode_state(program.transition(decode_state(ns, t.state), t.action))
        t_status = "o" if state_key(predicted) == t.next_key else "w"
        if t_status == "w":
            detail["predicted_state"] = predicted
    except Exception as exc:  # noqa: BLE001
        t_status = "e"
        detail["transition_error"] = classify(exc, program.source)
    except CallTimeout as exc:
        t_status = "e"
        detail["transition_error"] = classify(exc, program.source)
    try:
        with call_limit(call_timeout):
            pair = reward_pair(program.reward(decode_state(ns, t.state), t.action, decode_state(ns, t.next_state),
                                              t.mission))
        r_status = "o" if rewards_match(reward_mode, pair, t.reward, t.done) else "w"
        if r_status == "w":
            detail["predicted_reward"] = list(pair)
    except Exception as exc:  # noqa: BLE001
        r_status = "e"
        detail["reward_error"] = classify(exc, program.source)
    except CallTimeout as exc:
        r_status = "e"
        detail["reward_error"] = classify(exc, program.source)
    return Outcome(t_status, r_status, detail)


def evaluate(program: CompiledProgram, transitions: list[Transition], reward_mode: str,
             call_timeout: float = 2.0) -> list[Outcome]:
    if program.failure is not None:
        failed = Outcome("e", "e", {"transition_error": program.failure, "reward_error": program.failure})
        return [failed] * len(transitions)
    outcomes: list[Outcome] = []
    for t in transitions:
        outcome = evaluate_one(program, t, reward_mode, call_timeout)
        outcomes.append(outcome)
        timed_out = [outcome.detail[k] for k in ("transition_error", "reward_error")
                     if outcome.detail.get(k, {}).get("kind") == "timeout"]
        if timed_out:  # a program that loops once is not given the time to loop on every transition
            skipped = dict(timed_out[0], message=timed_out[0]["message"] + " (later transitions not tried)")
            rest = Outcome("e", "e", {"transition_error": skipped, "reward_error": skipped})
            outcomes += [rest] * (len(transitions) - len(outcomes))
            break
    return outcomes


# --------------------------------------------------------------------------- planning (φ2)


def action_generator(source: str | None) -> Callable[[list[dict[str, Any]]], list[str]] | None:
    """The environment's own (trusted) `candidate_actions(state)` for state-dependent action sets,
    e.g. text commands built from templates and the entities in an imagined state."""
    if not source:
        return None
    ns: dict[str, Any] = {"__name__": "wc_actions"}
    exec(compile(source, "<actions>", "exec"), ns)
    return ns["candidate_actions"]


def plan(program: CompiledProgram, state: list[dict[str, Any]], mission: str,
         actions: list[str] | Callable[[list[dict[str, Any]]], list[str]], *,
         max_nodes: int = 20_000, max_depth: int = 100, time_limit: float = 10.0,
         call_timeout: float = 2.0) -> PlanResult:
    """Breadth-first search for reward > 0 and done, inside the program. `actions` is a list, or
    a function from a (JSON) state to the actions worth trying there."""
    if program.failure is not None:
        return PlanResult(False, reason="the program does not load", first_error=program.failure)
    ns = program.ns
    errors: list[dict[str, Any]] = []

    def expand(encoded, action):
        with call_limit(call_timeout):
            nxt = program.transition(decode_state(ns, encoded), action)
            nxt_encoded = encode_state(nxt)
            r, done = reward_pair(program.reward(decode_state(ns, encoded), action, nxt, mission))
        return nxt_encoded, search_key(nxt_encoded), r, done

    def on_error(exc, action):
        if not errors:
            errors.append(classify(exc, program.source))

    try:
        result = bfs(state, search_key(state), actions, expand, max_nodes=max_nodes, max_depth=max_depth,
                     deadline=time.monotonic() + time_limit, on_error=on_error)
        if result.found:  # canonical keys for the path only, to compare with what the env will show
            current = state
            for i, action in enumerate(result.actions):
                current, _, reward, done = expand(current, action)
                result.predictions[i] = (state_key(current), reward, done)
    except CallTimeout as exc:
        result = PlanResult(False, reason="a call of the program timed out during planning")
        errors.append(classify(exc, program.source))
    if errors:
        result.first_error = errors[0]
    return result


def search_key(state: list[dict[str, Any]]) -> str:
    """A cheap key for the search's visited set. Unlike `state_key` it does not normalise values
    (2.0 and 2 differ), which can only make the search revisit a state, never miss one."""
    return "\x1e".join(sorted(json.dumps(e, sort_keys=True, separators=(",", ":")) for e in state))


def raise_recursion_guard(limit: int = 2000) -> None:
    sys.setrecursionlimit(limit)
