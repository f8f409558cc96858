"""Planning for return: time per action and program steps per second, in-process and jailed.

    python benchmarks/bench_return_planning.py            # every planner below, full episodes
    python benchmarks/bench_return_planning.py --quick    # short episodes, CWMB's CEM left out
    python benchmarks/bench_return_planning.py --only iw,iw-cem   # some planners only
    python benchmarks/bench_return_planning.py --warm-start   # CEM's warm start against none, 5 episodes

For each planner an episode is played in the real gymnasium environment, planning in a correct
program (tests/fixtures: cartpole_model.py, pendulum_model.py, against the API modules in the shape
of wc's generic gymnasium adapter) before each action: MCTS on CartPole-v1 (wc's preset and
CWMB's), width-based search (iw, the default) on CartPole-v1, CEM on Pendulum-v1 (wc's, receding
horizon with warm start; iw-cem, the default; CWMB's, planning every 100 actions and playing the
plan open loop). Printed per planner: the return, planning time per
action (median and maximum over decisions; CWMB's CEM: a plan's time over the actions it
serves), program steps per second while planning.

Baselines, measured in the same run:

* raw calls: the same program's transition() and reward() called in a loop (random actions,
  the same Python guard, no planner and none of the planner's checks):
  RESULT <planner>_vs_raw ratio = planning's program steps/s / raw steps/s;
* jailed: the episode's decisions (states, seeds, warm starts) planned again, here and in a
  process started in the OS jail as sandbox workers are (`wc._sandbox.jail`'s command line, the
  worker's resource limits, a heartbeat in memory, the trusted classes frozen before the API
  module runs); both must find the episode's plans step for step. The worker protocol has no
  operation for return planning yet, so a short script there calls `plan_return` directly
  instead of a worker: RESULT <planner>_sandbox ratio = jailed steps/s / in-process steps/s,
  the best of two alternating runs of each (goal >= 0.8).
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

from wc._planning import RETURN_PLANNERS  # noqa: E402
from wc._sandbox import jail, runtime, timer  # noqa: E402
from wc._sandbox.plan_return import plan_return  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"


@dataclass(frozen=True)
class World:
    name: str
    env_id: str
    fields: tuple[str, ...]
    space: dict

    @property
    def api(self) -> str:
        from wc import envs

        return envs.api_module(self.env_id).source  # the generic adapter's generated module

    @property
    def program(self) -> str:
        return (FIXTURES / f"{self.name}_model.py").read_text()

    def state(self, obs) -> list[dict]:
        return [{"type": "Observation", **{f: float(v) for f, v in zip(self.fields, obs, strict=True)}}]

    def env_action(self, action):
        return self.space["names"].index(action) if self.space["kind"] == "discrete" else np.array(action, np.float32)

    def random_action(self, rng: random.Random):
        if self.space["kind"] == "discrete":
            return rng.choice(self.space["names"])
        return [rng.uniform(lo, hi) for lo, hi in zip(self.space["low"], self.space["high"], strict=True)]


CARTPOLE = World("cartpole", "CartPole-v1", ("cart_position", "cart_velocity", "pole_angle", "pole_angular_velocity"),
                 {"kind": "discrete", "names": ["push_left", "push_right"]})
PENDULUM = World("pendulum", "Pendulum-v1", ("cos_theta", "sin_theta", "angular_velocity"),
                 {"kind": "continuous", "low": [-2.0], "high": [2.0]})


def compiled(world: World):
    return runtime.compile_program(runtime.api_namespace(world.api), world.program)


def episode(world: World, planner: str, steps: int, seed: int = 0, warm: bool = True) -> dict:
    """Play one episode, planning in the program before each action (or each plan's worth of
    actions); every decision is kept so that it can be planned again elsewhere."""
    settings = RETURN_PLANNERS[planner]
    program = compiled(world)
    env = gym.make(world.env_id)
    obs, _ = env.reset(seed=seed)
    decisions, queue, plan, total, played = [], [], None, 0.0, 0
    for t in range(steps):
        if not queue:
            init = plan.actions[settings.replan_every:] if warm and plan and settings.algorithm != "mcts" else None
            decision = {"state": world.state(obs), "seed": t, "init": init}
            started = time.perf_counter()
            plan = plan_return(program, decision["state"], "", world.space, planner=planner, rng_seed=t, init=init,
                               time_limit=3600)
            decision.update(seconds=time.perf_counter() - started, steps=plan.steps, actions=plan.actions[:5])
            decisions.append(decision)
            assert plan.status == "found", plan
            queue = list(plan.actions[:settings.replan_every])
        obs, reward, terminated, truncated, _ = env.step(world.env_action(queue.pop(0)))
        total, played = total + float(reward), played + 1
        if terminated or truncated:
            break
    return {"decisions": decisions, "return": total, "played": played}


def raw_rate(world: World, steps: int = 100_000) -> float:
    """Program steps per second of transition() and reward() called in a loop (random play,
    back to the start when done), guarded as in planning, timed per call as nothing else is."""
    program = compiled(world)
    env = gym.make(world.env_id)
    obs, _ = env.reset(seed=0)
    ns, rng = program.namespace, random.Random(0)
    start = runtime.decode_state(ns, world.state(obs))
    actions = [world.random_action(rng) for _ in range(1000)]
    transition, reward = program.transition, program.reward
    state = runtime.decode_state(ns, world.state(obs))
    with timer.installed():
        started = time.perf_counter()
        for i in range(steps):
            action = actions[i % 1000]
            nxt = transition(state, action)
            _, done = reward(state, action, nxt, "")
            state = start if done else nxt
        return steps / (time.perf_counter() - started)


JAILED = r"""
import json, mmap, sys, time
from wc._sandbox import ownership, timer, worker, runtime
from wc._sandbox.plan_return import plan_return

