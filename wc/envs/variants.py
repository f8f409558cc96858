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


def _register(env_id: str, entry_point, size: int = 5) -> None:
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point=entry_point, kwargs={"size": size})


_register("WC-DoorKeyDoubleToggle-5x5-v0", DoubleToggleDoorKeyEnv)
_register("WC-DoorKeySprint-5x5-v0", SprintDoorKeyEnv)
for _size in (5, 6, 8):
    _register(f"WC-DoorKeyIce-{_size}x{_size}-v0", IceDoorKeyEnv, _size)
