"""A gymnasium environment as a planner's model: the "true model" of CWMB's normalized return
(R_true, the same planner with the real environment in place of the program).

A replica is a second instance of the environment whose state is set from the real one before
each decision (`sync`) and restored from a snapshot before each step from a state other than the
one it is in. Planners call it like a program's model, `step(key, action) -> (key, reward,
done)`, keys being opaque:

* `step` returns a *snapshot* key, restorable any time: what MCTS's tree keeps;
* `roll` returns a *live* key, valid only while the replica has not moved since: what rollouts
  and CEM's sequences use, played once from a snapshot. It copies nothing, so a rollout costs
  the environment's own steps.

Snapshots by family: MuJoCo copies the whole `MjData` (positions, velocities, warm starts, derived
quantities, time; bit for bit: `copy.copy`, restored in place with `mujoco.mj_copyData` where the
bindings have it, MuJoCo 3; MuJoCo 2.3's bindings lack it, so there the restored copy becomes the
environment's `data`) and the environment's other attributes; anything else copies every attribute
of the unwrapped environment except its spaces, random generator, rendering objects and what never
changes while it runs (Taxi's transition table `P`, the initial state distribution, MuJoCo's
model). The replica keeps its own random generator: in a stochastic environment (Blackjack's cards)
the true model draws outcomes as a model would, without seeing the real environment's future draws
(CWMB deep-copied the whole environment, generator included, which lets its true model see the next
real card).

`done` is the environment's `terminated`; its step limit (a TimeLimit wrapper) is the caller's to
apply, as planners bound their own depth.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

__all__ = ["Replica"]

# attributes that are not the environment's dynamic state
_STATIC = frozenset({
    "P", "initial_state_distrib", "desc", "locs", "locs_colors", "observation_space", "action_space", "spec",
    "metadata", "render_mode", "np_random", "_np_random", "_np_random_seed", "model", "data", "mujoco_renderer",
    "viewer", "clock", "screen", "window", "window_surface", "fullpath", "_ezpickle_args", "_ezpickle_kwargs",
})


class _Live:
    """A key that names the replica's current state (valid until its next step or restore)."""

    __slots__ = ("tick",)

    def __init__(self, tick: int) -> None:
        self.tick = tick


class _Snapshot:
    __slots__ = ("attrs", "data")

    def __init__(self, attrs: dict[str, Any], data: Any) -> None:
        self.attrs = attrs
        self.data = data


class Replica:
    """A copy of one gymnasium environment that planners step as a model (module docstring).
    `adapter` is the real environment's adapter (a `wc.envs.gym.GymAdapter`); the replica is made
    with the same id and arguments, and decodes actions as the adapter does."""

    def __init__(self, adapter: Any, seed: int = 0) -> None:
        import gymnasium as gym

        self.adapter = adapter
        self.env: Any = gym.make(adapter.env_id, **dict(adapter.env_kwargs)).unwrapped
        self.env.reset(seed=seed)
        self.mujoco: Any = None
        if hasattr(self.env, "model") and hasattr(self.env, "data") and type(self.env.data).__name__ == "MjData":
            import mujoco

            self.mujoco = mujoco
        self.tick = 0
        self.snapshots = self.restores = 0

    # ------------------------------------------------------------------ state

    def _keys(self, env: Any) -> list[str]:
        out = []
        for k, v in vars(env).items():
            if k in _STATIC or callable(v) or isinstance(v, np.random.Generator):
                continue
            if type(v).__module__.startswith(("gymnasium.spaces", "pygame", "mujoco")):
                continue
            out.append(k)
        return out

    def _take(self, env: Any) -> _Snapshot:
        self.snapshots += 1
        attrs = {k: copy.deepcopy(getattr(env, k)) for k in self._keys(env)}
        data = None
        if self.mujoco is not None:
            data = copy.copy(env.data)
        return _Snapshot(attrs, data)

    def _put(self, snap: _Snapshot) -> None:
        self.restores += 1
        for k, v in snap.attrs.items():
            setattr(self.env, k, copy.deepcopy(v))
        if snap.data is not None:
            if hasattr(self.mujoco, "mj_copyData"):
                self.mujoco.mj_copyData(self.env.data, self.env.model, snap.data)
            else:  # MuJoCo 2.3: a fresh copy; MujocoEnv reads `self.data` at every step
                self.env.data = copy.copy(snap.data)
                renderer = getattr(self.env, "mujoco_renderer", None)
                if renderer is not None:
                    renderer.data = self.env.data
        self.tick += 1

    def sync(self, real_env: Any) -> _Snapshot:
        """Put the replica in the real environment's current state; its key (a snapshot)."""
        snap = self._take(real_env.unwrapped)
        self._put(snap)
        return snap

    # ------------------------------------------------------------------ stepping

    def _step(self, key: Any, action: Any) -> tuple[float, bool]:
        if type(key) is _Snapshot:
            self._put(key)
        elif type(key) is not _Live or key.tick != self.tick:
            raise RuntimeError("the replica has moved on from this state; only snapshot keys can be restored")
        _, reward, terminated, _, _ = self.env.step(self.adapter.decode_action(_value(action)))
        self.tick += 1
        return float(reward), bool(terminated)

    def step(self, key: Any, action: Any) -> tuple[_Snapshot, float, bool]:
        """One step from `key`; the next state as a snapshot key (restorable any time)."""
        reward, done = self._step(key, action)
        return self._take(self.env), reward, done

    def roll(self, key: Any, action: Any) -> tuple[_Live, float, bool]:
        """One step from `key`; the next state as a live key (valid until the replica moves)."""
        reward, done = self._step(key, action)
        return _Live(self.tick), reward, done

    def close(self) -> None:
        self.env.close()


def _value(action: Any) -> Any:
    """An action as the adapter decodes it: a name, or a list (planners hand vectors as tuples)."""
    return list(action) if isinstance(action, tuple) else action
