"""The commands a player could type in a state, and the ones a search tries first for a mission.

Trusted code run inside the sandbox worker (wc sends this file's source there) on states a program
predicts, which may be odd JSON: it reads defensively and imports nothing.

`candidate_actions` proposes the commands a player could sensibly type in a state, as alfworld's
own admissible-command heuristic does: go to another receptacle; open or close an
openable receptacle here; take a visible pickupable object when the hands are empty; with an
object in hand, move it to, or heat/cool/clean it with, a receptacle here; use a visible
toggleable object. Which appliance heats or cleans is for the world model to know.
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


def focus(state, mission, actions):
    """The commands a search tries first for this mission: those about the objects and
    receptacles it names, the receptacles that hold those objects, and the appliances its
    words call for (hot: microwave, cool: fridge, clean: sinkbasin, a lamp: what can be
    switched on). A search that finds nothing with these tries every command, so this hint
    orders the search; it never decides against a program."""
    words = set()
    for word in str(mission).lower().replace(",", " ").replace(".", " ").split():
        words.add(word)
        if word.endswith("s"):
            words.add(word[:-1])
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
    for e in entities:
        if e.get("type") == "Receptacle" and isinstance(e.get("name"), str):
            if e.get("kind") in words or e.get("kind") in appliances:
                relevant.add(e["name"])
        elif e.get("type") == "InReceptacle" and (e.get("object") in named or e.get("object") in lamps):
            relevant.add(e.get("receptacle"))
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
