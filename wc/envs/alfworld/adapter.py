"""The wc adapter: ALFWorld games played through TextWorld, in wc's command vocabulary."""
from __future__ import annotations

import importlib.resources
import random
import re
from pathlib import Path
from typing import Any

from wc._core.values import State
from wc.envs.alfworld.catalog import _load_error, read_game, resolve_games
from wc.envs.alfworld.imports import alfworld_modules, engine_call
from wc.envs.alfworld.state import OBSERVATION_MODES, facts_to_state, mission_of, observed_view, render_state, seen_now
from wc.envs.api import load as load_api_module
from wc.envs.base import EnvAdapter, Step
from wc.errors import GameError, InvalidAction, InvalidInput, UnknownEnvironment

API = load_api_module("alfworld", 2)
DEFAULT_MAX_STEPS = 50
# the trusted candidate_actions and focus, as the source the sandbox worker runs
ACTION_SOURCE = importlib.resources.files("wc.envs.alfworld").joinpath("actions.py").read_text()

_MOVE = re.compile(r"move (.+) to (.+)")
_PUT_IN_ON = re.compile(r"put (.+) in/on (.+)")


class AlfworldAdapter(EnvAdapter):
    domain = "alfworld"
    reward_mode = "exact"
    api = API
    actions: tuple[str, ...] = ()  # state-dependent: available_actions() and action_source
    action_source = ACTION_SOURCE

    def __init__(self, name: str, env_id: str, games: list[Path], max_steps: int = DEFAULT_MAX_STEPS,
                 observe: str = "full"):
        if not games:
            raise GameError(f"{name} has no games")
        if max_steps < 1:
            raise InvalidInput(f"max_steps must be at least 1, not {max_steps}")
        if observe not in OBSERVATION_MODES:
            raise InvalidInput(f"observation mode {observe!r} is not one of {', '.join(OBSERVATION_MODES)}")
        self.observe = observe
        self._explored: set[str] = set()
        self.name = name
        self.env_id = env_id
        self.max_steps = int(max_steps)
        self._own = self.max_steps
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
        self._text = ""
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

    def own_step_limit(self) -> int:
        return self._own

    def lift_step_limit(self, steps: int) -> bool:
        self.max_steps = max(self.max_steps, int(steps))
        return True

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
        self._text = intro
        self._steps = 0
        self._over = False
        self._admissible = tuple(self._to_wc(c) for c in infos["admissible_commands"])
        self._explored = set()
        return self._state(infos["facts"]), self.mission

    def _state(self, facts: Any) -> State:
        """The game's facts as the observation mode shows them; in `observed`, what the agent
        sees from where it stands now joins what it has seen before."""
        state = facts_to_state(facts)
        if self.observe == "full":
            return state
        self._explored |= seen_now(state)
        return observed_view(state, self._explored)

    def step(self, action: str) -> Step:
        if self._env is None or self._over:
            raise InvalidAction(f"{self.name}: the episode has ended; call reset() first", action=action)
        if not isinstance(action, str):
            raise InvalidAction(f"{self.name} takes text commands, not {type(action).__name__}", action=action)
        feedback, _, _, infos = self._env.step(self._to_game(action))
        self._text = feedback
        self._steps += 1
        won = bool(infos["won"])
        truncated = not won and self._steps >= self.max_steps
        self._over = won or truncated
        self._admissible = tuple(self._to_wc(c) for c in infos["admissible_commands"])
        return Step(self._state(infos["facts"]), 1.0 if won else 0.0, won, truncated)

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

    def observation(self, state: State) -> str:
        """TextWorld's own text: the room and the task after a reset, the feedback after a step."""
        return self._text

    def render_state(self, state: State) -> str:
        return render_state(state)

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
        self._env = None
        self._game = None


def make_adapter(spec: Any, options: dict[str, Any]) -> AlfworldAdapter:
    """The domain's adapter for a short name (its spec's `task_types`): `games=` (file, folder or
    split), `max_steps=` and `observe=` ("full" or "observed")."""
    unknown = sorted(set(options) - {"games", "max_steps", "observe"})
    if unknown:
        raise UnknownEnvironment(f"{spec.name} takes the options games, max_steps and observe, "
                                 f"not {', '.join(unknown)}")
    task_types = spec.defaults.get("task_types")
    alfworld_modules()  # the install hint before anything else
    games = resolve_games(options.get("games"), task_types)
    return AlfworldAdapter(spec.name, spec.env_id, games, int(options.get("max_steps") or DEFAULT_MAX_STEPS),
                           observe=str(options.get("observe") or "full"))
