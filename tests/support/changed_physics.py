"""Cart-pole data with changed constants (gymnasium's own CartPole, its constants set through
`env.unwrapped`), for the parameter-fitting tests (issue 30)."""
from __future__ import annotations

import random
from typing import Any

from wc._core.values import Transition

LUNAR = {"gravity": 1.62, "masspole": 0.3, "force_mag": 6.0}


def cartpole_adapter(**constants: float) -> Any:
    """The generic adapter over CartPole-v1, with `constants` set on the unwrapped environment."""
    from wc import envs

    adapter = envs.make("CartPole-v1")
    env = adapter.env.unwrapped
    for name, value in constants.items():
        setattr(env, name, value)
    env.total_mass = env.masspole + env.masscart
    env.polemass_length = env.masspole * env.length
    return adapter


def cartpole_transitions(n: int, seed: int = 0, **constants: float) -> tuple[Any, list[Transition]]:
    """`n` transitions of random play (episodes reset when they end), and the adapter."""
    adapter = cartpole_adapter(**constants)
    rng = random.Random(seed)
    out: list[Transition] = []
    episode = 0
    state, mission = adapter.reset(seed=seed)
    while len(out) < n:
        action = rng.choice(adapter.actions)
        step = adapter.step(action)
        out.append(Transition(state, action, step.state, step.reward, step.terminated, mission))
        state = step.state
        if step.terminated or step.truncated:
            episode += 1
            state, mission = adapter.reset(seed=seed + episode)
    return adapter, out


def write_jsonl(path: Any, n: int, seed: int = 0, **constants: float) -> Any:
    """`n` transitions of gymnasium's CartPole with `constants`, random actions, in CWMB's JSONL form."""
    import json

    import gymnasium

    env = gymnasium.make("CartPole-v1")
    unwrapped = env.unwrapped
    for name, value in constants.items():
        setattr(unwrapped, name, value)
    unwrapped.total_mass = unwrapped.masspole + unwrapped.masscart
    unwrapped.polemass_length = unwrapped.masspole * unwrapped.length
    rng = random.Random(seed)
    lines, episode = [], 0
    obs, _ = env.reset(seed=seed)
    start = 0
    while len(lines) < n:
        action = rng.randrange(2)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        lines.append(json.dumps({"obs": obs.tolist(), "action": action, "reward": float(reward),
                                 "next_obs": next_obs.tolist(), "done": bool(terminated or truncated),
                                 "traj_start": start}))
        obs = next_obs
        if terminated or truncated:
            episode += 1
            start = len(lines)
            obs, _ = env.reset(seed=seed + episode)
    env.close()
    path.write_text("\n".join(lines) + "\n")
    return path
