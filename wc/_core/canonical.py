"""The one state canonicaliser.

A state is a list of entities, each a JSON object with a "type" key and fields. Two states
are the same when they hold the same multiset of entities, whatever the order, so the
canonical form sorts entities by their compact JSON text. Nested entities (a carried key)
are canonicalised inside their parent.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from wc._core.values import State


def _norm(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 9)
    if isinstance(value, dict):
        return {str(k): _norm(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    raise TypeError(f"value of type {type(value).__name__} is not JSON data")


def canonical_state(state: State) -> State:
    """Entities with normalised values, in a fixed order."""
    items = [_norm(e) for e in state]
    return sorted(items, key=lambda e: json.dumps(e, sort_keys=True, separators=(",", ":")))


def entity_key(entity: dict[str, Any]) -> str:
    """The canonical text of one entity: a state's key is its entities' keys, sorted."""
    return json.dumps(_norm(entity), separators=(",", ":"))


def state_key(state: State) -> str:
    """A string equal for equal states (order of entities ignored): the JSON text of the
    canonical state."""
    # _norm sorts keys already; joining sorted entity texts equals json.dumps(canonical_state(...))
    return "[" + ",".join(sorted(json.dumps(_norm(e), separators=(",", ":")) for e in state)) + "]"


def state_hash(state: State) -> str:
    return key_hash(state_key(state))


def key_hash(key: str) -> str:
    """The hash of a state given by its key (`state_hash(s) == key_hash(state_key(s))`)."""
    return hashlib.sha1(key.encode()).hexdigest()


def start_key(state: State, mission: str) -> str:
    """An episode start's identity: its state and its mission."""
    return start_key_of_hash(state_hash(state), mission)


def start_key_of_hash(hashed_state: str, mission: str) -> str:
    """`start_key` from a stored state hash (transitions and beliefs keep the state's hash)."""
    return hashlib.sha1(f"{hashed_state}\n{mission}".encode()).hexdigest()


def diff_states(before: State, after: State) -> list[str]:
    """A short account of what changed, for prompts: field changes of entities of the same
    type, plus entities that appeared or disappeared."""
    b = [json.dumps(e, sort_keys=True) for e in canonical_state(before)]
    a = [json.dumps(e, sort_keys=True) for e in canonical_state(after)]
    removed = list(b)
    added = []
    for item in a:
        if item in removed:
            removed.remove(item)
        else:
            added.append(item)
    gone = [json.loads(x) for x in removed]
    new = [json.loads(x) for x in added]
    lines: list[str] = []
    for old in list(gone):
        match = next((n for n in new if n.get("type") == old.get("type")), None)
        if match is None:
            continue
        changes = [
            f"{k}: {_short(old.get(k))} -> {_short(match.get(k))}"
            for k in sorted(set(old) | set(match))
            if old.get(k) != match.get(k)
        ]
        lines.append(f"{_label(old)} changed {', '.join(changes)}")
        gone.remove(old)
        new.remove(match)
    lines += [f"{_label(o)} disappeared" for o in gone]
    lines += [f"{_label(n)} appeared" for n in new]
    return lines


def _short(value: Any) -> str:
    if isinstance(value, dict) and "type" in value:
        return _label(value)
    return repr(value)


def _label(entity: dict[str, Any]) -> str:
    fields = ", ".join(f"{k}={_short(v)}" for k, v in entity.items() if k != "type")
    return f"{entity.get('type', '?')}({fields})"
