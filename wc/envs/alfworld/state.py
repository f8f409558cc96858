"""The game's facts as API-module entities, the mission of a game's opening text, and the text
picture of a state for prompts."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from wc._core.values import State
from wc.envs.render import entity_text


def _kind(type_name: str) -> str:
    name = type_name.strip().lower()
    return name[:-4] if name.endswith("type") and len(name) > 4 else name


def _name_key(name: str) -> tuple[str, int, str]:
    head, _, number = name.rpartition(" ")
    return (head, int(number), name) if number.isdigit() else (name, 0, name)


def facts_to_state(facts: Iterable[Any]) -> State:
    """TextWorld propositions (demangled names) as API-module entities in JSON form."""
    props: list[tuple[str, list[str]]] = []
    receptacles: set[str] = set()
    objects: set[str] = set()
    for fact in facts:
        args = [a.name.strip() for a in fact.arguments]
        props.append((fact.name.lower(), args))
        for a in fact.arguments:
            if a.type == "receptacle":
                receptacles.add(a.name.strip())
            elif a.type == "object":
                objects.add(a.name.strip())
    unary: dict[str, set[str]] = {}
    location: dict[str, str] = {}
    kinds: dict[str, str] = {}
    accepts: dict[str, set[str]] = {}
    inside: set[tuple[str, str]] = set()
    agent_location: str | None = None
    holding: str | None = None
    for name, args in props:
        if len(args) == 1:
            unary.setdefault(name, set()).add(args[0])
        elif name == "atlocation":
            agent_location = args[1]
        elif name == "holds":
            holding = args[1]
        elif name == "receptacleatlocation":
            location[args[0]] = args[1]
        elif name in ("receptacletype", "objecttype"):
            kinds[args[0]] = _kind(args[1])
        elif name == "cancontain":
            accepts.setdefault(_kind(args[0]), set()).add(_kind(args[1]))
        elif name == "inreceptacle":
            inside.add((args[0], args[1]))

    def has(flag: str, name: str) -> bool:
        return name in unary.get(flag, ())

    def kind_of(name: str) -> str:
        return kinds.get(name) or _name_key(name)[0]

    state: State = [{"type": "Agent", "location": agent_location, "holding": holding}]
    for r in sorted(receptacles, key=_name_key):
        state.append({"type": "Receptacle", "name": r, "kind": kind_of(r), "location": location.get(r),
                      "openable": has("openable", r), "is_open": has("opened", r),
                      "accepts": sorted(accepts.get(kind_of(r), ()))})
    for o in sorted(objects, key=_name_key):
        state.append({"type": "Object", "name": o, "kind": kind_of(o),
                      "pickupable": has("pickupable", o), "cleanable": has("cleanable", o),
                      "heatable": has("heatable", o), "coolable": has("coolable", o),
                      "toggleable": has("toggleable", o), "is_clean": has("isclean", o),
                      "is_hot": has("ishot", o), "is_cool": has("iscool", o), "is_toggled": has("istoggled", o)})
    for o, r in sorted(inside, key=lambda p: (_name_key(p[0]), _name_key(p[1]))):
        state.append({"type": "InReceptacle", "object": o, "receptacle": r})
    return state


OBSERVATION_MODES = ("full", "observed")


def seen_now(state: State) -> set[str]:
    """Receptacles the agent sees into from where it stands: those at its location that are
    not openable or are open (the API module's rule for the observed mode)."""
    agent = next((e for e in state if e.get("type") == "Agent"), {})
    return {e["name"] for e in state if e.get("type") == "Receptacle" and e.get("location") == agent.get("location")
            and (not e.get("openable") or e.get("is_open"))}


def observed_view(state: State, explored: set[str]) -> State:
    """A full state as the observed mode shows it, given the receptacles seen so far: every
    receptacle; only the objects in seen receptacles or in the hand; one Unexplored entity per
    receptacle not seen yet."""
    agent = next((e for e in state if e.get("type") == "Agent"), {})
    inside = [e for e in state if e.get("type") == "InReceptacle" and e.get("receptacle") in explored]
    known = {e["object"] for e in inside} | ({agent["holding"]} if agent.get("holding") else set())
    view: State = []
    for e in state:
        kind = e.get("type")
        if kind in ("Agent", "Receptacle") or (kind == "Object" and e.get("name") in known):
            view.append(e)
    view += inside
    names = sorted((e["name"] for e in state if e.get("type") == "Receptacle"), key=_name_key)
    view += [{"type": "Unexplored", "receptacle": r} for r in names if r not in explored]
    return view


def mission_of(intro: str) -> str:
    """The task text of a game's opening: 'Your task is to: put a clean apple in fridge.'"""
    match = re.search(r"Your task is to:\s*(.+?)\s*$", intro, re.S)
    if match is None:
        return ""
    return match.group(1).strip().rstrip(".").strip()


_ORDER = {"Agent": 0, "Receptacle": 1, "Object": 2, "InReceptacle": 3, "Unexplored": 4}


def render_state(state: State) -> str:
    """One entity per line in constructor form, agent first, then receptacles, objects, and
    what is in what."""
    def key(e: dict[str, Any]) -> tuple[Any, ...]:
        names = [str(e.get(k)) for k in ("name", "object", "receptacle") if isinstance(e.get(k), str)]
        return (_ORDER.get(str(e.get("type")), 9), [_name_key(n) for n in names], json.dumps(e, sort_keys=True))

    ordered = sorted(state, key=key)
    return "\n".join(entity_text(e) for e in ordered)
