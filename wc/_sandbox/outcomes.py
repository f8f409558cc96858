"""A random transition, read: whatever a program's `transition` (or `reward`) returned, as a checked
distribution of outcomes. Trusted and pure: it runs in a sandbox worker on the program's own
objects (`read_state`, `read_reward`; `draw_state`, `draw_reward` draw one outcome for rollouts).
The normal form itself, and its JSON that the parent reads back, are `wc._sandbox.distribution`.

A program states randomness with its API module's chance helpers (`wc._core.contract.CHANCE_HELPERS`):
a `Choice` holds (probability, value) options; `choice()` makes one, `vary()` puts one in an
entity's field. `transition` may return a Choice of whole states, or a state in which some
entities are Choices (or have Choices in their fields); every Choice is independent of the
others. A state that holds no Choice is deterministic: one outcome of probability 1, as every
stored program gives.

The normal form keeps independence instead of listing the product, because the product of a
few independently moving entities is large (four MiniGrid balls, up to 9**4 next states) while
what a program lists is small: a `Distribution` is a mixture of branches (probability, items),
the items in the state's order, each an entity (the same in every outcome of the branch) or a
`Factor` (one of its options, independently of every other factor; an option is a group of
entities standing in the factor's place: usually one entity, none or several for a choice of
lists). An entity whose fields hold Choices becomes a factor over whole entities, its fields'
combinations listed. `MAX_OUTCOMES` bounds what is listed (every factor's options and every
branch, `Distribution.listed`); the product (`Distribution.size`) is never listed unless a
caller asks for it with `enumerate`.

Entities are kept as the caller encodes them: JSON objects by default (what the judge and the
wire use), or, for planners, interned entity ids (`plain` and `from_json` arguments).

Every rule broken raises `OutcomeError` (a `MalformedOutput`, so a failure of kind "malformed")
whose message says which rule and where: a probability that is not a finite number, negative,
above 1, probabilities that do not sum to 1, a choice with no options, too many outcomes, a
state that is not a list of entities.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

from wc._core.contract import (
    JSON_ATOMS,
    MAX_OUTCOMES,
    PROBABILITY_SUM,
    encode_value,
    field_names,
    is_entity,
    reward_pair,
)
from wc._sandbox.distribution import (
    Branch,
    Distribution,
    Factor,
    OutcomeError,
    Rewards,
    TooManyOutcomes,
    pick_option,
    short,
)

__all__ = ["Distribution", "Factor", "OutcomeError", "Rewards", "TooManyOutcomes", "chance_class", "draw_reward",
           "draw_state", "is_random", "read_reward", "read_state"]

_ATOMIC = frozenset(JSON_ATOMS)
_ENTITY_TYPES: set[type] = set()   # classes seen to be entities (dataclasses.is_dataclass is slow)
_NUMBERS = (int, float, Fraction, Decimal)


# --------------------------------------------------------------------------- reading a program's value


def chance_class(api_ns: dict[str, Any]) -> type | None:
    """The API module's `Choice` class, or None for a module without the chance helpers. Taken
    from the API namespace itself (before a program runs), so a program that defines a `Choice`
    of its own does not change what wc reads: the helpers `choice()` and `vary()` build the
    module's."""
    cls = api_ns.get("Choice")
    if isinstance(cls, type) and "options" in getattr(cls, "__dataclass_fields__", {}):
        return cls
    return None


def _identity(value: Any) -> Any:
    return value


def is_random(value: Any, chance: type | None) -> bool:
    """Whether a value a program returned holds a Choice of the API module's (`chance`) anywhere:
    what tells a random answer from a deterministic one before either is read."""
    return chance is not None and _Reader(chance, "", MAX_OUTCOMES, _identity, _identity).random(value)


