"""Environment registry: short names and gymnasium ids to adapters, like gymnasium.make."""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from wc.envs.base import ApiModule, EnvAdapter, Step
from wc.errors import UnknownEnvironment

__all__ = ["ApiModule", "EnvAdapter", "Step", "EnvSpec", "SHORT_NAMES", "list_envs", "make"]


@dataclass(frozen=True)
class EnvSpec:
    name: str
    env_id: str
    domain: str
    description: str


SHORT_NAMES: dict[str, EnvSpec] = {
    s.name: s
    for s in [
        EnvSpec("minigrid-empty", "MiniGrid-Empty-5x5-v0", "minigrid", "reach the goal in an empty room"),
        EnvSpec("minigrid-doorkey", "MiniGrid-DoorKey-5x5-v0", "minigrid", "pick up a key, unlock a door, reach the goal"),
        EnvSpec("minigrid-unlock", "MiniGrid-Unlock-v0", "minigrid", "open a locked door"),
        EnvSpec("minigrid-fetch", "MiniGrid-Fetch-6x6-N2-v0", "minigrid", "pick up the named object"),
        EnvSpec("minigrid-unlockpickup", "MiniGrid-UnlockPickup-v0", "minigrid", "unlock a door, pick up the box behind it"),
        EnvSpec("minigrid-blockedunlockpickup", "MiniGrid-BlockedUnlockPickup-v0", "minigrid",
                "move a ball out of the way, unlock, pick up the box"),
    ]
}


def list_envs() -> list[EnvSpec]:
    return list(SHORT_NAMES.values())


def _gym_make(env_id: str):
    import gymnasium as gym
    import minigrid  # noqa: F401  (registers MiniGrid ids)

    if ":" in env_id:
        module, _, _ = env_id.partition(":")
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UnknownEnvironment(f"cannot import module {module!r} for environment {env_id!r}: {exc}") from None
    try:
        return gym.make(env_id)
    except Exception as exc:  # gymnasium raises several error types for unknown ids
        known = ", ".join(SHORT_NAMES)
        raise UnknownEnvironment(
            f"unknown environment {env_id!r} ({type(exc).__name__}: {exc}); "
            f"try one of {known}, a MiniGrid-…-v0 id, or module:EnvId"
        ) from None


def make(name: str) -> EnvAdapter:
    """An adapter for a short name (`minigrid-doorkey`), a gymnasium id or `module:EnvId`."""
    spec = SHORT_NAMES.get(name.lower())
    env_id = spec.env_id if spec else name
    if spec is None and "-" not in name and ":" not in name:
        raise UnknownEnvironment(
            f"unknown environment {name!r}; `wc envs list` shows the known names "
            "(a gymnasium id or module:EnvId also works)"
        )
    env = _gym_make(env_id)
    from minigrid.minigrid_env import MiniGridEnv

    if isinstance(env.unwrapped, MiniGridEnv):
        from wc.envs.minigrid import MiniGridAdapter

        return MiniGridAdapter(spec.name if spec else name, env_id, env)
    env.close()
    raise UnknownEnvironment(f"environment {name!r} exists but no wc adapter fits it (MiniGrid envs are supported)")
