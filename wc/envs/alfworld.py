"""ALFWorld adapter: TextWorld's PDDL engine seen as entity states and text commands.

Games are `.tw-pddl` files (JSON with `pddl_domain`, `grammar`, `pddl_problem`), played through
`textworld.gym` with alfworld's `AlfredDemangler` (AI2-THOR ids -> "apple 1") and `AlfredInfos`
wrappers. wc ships a small set of its own games (`wc/envs/alfworld_games`, two per task type);
`games=` selects a game file, a folder of games, or a split of the real dataset under
`$ALFWORLD_DATA/json_2.1.1/`.

The symbolic state holds the facts that decide what commands do and whether a task is done:
the agent's location and what it holds, each receptacle (kind, location, open or not, which
kinds of object it accepts), each object (kind, affordances, clean/hot/cool/toggled) and one
`InReceptacle` entity per object-in-receptacle fact. Left out are facts no action of the six
task types reads: `checked`/`examined` (set by look/examine/open, never tested),
`objectAtLocation` (read only by slicing, which ALFWorld's loader excludes), `isOn`/`isSliced`,
and static facts the domain's actions do not use (`moveable`, `isReceptacleObject`, ...).

Episodes: reset(seed) plays game `order[seed % n]`, a fixed shuffle of the sorted game list,
so consecutive seeds visit every game. Reward 1 and termination when the game is won; truncation
after `max_steps` steps.
"""
from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
import random
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from wc.envs.api import load as load_api_module
from wc.envs.base import EnvAdapter, Step
from wc.errors import GameError, InvalidAction, InvalidInput, UnknownEnvironment, WcError
from wc.values import State

API = load_api_module("alfworld", 1)
INSTALL_HINT = "pip install 'worldcoder[alfworld]'"
DEFAULT_MAX_STEPS = 50
DATA_SUBDIR = "json_2.1.1"
GAME_KEYS = ("pddl_domain", "grammar", "pddl_problem")

TASK_TYPES = (
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
)
# short name -> task types it plays (None: all)
TASK_SETS: dict[str, tuple[str, ...] | None] = {
    "alfworld": None,
    "alfworld-pick": ("pick_and_place_simple",),
    "alfworld-light": ("look_at_obj_in_light",),
    "alfworld-clean": ("pick_clean_then_place_in_recep",),
    "alfworld-heat": ("pick_heat_then_place_in_recep",),
    "alfworld-cool": ("pick_cool_then_place_in_recep",),
    "alfworld-pick2": ("pick_two_obj_and_place",),
}


_MOVE = re.compile(r"move (.+) to (.+)")
_PUT_IN_ON = re.compile(r"put (.+) in/on (.+)")


# --------------------------------------------------------------------------- importing alfworld


@dataclass(frozen=True)
class _Alfworld:
    textworld: Any
    gym: Any
    wrappers: tuple[Any, ...]
    domain_path: str
    grammar_path: str


_ALFWORLD: _Alfworld | None = None


def alfworld_modules() -> _Alfworld:
    """Import textworld and alfworld's wrappers without alfworld's side effects.

    `import alfworld` runs `alfworld.info`, which creates `$ALFWORLD_DATA` (default
    ~/.cache/alfworld) and writes the variable into os.environ. Pointing it at alfworld's own
    package folder for the import (unless it names an existing folder) makes the mkdir a no-op;
    the environment is restored after. wc reads the dataset path itself, when it needs it.
    """
    global _ALFWORLD
    if _ALFWORLD is not None:
        return _ALFWORLD
    spec = importlib.util.find_spec("alfworld")
    if spec is None or spec.origin is None or importlib.util.find_spec("textworld") is None:
        raise UnknownEnvironment(f"ALFWorld environments need the alfworld extra: {INSTALL_HINT}")
    package_dir = os.path.dirname(spec.origin)
    saved = os.environ.get("ALFWORLD_DATA")
    borrowed = saved is None or not os.path.isdir(saved)
    if borrowed:
        os.environ["ALFWORLD_DATA"] = package_dir
    try:
        import textworld
        import textworld.gym
        from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredInfos
    except ImportError as exc:
        raise UnknownEnvironment(f"ALFWorld environments need the alfworld extra ({exc}): {INSTALL_HINT}") from None
    finally:
        if saved is None:
            os.environ.pop("ALFWORLD_DATA", None)
        elif borrowed:
            os.environ["ALFWORLD_DATA"] = saved
    data = os.path.join(package_dir, "data")
    _ALFWORLD = _Alfworld(textworld, textworld.gym, (AlfredDemangler, AlfredInfos),
                          os.path.join(data, "alfred.pddl"), os.path.join(data, "alfred.twl2"))
    return _ALFWORLD