class _Reader:
    """One reading of one value a program returned: the checks, and the count of what it lists."""

    def __init__(self, chance: type | None, where: str, limit: int, plain: Callable[[Any], Any],
                 from_json: Callable[[dict[str, Any]], Any], known: Callable[[Any], Any] | None = None) -> None:
        self.chance = chance
        self.where = where
        self.limit = limit
        self.plain = plain
        self.from_json = from_json
        self.known = known
        self.listed = 0

    # ------------------------------------------------------------ the rules

    def fail(self, text: str) -> OutcomeError:
        return OutcomeError(f"{self.where} {text}")

    def count(self, n: int) -> None:
        self.listed += n
        if self.listed > self.limit:
            raise TooManyOutcomes(
                f"{self.where} lists more than {self.limit} outcomes for one step (the options of all its choices, "
                "with the combinations of random fields inside one entity or group): give parts that are random "
                "independently of each other as separate choices, which wc combines without listing them")

    def options(self, choice: Any, path: str) -> list[tuple[float, Any]]:
        """A Choice's options, checked: (probability, value) with probabilities finite numbers in
        [0, 1] that sum to 1 within PROBABILITY_SUM; zero-probability options dropped and the rest
        scaled to sum to exactly 1."""
        try:  # the instance's own field: a descriptor a program put on the class is not consulted
            raw = object.__getattribute__(choice, "__dict__").get("options")
        except AttributeError:
            raw = None
        if isinstance(raw, dict):
            pairs: list[Any] = [(p, v) for v, p in raw.items()]
        elif isinstance(raw, (list, tuple)):
            pairs = list(raw)
        else:
            raise self.fail(f"returned a choice whose options are {type(raw).__name__}, at {path}: a choice's "
                            "options are a dict {value: probability} or a list of (probability, value) pairs")
        if not pairs:
            raise self.fail(f"returned a choice with no options, at {path}")
        checked: list[tuple[float, Any]] = []
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise self.fail(f"returned a choice whose option {i} is not a (probability, value) pair, at {path}")
            p, value = pair
            if type(p) not in _NUMBERS:
                raise self.fail(f"returned a probability that is not a number ({type(p).__name__} {short(p)}), "
                                f"at {path}")
            q = float(p)
            if not math.isfinite(q):
                raise self.fail(f"returned a probability that is not a finite number ({q}), at {path}")
            if q < 0:
                raise self.fail(f"returned a negative probability ({q:g}), at {path}")
            if q > 1 + PROBABILITY_SUM:
                raise self.fail(f"returned a probability above 1 ({q:g}), at {path}")
            checked.append((q, value))
        total = math.fsum(q for q, _ in checked)
        if abs(total - 1.0) > PROBABILITY_SUM:
            raise self.fail(f"returned probabilities that sum to {total:.9g}, not 1, at {path}")
        kept = [(q / total, v) for q, v in checked if q > 0]
        return kept

    # ------------------------------------------------------------ values

    def random(self, value: Any) -> bool:
        """Whether a Choice is anywhere inside `value`."""
        t = type(value)
        if t in _ATOMIC:
            return False
        if t is self.chance:
            return True
        if isinstance(value, (list, tuple)):
            return any(self.random(v) for v in value)
        if t in _ENTITY_TYPES or is_entity(value):
            _ENTITY_TYPES.add(t)
            d = getattr(value, "__dict__", None)
            if d is not None and _ATOMIC.issuperset(map(type, d.values())):
                return False
            return any(self.random(getattr(value, n)) for n in field_names(t))
        return False  # encode_value refuses it, with its own message

    def bounded(self, alternatives: list[tuple[float, Any]]) -> list[tuple[float, Any]]:
        if len(alternatives) > self.limit:
            self.count(len(alternatives))
        return alternatives

    def alternatives(self, value: Any, path: str) -> list[tuple[float, Any]]:
        """The values a (possibly random) value may take, as JSON, with their probabilities."""
        if type(value) is self.chance:
            out: list[tuple[float, Any]] = []
            for i, (p, v) in enumerate(self.options(value, path)):
                out.extend((p * q, j) for q, j in self.alternatives(v, f"{path} option {i}"))
            return self.bounded(out)
        if not self.random(value):
            return [(1.0, encode_value(value))]
        if is_entity(value):
            combos: list[tuple[float, Any]] = [(1.0, {"type": type(value).__name__})]
            for name in field_names(type(value)):
                alts = self.alternatives(getattr(value, name), f"{path}.{name}")
                combos = self.bounded([(p * q, {**d, name: j}) for p, d in combos for q, j in alts])
            return combos
        items: list[tuple[float, Any]] = [(1.0, [])]
        for i, v in enumerate(value):
            alts = self.alternatives(v, f"{path}[{i}]")
            items = self.bounded([(p * q, [*d, j]) for p, d in items for q, j in alts])
        return items

    def group(self, value: Any, path: str) -> list[tuple[float, tuple[Any, ...]]]:
        """The groups of entities a value standing in a state may be: an entity (perhaps with random
        fields), a list of them, or a Choice of any of these."""
        if type(value) is self.chance:
            out: list[tuple[float, tuple[Any, ...]]] = []
            for i, (p, v) in enumerate(self.options(value, path)):
                out.extend((p * q, g) for q, g in self.group(v, f"{path} option {i}"))
            return self.bounded(out)
        if is_entity(value):
            if self.random(value):
                return [(p, (self.from_json(e),)) for p, e in self.alternatives(value, path)]
            return [(1.0, (self.plain(value),))]
        if isinstance(value, (list, tuple)):
            groups: list[tuple[float, tuple[Any, ...]]] = [(1.0, ())]
            for i, v in enumerate(value):
                parts = self.group(v, f"{path}[{i}]")
                groups = self.bounded([(p * q, g + h) for p, g in groups for q, h in parts])
            return groups
        raise self.fail(f"returned {type(value).__name__} {short(value)} where a state holds entities, at {path}")

    def state(self, value: Any, path: str) -> list[Branch]:
        if type(value) is self.chance:
            branches: list[Branch] = []
            for i, (p, v) in enumerate(self.options(value, path)):
                branches.extend((p * q, items) for q, items in self.state(v, f"{path} option {i}"))
            return branches
        if not isinstance(value, (list, tuple)):
            raise self.fail(f"must return a list of entities, or a choice of such lists, not {type(value).__name__}")
        items: list[Any] = []
        known = self.known
        for i, item in enumerate(value):
            if known is not None:
                encoded = known(item)
                if encoded is not None:
                    items.append(encoded)
                    continue
            here = f"{path}[{i}]"
            if type(item) is self.chance:
                factor = Factor(tuple(self.group(item, here)))
            elif is_entity(item):
                if not self.random(item):
                    items.append(self.plain(item))
                    continue
                factor = Factor(tuple((p, (self.from_json(e),)) for p, e in self.alternatives(item, here)))
            else:
                raise self.fail(f"must return a list of entities (or choices of them), not one holding "
                                f"{type(item).__name__} {short(item)} at {here}")
            self.count(len(factor.options))
            if len(factor.options) == 1:  # certain after all: its group stands as it is
                items.extend(factor.options[0][1])
            else:
                items.append(factor)
        return [(1.0, tuple(items))]