job = json.loads(sys.stdin.read())
ownership.freeze()
worker.apply_limits(job["memory_mb"] * 1024 * 1024 + worker._address_space(), 3600, nproc=0, nofile=16)
timer.beat = memoryview(mmap.mmap(-1, 16)).cast("Q")
program = runtime.compile_program(runtime.api_namespace(job["api"]), job["program"])
out = []
for d in job["decisions"]:
    started = time.perf_counter()
    plan = plan_return(program, d["state"], "", job["space"], planner=job["planner"], rng_seed=d["seed"],
                       init=d["init"], time_limit=3600)
    out.append([time.perf_counter() - started, plan.steps, plan.actions[:5]])
print(json.dumps(out))
"""


def jailed(world: World, planner: str, decisions: list[dict]) -> list[list]:
    """The decisions planned again in a jailed process (see the module docstring): per decision,
    seconds, program steps and the plan's first actions."""
    here = jail.detect()
    cmd, env = here.command(["-c", JAILED])
    job = {"api": world.api, "program": world.program, "space": world.space, "planner": planner, "memory_mb": 1024,
           "decisions": [{k: d[k] for k in ("state", "seed", "init")} for d in decisions]}
    run = subprocess.run(cmd, env=env, input=json.dumps(job), capture_output=True, text=True, timeout=7200)
    if run.returncode != 0:
        raise SystemExit(f"the jailed run failed: {run.stderr[-2000:]}")
    return json.loads(run.stdout)


def in_process(world: World, planner: str, decisions: list[dict]) -> list[list]:
    """The same decisions planned again here, as the jailed script plans them."""
    program = compiled(world)
    out = []
    for d in decisions:
        started = time.perf_counter()
        plan = plan_return(program, d["state"], "", world.space, planner=planner, rng_seed=d["seed"], init=d["init"],
                           time_limit=3600)
        out.append([time.perf_counter() - started, plan.steps, plan.actions[:5]])
    return out


def rate(runs: list[list]) -> float:
    return sum(r[1] for r in runs) / sum(r[0] for r in runs)


def report(world: World, planner: str, steps: int, raw: float, repeats: int) -> None:
    played = episode(world, planner, steps)
    decisions = played["decisions"]
    per_action = [d["seconds"] / RETURN_PLANNERS[planner].replan_every for d in decisions]
    here = there = 0.0
    for _ in range(repeats):  # alternately, the best of each (the machine is shared)
        for name, runs in (("in-process", in_process(world, planner, decisions)),
                           ("jailed", jailed(world, planner, decisions))):
            if any(r[1] != d["steps"] or r[2] != d["actions"] for r, d in zip(runs, decisions, strict=True)):
                raise SystemExit(f"{planner}: planning again {name} gave other plans than the episode's")
            if name == "jailed":
                there = max(there, rate(runs))
            else:
                here = max(here, rate(runs))
    tag = planner.replace("-", "_") + "_" + world.name
    print(f"{planner} on {world.env_id}: return {played['return']:.1f} in {played['played']} steps, "
          f"{len(decisions)} plans; planning {statistics.median(per_action) * 1000:.1f} ms per action "
          f"(max {max(per_action) * 1000:.1f}); program steps/s {here:,.0f} in-process, {there:,.0f} jailed; "
          f"raw calls {raw:,.0f}/s")
    print(f"RESULT {tag}_sandbox ratio={there / here:.2f} jailed_steps_per_s={there:.0f} "
          f"in_process_steps_per_s={here:.0f}")
    print(f"RESULT {tag}_vs_raw ratio={here / raw:.2f} planner_steps_per_s={here:.0f} raw_steps_per_s={raw:.0f} "
          f"ms_per_action={statistics.median(per_action) * 1000:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short episodes; CWMB's CEM left out")
    parser.add_argument("--warm-start", action="store_true",
                        help="only: wc's CEM on Pendulum from seeds 0-4, with and without warm start")
    parser.add_argument("--only", default="", help="comma-separated planner names (default: all)")
    args = parser.parse_args()
    if args.warm_start:
        for seed in range(5):
            warm, cold = (episode(PENDULUM, "cem", 200, seed, warm)["return"] for warm in (True, False))
            print(f"cem on Pendulum-v1, seed {seed}: return {warm:.1f} warm-started, {cold:.1f} cold")
        return
    print(f"jailed runs in: {jail.detect().describe()}")
    runs = [(CARTPOLE, "mcts-cwmb", 500), (CARTPOLE, "mcts", 500), (CARTPOLE, "iw", 500), (PENDULUM, "cem", 200),
            (PENDULUM, "iw-cem", 200), (PENDULUM, "cem-cwmb", 200)]
    if args.quick:
        runs = [(world, planner, 60) for world, planner, _ in runs if planner != "cem-cwmb"]
    if args.only:
        runs = [run for run in runs if run[1] in args.only.split(",")]
    raw = {world.name: max(raw_rate(world) for _ in range(3)) for world in (CARTPOLE, PENDULUM)}
    for world, planner, steps in runs:
        report(world, planner, steps, raw[world.name], repeats=1 if planner == "cem-cwmb" else 2)


if __name__ == "__main__":
    main()