@contextmanager
def engine_call():
    """fast-downward's PDDL translator overwrites sys.argv each time a game loads; put it back."""
    argv, saved = sys.argv, list(sys.argv)
    try:
        yield
    finally:
        argv[:] = saved
        sys.argv = argv


# --------------------------------------------------------------------------- PDDL checks


def parse_sexp(text: str) -> list[Any]:
    """The top-level S-expressions of PDDL text (`;` comments dropped), as nested lists."""
    stack: list[list[Any]] = [[]]
    lines: list[int] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for token in re.findall(r"\(|\)|[^\s()]+", line.split(";", 1)[0]):
            if token == "(":
                stack.append([])
                lines.append(lineno)
            elif token == ")":
                if len(stack) == 1:
                    raise ValueError(f"line {lineno}: ')' without a matching '('")
                done = stack.pop()
                lines.pop()
                stack[-1].append(done)
            else:
                stack[-1].append(token)
    if len(stack) > 1:
        raise ValueError(f"line {lines[-1]}: '(' is never closed")
    return stack[0]


def _domain_predicates(domain: str) -> dict[str, int]:
    """Predicate name (lowercase) -> arity, from a PDDL domain's :predicates."""
    predicates: dict[str, int] = {}
    for top in parse_sexp(domain):
        for section in top if isinstance(top, list) else ():
            if isinstance(section, list) and section and str(section[0]).lower() == ":predicates":
                for pred in section[1:]:
                    if isinstance(pred, list) and pred:
                        predicates[str(pred[0]).lower()] = sum(
                            1 for t in pred[1:] if isinstance(t, str) and t.startswith("?"))
    return predicates


def check_problem(problem: str, domain: str) -> None:
    """Raise ValueError saying what is wrong with a PDDL problem, before TextWorld sees it
    (its own errors for these are a bare KeyError or a parser position)."""
    tops = parse_sexp(problem)
    if len(tops) != 1 or not isinstance(tops[0], list) or not tops[0] or str(tops[0][0]).lower() != "define":
        raise ValueError("the problem must be one (define (problem NAME) ...) form")
    sections = {str(s[0]).lower(): s for s in tops[0][1:] if isinstance(s, list) and s}
    for required in (":objects", ":init", ":goal"):
        if required not in sections:
            raise ValueError(f"the problem has no {required} section")
    declared: dict[str, str] = {}
    pending: list[str] = []
    tokens = sections[":objects"][1:]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not isinstance(token, str):
            raise ValueError(":objects must list names and types, not nested forms")
        if token == "-":
            if i + 1 >= len(tokens) or not isinstance(tokens[i + 1], str):
                raise ValueError(":objects ends with '-' and no type")
            for name in pending:
                declared[name.lower()] = str(tokens[i + 1]).lower()
            pending = []
            i += 2
            continue
        pending.append(token)
        i += 1
    if pending:
        raise ValueError(f":objects lists {pending[0]} without a type")
    predicates = _domain_predicates(domain)
    for atom in sections[":init"][1:]:
        if not isinstance(atom, list) or not atom or not isinstance(atom[0], str):
            raise ValueError(f":init holds {atom!r}, which is not a fact")
        name = atom[0].lower()
        if name == "=":
            continue
        if name == "not":
            raise ValueError(":init lists only true facts; drop the (not ...) form")
        if name not in predicates:
            raise ValueError(f":init uses predicate {atom[0]!r}, which the domain does not define")
        if len(atom) - 1 != predicates[name]:
            raise ValueError(f":init fact ({' '.join(map(str, atom))}) has {len(atom) - 1} arguments; "
                             f"{atom[0]} takes {predicates[name]}")
        for arg in atom[1:]:
            if not isinstance(arg, str) or arg.lower() not in declared:
                raise ValueError(f":init fact ({' '.join(map(str, atom))}) uses {arg}, which :objects does not declare")


