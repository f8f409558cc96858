"""Random worlds with continuous actions, for tests and `benchmarks/bench_return_control.py --noisy`:
importing this module registers them (`support.noisy_worlds:NoisyPendulum-v0`).

* `NoisyPendulum-v0`: gymnasium's Pendulum-v1 with a noisy motor: the torque applied is the one
  commanded plus a draw from `TORQUE_NOISE` (then clipped to the motor's ±2, as Pendulum clips),
  while the cost counts the torque commanded (the effort asked for). Made by a function that
  wraps gymnasium's own class, so that wc reads it as Pendulum (its field names); the noise is
  drawn from the environment's generator, so `reset(seed=...)` fixes it.
* `Ledge-v0`: a walker on a ledge (observation x0, how far it got, and x1, 1.0 once it has
  fallen; one action in [-1, 1]). A push up to 0.5 moves it that far and earns as much; a harder
  push moves it 1 and earns 1, but one time in four it falls, which ends the episode with nothing
  more. Its most probable outcome says push hard (30 over 30 steps); its expected return says
  walk (0.5 a step is 15 over 30 steps, pushing hard about 3).
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.envs.classic_control.pendulum import PendulumEnv

TORQUE_NOISE = {-1.0: 0.2, 0.0: 0.6, 1.0: 0.2}
MAX_TORQUE = 2.0
SAFE_PUSH, FALL = 0.5, 0.25


class TorqueNoise(gym.Wrapper):
    """The applied torque is the commanded one plus noise; the cost counts the commanded one."""

    def step(self, action):
        commanded = float(np.clip(action[0], -MAX_TORQUE, MAX_TORQUE))
        noise = float(self.unwrapped.np_random.choice(list(TORQUE_NOISE), p=list(TORQUE_NOISE.values())))
        applied = float(np.clip(commanded + noise, -MAX_TORQUE, MAX_TORQUE))
        obs, reward, terminated, truncated, info = self.env.step(np.array([applied], dtype=np.float32))
        # gymnasium charged 0.001 u² for the applied torque (as float32); charge the commanded one
        charged = float(np.float32(applied)) ** 2
        return obs, float(reward) + 0.001 * (charged - commanded ** 2), terminated, truncated, info


def noisy_pendulum(render_mode=None):
    return TorqueNoise(PendulumEnv(render_mode=render_mode))


class LedgeEnv(gym.Env):
    """The module docstring's ledge."""

    def __init__(self):
        self.observation_space = spaces.Box(np.array([0.0, 0.0]), np.array([np.inf, 1.0]), dtype=np.float64)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float64)
        self.state = np.zeros(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = np.zeros(2)
        return self.state.copy(), {}

    def step(self, action):
        push = float(np.clip(action[0], -1.0, 1.0))
        position = float(self.state[0])
        if push > SAFE_PUSH and self.np_random.random() < FALL:
            self.state = np.array([position, 1.0])
            return self.state.copy(), 0.0, True, False, {}
        moved = 1.0 if push > SAFE_PUSH else max(push, 0.0)
        self.state = np.array([position + moved, 0.0])
        return self.state.copy(), moved, False, False, {}


if "NoisyPendulum-v0" not in gym.registry:
    gym.register(id="NoisyPendulum-v0", entry_point=noisy_pendulum, max_episode_steps=200)
if "Ledge-v0" not in gym.registry:
    gym.register(id="Ledge-v0", entry_point=LedgeEnv, max_episode_steps=30)
