"""The world-model program contract, as code. Stored programs keep running across versions of wc
because this is versioned: a change to what a program may import, how states are encoded, how
rewards are judged or what a failure is called is a new `CONTRACT_VERSION`, recorded with every
program written under it.

A program is Python source that defines

    transition(state, action) -> next_state
    reward(state, action, next_state, mission) -> (reward, done)

over the entity classes of its environment's API module (a versioned source file of its own,
`wc.envs.api`). States are lists of entity objects; as data they are JSON entity lists (`{"type":
class name, field: value, …}`, nested entities as objects, lists as arrays) and two states are
equal when they hold the same multiset of entities (`wc._core.canonical`). The reward is judged by
sign or exactly (`REWARD_MODES`), `done` is the environment's own termination. A program may
import only `ALLOWED_MODULES`, sees only `SAFE_BUILTINS`, and must not modify its inputs.

A domain may also provide two trusted hooks, run in the sandbox next to programs:
`candidate_actions(state) -> [action]` (state-dependent action sets), `focus(state, mission,
actions) -> [action]` (the actions a search tries first) and `estimator(state, mission)` (a function
`estimate(state) -> float | None` that guides a best-first search and marks dead states).

Pure: no I/O. `wc.check_program` checks a program against this contract.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Protocol, runtime_checkable

from wc._core.tolerance import CWMB, Tolerance, close
from wc._core.values import REWARD_MODES, State

# 2: the sandbox refuses what version 1 let through by accident: defining hooks such as __del__,
# __getattribute__ or __reduce_ex__, class patterns in `match`, attribute targets of loops, writing
# to library classes, and private attributes of library objects (wc._sandbox.guard)
# 3: `transition` may return a distribution of next states and `reward` of (reward, done) pairs,
# built with the API module's chance helpers (CHANCE_HELPERS), judged by likelihood; a program that
# returns one state is judged exactly as under version 2, so every stored program stays valid
CONTRACT_VERSION = 3

FUNCTIONS = {"transition": ("state", "action"), "reward": ("state", "action", "next_state", "mission")}
HOOKS = {"candidate_actions": ("state",), "focus": ("state", "mission", "actions"),
         "estimator": ("state", "mission")}

ALLOWED_MODULES = frozenset({
    "__future__", "math", "itertools", "collections", "collections.abc", "copy", "dataclasses",
    "functools", "heapq", "re", "typing", "enum", "operator", "string", "random", "statistics",
    "abc", "numbers", "bisect", "fractions", "decimal",
})
SAFE_BUILTINS = tuple((
    "abs all any ascii bin bool bytes callable chr complex dict divmod enumerate filter float format "
    "frozenset hash hex id int isinstance issubclass iter len list map max min next object oct ord "
    "pow range repr reversed round set slice sorted str sum tuple type zip property staticmethod "
    "classmethod super NotImplemented Ellipsis BaseException Exception ArithmeticError AssertionError "
    "AttributeError IndexError KeyError LookupError NameError NotImplementedError OverflowError "
    "RuntimeError StopIteration TypeError ValueError ZeroDivisionError RecursionError"
).split())

# what a failure of a program is called, in the store and in repair prompts
FAILURE_KINDS = ("timeout", "memory", "recursion", "forbidden", "malformed", "syntax", "exception", "missing",
                 "no_code", "crash")

JSON_ATOMS = (type(None), bool, int, float, str)

# --------------------------------------------------------------------------- chance (stochastic worlds)
#
# A transition may be random: `transition` returns the possible next states with their
# probabilities, built with the helpers below, which API modules that allow it carry verbatim
# (minigrid_v3, the generic gymnasium generator's version 2). wc reads them in trusted code
# (`wc._sandbox.outcomes`). A program that returns one state is deterministic, as before.

MAX_OUTCOMES = 4096        # options one transition (or one reward) may list in all its choices
PROBABILITY_SUM = 1e-6     # how far the probabilities of one choice may sum from 1

CHANCE_DOC = """\
Chance. When what an action does is random, transition() returns the possible next states
with their probabilities instead of one next state, built with choice() and vary() below, and
reward() is called with each possible next state in turn (it may also return a choice of
(reward, done) pairs). Every Choice in a state is drawn independently of the others: give
independent parts (entities that move at random, fields that vary on their own) as separate
choices and wc combines them, rather than listing every combination. In each choice the
probabilities are numbers in [0, 1] that sum to 1 (within 1e-6), and one transition may list
at most 4096 options in all its choices together. A transition that is not random returns one
next state, as usual. Programs are judged by the probability they give to what was recorded:
every recorded transition must be possible, and more probability for what happened is a
better fit."""

PARAMS_DOC = """\
Constants. A world model may declare its numeric constants at module level in a dict,
    PARAMS = {"gravity": 9.8, "force": 10.0}
