"""LunarCartPole-v0 for tests: gymnasium's own CartPole class on the moon, with a heavier pole and a
weaker push (`wc learn --env support.lunar_cartpole:LunarCartPole-v0`). Made by a function, not a
subclass, so that wc reads it as CartPole (its field and action names), as it would read
/work/notes/worlds/changed_physics.py's subclass only by number."""
import gymnasium as gym
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

from support.changed_physics import LUNAR


def lunar_cartpole(render_mode=None):
    env = CartPoleEnv(render_mode=render_mode)
    for name, value in LUNAR.items():
        setattr(env, name, value)
    env.total_mass = env.masspole + env.masscart
    env.polemass_length = env.masspole * env.length
    return env


if "LunarCartPole-v0" not in gym.registry:
    gym.register(id="LunarCartPole-v0", entry_point=lunar_cartpole, max_episode_steps=500, reward_threshold=475.0)
