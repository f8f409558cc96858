"""Environment registry: short names and gymnasium ids to adapters, like gymnasium.make.

Two ways in:
* a domain factory (`DOMAIN_FACTORIES[domain](spec, options)`) for short names whose domain
  builds its own adapter (ALFWorld games);
* gymnasium: `gym.make(env_id)`, then the first entry of `ADAPTERS` whose predicate accepts
  `env.unwrapped` wraps it (MiniGrid, Sokoban, …). `module:EnvId` imports `module` first.
"""
from __future__ import annotations

import importlib
import os
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Callable

from wc.envs.api import load as load_api_module
from wc.envs.base import EnvAdapter, Step
from wc.values import ApiModule
from wc.errors import UnknownEnvironment, WcError

__all__ = ["ApiModule", "EnvAdapter", "Step", "EnvSpec", "SHORT_NAMES", "list_envs", "make", "domain_of"]


@dataclass(frozen=True)
class EnvSpec:
    name: str
    env_id: str
    domain: str
    description: str


SHORT_NAMES: dict[str, EnvSpec] = {}


def register(spec: EnvSpec) -> None:
    SHORT_NAMES[spec.name] = spec


for _spec in [
    EnvSpec("minigrid-empty", "MiniGrid-Empty-5x5-v0", "minigrid", "reach the goal in an empty room"),
    EnvSpec("minigrid-doorkey", "MiniGrid-DoorKey-5x5-v0", "minigrid", "pick up a key, unlock a door, reach the goal"),
    EnvSpec("minigrid-unlock", "MiniGrid-Unlock-v0", "minigrid", "open a locked door"),
    EnvSpec("minigrid-fetch", "MiniGrid-Fetch-6x6-N2-v0", "minigrid", "pick up the named object"),
    EnvSpec("minigrid-unlockpickup", "MiniGrid-UnlockPickup-v0", "minigrid", "unlock a door, pick up the box behind it"),
    EnvSpec("minigrid-blockedunlockpickup", "MiniGrid-BlockedUnlockPickup-v0", "minigrid",
            "move a ball out of the way, unlock, pick up the box"),
]:
    register(_spec)

# domain -> factory(spec, options) for domains that build their own adapters
DOMAIN_FACTORIES: dict[str, Callable[[EnvSpec, dict[str, Any]], EnvAdapter]] = {}


def _alfworld_factory(spec: EnvSpec, options: dict[str, Any]) -> EnvAdapter:
    from wc.envs.alfworld import make_adapter  # imports textworld only when an ALFWorld env is made

    return make_adapter(spec, options)


DOMAIN_FACTORIES["alfworld"] = _alfworld_factory

# ALFWorld through TextWorld's PDDL engine (the alfworld extra): wc's own small games by task
# type, or any game file, folder or dataset split with games=
for _spec in [
    EnvSpec("alfworld", "ALFWorld/all", "alfworld", "household text tasks: wc's 12 small games, all six types"),
    EnvSpec("alfworld-pick", "ALFWorld/pick_and_place_simple", "alfworld", "put an object in or on a receptacle"),
    EnvSpec("alfworld-light", "ALFWorld/look_at_obj_in_light", "alfworld", "look at an object under a lamp"),
    EnvSpec("alfworld-clean", "ALFWorld/pick_clean_then_place_in_recep", "alfworld",
            "clean an object, then put it in a receptacle"),
    EnvSpec("alfworld-heat", "ALFWorld/pick_heat_then_place_in_recep", "alfworld",
            "heat an object, then put it in a receptacle"),
    EnvSpec("alfworld-cool", "ALFWorld/pick_cool_then_place_in_recep", "alfworld",
            "cool an object, then put it in a receptacle"),
    EnvSpec("alfworld-pick2", "ALFWorld/pick_two_obj_and_place", "alfworld", "put two objects in a receptacle"),
]:
    register(_spec)


def _is_minigrid(unwrapped: Any) -> bool:
    from minigrid.minigrid_env import MiniGridEnv

    return isinstance(unwrapped, MiniGridEnv)


def _minigrid_adapter(name: str, env_id: str, env: Any, options: dict[str, Any]) -> EnvAdapter:
    from wc.envs.minigrid import MiniGridAdapter

    return MiniGridAdapter(name, env_id, env)


# (domain, predicate on env.unwrapped, factory(name, env_id, env, options)); first match wins
ADAPTERS: list[tuple[str, Callable[[Any], bool], Callable[..., EnvAdapter]]] = [
    ("minigrid", _is_minigrid, _minigrid_adapter),
]