with optional bounds, PARAM_BOUNDS = {"gravity": (0.0, None)} (None: no bound), and read them
as PARAMS["gravity"] inside its functions (never copy them into other names at module level).
Before a model is judged, wc fits these values to the recorded transitions by least squares,
starting from the ones written: write the form of the equations and your best guess of each
constant, and leave the digits to the fit. Values must be plain numbers."""

CHANCE_HELPERS = '''\
@dataclass
class Choice:
    options: list  # [(probability, value), ...]


def choice(options):
    """One of several values, at random: a dict {value: probability}, or a list of
    (probability, value) pairs. A value may be anything a state holds (a number, a string,
    an entity, a list of entities) or a whole next state. In a state, a Choice of entities
    stands for one entity, and a Choice of lists of entities for that many (none included)."""
    if isinstance(options, dict):
        return Choice([(p, value) for value, p in options.items()])
    return Choice(list(options))


def vary(entity, **fields):
    """A copy of `entity` whose named fields are random, each independently of the others:
    vary(ball, x={2: 0.5, 3: 0.5}) is the ball at x = 2 or x = 3, with probability 0.5 each."""
    return replace(entity, **{name: choice(options) for name, options in fields.items()})
'''

__all__ = ["ALLOWED_MODULES", "CHANCE_DOC", "CHANCE_HELPERS", "CONTRACT_VERSION", "FAILURE_KINDS", "FUNCTIONS",
           "HOOKS", "MAX_OUTCOMES", "PROBABILITY_SUM", "REWARD_MODES", "SAFE_BUILTINS", "MalformedOutput",
           "WorldModel", "decode_entity", "decode_state", "encode_state", "encode_value", "prompt_rules",
           "reward_pair", "rewards_match"]


@runtime_checkable
class WorldModel(Protocol):
    """What a loaded program provides."""

    def transition(self, state: list[Any], action: Any) -> list[Any]: ...

    def reward(self, state: list[Any], action: Any, next_state: list[Any], mission: str) -> tuple[float, bool]: ...


class MalformedOutput(Exception):
    """A program returned a value outside the contract."""


# --------------------------------------------------------------------------- rewards


def reward_pair(value: Any) -> tuple[float, bool]:
    """`reward()`'s value as (float, bool), or MalformedOutput."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise MalformedOutput(f"reward() must return (reward, done), not {value!r}"[:300])
    r, done = value
    if isinstance(r, bool) or not isinstance(r, (int, float)):
        raise MalformedOutput(f"reward() must return a number as reward, not {type(r).__name__}")
    if not isinstance(done, bool) and done not in (0, 1):
        raise MalformedOutput(f"reward() must return a bool as done, not {type(done).__name__}")
    return float(r), bool(done)


def rewards_match(mode: str, predicted: tuple[float, bool], reward: float, done: bool,
                  tolerance: Tolerance = CWMB) -> bool:
    """φ1 for rewards: `done` must agree; the reward by sign, to 1e-6 ("exact"), or within the
    run's tolerance ("value")."""
    if predicted[1] != done:
        return False
    if mode == "sign":
        return (predicted[0] > 0) == (reward > 0)
    if mode == "value":
        return close(predicted[0], reward, tolerance)
    return abs(predicted[0] - reward) <= 1e-6


# --------------------------------------------------------------------------- the state codec


def decode_entity(ns: dict[str, Any], data: dict[str, Any]) -> Any:
    """An entity object from its JSON form, with the classes of an API namespace."""
    cls = ns.get(data.get("type"))  # type: ignore[arg-type]
    if not isinstance(cls, type):
        raise MalformedOutput(f"no entity class named {data.get('type')!r}")
    kwargs = {k: decode_entity(ns, v) if isinstance(v, dict) and "type" in v else v
              for k, v in data.items() if k != "type"}
    return cls(**kwargs)


def decode_state(ns: dict[str, Any], state: State) -> list[Any]:
    return [decode_entity(ns, e) for e in state]


FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # class -> its dataclass field names (a cache)


def field_names(cls: type) -> tuple[str, ...]:
    names = FIELD_NAMES.get(cls)
    if names is None:
        names = FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def is_entity(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def encode_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str, float)):
        return value
    if is_entity(value):
        out = {"type": type(value).__name__}
        for name in field_names(type(value)):
            out[name] = encode_value(getattr(value, name))
        return out
    if isinstance(value, (list, tuple)):
        return [encode_value(v) for v in value]
    raise MalformedOutput("a state may hold entities, numbers, strings, booleans and lists, "
                          f"not {type(value).__name__}")


def encode_state(value: Any) -> State:
    """The JSON form of a state a program returned, or MalformedOutput."""
    if not isinstance(value, (list, tuple)):
        raise MalformedOutput(f"transition() must return a list of entities, not {type(value).__name__}")
    out = []
    for item in value:
        if not is_entity(item):
            raise MalformedOutput(f"a state holds entity objects, not {type(item).__name__}")
        out.append(encode_value(item))
    return out


# --------------------------------------------------------------------------- the prompt


def prompt_rules(chance: bool = False, params: bool = False) -> str:
    """The contract as the system prompt states it to the LLM; `chance`: the API module carries
    the chance helpers (`CHANCE_HELPERS`), so a transition may be random; `params`: it states the
    PARAMS convention (`PARAMS_DOC`), so constants may be left to wc's fit."""
    modules = ", ".join(sorted(m for m in ALLOWED_MODULES if m != "__future__"))
    signatures = " and ".join(f"`{name}({', '.join(args)})`" for name, args in FUNCTIONS.items())
    rules = (f"- Define {signatures} as the API\n"
             "  module describes. Helper functions are fine.\n"
             f"- Your code runs in a sandbox with no files, network or printing. It may import only: {modules}.\n"
             "- Never modify the `state` passed in; build the next state from copies (copy.deepcopy is fine).")
    if chance:
        rules += ("\n- Where what an action does is random, `transition` returns the possible next states with their\n"
                  "  probabilities, `choice(...)` (or entities made random with `vary(...)`), as the API module's\n"
                  "  Chance section says; it must not draw at random itself. `reward` is then called with each\n"
                  "  possible next state.")
    if params:
        rules += ("\n- Put the numeric constants of your equations in `PARAMS = {\"name\": value, ...}` at module\n"
                  "  level and read them as `PARAMS[\"name\"]` inside your functions, as the API module's Constants\n"
                  "  section says: wc fits their values to the data. Do not compute them from the transitions.")
    return rules