def read_state(value: Any, chance: type | None, *, where: str = "transition()", limit: int = MAX_OUTCOMES,
               plain: Callable[[Any], Any] = encode_value,
               from_json: Callable[[dict[str, Any]], Any] = _identity,
               known: Callable[[Any], Any] | None = None) -> Distribution:
    """What `transition` returned (`value`), as a checked `Distribution` (OutcomeError when it
    breaks a rule). `chance` is the API module's Choice class (`chance_class`; None: no
    helpers, so only a plain state is valid). `plain(entity)` encodes an entity without choices
    (default: its JSON object), `from_json(obj)` one built from JSON by wc (an entity whose
    fields were random); `known(item)`, a planner's shortcut, encodes an item of the state it
    can vouch for (an input returned unchanged) or says None."""
    reader = _Reader(chance, where, limit, plain, from_json, known)
    branches = reader.state(value, "state")
    if len(branches) > 1:
        reader.count(len(branches))
    return Distribution(tuple(branches), max(1, reader.listed))


def read_reward(value: Any, chance: type | None, *, where: str = "reward()", limit: int = MAX_OUTCOMES) -> Rewards:
    """What `reward` returned: a (reward, done) pair, or a Choice of them, as checked
    (probability, (reward, done)) pairs; rewards must be finite."""
    reader = _Reader(chance, where, limit, encode_value, _identity)

    def pairs(v: Any, path: str) -> Iterator[tuple[float, tuple[float, bool]]]:
        if type(v) is chance:
            options = reader.options(v, path)
            reader.count(len(options))
            for i, (p, w) in enumerate(options):
                for q, pair in pairs(w, f"{path} option {i}"):
                    yield p * q, pair
            return
        pair = reward_pair(v)
        if not math.isfinite(pair[0]):
            raise OutcomeError(f"{where} must return a finite number as reward, not {pair[0]}")
        yield 1.0, pair

    return tuple(pairs(value, "reward"))


def draw_state(value: Any, chance: type | None, rng: random.Random, *, where: str = "transition()",
               limit: int = MAX_OUTCOMES) -> list[Any]:
    """One next state drawn from what `transition` returned, as entity objects, without reading
    the rest: what a planner's rollout needs. Every choice met is checked as `read_state` checks
    it; entities without choices are the program's own objects, entities with random fields
    new ones of the same class."""
    reader = _Reader(chance, where, limit, _identity, _identity)

    def pick(choice: Any, path: str) -> Any:
        options = reader.options(choice, path)
        reader.count(len(options))
        return pick_option(tuple(options), rng.random())

    def resolved(v: Any, path: str) -> Any:
        if type(v) is chance:
            return resolved(pick(v, path), path)
        if not reader.random(v):
            return v
        if is_entity(v):
            cls = type(v)
            return cls(**{n: resolved(getattr(v, n), f"{path}.{n}") for n in field_names(cls)})
        return [resolved(x, f"{path}[{i}]") for i, x in enumerate(v)]

    def group(v: Any, path: str, out: list[Any]) -> None:
        if type(v) is chance:
            group(pick(v, path), path, out)
        elif is_entity(v):
            out.append(resolved(v, path))
        elif isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                group(x, f"{path}[{i}]", out)
        else:
            raise reader.fail(f"returned {type(v).__name__} {short(v)} where a state holds entities, at {path}")

    while type(value) is chance:
        value = pick(value, "state")
    if not isinstance(value, (list, tuple)):
        raise reader.fail(f"must return a list of entities, or a choice of such lists, not {type(value).__name__}")
    out: list[Any] = []
    for i, item in enumerate(value):
        if type(item) is not chance and not is_entity(item):
            raise reader.fail(f"must return a list of entities (or choices of them), not one holding "
                              f"{type(item).__name__} {short(item)} at state[{i}]")
        group(item, f"state[{i}]", out)
    return out


def draw_reward(value: Any, chance: type | None, rng: random.Random) -> tuple[float, bool]:
    """One (reward, done) drawn from what `reward` returned (checked as `read_reward` checks)."""
    if type(value) is not chance:
        pair = reward_pair(value)
        if not math.isfinite(pair[0]):
            raise OutcomeError(f"reward() must return a finite number as reward, not {pair[0]}")
        return pair
    rewards = read_reward(value, chance)
    return rewards[0][1] if len(rewards) == 1 else pick_option(rewards, rng.random())
