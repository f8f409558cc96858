"""A researcher's own gymnasium environments, as a user would write them: importing this module
registers them, so wc reaches them as `support.gym_user_env:WcTest/Drift-v0` (the `module:EnvId`
form)."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class DriftEnv(gym.Env):
    """A point drifting on a line: Box observation (position, velocity, heat), three discrete pushes.
    Ends when the point leaves [-1, 1]."""

    def __init__(self, push: float = 0.05):
        self.push = push
        self.observation_space = spaces.Box(np.array([-1.5, -1.0, 0.0]), np.array([1.5, 1.0, np.inf]),
                                            dtype=np.float64)
        self.action_space = spaces.Discrete(3)
        self.state = np.zeros(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = np.array([self.np_random.uniform(-0.2, 0.2), 0.0, 0.0])
        return self.state.copy(), {}

    def step(self, action):
        position, velocity, heat = self.state
        velocity = 0.9 * velocity + (int(action) - 1) * self.push
        position = position + velocity
        heat = heat + abs(velocity)
        self.state = np.array([position, velocity, heat])
        terminated = bool(abs(position) > 1.0)
        return self.state.copy(), float(-abs(position)), terminated, False, {}


class ArmEnv(gym.Env):
    """A Dict observation (a joint vector, a mode, flags) and a continuous 2-D action."""

    def __init__(self):
        self.observation_space = spaces.Dict({
            "joints": spaces.Box(-np.pi, np.pi, shape=(2,), dtype=np.float32),
            "mode": spaces.Discrete(3, start=1),
            "flags": spaces.MultiBinary(2),
            "grip": spaces.Tuple((spaces.Discrete(2), spaces.Box(0.0, 1.0, shape=(), dtype=np.float32))),
        })
        self.action_space = spaces.Box(np.array([-1.0, -0.5], dtype=np.float32), np.array([1.0, 0.5], dtype=np.float32))
        self.joints = np.zeros(2, dtype=np.float32)

    def _obs(self):
        return {"joints": self.joints.copy(), "mode": 2, "flags": np.array([1, 0], dtype=np.int8),
                "grip": (1, np.float32(0.25))}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.joints = self.np_random.uniform(-0.1, 0.1, size=2).astype(np.float32)
        return self._obs(), {}

    def step(self, action):
        self.joints = np.clip(self.joints + 0.1 * np.asarray(action, dtype=np.float32), -np.pi, np.pi)
        return self._obs(), float(-np.sum(np.square(self.joints))), False, False, {}


class GridPickEnv(gym.Env):
    """MultiDiscrete observation and MultiDiscrete action."""

    def __init__(self):
        self.observation_space = spaces.MultiDiscrete([4, 4])
        self.action_space = spaces.MultiDiscrete([3, 2])
        self.cell = np.zeros(2, dtype=np.int64)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.cell = np.zeros(2, dtype=np.int64)
        return self.cell.copy(), {}

    def step(self, action):
        move, axis = int(action[0]) - 1, int(action[1])
        self.cell[axis] = min(max(self.cell[axis] + move, 0), 3)
        return self.cell.copy(), 0.0, bool(self.cell[0] == 3 and self.cell[1] == 3), False, {}


class CameraEnv(gym.Env):
    """Pixels: an observation only an object-level adapter can read."""

    def __init__(self):
        self.observation_space = spaces.Box(0, 255, shape=(32, 32, 3), dtype=np.uint8)
        self.action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros((32, 32, 3), dtype=np.uint8), {}

    def step(self, action):
        return np.zeros((32, 32, 3), dtype=np.uint8), 0.0, False, False, {}


class ChatEnv(gym.Env):
    """Text observations and text actions."""

    def __init__(self):
        self.observation_space = spaces.Text(50)
        self.action_space = spaces.Text(50)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return "hello", {}

    def step(self, action):
        return "ok", 0.0, True, False, {}


for _name, _cls, _limit in (("Drift-v0", DriftEnv, 50), ("Arm-v0", ArmEnv, 20), ("GridPick-v0", GridPickEnv, 30),
                            ("Camera-v0", CameraEnv, 10), ("Chat-v0", ChatEnv, 10)):
    if f"WcTest/{_name}" not in gym.registry:
        gym.register(f"WcTest/{_name}", entry_point=_cls, max_episode_steps=_limit)