# --------------------------------------------------------------------------- finding games


def shipped_games() -> list[Path]:
    folder = importlib.resources.files("wc.envs.alfworld_games")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".tw-pddl"))


def task_type_of(path: Path) -> str | None:
    """The task type of a game: from traj_data.json beside it (the dataset), else from a file
    or folder name that starts with one (wc's games, the dataset's folder names)."""
    traj = path.parent / "traj_data.json"
    if traj.is_file():
        try:
            return str(json.loads(traj.read_text())["task_type"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
    for part in (path.name, path.parent.name, path.parent.parent.name):
        for task_type in TASK_TYPES:
            if part.startswith(task_type):
                return task_type
    return None


def read_game(path: Path) -> dict[str, Any]:
    """A game file's JSON, checked for the keys the engine needs."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise GameError(f"no game file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GameError(f"cannot read game file {path}: {exc}") from None
    except ValueError as exc:
        raise GameError(f"{path} is not a .tw-pddl game (not JSON: {exc})") from None
    if not isinstance(data, dict):
        raise GameError(f"{path} is not a .tw-pddl game (a JSON object with {', '.join(GAME_KEYS)})")
    missing = [k for k in GAME_KEYS if not isinstance(data.get(k), str)]
    if missing:
        raise GameError(f"{path} is not a .tw-pddl game: it has no {', '.join(missing)}")
    return data


def _scan(root: Path, task_types: tuple[str, ...] | None) -> list[Path]:
    """Games under a folder. Dataset folders (with traj_data.json) follow alfworld's loader:
    skip `movable` and `Sliced` trials, other task types, and games not marked solvable."""
    found: list[Path] = []
    for path in sorted(root.rglob("*.tw-pddl")):
        dataset = (path.parent / "traj_data.json").is_file()
        trial = str(path.parent.relative_to(root))
        if dataset and ("movable" in trial or "Sliced" in trial):
            continue
        kind = task_type_of(path)
        if task_types is not None and kind not in task_types:
            continue
        data = read_game(path)
        if data.get("solvable") is False or (dataset and data.get("solvable") is not True):
            continue
        found.append(path)
    return found


def resolve_games(games: str | os.PathLike[str] | None, task_types: tuple[str, ...] | None) -> list[Path]:
    """Game files for a `games=` option: None (wc's games), a file, a folder, or a split name."""
    wanted = "any task type" if task_types is None else ", ".join(task_types)
    if games is None:
        found = [p for p in shipped_games() if task_types is None or task_type_of(p) in task_types]
        if not found:
            raise GameError(f"wc ships no ALFWorld game of {wanted}")
        return found
    path = Path(games).expanduser()
    if path.is_file():
        check_game(path)
        return [path]
    if path.is_dir():
        found = _scan(path, task_types)
        if not found:
            raise GameError(f"no playable .tw-pddl game of {wanted} under {path}")
        return found
    name = str(games)
    if "/" not in name and os.sep not in name and not name.endswith(".tw-pddl"):
        data = os.environ.get("ALFWORLD_DATA")
        if not data:
            raise GameError(f"no game file or folder {name!r}; the split {name!r} of the ALFWorld dataset needs "
                            "ALFWORLD_DATA set to the folder `alfworld-download` filled")
        split = Path(data).expanduser() / DATA_SUBDIR / name
        if not split.is_dir():
            known = sorted(p.name for p in split.parent.iterdir() if p.is_dir()) if split.parent.is_dir() else []
            raise GameError(f"no game file or folder {name!r}, and no split {split} "
                            f"(splits there: {', '.join(known) or 'none'})")
        found = _scan(split, task_types)
        if not found:
            raise GameError(f"no solvable game of {wanted} in {split}")
        return found
    raise GameError(f"no game file or folder {path}")


def check_game(path: Path) -> None:
    """Check one game thoroughly: JSON, PDDL, loading in TextWorld, and a solution exists."""
    data = read_game(path)
    if data.get("solvable") is False:
        raise GameError(f"{path} is marked unsolvable (\"solvable\": false)")
    try:
        check_problem(data["pddl_problem"], data["pddl_domain"])
    except ValueError as exc:
        raise GameError(f"{path}: malformed PDDL problem: {exc}") from None
    aw = alfworld_modules()
    request = aw.textworld.EnvInfos(admissible_commands=True, won=True, policy_commands=data.get("solvable") is None)
    env = aw.gym.make(aw.gym.register_games([str(path)], request, asynchronous=False,
                                            wrappers=list(aw.wrappers), name="wc-alfworld-check"))
    try:
        try:
            with engine_call():
                _, infos = env.reset()
        except Exception as exc:  # noqa: BLE001 - TextWorld and fast-downward raise many kinds
            raise _load_error(path, exc) from None
        if data.get("solvable") is None and not infos["won"] and not infos.get("policy_commands"):
            raise GameError(f"{path}: the PDDL planner finds no plan from the initial state to the goal")
    finally:
        env.close()


def _load_error(path: Path, exc: BaseException) -> GameError:
    if isinstance(exc, KeyError) and str(exc).strip("'\"").startswith("val"):
        # fast-downward's translator proved the goal unreachable and emitted a trivial task
        return GameError(f"{path}: the goal cannot be reached from the initial state (unsolvable game)")
    return GameError(f"{path}: TextWorld cannot load the game ({type(exc).__name__}: {exc})")


# --------------------------------------------------------------------------- states


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


def mission_of(intro: str) -> str:
    """The task text of a game's opening: 'Your task is to: put a clean apple in fridge.'"""
    match = re.search(r"Your task is to:\s*(.+?)\s*$", intro, re.S)
    if match is None:
        return ""
    return match.group(1).strip().rstrip(".").strip()


# Trusted: runs inside the sandbox worker on states a program predicts (JSON, possibly odd), so
# it reads defensively. It proposes the commands a player could sensibly type in that state, as
# alfworld's own admissible-command heuristic does: go to another receptacle; open or close an
# openable receptacle here; take a visible pickupable object when the hands are empty; with an
# object in hand, move it to, or heat/cool/clean it with, a receptacle here; use a visible
# toggleable object. Which appliance heats or cleans is for the world model to know.
ACTION_SOURCE = r'''
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
            actions += ["take %s from %s" % (o, name) for o in inside_here if objects[o].get("pickupable") is True]
        if held is not None:
            actions += ["move %s to %s" % (held, name), "heat %s with %s" % (held, name),
                        "cool %s with %s" % (held, name), "clean %s with %s" % (held, name)]
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
    lamps = {n for n, e in objects.items() if e.get("toggleable") is True and e.get("kind") in words | {"desklamp", "floorlamp"}} \
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
'''


# --------------------------------------------------------------------------- the adapter


class AlfworldAdapter(EnvAdapter):
    domain = "alfworld"
    reward_mode = "exact"
    api = API
    actions: tuple[str, ...] = ()  # state-dependent: available_actions() and action_source
    action_source = ACTION_SOURCE

    def __init__(self, name: str, env_id: str, games: list[Path], max_steps: int = DEFAULT_MAX_STEPS):
        if not games:
            raise GameError(f"{name} has no games")
        if max_steps < 1:
            raise InvalidInput(f"max_steps must be at least 1, not {max_steps}")
        self.name = name
        self.env_id = env_id
        self.max_steps = int(max_steps)
        self.games = sorted(games)
        self.order = list(self.games)
        random.Random(0).shuffle(self.order)
        self._aw = alfworld_modules()
        self._request = self._aw.textworld.EnvInfos(facts=True, admissible_commands=True, won=True)
        self._env_ids: dict[Path, str] = {}
        self._env: Any = None
        self._game: Path | None = None
        self._put_in_on = False
        self._admissible: tuple[str, ...] = ()
        self._steps = 0
        self._over = True
        self.mission = ""

    def game_for(self, seed: int | None) -> Path:
        if seed is None:
            return random.choice(self.order)
        return self.order[seed % len(self.order)]

    def _open(self, game: Path) -> Any:
        if self._env is not None and self._game == game:
            return self._env
        self.close()
        env_id = self._env_ids.get(game)
        if env_id is None:
            env_id = self._aw.gym.register_games([str(game)], self._request, asynchronous=False,
                                                 wrappers=list(self._aw.wrappers), name="wc-alfworld")
            self._env_ids[game] = env_id
        self._env = self._aw.gym.make(env_id)
        self._game = game
        self._put_in_on = "put {o} in/on {r}" in read_game(game)["grammar"]
        return self._env

    def reset(self, seed: int | None = None) -> tuple[State, str]:
        game = self.game_for(seed)
        env = self._open(game)
        try:
            with engine_call():
                intro, infos = env.reset()
        except Exception as exc:  # noqa: BLE001 - TextWorld and fast-downward raise many kinds
            self.close()
            raise _load_error(game, exc) from None
        self.mission = mission_of(intro)
        self._steps = 0
        self._over = False
        self._admissible = tuple(self._to_wc(c) for c in infos["admissible_commands"])
        return facts_to_state(infos["facts"]), self.mission

    def step(self, action: str) -> Step:
        if self._env is None or self._over:
            raise InvalidAction(f"{self.name}: the episode has ended; call reset() first", action=action)
        if not isinstance(action, str):
            raise InvalidAction(f"{self.name} takes text commands, not {type(action).__name__}", action=action)
        _, _, _, infos = self._env.step(self._to_game(action))
        self._steps += 1
        won = bool(infos["won"])
        truncated = not won and self._steps >= self.max_steps
        self._over = won or truncated
        self._admissible = tuple(self._to_wc(c) for c in infos["admissible_commands"])
        return Step(facts_to_state(infos["facts"]), 1.0 if won else 0.0, won, truncated)

    # The dataset's games say "put X in/on Y" where alfworld's own grammar (and wc's games) say
    # "move X to Y". wc speaks the latter everywhere (the API module's commands) and translates.
    def _to_game(self, action: str) -> str:
        if self._put_in_on:
            match = _MOVE.fullmatch(action)
            if match:
                return f"put {match.group(1)} in/on {match.group(2)}"
        return action

    def _to_wc(self, command: str) -> str:
        match = _PUT_IN_ON.fullmatch(command) if self._put_in_on else None
        return f"move {match.group(1)} to {match.group(2)}" if match else command

    def available_actions(self) -> tuple[str, ...]:
        return self._admissible

    def render_state(self, state: State) -> str:
        return render_state(state)

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
        self._env = None
        self._game = None


_ORDER = {"Agent": 0, "Receptacle": 1, "Object": 2, "InReceptacle": 3}


def render_state(state: State) -> str:
    """One entity per line in constructor form, agent first, then receptacles, objects, and
    what is in what."""
    def line(e: dict[str, Any]) -> str:
        return f"{e.get('type')}(" + ", ".join(f"{k}={v!r}" for k, v in e.items() if k != "type") + ")"

    def key(e: dict[str, Any]) -> tuple[Any, ...]:
        names = [str(e.get(k)) for k in ("name", "object", "receptacle") if isinstance(e.get(k), str)]
        return (_ORDER.get(e.get("type"), 9), [_name_key(n) for n in names], json.dumps(e, sort_keys=True))

    ordered = sorted(state, key=key)
    return "\n".join(line(e) for e in ordered)


def make_adapter(spec: Any, options: dict[str, Any]) -> AlfworldAdapter:
    """The DOMAIN_FACTORIES entry: `games=` (file, folder or split) and `max_steps=`."""
    unknown = sorted(set(options) - {"games", "max_steps"})
    if unknown:
        raise UnknownEnvironment(f"{spec.name} takes the options games and max_steps, not {', '.join(unknown)}")
    task_types = TASK_SETS.get(spec.name)
    alfworld_modules()  # the install hint before anything else
    games = resolve_games(options.get("games"), task_types)
    return AlfworldAdapter(spec.name, spec.env_id, games, int(options.get("max_steps") or DEFAULT_MAX_STEPS))
