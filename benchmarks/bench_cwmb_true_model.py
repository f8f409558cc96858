"""The cost of CWMB's return measure on MuJoCo: R_true's CEM planning with the live environment
as its model (`wc.envs.gym.replica`), at CWMB's settings.

    python benchmarks/bench_cwmb_true_model.py                       # HalfCheetah-v4, Hopper-v4, InvertedPendulum-v4
    python benchmarks/bench_cwmb_true_model.py --envs Swimmer-v4 --plans 2

CWMB's CEM (`cem-cwmb`: horizon 100, 20 iterations, 1000 samples, 100 elites, the plan played open
loop, 100 actions a plan) costs up to 2 million model steps a plan. For each environment this
plans `--plans` times from the first states of an episode (`reset(seed=0)`, then the plan's
actions played in the real environment, as `wc bench cwmb` plays R_true), and prints the seconds
per plan, per action played (a plan's time over the actions it gives), the replica's steps per
second inside the plan (wall time, and the plan's CPU time, which a loaded machine inflates
less), and the baseline measured in the same run: the environment's own
`step` in a plain loop (random actions, reset on termination), as a ratio. From these, the
projected time of R_true over one episode of the environment's length and over `wc bench
cwmb`'s default episodes. Needs the `cwmb-mujoco` (or `mujoco`) extra. `RESULT` lines carry the
figures.
"""
from __future__ import annotations

import argparse
import random
import time
import warnings

warnings.filterwarnings("ignore")

from wc._measure.program import cwmb_settings, episode_limit  # noqa: E402
from wc._planning.returns import action_choices  # noqa: E402
from wc.datasets import cwmb  # noqa: E402
from wc.envs.gym.replica import Replica  # noqa: E402


class Counted(Replica):
    """The replica, counting the environment steps a plan takes."""

    steps = 0

    def _step(self, key, action):
        self.steps += 1
        return super()._step(key, action)


def raw_steps_per_second(adapter, seconds: float = 3.0) -> float:
    """The environment's own step, random actions, in a plain loop (the baseline)."""
    env = adapter.env.unwrapped
    env.reset(seed=1)
    rng = random.Random(1)
    space = env.action_space
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        action = [rng.uniform(lo, hi) for lo, hi in zip(space.low, space.high, strict=True)]
        _, _, terminated, _, _ = env.step(action)
        n += 1
        if terminated:
            env.reset(seed=n)
    return n / (time.perf_counter() - started)


def measure(name: str, plans: int) -> dict:
    adapter = cwmb.make(name)
    settings = cwmb_settings(adapter)
    baseline = raw_steps_per_second(adapter)
    replica = Counted(adapter, seed=0)
    _, _, box = action_choices(adapter.action_space)
    assert box is not None
    adapter.reset(0)
    seconds, cpu, actions = [], 0.0, 0
    for n in range(plans):  # as `true_policy` plans (R_true), with the replica's steps counted
        started, cpu_started = time.perf_counter(), time.process_time()
        start = replica.sync(adapter.env)
        plan = settings.search(start, replica.roll, low=box[0], high=box[1], rng=random.Random(n))
        seconds.append(time.perf_counter() - started)
        cpu += time.process_time() - cpu_started
        played = list(plan.actions[:settings.replan_every])
        actions += len(played)
        for action in played:
            if adapter.step(list(action)).terminated:
                break
    total = sum(seconds)
    adapter.close()
    return {"env": name, "env_id": adapter.env_id, "plans": plans, "seconds_per_plan": total / plans,
            "seconds_per_action": total / actions if actions else None, "actions": actions,
            "cpu_seconds_per_plan": cpu / plans,
            "model_steps_per_plan": replica.steps / plans, "steps_per_second": replica.steps / total,
            "baseline_steps_per_second": baseline, "episode_steps": episode_limit(adapter),
            "replan_every": settings.replan_every}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", default="HalfCheetah-v4,Hopper-v4,InvertedPendulum-v4")
    parser.add_argument("--plans", type=int, default=1, help="CEM plans per environment (each up to 2M steps)")
    parser.add_argument("--episodes", type=int, default=10, help="episodes of the projection")
    args = parser.parse_args()
    print(f"{'env':<22}{'s/plan':>9}{'CPU s/plan':>11}{'s/action':>10}{'steps/plan':>12}{'steps/s in CEM':>16}"
          f"{'raw step/s':>12}{'ratio':>7}"
          f"{'R_true, 1 episode':>19}{f'R_true, {args.episodes} ep.':>16}")
    for name in [n.strip() for n in args.envs.split(",") if n.strip()]:
        r = measure(name, args.plans)
        per_action = r["seconds_per_action"] or float("nan")
        episode = per_action * r["episode_steps"]
        ratio = r["steps_per_second"] / r["baseline_steps_per_second"]
        print(f"{name:<22}{r['seconds_per_plan']:>9.1f}{r['cpu_seconds_per_plan']:>11.1f}{per_action:>10.3f}{r['model_steps_per_plan']:>12,.0f}"
              f"{r['steps_per_second']:>16,.0f}"
              f"{r['baseline_steps_per_second']:>12,.0f}{ratio:>7.2f}{episode / 3600:>17.2f} h"
              f"{episode * args.episodes / 3600:>14.1f} h")
        print("RESULT", r)


if __name__ == "__main__":
    main()
