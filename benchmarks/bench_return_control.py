"""Control with a correct program: does the default return planner reach gymnasium's reward
threshold across the family of return worlds, and on changed-physics variants of them?

    python benchmarks/bench_return_control.py                 # 10 episodes per world, the default planners
    python benchmarks/bench_return_control.py --quick         # 3 episodes per world
    python benchmarks/bench_return_control.py --planner mcts --worlds CartPole-v1   # another planner, some worlds

For each world an episode is played in the real environment through wc's generic gymnasium
adapter, planning before every action (receding horizon, the previous plan shifted by one as the
warm start, as the agent does) in a correct program from tests/fixtures (`<name>_model.py`,
written against the adapter's generated API module). A changed-physics variant sets attributes
of `env.unwrapped` (gravity, masses, force, lengths) and the same constants in the program, so
the planner meets dynamics no default was tuned on. Episode i starts from `reset(seed=i)`.

Printed per world: the mean return of the episodes against the threshold (gymnasium's
`spec.reward_threshold`, or the issue's figure where gymnasium gives none or gives the slippery
lake's), episodes whose return reached it, planning seconds per action (mean and maximum) and
program steps per second while planning. `RESULT` lines carry the same figures.

    python benchmarks/bench_return_control.py --noisy --episodes 3 --max-steps 40

`--noisy`: random worlds with continuous actions (tests/support/noisy_worlds.py: the ledge, whose
most probable outcome hides a one-in-four fall, and Pendulum with a noisy motor), each planned
in its random reference program both ways in the same run, with sampled outcomes (the expected
return, what the worker does) and on the mode (the most probable outcome at every step), and
played in the true noisy environment from the same seeds. `RESULT noisy_<world>` carries both
mean returns and their ratio (sampled / mode; for Pendulum's negative returns, mode / sampled,
so that above 1 means sampling did better either way).
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import statistics
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]

from wc import envs  # noqa: E402
from wc._planning import DEFAULT_RETURN_PLANNERS, RETURN_PLANNERS  # noqa: E402
from wc._planning.iw import WidthSettings  # noqa: E402
from wc._planning.seeded import SeededCemSettings  # noqa: E402
from wc._sandbox import runtime  # noqa: E402
from wc._sandbox.plan_return import plan_return  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
NOISY = [("ledge", "support.noisy_worlds:Ledge-v0", "ledge_model.py"),
         ("pendulum", "support.noisy_worlds:NoisyPendulum-v0", "pendulum_noisy_model.py")]


@dataclass(frozen=True)
class World:
    label: str
    env_id: str
    model: str                       # tests/fixtures/<model>_model.py
    threshold: float
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    physics: dict[str, float] = field(default_factory=dict)    # env.unwrapped attribute -> value
    constants: dict[str, float] = field(default_factory=dict)  # the program's constant -> the same value

    def program(self) -> str:
        source = (FIXTURES / f"{self.model}_model.py").read_text()
        for name, value in self.constants.items():
            if not re.search(rf"\b{name}\b", source):
                raise SystemExit(f"{self.model}_model.py has no constant {name}")
            source, n = re.subn(rf"^{name} = .*$", f"{name} = {value!r}", source, count=1, flags=re.M)
            if n == 0:  # set with others on one line: set again after them (functions read it when called)
                source += f"\n{name} = {value!r}\n"
        return source


WORLDS = [
    World("CartPole-v1", "CartPole-v1", "cartpole", 475.0),
    World("MountainCar-v0", "MountainCar-v0", "mountaincar", -110.0),
    World("Acrobot-v1", "Acrobot-v1", "acrobot", -100.0),
    World("Pendulum-v1", "Pendulum-v1", "pendulum", -200.0),
    World("MountainCarContinuous-v0", "MountainCarContinuous-v0", "mountaincar_continuous", 90.0),
    World("Taxi-v4", "Taxi-v4", "taxi", 8.0),
    World("CliffWalking-v1", "CliffWalking-v1", "cliffwalking", -13.0),
    World("FrozenLake-v1", "FrozenLake-v1", "frozenlake", 1.0, env_kwargs={"is_slippery": False}),
    # changed physics (the threshold of the world they change)
    World("CartPole heavy pole, weak push, moon", "CartPole-v1", "cartpole", 475.0,
          physics={"gravity": 1.62, "masspole": 0.3, "total_mass": 1.3, "polemass_length": 0.15, "force_mag": 6.0},
          constants={"GRAVITY": 1.62, "POLE_MASS": 0.3, "FORCE": 6.0}),
    World("CartPole long pole, high gravity", "CartPole-v1", "cartpole", 475.0,
          physics={"gravity": 14.0, "length": 0.8, "polemass_length": 0.08},
          constants={"GRAVITY": 14.0, "HALF_LENGTH": 0.8}),
    World("MountainCar weak engine", "MountainCar-v0", "mountaincar", -110.0,
          physics={"force": 0.0008}, constants={"FORCE": 0.0008}),
    World("MountainCar steep", "MountainCar-v0", "mountaincar", -110.0,
          physics={"force": 0.0013, "gravity": 0.003}, constants={"FORCE": 0.0013, "GRAVITY": 0.003}),
    World("Acrobot heavy first link", "Acrobot-v1", "acrobot", -100.0,
          physics={"LINK_LENGTH_1": 1.2, "LINK_MASS_1": 1.4, "LINK_COM_POS_1": 0.6},
          constants={"LINK_LENGTH_1": 1.2, "LINK_MASS_1": 1.4, "LINK_COM_POS_1": 0.6}),
    World("Pendulum Mars, heavy short rod", "Pendulum-v1", "pendulum", -200.0,
          physics={"g": 3.71, "m": 1.3, "l": 0.9}, constants={"G": 3.71, "MASS": 1.3, "LENGTH": 0.9}),
]


def episode(world: World, program: Any, planner: Any, seed: int) -> dict[str, float]:
    """One episode from reset(seed), planning before every action; its return and planning costs."""
    adapter = envs.make(world.env_id, env_kwargs=dict(world.env_kwargs))
    for name, value in world.physics.items():
        if not hasattr(adapter.env.unwrapped, name):
            raise SystemExit(f"{world.env_id} has no attribute {name}")
        setattr(adapter.env.unwrapped, name, value)
    space = adapter.action_space
    state, mission = adapter.reset(seed=seed)
    total, seconds, steps, actions, worst = 0.0, 0.0, 0, 0, 0.0
    warm: list[Any] | None = None
    while True:
        started = time.perf_counter()
        plan = plan_return(program, state, mission, space, planner=planner, rng_seed=seed * 10_007 + actions,
                           init=warm, time_limit=60)
        spent = time.perf_counter() - started
        if plan.action is None:
            raise SystemExit(f"{world.label}: no plan ({plan.status}: {plan.reason} {plan.first_error})")
        seconds, steps, worst = seconds + spent, steps + plan.steps, max(worst, spent)
        warm = [list(a) if isinstance(a, (list, tuple)) else a for a in plan.actions[1:]] or None
        step = adapter.step(plan.action)
        total, actions, state = total + step.reward, actions + 1, step.state
        if step.terminated or step.truncated:
            break
    adapter.close()
    return {"return": total, "actions": actions, "seconds": seconds, "steps": steps, "worst": worst}


def run(world: World, planner: Any, episodes: int) -> dict[str, Any]:
    program = runtime.compile_program(runtime.api_namespace(envs.api_module(world.env_id).source), world.program())
    if program.failure is not None:
        raise SystemExit(f"{world.model}_model.py does not load: {program.failure}")
    played = [episode(world, program, planner, seed) for seed in range(episodes)]
    returns = [p["return"] for p in played]
    seconds = sum(p["seconds"] for p in played)
    return {"mean": statistics.fmean(returns), "won": sum(r >= world.threshold for r in returns),
            "per_action": seconds / sum(p["actions"] for p in played), "worst": max(p["worst"] for p in played),
            "rate": sum(p["steps"] for p in played) / seconds, "returns": returns}


def noisy_episode(env_id: str, program: Any, outcomes: str, seed: int, max_steps: int) -> float:
    """One episode of a random world from reset(seed), planning before every action with the
    default planner over `outcomes` ("sample" or "mode"), at most `max_steps` actions."""
    adapter = envs.make(env_id)
    state, mission = adapter.reset(seed=seed)
    total, warm = 0.0, None
    for t in range(max_steps):
        plan = plan_return(program, state, mission, adapter.action_space, rng_seed=seed * 10_007 + t, init=warm,
                           time_limit=60, outcomes=outcomes)
        if plan.action is None:
            raise SystemExit(f"{env_id}: no plan ({plan.status}: {plan.reason} {plan.first_error})")
        warm = [list(a) for a in plan.actions[1:]] or None
        step = adapter.step(plan.action)
        total, state = total + step.reward, step.state
        if step.terminated or step.truncated:
            break
    adapter.close()
    return total


def noisy(episodes: int, max_steps: int) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    import support.noisy_worlds  # noqa: F401 - registers the worlds

    for name, env_id, model in NOISY:
        program = runtime.compile_program(runtime.api_namespace(envs.api_module(env_id).source),
                                          (FIXTURES / model).read_text())
        means = {}
        for outcomes in ("sample", "mode"):
            started = time.perf_counter()
            returns = [noisy_episode(env_id, program, outcomes, seed, max_steps) for seed in range(episodes)]
            means[outcomes] = statistics.fmean(returns)
            print(f"{name:10} {outcomes:7} mean={means[outcomes]:8.2f} {[round(r, 1) for r in returns]} "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
        ratio = means["sample"] / means["mode"] if means["mode"] > 0 else means["mode"] / means["sample"]
        print(f"RESULT noisy_{name} sampled={means['sample']:.2f} mode={means['mode']:.2f} ratio={ratio:.2f} "
              f"episodes={episodes} max_steps={max_steps}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 episodes per world")
    parser.add_argument("--episodes", type=int, default=None)
    parser.add_argument("--planner", default=None, help="a return planner's name (default: the world's default)")
    parser.add_argument("--worlds", default="", help="comma-separated labels or prefixes of labels (default: all)")
    parser.add_argument("--steps", type=int, default=None, help="program steps per decision of iw (and iw-cem's iw)")
    parser.add_argument("--noisy", action="store_true", help="random worlds: sampled outcomes against the mode")
    parser.add_argument("--max-steps", type=int, default=30, help="--noisy: actions per episode, at most")
    args = parser.parse_args()
    episodes = args.episodes or (3 if args.quick else 10)
    if args.noisy:
        noisy(episodes, args.max_steps)
        return
    chosen = [w for w in WORLDS if not args.worlds or any(w.label.startswith(p) for p in args.worlds.split(","))]
    print(f"{'world':40} {'planner':8} {'mean':>8} {'threshold':>9} {'won':>6} {'s/action':>9} {'max s':>6} "
          f"{'steps/s':>8}")
    for world in chosen:
        kind = envs.make(world.env_id, env_kwargs=dict(world.env_kwargs)).action_space.kind
        planner = args.planner or DEFAULT_RETURN_PLANNERS["continuous" if kind == "continuous" else "discrete"]
        settings: Any = RETURN_PLANNERS[planner]
        if args.steps and isinstance(settings, WidthSettings):
            settings = dataclasses.replace(settings, steps=args.steps)
        elif args.steps and isinstance(settings, SeededCemSettings):
            settings = dataclasses.replace(settings, width=dataclasses.replace(settings.width, steps=args.steps))
        r = run(world, settings, episodes)
        print(f"{world.label:40} {planner:8} {r['mean']:8.1f} {world.threshold:9.1f} {r['won']:>3}/{episodes:<2} "
              f"{r['per_action']:9.3f} {r['worst']:6.2f} {r['rate']:8.0f}   {[round(x, 1) for x in r['returns']]}",
              flush=True)
        tag = re.sub(r"\W+", "_", world.label).strip("_").lower()
        print(f"RESULT {tag}_{planner} mean_return={r['mean']:.2f} threshold={world.threshold} won={r['won']} "
              f"episodes={episodes} s_per_action={r['per_action']:.4f} steps_per_s={r['rate']:.0f}", flush=True)


if __name__ == "__main__":
    main()
