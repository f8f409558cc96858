"""The commands a player could type in a state, and the ones a search tries first for a mission.

Trusted code run inside the sandbox worker (wc sends this file's source there) on states a program
predicts, which may be odd JSON: it reads defensively and imports nothing.

`candidate_actions` proposes the commands a player could sensibly type in a state, as alfworld's
own admissible-command heuristic does: go to another receptacle; open or close an
openable receptacle here; take a visible pickupable object when the hands are empty; with an
object in hand, move it to, or heat/cool/clean it with, a receptacle here; use a visible
toggleable object. Which appliance heats or cleans is for the world model to know. `focus`
orders a search by the mission; in the observed mode, `comparable` says which part of a next
state a program must predict and `frontier` which unexplored receptacles a search may plan to
see into when the goal is out of sight.
"""


def candidate_actions(state):
    def natural(name):
        head, _, number = name.rpartition(" ")
        return (head, int(number), name) if number.isdigit() else (name, 0, name)

    def text(value):
        return value if isinstance(value, str) and value else None

    agent = None
    receptacles = []
    objects = {}
    inside = []
    for e in state if isinstance(state, list) else ():
        if not isinstance(e, dict):
            continue
        kind = e.get("type")
        if kind == "Agent" and agent is None:
            agent = e
        elif kind == "Receptacle" and text(e.get("name")):
            receptacles.append(e)
        elif kind == "Object" and text(e.get("name")):
            objects[e["name"]] = e
        elif kind == "InReceptacle" and text(e.get("object")) and text(e.get("receptacle")):
            inside.append((e["object"], e["receptacle"]))
    if agent is None:
        return []
    here = agent.get("location")
    held = text(agent.get("holding"))
    receptacles.sort(key=lambda r: natural(r["name"]))
    actions = []
    for r in receptacles:
        if r.get("location") != here:
            actions.append("go to " + r["name"])
    for r in receptacles:
        if r.get("location") != here:
            continue
        name = r["name"]
        if r.get("openable") is True:
            actions += ["open " + name, "close " + name]
        visible = r.get("openable") is not True or r.get("is_open") is True
        inside_here = sorted({o for o, rr in inside if rr == name and o in objects}, key=natural)
        if held is None and visible:
            actions += [f"take {o} from {name}" for o in inside_here if objects[o].get("pickupable") is True]
        if held is not None:
            actions += [f"move {held} to {name}", f"heat {held} with {name}",
                        f"cool {held} with {name}", f"clean {held} with {name}"]
        if visible:
            actions += ["use " + o for o in inside_here if objects[o].get("toggleable") is True]
    return actions


def mission_words(mission):
    """The mission's words in order, lower case, each followed by its singular when it ends in s."""
    words = []
    for word in str(mission).lower().replace(",", " ").replace(".", " ").split():
        words.append(word)
        if word.endswith("s"):
            words.append(word[:-1])
    return words