def _is_sokoban(unwrapped: Any) -> bool:
    from wc.envs.sokoban import SokobanEnv

    return isinstance(unwrapped, SokobanEnv)


def _sokoban_adapter(name: str, env_id: str, env: Any, options: dict[str, Any]) -> EnvAdapter:
    from wc.envs.sokoban import SokobanAdapter

    return SokobanAdapter.from_env(name, env_id, env, options)


ADAPTERS.append(("sokoban", _is_sokoban, _sokoban_adapter))

# Sokoban lives in wc (wc.envs.sokoban registers these gymnasium ids on import)
for _spec in [
    EnvSpec("sokoban", "wc.envs.sokoban:WC-Sokoban-v0", "sokoban",
            "push boxes onto targets: 8 small fixed levels, 1-2 boxes"),
    EnvSpec("sokoban-2box", "wc.envs.sokoban:WC-Sokoban-2Box-v0", "sokoban",
            "push 2 boxes onto targets in generated 7x7 rooms"),
    EnvSpec("sokoban-3box", "wc.envs.sokoban:WC-Sokoban-3Box-v0", "sokoban",
            "push 3 boxes onto targets in generated 7x7 rooms"),
    EnvSpec("sokoban-teleport", "wc.envs.sokoban:WC-Sokoban-Teleport-v0", "sokoban",
            "Sokoban with pairs of teleport gates: 5 fixed levels"),
]:
    register(_spec)


def list_envs() -> list[EnvSpec]:
    return list(SHORT_NAMES.values())


def _gym_make(env_id: str):
    import gymnasium as gym
    import minigrid  # noqa: F401  (registers MiniGrid ids)

    if ":" in env_id:
        module, _, _ = env_id.partition(":")
        if os.getcwd() not in sys.path:  # as `python -m` would: the user's own modules are found
            sys.path.append(os.getcwd())
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UnknownEnvironment(f"cannot import module {module!r} for environment {env_id!r}: {exc}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return gym.make(env_id)
    except WcError:
        raise  # the environment's own clear error (a bad level file, …)
    except Exception as exc:  # gymnasium raises several error types for unknown ids
        known = ", ".join(SHORT_NAMES)
        raise UnknownEnvironment(
            f"unknown environment {env_id!r} ({type(exc).__name__}: {exc}); "
            f"try one of {known}, a gymnasium id, or module:EnvId"
        ) from None


def make(name: str, **options: Any) -> EnvAdapter:
    """An adapter for a short name (`minigrid-doorkey`), a gymnasium id or `module:EnvId`.

    `options` are domain-specific (e.g. `games=` for ALFWorld)."""
    spec = SHORT_NAMES.get(name.lower())
    if spec is not None and spec.domain in DOMAIN_FACTORIES:
        return DOMAIN_FACTORIES[spec.domain](spec, options)
    env_id = spec.env_id if spec else name
    if spec is None and "-" not in name and ":" not in name:
        raise UnknownEnvironment(
            f"unknown environment {name!r}; `wc envs list` shows the known names "
            "(a gymnasium id or module:EnvId also works)"
        )
    env = _gym_make(env_id)
    for _domain, accepts, factory in ADAPTERS:
        if accepts(env.unwrapped):
            return factory(spec.name if spec else name, env_id, env, options)
    env.close()
    raise UnknownEnvironment(f"environment {name!r} exists but no wc adapter fits it "
                             f"(adapters: {', '.join(d for d, _, _ in ADAPTERS)})")


# API modules of domains whose adapters are costly to build (or need an extra): `wc envs show`
# prints these without making the environment
DOMAIN_API: dict[str, tuple[str, int]] = {"alfworld": ("alfworld", 1), "sokoban": ("sokoban", 1)}


def api_module(name: str) -> ApiModule:
    """The API module the LLM reads for an environment."""
    spec = SHORT_NAMES.get(name.lower())
    if spec is not None and spec.domain in DOMAIN_API:
        return load_api_module(*DOMAIN_API[spec.domain])
    adapter = make(name)
    try:
        return adapter.api
    finally:
        adapter.close()


def domain_of(adapter: EnvAdapter) -> str:
    spec = SHORT_NAMES.get(adapter.name)
    if spec is not None:
        return spec.domain
    return getattr(adapter, "domain", "unknown")
