"""How well the live MuJoCo environments reproduce CWMB's recorded transitions.

    python benchmarks/cwmb_mujoco_reproduction.py      (needs the mujoco extra)

CWMB's MuJoCo data was collected with gymnasium 0.29.1 on the v4 environments and MuJoCo 2.3.
For each recorded transition this sets the live environment's state from the recorded `obs`
(positions and velocities, where the observation holds them), steps it with the recorded action
and compares the result with the recorded `next_obs` (every number within CWMB's allclose,
rtol = atol = 1e-5), reward (the same tolerance) and termination (wc's separation of `done`). The
fraction that matches bounds how much of a program's accuracy on the data can carry over to
the live environment (and back).

What the observation does not hold is set as follows: the excluded root positions (x; x and y
for Swimmer and Ant) to 0, as the dynamics do not depend on them; Reacher's target velocity to 0
(it is fixed); Pusher's object velocity to 0 (not observed: transitions where the object moves
cannot be reproduced); joint velocities clipped to ±10 in Hopper, Walker2d and
InvertedDoublePendulum's observations, where the clip was hit, are wrong by construction (counted
as such: the row "state set" says how often the observation set the state exactly). MuJoCo's
warm start of its constraint solver is not in any observation; it is left as the previous
step left it.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")

from wc.datasets import cwmb  # noqa: E402

# the observation's velocities that the environment clips to ±10 (a clipped one does not set the state)
CLIPPED = {"Hopper": slice(5, 11), "Walker2d": slice(8, 17), "InvertedDoublePendulum": slice(5, 8)}
ENVS = ["Reacher-v4", "Pusher-v4", "InvertedPendulum-v4", "InvertedDoublePendulum-v4", "HalfCheetah-v4", "Hopper-v4",
        "Swimmer-v4", "Walker2d-v4", "Ant-v4"]


def set_from_obs(name: str, env, obs: np.ndarray) -> None:
    """Put the environment in the state the observation describes (see the module docstring)."""
    nq, nv = env.model.nq, env.model.nv
    qpos, qvel = np.zeros(nq), np.zeros(nv)
    if name.startswith("InvertedPendulum"):
        qpos[:], qvel[:] = obs[:2], obs[2:4]
    elif name.startswith("InvertedDoublePendulum"):
        qpos[0] = obs[0]
        qpos[1:] = np.arctan2(obs[1:3], obs[3:5])
        qvel[:] = obs[5:8]
    elif name.startswith("Reacher"):
        qpos[:2] = np.arctan2(obs[2:4], obs[0:2])
        qpos[2:] = obs[4:6]
        qvel[:2] = obs[6:8]
    elif name.startswith("Pusher"):
        qpos[:7], qvel[:7] = obs[:7], obs[7:14]
        env.set_state(qpos, qvel)
        for body, start, joints in (("object", 17, (7, 8)), ("goal", 20, (9, 10))):
            base = env.data.body(body).xpos.copy()  # the body where its slide joints are 0
            # the slide joints are (y, x): obj_slidey, obj_slidex, goal_slidey, goal_slidex
            qpos[joints[0]] = obs[start + 1] - base[1]
            qpos[joints[1]] = obs[start] - base[0]
    elif name.startswith(("HalfCheetah", "Hopper", "Walker2d")):
        qpos[1:] = obs[:nq - 1]
        qvel[:] = obs[nq - 1:nq - 1 + nv]
    elif name.startswith(("Swimmer", "Ant")):
        qpos[2:] = obs[:nq - 2]
        qvel[:] = obs[nq - 2:nq - 2 + nv]
    else:
        raise ValueError(name)
    env.set_state(qpos, qvel)


def measure(name: str) -> dict:
    adapter = cwmb.make(name)
    env = adapter.env.unwrapped
    env.reset(seed=0)
    data = cwmb.dataset(name, adapter).read()
    raw = [json.loads(line) for line in _lines(name)]
    fields = [f.name for f in adapter.layout.fields]
    state_set = next_ok = reward_ok = done_ok = later = later_ok = 0
    errors = []
    clip = CLIPPED.get(name.split("-")[0])
    for t, r in zip(data, raw, strict=True):
        obs = np.array(r["obs"], dtype=np.float64)
        set_from_obs(name, env, obs)
        state_set += bool(np.allclose(env._get_obs(), obs, rtol=1e-5, atol=1e-5))
        nxt, reward, terminated, _, _ = env.step(np.array(r["action"], dtype=np.float32))
        recorded = np.array([t.next_state[0][f] for f in fields])
        same = bool(np.allclose(nxt, recorded, rtol=1e-5, atol=1e-5))
        next_ok += same
        if t.step > 0 and (clip is None or not np.any(np.abs(obs[clip]) >= 10 - 1e-9)):
            later, later_ok = later + 1, later_ok + same
        errors.append(float(np.max(np.abs(nxt - recorded))))
        reward_ok += bool(np.isclose(reward, t.reward, rtol=1e-5, atol=1e-5))
        done_ok += bool(terminated) == t.done
    n = len(data)
    return {"env": name, "live": adapter.env_id, "transitions": n, "state_set": state_set / n,
            "next_obs": next_ok / n, "reward": reward_ok / n, "done": done_ok / n,
            "median_max_error": float(np.median(errors)), "later": later_ok / later if later else float("nan"),
            "later_n": later}


def _lines(name: str):
    import gzip

    path = cwmb.data_file(name)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return [line for line in f if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--envs", default=",".join(ENVS))
    args = parser.parse_args()
    import mujoco

    print(f"MuJoCo {mujoco.__version__}")
    print("| CWMB env | live env | transitions | obs reproduced after setting | next obs within 1e-5 | reward "
          "within 1e-5 | termination | median largest error | next obs, after each episode's first step, no clipped "
          "velocity |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.envs.split(","):
        try:
            m = measure(name)
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"| {name} | cannot run: {type(exc).__name__}: {str(exc)[:120]} |")
            continue
        print(f"| {m['env']} | {m['live']} | {m['transitions']} | {m['state_set']:.3f} | {m['next_obs']:.3f} | "
              f"{m['reward']:.3f} | {m['done']:.3f} | {m['median_max_error']:.1e} | "
              f"{m['later']:.3f} of {m['later_n']} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