def focus(state, mission, actions):
    """The commands a search tries first for this mission: those about the objects and
    receptacles it names, the receptacles that hold those objects, and the appliances its
    words call for (hot: microwave, cool: fridge, clean: sinkbasin, a lamp: what can be
    switched on). A search that finds nothing with these tries every command, so this hint
    orders the search; it never decides against a program."""
    words = set(mission_words(mission))
    appliances = set()
    if words & {"hot", "heat", "heated", "warm"}:
        appliances.add("microwave")
    if words & {"cool", "cold", "chilled", "cooled"}:
        appliances.add("fridge")
    if words & {"clean", "cleaned", "washed", "rinsed"}:
        appliances.add("sinkbasin")
    entities = [e for e in state if isinstance(e, dict)] if isinstance(state, list) else []
    objects = {e.get("name"): e for e in entities if e.get("type") == "Object" and isinstance(e.get("name"), str)}
    named = {n for n, e in objects.items() if e.get("kind") in words}
    lamp_kinds = words | {"desklamp", "floorlamp"}
    lamps = {n for n, e in objects.items() if e.get("toggleable") is True and e.get("kind") in lamp_kinds} \
        if words & {"light", "lamp", "desklamp", "floorlamp", "under"} else set()
    relevant = set()
    by_kind = {}
    for e in entities:
        if e.get("type") == "Receptacle" and isinstance(e.get("name"), str):
            if e.get("kind") in words or e.get("kind") in appliances:
                by_kind.setdefault(e.get("kind"), []).append(e)
        elif e.get("type") == "InReceptacle" and (e.get("object") in named or e.get("object") in lamps):
            relevant.add(e.get("receptacle"))
    for same in by_kind.values():
        # of many receptacles of a kind the mission names (21 drawers), the ones that need no
        # opening first: any one will do, and opening each would multiply the states
        visible = [r for r in same if r.get("openable") is not True or r.get("is_open") is True]
        relevant.update(r["name"] for r in (visible or same))
    agent = next((e for e in entities if e.get("type") == "Agent"), {})
    if isinstance(agent.get("holding"), str):
        named.add(agent["holding"])
    kept = []
    for action in actions:
        verb, _, rest = action.partition(" ")
        if verb == "go":
            keep = rest[3:] in relevant
        elif verb in ("open", "close"):
            keep = verb == "open" and rest in relevant
        elif verb == "take":
            keep = rest.split(" from ", 1)[0] in named
        elif verb == "use":
            keep = rest in lamps
        elif verb in ("move", "heat", "cool", "clean"):
            target = rest.rsplit(" to " if verb == "move" else " with ", 1)[-1]
            keep = target in relevant
        else:
            keep = False
        if keep:
            kept.append(action)
    return kept


def comparable(state, next_state):
    """What of `next_state` a world model is held to in the observed mode: what a receptacle
    seen for the first time holds (objects first seen, and what is in or on it) is left out,
    since it cannot be known beforehand. A state with no Unexplored entity (the full mode) is
    compared whole."""
    entities = [e for e in state if isinstance(e, dict)] if isinstance(state, list) else []
    unseen = {e.get("receptacle") for e in entities if e.get("type") == "Unexplored"}
    if not unseen:
        return next_state
    known = {e.get("name") for e in entities if e.get("type") == "Object"}
    kept = []
    for e in next_state if isinstance(next_state, list) else ():
        if isinstance(e, dict):
            if e.get("type") == "Object" and e.get("name") not in known:
                continue
            if e.get("type") == "InReceptacle" and (e.get("object") not in known or e.get("receptacle") in unseen):
                continue
        kept.append(e)
    return kept


def frontier(state, mission):
    """The unexplored receptacles worth seeing into for this mission (observed mode): while a
    kind of object the mission names is not in sight (two of it for "two"), those that can
    hold it; nothing once everything it names is in sight. A search plans to see into one of
    these before it looks for the goal."""
    words = mission_words(mission)
    entities = [e for e in state if isinstance(e, dict)] if isinstance(state, list) else []
    unseen = {e.get("receptacle") for e in entities if e.get("type") == "Unexplored"}
    if not unseen:
        return []
    receptacles = [e for e in entities if e.get("type") == "Receptacle" and isinstance(e.get("name"), str)]
    holdable = set()
    for r in receptacles:
        if isinstance(r.get("accepts"), list):
            holdable.update(k for k in r["accepts"] if isinstance(k, str))
    lamps = {"desklamp", "floorlamp"}  # objects no receptacle lists as accepted: anywhere may hold them
    need = 2 if "two" in words else 1
    in_sight = {}
    for e in entities:
        if e.get("type") == "Object":
            in_sight[e.get("kind")] = in_sight.get(e.get("kind"), 0) + 1
    missing = {w for w in words if (w in holdable or w in lamps)
               and in_sight.get(w, 0) < (need if w == _object_word(words) else 1)}
    if not missing:
        return []
    return [r["name"] for r in receptacles if r["name"] in unseen and isinstance(r.get("accepts"), list)
            and (missing & set(r["accepts"]) or missing & lamps)]


def _object_word(words):
    """The mission's first named kind after "two" (what "find two X" asks two of), if any."""
    return words[words.index("two") + 1] if "two" in words and words.index("two") + 1 < len(words) else None
