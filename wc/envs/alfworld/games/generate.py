"""Build wc's ALFWorld games from small room descriptions.

    python -m wc.envs.alfworld.games.generate      # rewrites the .tw-pddl files beside this file

A room names its receptacles and objects by AI2-THOR type; ids, locations and the PDDL facts
follow the dataset's conventions (ids like `Apple|-01.65|+00.94|-00.12`, mangled to
`Apple_bar__minus_01_dot_65_...` so alfworld's demangler names the object "apple 1"; affordances
and canContain from alfworld's constants; the goal from alfworld's goal library; the task text
from the goal library's templates, written into the grammar as alfworld's dataset builder does).
The engine's planner must solve each game; its plan is stored as the walkthrough.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wc.envs.alfworld import alfworld_modules, check_problem, engine_call, mission_of

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Room:
    slug: str
    task_type: str
    obj: str                                # AI2-THOR type of the task's object
    recep: str                              # AI2-THOR type of the task's receptacle (or lamp)
    template: int                           # which of the goal library's task phrasings
    receptacles: tuple[str, ...]            # one receptacle per entry, by type
    objects: tuple[tuple[str, int], ...]    # (type, index into receptacles it is in or on)

    @property
    def filename(self) -> str:
        return f"{self.task_type}-{self.obj}-None-{self.recep}-{self.slug}.tw-pddl"


ROOMS: tuple[Room, ...] = (
    Room("bedroom1", "pick_and_place_simple", "CellPhone", "Bed", 0,
         ("Bed", "Desk", "Drawer", "GarbageCan"),
         (("CellPhone", 2), ("Book", 1), ("Pen", 1), ("CD", 3))),
    Room("bathroom1", "pick_and_place_simple", "SoapBar", "Toilet", 1,
         ("Toilet", "CounterTop", "Cabinet", "GarbageCan"),
         (("SoapBar", 1), ("SprayBottle", 2), ("ToiletPaper", 0), ("Candle", 1))),
    Room("bedroom2", "look_at_obj_in_light", "AlarmClock", "DeskLamp", 0,
         ("Desk", "SideTable", "Drawer", "Bed"),
         (("DeskLamp", 0), ("Pen", 0), ("AlarmClock", 1), ("CreditCard", 2), ("Pillow", 3))),
    Room("study1", "look_at_obj_in_light", "Book", "DeskLamp", 1,
         ("SideTable", "Sofa", "Shelf", "Drawer"),
         (("DeskLamp", 0), ("Book", 1), ("Pillow", 1), ("Statue", 2), ("KeyChain", 3))),
    Room("kitchen1", "pick_clean_then_place_in_recep", "Apple", "Fridge", 0,
         ("CounterTop", "Fridge", "SinkBasin", "Microwave"),
         (("Apple", 0), ("Bread", 0), ("Egg", 1))),
    Room("kitchen2", "pick_clean_then_place_in_recep", "Mug", "Cabinet", 1,
         ("DiningTable", "SinkBasin", "Cabinet", "StoveBurner"),
         (("Mug", 0), ("Fork", 0), ("Pan", 3))),
    Room("kitchen3", "pick_heat_then_place_in_recep", "Potato", "DiningTable", 0,
         ("Fridge", "Microwave", "DiningTable", "GarbageCan"),
         (("Potato", 0), ("Bread", 2), ("Apple", 3))),
    Room("kitchen4", "pick_heat_then_place_in_recep", "Mug", "CoffeeMachine", 1,
         ("CounterTop", "Microwave", "CoffeeMachine", "SinkBasin"),
         (("Mug", 0), ("Apple", 0), ("Cup", 3))),
    Room("kitchen5", "pick_cool_then_place_in_recep", "Lettuce", "CounterTop", 0,
         ("DiningTable", "Fridge", "CounterTop", "SinkBasin"),
         (("Lettuce", 0), ("Fork", 0), ("Tomato", 2))),
    Room("kitchen6", "pick_cool_then_place_in_recep", "Pan", "StoveBurner", 1,
         ("SinkBasin", "Fridge", "StoveBurner", "Cabinet"),
         (("Pan", 0), ("Pot", 2), ("Bowl", 3))),
    Room("livingroom1", "pick_two_obj_and_place", "CellPhone", "Sofa", 0,
         ("Sofa", "ArmChair", "CoffeeTable", "Drawer"),
         (("CellPhone", 1), ("CellPhone", 2), ("RemoteControl", 2), ("KeyChain", 3))),
    Room("bathroom2", "pick_two_obj_and_place", "SoapBar", "Toilet", 1,
         ("Toilet", "CounterTop", "BathtubBasin", "Cabinet"),
         (("SoapBar", 1), ("SoapBar", 2), ("SprayBottle", 3))),
)

_BASINS = {"SinkBasin": "Sink", "BathtubBasin": "Bathtub"}


def _mangle(thor_id: str) -> str:
    for char, word in (("|", "_bar_"), ("-", "_minus_"), ("+", "_plus_"), (".", "_dot_"), (",", "_comma_")):
        thor_id = thor_id.replace(char, word)
    return thor_id


def _coord(rng: random.Random) -> str:
    value = rng.uniform(-3.0, 3.0)
    return f"{'+' if value >= 0 else '-'}{abs(value):05.2f}"


def _thor_id(kind: str, rng: random.Random) -> str:
    xyz = "|".join(_coord(rng) for _ in range(3))
    if kind in _BASINS:
        return f"{_BASINS[kind]}|{xyz}|{kind}"
    return f"{kind}|{xyz}"


def build_problem(room: Room) -> str:
    """The PDDL problem of a room, in the dataset's style."""
    alfworld_modules()  # imports alfworld without its side effects
    import alfworld.gen.constants as constants
    import alfworld.gen.goal_library as goals

    rng = random.Random(room.slug)
    used_locations: set[str] = set()

    def location() -> str:
        while True:
            x, z, rotation = rng.randint(-12, 12), rng.randint(-12, 12), rng.randint(0, 3)
            loc = f"loc|{x}|{z}|{rotation}|{rng.choice((0, 15, 30, 45, 60))}"
            if loc not in used_locations:
                used_locations.add(loc)
                return _mangle(loc)

    start = location()
    receptacles = [(kind, _mangle(_thor_id(kind, rng)), location()) for kind in room.receptacles]
    objects = [(kind, _mangle(_thor_id(kind, rng)), receptacles[where]) for kind, where in room.objects]
    rtypes = sorted({kind for kind, _, _ in receptacles})
    otypes = sorted({kind for kind, _, _ in objects})
    act = constants.VAL_ACTION_OBJECTS
    init = [f"(atLocation agent1 {start})"]
    for kind, rid, loc in receptacles:
        init += [f"(receptacleType {rid} {kind}Type)", f"(receptacleAtLocation {rid} {loc})"]
        if kind in constants.OPENABLE_CLASS_LIST:
            init.append(f"(openable {rid})")
    for kind, oid, (_, rid, loc) in objects:
        init += [f"(objectType {oid} {kind}Type)", f"(objectAtLocation {oid} {loc})", f"(inReceptacle {oid} {rid})"]
        if kind in act["Toggleable"]:
            init.append(f"(toggleable {oid})")
        else:
            init.append(f"(pickupable {oid})")
        for affordance, predicate in (("Cleanable", "cleanable"), ("Heatable", "heatable"),
                                      ("Coolable", "coolable"), ("Sliceable", "sliceable")):
            if kind in act[affordance]:
                init.append(f"({predicate} {oid})")
        if kind in constants.MOVABLE_RECEPTACLES_SET:
            init.append(f"(isReceptacleObject {oid})")
    for rtype in rtypes:
        for otype in otypes:
            if otype in constants.VAL_RECEPTACLE_OBJECTS.get(rtype, ()):
                init.append(f"(canContain {rtype}Type {otype}Type)")
    declared = (["agent1 - agent"] + [f"{oid} - object" for _, oid, _ in objects]
                + [f"{rid} - receptacle" for _, rid, _ in receptacles]
                + [f"{t}Type - otype" for t in otypes] + [f"{t}Type - rtype" for t in rtypes]
                + [f"{loc} - location" for loc in [start] + [loc for _, _, loc in receptacles]])
    toggle = room.recep if room.task_type == "look_at_obj_in_light" else ""
    recep = "" if toggle else room.recep
    goal = goals.gdict[room.task_type]["pddl"].replace("#", "-").format(obj=room.obj, recep=recep, toggle=toggle,
                                                                        mrecep="")
    body = "\n".join(["(define (problem wc_{})".format(room.slug.replace("-", "_")), "(:domain alfred)", "(:objects"]
                     + ["    " + d for d in declared] + ["    )", "(:init"] + ["    " + f for f in init] + ["    )"])
    return body + "\n" + goal.strip() + "\n"


