"""Finding games: wc's own, a file, a folder, or a split of the real dataset, with alfworld's own
loader rules; and checking that a game can be played."""
from __future__ import annotations

import importlib.resources
import json
import os
from pathlib import Path
from typing import Any

from wc.envs.alfworld.imports import alfworld_modules, engine_call
from wc.envs.alfworld.pddl import check_problem
from wc.errors import GameError

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


def shipped_games() -> list[Path]:
    folder = importlib.resources.files("wc.envs.alfworld.games")
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
