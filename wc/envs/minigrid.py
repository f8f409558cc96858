"""MiniGrid adapter: the grid, the agent and what it carries as a list of entities; in BabyAI
levels, also the mission's progress (API module minigrid_v2); in worlds that move at random
(Dynamic-Obstacles' balls), API module minigrid_v3: version 1 with the chance helpers."""
from __future__ import annotations

import contextlib
import io
import re
from typing import Any

from wc._core.values import State
from wc.envs.api import load as load_api_module
from wc.envs.base import EnvAdapter, Step
from wc.envs.render import entity_lines, entity_text
from wc.errors import UnknownEnvironment

ACTIONS: tuple[str, ...] = ("left", "right", "forward", "pickup", "drop", "toggle", "done")
API = load_api_module("minigrid", 1)
API_BABYAI = load_api_module("minigrid", 2)  # version 1 and the Progress of a BabyAI mission
API_RANDOM = load_api_module("minigrid", 3)  # version 1 and the chance helpers (choice, vary)
# how BabyAI joins a mission's clauses (minigrid.envs.babyai.core.verifier: Before, After, And)
_CONNECTIVES = re.compile(r", then | after you | and ")

_CLASS = {"wall": "Wall", "goal": "Goal", "lava": "Lava", "floor": "Floor", "door": "Door",
          "key": "Key", "ball": "Ball", "box": "Box"}
_DIR_GLYPH = {0: ">", 1: "v", 2: "<", 3: "^"}


def world_object_to_entity(obj: Any, x: int | None, y: int | None) -> dict[str, Any]:
    """One MiniGrid WorldObj as an API-module entity (JSON form)."""
    kind = _CLASS.get(obj.type)
    if kind is None:
        raise ValueError(f"MiniGrid object type {obj.type!r} has no entity class in {API.ref}")
    entity: dict[str, Any] = {"type": kind, "x": x, "y": y}
    if kind in ("Floor", "Key", "Ball", "Box", "Door"):
        entity["color"] = str(obj.color)
    if kind == "Door":
        entity["is_open"] = bool(obj.is_open)
        entity["is_locked"] = bool(obj.is_locked)
    if kind == "Box":
        inside = getattr(obj, "contains", None)
        entity["contains"] = world_object_to_entity(inside, None, None) if inside is not None else None
    return entity


def is_random(unwrapped: Any) -> bool:
    """A MiniGrid world whose own steps are random: Dynamic-Obstacles moves its balls at random."""
    from minigrid.envs.dynamicobstacles import DynamicObstaclesEnv

    return isinstance(unwrapped, DynamicObstaclesEnv)


def is_babyai(unwrapped: Any) -> bool:
    from minigrid.envs.babyai.core.roomgrid_level import RoomGridLevel

    return isinstance(unwrapped, RoomGridLevel)


def mission_parts(mission: str) -> list[str]:
    """A BabyAI mission's clauses in the order its text names them."""
    return _CONNECTIVES.split(mission)


def clauses_done(instr: Any, done: bool = False) -> list[bool]:
    """Whether each action clause of a BabyAI instruction (in text order) is done, read from the
    verifier's own flags: a sequence records "success" per part once that part is done."""
    from minigrid.envs.babyai.core.verifier import SeqInstr

    if isinstance(instr, SeqInstr):
        return (clauses_done(instr.instr_a, done or getattr(instr, "a_done", None) == "success")
                + clauses_done(instr.instr_b, done or getattr(instr, "b_done", None) == "success"))
    return [done]


class MiniGridAdapter(EnvAdapter):
    domain = "minigrid"
    reward_mode = "sign"
    actions = ACTIONS
    pictures = True

    def __init__(self, name: str, env_id: str, env: Any):
        self.name = name
        self.env_id = env_id
        self.env = env
        self.babyai = is_babyai(env.unwrapped)
        self.api = API_BABYAI if self.babyai else API_RANDOM if is_random(env.unwrapped) else API
        # an environment that has fewer actions (Dynamic-Obstacles: left, right, forward) offers only those
        self.actions = ACTIONS[:min(len(ACTIONS), int(getattr(env.action_space, "n", len(ACTIONS))))]
        self._own = int(env.unwrapped.max_steps)
        self._floor: int | None = None  # a step limit lifted above the environment's own
        self._won = False
        self._start: tuple[int, int, int] = (0, 0, 0)

    @property
    def max_steps(self) -> int:  # type: ignore[override]
        """The current episode's limit (BabyAI levels set theirs at reset, from the mission)."""
        return int(self.env.unwrapped.max_steps)

    def check_action(self, action: str) -> int:
        """Any MiniGrid action is accepted (Dynamic-Obstacles plays the ones it does not offer as its own);
        `actions` are the ones offered, for exploration and planning."""
        try:
            return ACTIONS.index(action)
        except ValueError:
            return super().check_action(action)

    def own_step_limit(self) -> int:
        return self._own

    def lift_step_limit(self, steps: int) -> bool:
        self._floor = steps
        u = self.env.unwrapped
        if u.max_steps < steps:
            u.max_steps = steps
        return True

    def symbolic_state(self) -> State:
        u = self.env.unwrapped
        state: State = []
        for j in range(u.height):
            for i in range(u.width):
                obj = u.grid.get(i, j)
                if obj is not None:
                    state.append(world_object_to_entity(obj, i, j))
        carrying = u.carrying
        state.append({
            "type": "Agent",
            "x": int(u.agent_pos[0]),
            "y": int(u.agent_pos[1]),
            "direction": int(u.agent_dir),
            "carrying": world_object_to_entity(carrying, None, None) if carrying is not None else None,
        })
        if self.babyai:
            mission = str(u.mission)
            parts = mission_parts(mission)
            done = clauses_done(u.instrs, self._won)
            if len(done) != len(parts):
                raise ValueError(f"the BabyAI mission {mission!r} has {len(done)} clauses, its text {len(parts)}")
            x, y, direction = self._start
            state.append({"type": "Progress", "x": None, "y": None, "mission": mission, "parts": parts,
                          "done": done, "start_x": x, "start_y": y, "start_direction": direction})
        return state

    def reset(self, seed: int | None = None) -> tuple[State, str]:
        with contextlib.redirect_stdout(io.StringIO()):  # BabyAI prints each mission it rejects
            self.env.reset(seed=seed)
        u = self.env.unwrapped
        self._own = int(u.max_steps)
        if self._floor is not None and u.max_steps < self._floor:
            u.max_steps = self._floor
        self._won = False
        self._start = (int(u.agent_pos[0]), int(u.agent_pos[1]), int(u.agent_dir))
        return self.symbolic_state(), str(u.mission)

    def step(self, action: str) -> Step:
        index = self.check_action(action)
        _, reward, terminated, truncated, _ = self.env.step(index)
        self._won = self._won or (bool(terminated) and reward > 0)
        return Step(self.symbolic_state(), float(reward), bool(terminated), bool(truncated))

    def render_state(self, state: State) -> str:
        return render_grid(state)

    def frame(self) -> Any:
        from PIL import Image

        return Image.fromarray(self.env.unwrapped.get_frame(highlight=False, tile_size=TILE))

    def picture(self, state: State) -> Any | None:
        return picture(state)

    def close(self) -> None:
        self.env.close()


