"""The best accuracy a program can reach on CWMB's MuJoCo data with the installed MuJoCo: the live
environment played as the model, scored with wc's own accuracy functions (both forms).

    python benchmarks/bench_cwmb_dynamics.py                        # the 9 MuJoCo datasets, v4 and v5
    python benchmarks/bench_cwmb_dynamics.py --envs Hopper-v4 --versions v4

CWMB's MuJoCo data was collected with gymnasium 0.29.1 on the v4 environments and MuJoCo 2.3. For
every recorded transition the live environment's state is set from the recorded observation
(`set_from_obs` of `cwmb_mujoco_reproduction.py`: qpos and qvel rebuilt from each environment's
`_get_obs`; the root positions the observation excludes, x of HalfCheetah, Hopper and Walker2d, x
and y of Swimmer and Ant, set to 0, as the dynamics do not depend on them), stepped with the
recorded action, and its next observation, reward and termination are taken as a program's
prediction: `wc._measure.accuracy.accuracy` scores them against the record exactly as `wc bench
cwmb` scores a program (states within CWMB's allclose, rewards and done exactly).

v5 is played in the v4 observation layout: the v5 environment is made with the arguments that
keep v4's observation where there is one (Ant: `include_cfrc_ext_in_observation=False`), its
state set and stepped the same way, and its next observation read through the v4 environment's
`_get_obs` on the v5 environment's `MjData` (the models have the same bodies and joints; a v5
model that does not is reported). The reward and termination are v5's own.

What an observation cannot give is said in the `state` column, not guessed away:
* Pusher: the object's and the goal's velocities are not observed (set to 0; the goal never
  moves, the object does when pushed);
* Hopper, Walker2d, InvertedDoublePendulum: velocities are clipped to ±10 in the observation; a
  transition whose observation sits at the clip cannot set the state (counted in `clipped`);
* Reacher: the target's velocity is not observed (it is fixed: 0).
`state set` is how often setting the state reproduces the recorded observation itself.

Columns: accuracy in the paper's form and the released code's; the fractions of next states,
rewards and terminations that match; rewards that match once the live reward is rounded to
float32 (the record's type) and within 1e-5 (so a reward "miss" that is only float rounding shows
as such); next states matched after each episode's first step (the first transition of every
episode is not reproduced by any live MuJoCo: docs/RESULTS.md). Needs the `cwmb-mujoco` (MuJoCo
2.3, as the data) or `mujoco` extra. `RESULT` lines carry the figures.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cwmb_mujoco_reproduction import CLIPPED, ENVS, set_from_obs  # noqa: E402

from wc import envs  # noqa: E402
from wc._core.tolerance import CWMB  # noqa: E402
from wc._measure.accuracy import CWMB_REWARD, Predicted, Recorded, accuracy  # noqa: E402
from wc.datasets import cwmb  # noqa: E402

# v5's arguments that keep the v4 observation
V5_KWARGS = {"Ant": {"include_cfrc_ext_in_observation": False}}
UNOBSERVED = {"Pusher": "object and goal velocities not observed (set 0)",
              "Reacher": "target velocity not observed (fixed: 0)"}


def _lines(name: str) -> list[dict]:
    import gzip

    path = cwmb.data_file(name)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def _same_structure(a, b) -> bool:
    return all(getattr(a.model, k) == getattr(b.model, k) for k in ("nq", "nv", "nu", "nbody", "njnt", "ngeom"))


def measure(name: str, version: str) -> dict:
    family = name.split("-")[0]
    adapter = cwmb.make(name)  # the data's spaces and layout: v4's
    if not adapter.env_id.endswith("-v4"):
        raise RuntimeError(f"{name} runs here as {adapter.env_id}, not v4: the v4 layout cannot be read")
    v4 = adapter.env.unwrapped
    v4.reset(seed=0)
    if version == "v4":
        live = v4
        live_id = adapter.env_id
    else:
        live_id = name.replace("-v4", f"-{version}")
        live = envs.make(live_id, env_kwargs=V5_KWARGS.get(family, {})).env.unwrapped
        live.reset(seed=0)
        if not _same_structure(live, v4):
            raise RuntimeError(f"{live_id}'s model differs from v4's in size: its state cannot be read in v4's layout")
    data = cwmb.dataset(name, adapter).read()
    raw = _lines(name)
    clip = CLIPPED.get(family)
    preds, state_set, clipped, rounded, near, later, later_ok = [], 0, 0, 0, 0, 0, 0
    for t, r in zip(data, raw, strict=True):
        obs = np.array(r["obs"], dtype=np.float64)
        set_from_obs(name, live, obs)
        at_clip = clip is not None and bool(np.any(np.abs(obs[clip]) >= 10 - 1e-9))
        clipped += at_clip
        own_data, v4.data = v4.data, live.data  # v4's observation of the live state
        try:
            state_set += bool(np.allclose(v4._get_obs(), obs, rtol=1e-5, atol=1e-5))
            _, reward, terminated, _, _ = live.step(np.array(r["action"], dtype=np.float32))
            nxt = v4._get_obs()
        finally:
            v4.data = own_data
        state = adapter.encode_observation(nxt)
        preds.append(Predicted(state, float(reward), bool(terminated)))
        rounded += float(np.float32(reward)) == t.reward
        near += bool(np.isclose(reward, t.reward, rtol=1e-5, atol=1e-5))
        if t.step > 0 and not at_clip:
            later += 1
            later_ok += bool(np.allclose(nxt, np.array(r["next_obs"]), rtol=1e-5, atol=1e-5))
    recorded = [Recorded.of(t) for t in data]
    acc = accuracy(preds, recorded, state_tol=CWMB, reward_tol=CWMB_REWARD, whole_state=bool(adapter.layout.digits))
    n = len(data)
    notes = [UNOBSERVED[family]] if family in UNOBSERVED else []
    if clip is not None:
        notes.append(f"{clipped} of {n} observations at the ±10 velocity clip")
    adapter.close()
    return {"env": name, "version": version, "live": live_id, "transitions": n, "paper": acc.paper, "code": acc.code,
            "next_states": acc.states, "rewards": acc.rewards, "dones": acc.dones, "rewards_float32": rounded / n,
            "rewards_1e-5": near / n, "state_set": state_set / n, "later": later_ok / later if later else None,
            "later_n": later, "state": "; ".join(notes) or "whole state observed"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", default=",".join(ENVS))
    parser.add_argument("--versions", default="v4,v5")
    args = parser.parse_args()
    import gymnasium
    import mujoco

    print(f"MuJoCo {mujoco.__version__}, gymnasium {gymnasium.__version__}")
    print("| CWMB env | live | transitions | accuracy paper | accuracy code | next state | reward exact | reward as "
          "float32 | reward 1e-5 | done | state set | next state after step 0, no clip | state |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for name in [n.strip() for n in args.envs.split(",") if n.strip()]:
        for version in [v.strip() for v in args.versions.split(",") if v.strip()]:
            try:
                m = measure(name, version)
            except Exception as exc:  # noqa: BLE001 - said, and the others go on
                print(f"| {name} | {version}: cannot be measured: {type(exc).__name__}: {str(exc)[:160]} |")
                continue
            later = "-" if m["later"] is None else f"{m['later']:.3f} of {m['later_n']}"
            print(f"| {name} | {m['live']} | {m['transitions']} | {m['paper']:.3f} | {m['code']:.3f} | "
                  f"{m['next_states']:.3f} | {m['rewards']:.3f} | {m['rewards_float32']:.3f} | "
                  f"{m['rewards_1e-5']:.3f} | "
                  f"{m['dones']:.3f} | {m['state_set']:.3f} | {later} | {m['state']} |")
            print("RESULT", m)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
