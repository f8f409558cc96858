"""MiniGrid worlds with rules no model has read about, for judging learning rather than recall.

Registered with gymnasium on import, so `wc learn --env wc.envs.variants:WC-DoorKeySprint-5x5-v0`
works like any `module:EnvId`. The API module is MiniGrid's own: same data, different rules.

* WC-DoorKeyDoubleToggle-5x5-v0: toggling a locked door with the matching key only unlocks it;
  it stays closed until toggled again.
* WC-DoorKeySprint-5x5-v0: `forward` moves the agent two cells when both are free; one when
  only the first is.
* WC-DoorKeyIce-5x5-v0 (and -6x6, -8x8): the floor is ice. `forward` slides the agent until the
  cell ahead stops it (a wall, a closed door, the key); sliding onto the goal wins. The agent can
  only come to rest in front of something, so some starts cannot be won: no resting place faces
  the key (with 5x5, env seeds 14, 15 and 18 of the first 40; a search of the real environment
  finds no plan from them). A world for φ2's limits: a correct program rightly finds no plan there.
"""
from __future__ import annotations

import copy
from collections import deque
from typing import Any

import gymnasium as gym
from minigrid.core.world_object import Door
from minigrid.envs.doorkey import DoorKeyEnv


class DoubleToggleDoorKeyEnv(DoorKeyEnv):
    def step(self, action):
        if action == self.actions.toggle:
            cell = self.grid.get(*self.front_pos)
            if isinstance(cell, Door) and cell.is_locked:
                if self.carrying is not None and self.carrying.type == "key" and self.carrying.color == cell.color:
                    cell.is_locked = False  # unlocked, still closed
                    self.step_count += 1
                    truncated = self.step_count >= self.max_steps
                    return self.gen_obs(), 0, False, truncated, {}
        return super().step(action)


class SprintDoorKeyEnv(DoorKeyEnv):
    def step(self, action):
        before = tuple(self.agent_pos)
        obs, reward, terminated, truncated, info = super().step(action)
        if action == self.actions.forward and not terminated and tuple(self.agent_pos) != before:
            cell = self.grid.get(*self.front_pos)
            if cell is None or cell.can_overlap():
                self.agent_pos = tuple(self.front_pos)
                if cell is not None and cell.type == "goal":
                    terminated, reward = True, self._reward()
                if cell is not None and cell.type == "lava":
                    terminated = True
                obs = self.gen_obs()
        return obs, reward, terminated, truncated, info


class IceDoorKeyEnv(DoorKeyEnv):
    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        if action == self.actions.forward:
            while not terminated:
                cell = self.grid.get(*self.front_pos)
                if cell is not None and not cell.can_overlap():
                    break
                self.agent_pos = tuple(int(v) for v in self.front_pos)
                if cell is not None and cell.type == "goal":
                    terminated, reward = True, self._reward()
            obs = self.gen_obs()
        return obs, reward, terminated, truncated, info


def plan_exists(env_id: str, seed: int, max_states: int = 100_000) -> bool | None:
    """Whether any sequence of actions wins the episode `seed` of a MiniGrid env, by a
    breadth-first search of the real environment (copies of it): the ground truth a learned
    program's "no plan" is checked against. None when `max_states` were not enough to decide."""
    env: Any = gym.make(env_id).unwrapped
    env.reset(seed=seed)

    def key(e: Any) -> tuple:
        cells = tuple((i, j, o.type, o.color, getattr(o, "is_open", None), getattr(o, "is_locked", None))
                      for j in range(e.height) for i in range(e.width)
                      if (o := e.grid.get(i, j)) is not None and o.type != "wall")
        carrying = (e.carrying.type, e.carrying.color) if e.carrying is not None else None
        return tuple(int(v) for v in e.agent_pos), int(e.agent_dir), carrying, cells
    seen, frontier = {key(env)}, deque([env])
    while frontier:
        current: Any = frontier.popleft()
        for action in range(len(current.actions)):
            nxt = copy.deepcopy(current)
            nxt.step_count = 0  # no step limit here: only the rules
            _, reward, terminated, _, _ = nxt.step(action)
            if terminated and float(reward) > 0:
                return True
            if not terminated and key(nxt) not in seen:
                if len(seen) >= max_states:
                    return None
                seen.add(key(nxt))
                frontier.append(nxt)
    return False


def _register(env_id: str, entry_point, size: int = 5) -> None:
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point=entry_point, kwargs={"size": size})


_register("WC-DoorKeyDoubleToggle-5x5-v0", DoubleToggleDoorKeyEnv)
_register("WC-DoorKeySprint-5x5-v0", SprintDoorKeyEnv)
for _size in (5, 6, 8):
    _register(f"WC-DoorKeyIce-{_size}x{_size}-v0", IceDoorKeyEnv, _size)