TILE = 40  # pixels per cell of a picture


def picture(state: State) -> Any | None:
    """A state drawn by MiniGrid's own renderer (a PIL image), as `get_frame` draws the live env:
    the grid rebuilt from the entities. None for what cannot be drawn (a program's prediction
    may hold anything)."""
    from minigrid.core import world_object as w
    from minigrid.core.grid import Grid
    from PIL import Image

    try:
        cells = [e for e in state if e.get("type") != "Agent"]
        agent = next(e for e in state if e.get("type") == "Agent")
        width = max(int(e["x"]) for e in state if isinstance(e.get("x"), int)) + 1
        height = max(int(e["y"]) for e in state if isinstance(e.get("y"), int)) + 1
        grid = Grid(width, height)
        for e in cells:
            grid.set(int(e["x"]), int(e["y"]), _world_object(w, e))
        pixels = grid.render(TILE, (int(agent["x"]), int(agent["y"])), int(agent["direction"]))
    except (KeyError, TypeError, ValueError, IndexError, StopIteration, AssertionError):
        return None
    return Image.fromarray(pixels)


def _world_object(w: Any, entity: dict[str, Any]) -> Any:
    kind = entity["type"]
    if kind == "Wall":
        return w.Wall()
    if kind == "Goal":
        return w.Goal()
    if kind == "Lava":
        return w.Lava()
    if kind == "Floor":
        return w.Floor(entity.get("color", "blue"))
    if kind == "Door":
        return w.Door(entity["color"], bool(entity.get("is_open")), bool(entity.get("is_locked")))
    if kind in ("Key", "Ball"):
        return getattr(w, kind)(entity["color"])
    if kind == "Box":
        inside = entity.get("contains")
        return w.Box(entity["color"], _world_object(w, inside) if isinstance(inside, dict) else None)
    raise ValueError(f"no MiniGrid object for {kind!r}")


def render_grid(state: State) -> str:
    """A picture of a grid state plus the non-wall entities in full.

    Glyphs: # wall, agent > v < ^ by direction, D door, K key, B ball, X box, G goal,
    L lava, F floor; '.' empty.
    """
    positioned = [e for e in state if isinstance(e.get("x"), int) and isinstance(e.get("y"), int)]
    if not positioned:
        return entity_lines(state)
    width = max(e["x"] for e in positioned) + 1
    height = max(e["y"] for e in positioned) + 1
    rows = [["." for _ in range(width)] for _ in range(height)]
    glyphs = {"Wall": "#", "Door": "D", "Key": "K", "Ball": "B", "Box": "X", "Goal": "G",
              "Lava": "L", "Floor": "F"}
    for e in sorted(positioned, key=lambda e: e["type"] == "Agent"):
        direction = e.get("direction")
        glyph = (_DIR_GLYPH.get(direction, "A") if isinstance(direction, int) else "A") if e["type"] == "Agent" \
            else glyphs.get(e["type"], "?")
        if 0 <= e["x"] < width and 0 <= e["y"] < height:
            rows[e["y"]][e["x"]] = glyph
    picture = "\n".join("".join(r) for r in rows)
    others = [entity_text(e) for e in state if e.get("type") != "Wall"]
    return picture + "\n" + "\n".join(others)


def accepts(unwrapped: Any) -> bool:
    from minigrid.minigrid_env import MiniGridEnv

    return isinstance(unwrapped, MiniGridEnv)


def make_adapter(name: str, env_id: str, env: Any, options: dict[str, Any]) -> MiniGridAdapter:
    if options:
        env.close()
        raise UnknownEnvironment(f"{name} takes no options, not {', '.join(sorted(options))}", name=name)
    return MiniGridAdapter(name, env_id, env)