def task_text(room: Room) -> str:
    alfworld_modules()
    import alfworld.gen.goal_library as goals

    template = goals.gdict[room.task_type]["templates"][room.template]
    toggle = room.recep.lower() if room.task_type == "look_at_obj_in_light" else ""
    return template.format(obj=room.obj.lower(), recep=room.recep.lower(), toggle=toggle, mrecep="")


def build_game(room: Room) -> dict[str, Any]:
    """The .tw-pddl JSON of a room, with the walkthrough the engine's planner finds."""
    aw = alfworld_modules()
    domain = Path(aw.domain_path).read_text()
    grammar = Path(aw.grammar_path).read_text().replace("UNKNOWN GOAL", task_text(room))
    problem = build_problem(room)
    check_problem(problem, domain)
    game: dict[str, Any] = {"pddl_domain": domain, "grammar": grammar, "pddl_problem": problem, "solvable": None,
                            "walkthrough": None}
    game["walkthrough"] = solve(game)
    game["solvable"] = True
    return game


def solve(game: dict[str, Any]) -> list[str]:
    """The engine planner's plan, checked by playing it."""
    import tempfile

    aw = alfworld_modules()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "game.tw-pddl"
        path.write_text(json.dumps(game))
        request = aw.textworld.EnvInfos(won=True, policy_commands=True)
        env = aw.gym.make(aw.gym.register_games([str(path)], request, asynchronous=False,
                                                wrappers=list(aw.wrappers), name="wc-alfworld-generate"))
        try:
            with engine_call():
                intro, infos = env.reset()
            plan = list(infos["policy_commands"])
            if not plan or not mission_of(intro):
                raise RuntimeError("the planner finds no plan (or the task text is missing)")
            won = False
            for command in plan:
                _, _, _, infos = env.step(command)
                won = bool(infos["won"])
            if not won:
                raise RuntimeError(f"the planner's plan {plan} does not win")
            return plan
        finally:
            env.close()


def main(folder: Path = HERE) -> list[Path]:
    written = []
    for room in ROOMS:
        path = folder / room.filename
        path.write_text(json.dumps(build_game(room), indent=1) + "\n")
        written.append(path)
    for stale in folder.glob("*.tw-pddl"):
        if stale not in written:
            stale.unlink()
    return written


if __name__ == "__main__":
    main()
