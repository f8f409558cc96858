"""The wc adapter: Sokoban positions as API-module entities, and their pictures for prompts."""
from __future__ import annotations

import importlib.resources
from typing import Any

from wc._core.values import State
from wc.envs.api import load as load_api_module
from wc.envs.base import EnvAdapter, Step
from wc.envs.render import entity_text
from wc.envs.sokoban.env import SokobanEnv
from wc.envs.sokoban.picture import draw as draw_picture
from wc.envs.sokoban.rules import ACTIONS, MISSION, Cell, Level
from wc.envs.sokoban.xsb import draw
from wc.errors import UnknownEnvironment

API = load_api_module("sokoban", 1)
# the trusted search hint (dead positions, a push-distance estimate), as the source the worker runs
HINT_SOURCE = importlib.resources.files("wc.envs.sokoban").joinpath("hints.py").read_text()


def level_entities(level: Level) -> State:
    """A position as API-module entities (JSON form)."""
    state: State = [{"type": "Wall", "x": x, "y": y} for x, y in sorted(level.walls, key=lambda c: (c[1], c[0]))]
    state += [{"type": "Target", "x": x, "y": y} for x, y in sorted(level.targets, key=lambda c: (c[1], c[0]))]
    # the API module calls gates Markers: a neutral name, so the rule is learned, not read
    state += [{"type": "Marker", "x": x, "y": y, "letter": pair} for (x, y), pair in level.gates]
    state += [{"type": "Box", "x": x, "y": y} for x, y in sorted(level.boxes, key=lambda c: (c[1], c[0]))]
    state.append({"type": "Player", "x": level.player[0], "y": level.player[1]})
    return state


def render_state(state: State) -> str:
    """The XSB picture of a state, then every entity except walls.

    A box on a gate is drawn as `$`; the entity list shows the gate."""
    cells: dict[str, set[Cell]] = {"Wall": set(), "Target": set(), "Box": set()}
    gates: dict[Cell, str] = {}
    player: Cell | None = None
    for e in state:
        x, y = e.get("x"), e.get("y")
        if not (isinstance(x, int) and isinstance(y, int)) or x < 0 or y < 0:
            continue
        kind = e.get("type")
        if kind in cells:
            cells[kind].add((x, y))
        elif kind == "Marker":
            gates[(x, y)] = str(e.get("letter", "?"))[:1].lower() or "?"
        elif kind == "Player":
            player = (x, y)
    picture = draw(cells["Wall"], cells["Target"], cells["Box"], player, gates)
    others = [entity_text(e) for e in state if e.get("type") != "Wall"]
    return picture + "\n" + "\n".join(others)


ENV_OPTIONS = ("levels", "boxes", "width", "height", "max_steps", "check_solvable", "solver_budget")
_GENERATOR_OPTIONS = ("boxes", "width", "height")


class SokobanAdapter(EnvAdapter):
    domain = "sokoban"
    reward_mode = "exact"
    actions = ACTIONS
    api = API
    action_source = HINT_SOURCE
    pictures = True

    def __init__(self, name: str, env_id: str, env: Any) -> None:
        self.name = name
        self.env_id = env_id
        self.env = env
        self.max_steps = int(env.unwrapped.max_steps)
        self._own = self.max_steps

    def own_step_limit(self) -> int:
        return self._own

    def lift_step_limit(self, steps: int) -> bool:
        if steps > self.max_steps:  # the env truncates at its max_steps (Boxoban's own: 120)
            self.env.unwrapped.max_steps = self.max_steps = int(steps)
        return True

    @classmethod
    def from_env(cls, name: str, env_id: str, env: Any, options: dict[str, Any]) -> SokobanAdapter:
        """Wrap a made env; options (`levels=`, `boxes=`, `max_steps=`, ...) rebuild it with those
        keyword arguments over the registered ones."""
        if not options:
            return cls(name, env_id, env)
        unknown = sorted(set(options) - set(ENV_OPTIONS))
        if unknown:
            env.close()
            raise UnknownEnvironment(f"{name} has no option {unknown[0]!r} (Sokoban options: "
                                     f"{', '.join(ENV_OPTIONS)})", name=name)
        kwargs = dict(env.spec.kwargs) if env.spec is not None else {}
        if "levels" in options:  # the short name's step limit belongs to its own levels
            kwargs = {k: v for k, v in kwargs.items() if k not in _GENERATOR_OPTIONS and k != "max_steps"}
        elif any(k in options for k in _GENERATOR_OPTIONS):
            kwargs.pop("levels", None)
        kwargs.update(options)
        env.close()
        return cls(name, env_id, SokobanEnv(**kwargs))

    def reset(self, seed: int | None = None) -> tuple[State, str]:
        self.env.reset(seed=seed)
        return level_entities(self.env.unwrapped.current()), MISSION

    def step(self, action: str) -> Step:
        index = self.check_action(action)
        _, reward, terminated, truncated, _ = self.env.step(index)
        return Step(level_entities(self.env.unwrapped.current()), float(reward), bool(terminated), bool(truncated))

    def render_state(self, state: State) -> str:
        return render_state(state)

    def frame(self) -> Any:
        return draw_picture(level_entities(self.env.unwrapped.current()))

    def picture(self, state: State) -> Any | None:
        return draw_picture(state)

    def game_name(self, seed: int) -> str:
        """What reset(seed) plays, for reports: a level of a file by number and title."""
        env = self.env.unwrapped
        if not env.levels:
            return f"seed {seed}"
        level = env.level_for(seed)
        return f"level {seed % len(env.levels)}" + (f" ({level.title})" if level.title else "")

    def close(self) -> None:
        self.env.close()


def accepts(unwrapped: Any) -> bool:
    return isinstance(unwrapped, SokobanEnv)


def make_adapter(name: str, env_id: str, env: Any, options: dict[str, Any]) -> SokobanAdapter:
    return SokobanAdapter.from_env(name, env_id, env, options)
