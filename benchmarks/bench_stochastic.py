"""Random worlds: wc's planning in correct programs, against the optimum of each environment.

    python benchmarks/bench_stochastic.py                  # every world, the episodes below
    python benchmarks/bench_stochastic.py --quick          # a tenth of the episodes
    python benchmarks/bench_stochastic.py --only frozenlake-4x4,taxi-rainy --episodes 500

For each world the optimum comes from the environment's own rules, never from a world model:
finite-horizon value iteration on gymnasium's table `env.unwrapped.P` within the episode's step
limit (slippery FrozenLake 4x4 and 8x8, a changed `success_rate`, a map of its own; rainy Taxi
and a changed `rainy_probability`), dynamic programming over the hands themselves with
gymnasium's blackjack functions (Blackjack-v1, which has no table), and for MiniGrid's
Dynamic-Obstacles, which has neither, a bracket: at most 1 (every episode won), at least the
rate of a policy that plays the real environment with full knowledge (the shortest way around
the balls where they stand, turning while the cell in front is taken; measured over the same
episodes).

wc plans in the correct reference program (tests/fixtures), in-process, as the agent would in
its worker: `plan_chance`, exact where the program's reachable states fit the budget (once per
episode start, the policy then kept for the episode: the toy-text worlds), MCTS with chance
nodes where they do not (Dynamic-Obstacles, planning again before every action).

Then the agent's own path (`--agent-episodes`, 0 to skip): the reference program stored
(`wc._api.add_program`) and played by `wc eval` (`wc._api.evaluate`: the WorldCoder agent with no
LLM call, from that program), through the jailed sandbox: the worker plans (over chance, since
the program answers with distributions: objective "return" in the toy-text worlds, which the
generic gymnasium domain scores by their return, "goal" in Dynamic-Obstacles) and the parent
reads its plans back. The agent explores at random until it has `min_transitions` distinct
transitions, then checks the program (φ1, φ2) and plans with it; episodes that began before it
adopted the program are left out. Seconds per decision are the worker's own planning time per
plan request (`PlanSearched.seconds`); wall seconds per step include the store, the sandbox's
φ1 check after every step and the environment.

Printed per world: the optimum; the exact value of wc's policy in the true MDP where a table
exists (its fraction of the optimum has no sampling error); the rate or mean return measured
over the episodes with a 95% interval; random play's, for the normalised return (R - R_random)
/ (R_opt - R_random); planning's cost (seconds per decision, program calls); the agent's rate or
mean return, its ratio and its cost.

  RESULT <world> ratio=<wc / optimum>   (Dynamic-Obstacles: against the upper bound 1)
  AGENT <world> ratio=<the agent's measured rate or mean return / optimum> s/decision=<...>

and a table of both at the end.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.true_mdp import blackjack_optimum, blackjack_policy_value, finite_horizon_values  # noqa: E402

from wc import envs  # noqa: E402
from wc._sandbox import runtime  # noqa: E402
from wc._sandbox.plan_chance import CHANCE_MCTS, ChanceModel, plan_chance  # noqa: E402
from wc.envs.api import load  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
# a map of its own (gymnasium's generate_random_map(size=6, p=0.8, seed=5), written out)
OWN_MAP = ["SFFFFF", "FFFFFF", "FHFFFF", "HFHFFF", "FHHFHF", "FFFFFG"]


@dataclass(frozen=True)
class World:
    name: str
    env_id: str
    kwargs: dict
    model: str
    replacements: tuple[tuple[str, str], ...] = ()
    objective: str = "goal"          # goal: the success rate is measured; return: the mean return
    episodes: int = 2000
    horizon: int | None = None       # the planner's horizon, if not the episode's step limit
    minigrid: bool = False
    notes: str = ""
    agent_episodes: int = 200        # episodes the agent plays through the sandbox (`wc eval`)


WORLDS = [
    World("frozenlake-4x4", "FrozenLake-v1", {}, "frozenlake_slippery_model.py"),
    World("frozenlake-8x8", "FrozenLake-v1", {"map_name": "8x8"}, "frozenlake_slippery_model.py",
          (('LAKE = MAPS["4x4"]', 'LAKE = MAPS["8x8"]'),)),
    World("frozenlake-4x4-success-0.6", "FrozenLake-v1", {"success_rate": 0.6}, "frozenlake_slippery_model.py",
          (("SUCCESS = 1 / 3", "SUCCESS = 0.6"),), notes="gymnasium 1.4's success_rate"),
    World("frozenlake-own-6x6", "FrozenLake-v1", {"desc": OWN_MAP}, "frozenlake_slippery_model.py",
          (('LAKE = MAPS["4x4"]', f"LAKE = {OWN_MAP!r}"),), notes="a map of its own"),
    World("taxi-rainy", "Taxi-v4", {"is_rainy": True}, "taxi_rainy_model.py", objective="return", episodes=1000,
          agent_episodes=400),
    World("taxi-rainy-0.6", "Taxi-v4", {"is_rainy": True, "rainy_probability": 0.6}, "taxi_rainy_model.py",
          (("RAIN = 0.8", "RAIN = 0.6"),), objective="return", episodes=1000, agent_episodes=400),
    World("blackjack", "Blackjack-v1", {}, "blackjack_model.py", objective="return", episodes=20000, horizon=30,
          notes="a hand ends within 20 cards: a horizon of 30 is the whole game", agent_episodes=3000),
    World("dynamic-obstacles-6x6", "MiniGrid-Dynamic-Obstacles-6x6-v0", {}, "dynamic_obstacles_model.py",
          episodes=100, minigrid=True, agent_episodes=40),
    World("dynamic-obstacles-8x8", "MiniGrid-Dynamic-Obstacles-8x8-v0", {}, "dynamic_obstacles_model.py",
          episodes=100, minigrid=True, agent_episodes=40),
]


@dataclass
class Measured:
    values: list[float] = field(default_factory=list)   # per episode: won (1/0) or its return
    decisions: int = 0
    seconds: float = 0.0
    calls: int = 0
    planners: dict = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def half_width(self) -> float:
        """Half the 95% interval of the mean (normal approximation; for a rate, Wilson's width)."""
        n = len(self.values)
        if set(self.values) <= {0.0, 1.0}:
            p = self.mean
            z = 1.96
            return z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return 1.96 * statistics.stdev(self.values) / math.sqrt(n) if n > 1 else math.inf


def program_for(world: World, adapter) -> runtime.CompiledProgram:
    source = program_source(world)
    api = load("minigrid", 3).source if world.minigrid else adapter.api.source
    program = runtime.compile_program(runtime.api_namespace(api), source)
    assert program.failure is None, program.failure
    return program


def actions_of(world: World, adapter) -> list[str]:
    """What the agent plans with: the environment's own actions (Dynamic-Obstacles has three;
    MiniGrid plays the adapter's four others as "left")."""
    if world.minigrid:
        return list(adapter.actions[:int(adapter.env.action_space.n)])
    return list(adapter.actions)


# --------------------------------------------------------------------------- the optimum


def optimum_of(world: World, adapter) -> tuple[float, float | None]:
    """(optimum, lower bound): exact for the toy-text worlds (lower bound None); Dynamic-Obstacles:
    (1.0, measured later)."""
    if world.minigrid:
        return 1.0, None
    if world.env_id.startswith("Blackjack"):
        return blackjack_optimum()[0], None
    unwrapped = adapter.env.unwrapped
    values = finite_horizon_values(unwrapped.P, adapter.max_steps)[adapter.max_steps]
    return float(sum(p * values[s] for s, p in enumerate(unwrapped.initial_state_distrib) if p > 0)), None


def starts(world: World, adapter) -> list[list[dict]]:
    """Every state an episode may start in (toy-text: from gymnasium's own description)."""
    unwrapped = adapter.env.unwrapped
    if world.env_id.startswith("Blackjack"):
        from gymnasium.envs.toy_text import blackjack as bj

        cards = sorted(set(bj.deck))
        seen = {(bj.sum_hand([a, b]), shown, bj.usable_ace([a, b])) for a in cards for b in cards for shown in cards}
        return [adapter.encode_observation(obs) for obs in sorted(seen)]
    return [adapter.encode_observation(s) for s, p in enumerate(unwrapped.initial_state_distrib) if p > 0]


def solve_all(world: World, adapter, program) -> tuple[dict, Measured]:
    """The exact planner's policy from every possible start (so that wc's policy can be valued
    exactly): {start key: (model, policy)}, and what planning cost."""
    cost, policies = Measured(), {}
    acts = actions_of(world, adapter)
    model = ChanceModel(program, adapter.mission)
    limit = world.horizon or adapter.max_steps
    for state in starts(world, adapter):
        began = time.monotonic()
        plan, policy = plan_chance(program, state, adapter.mission, acts, objective=world.objective, horizon=limit,
                                   model=model, max_nodes=50_000)
        cost.seconds += time.monotonic() - began
        cost.decisions += 1
        cost.calls += plan.calls
        cost.planners[plan.planner] = cost.planners.get(plan.planner, 0) + 1
        assert plan.exact and policy is not None, plan.reason
        policies[observation_index(adapter, state)] = (model, policy)
    return policies, cost


def policy_value(world: World, adapter, policies: dict) -> tuple[float, float]:
    """The exact expected value of wc's policies in the true MDP, over the initial distribution,
    and random play's: how far from the optimum wc's planning is, without sampling error."""
    limit = world.horizon or adapter.max_steps
    if world.env_id.startswith("Blackjack"):
        def hits(player_sum: int, shown: int, ace: int) -> float:
            """wc's action in a hand (a state after hits is planned from itself: a hand's total,
            the card shown and a usable ace are all that matter, and the game ends long before
            the horizon)."""
            start = (player_sum, shown, ace)
            if start not in policies:
                model = next(iter(policies.values()))[0]
                plan, policy = plan_chance(model.program, adapter.encode_observation(start), adapter.mission,
                                           actions_of(world, adapter), objective="return", horizon=limit, model=model)
                policies[start] = (model, policy)
            model, policy = policies[start]
            action = policy.action(model.start(adapter.encode_observation(start)), limit)
            assert action is not None, start
            return 1.0 if action == "hit" else 0.0

        return blackjack_policy_value(hits), blackjack_policy_value(lambda *_: 0.5)
    unwrapped = adapter.env.unwrapped
    P, n = unwrapped.P, len(adapter.actions)
    total = rnd = 0.0
    for s0, p0 in enumerate(unwrapped.initial_state_distrib):
        if p0 > 0:
            total += p0 * _evaluate(adapter, P, *policies[s0], s0, limit)
    values = [0.0] * len(P)
    for _ in range(limit):   # uniformly random play, exactly
        values = [sum(p * (r + (0.0 if done else values[s2])) for a in range(n) for p, s2, r, done in P[s][a]) / n
                  for s in range(len(P))]
    rnd = sum(p * values[s] for s, p in enumerate(unwrapped.initial_state_distrib) if p > 0)
    return total, rnd


# --------------------------------------------------------------------------- playing


def observation_index(adapter, state) -> int | tuple:
    """The gymnasium observation behind a toy-text state (to key policies by their start)."""
    fields = [v for k, v in state[0].items() if k != "type"]
    digits = adapter.layout.digits
    if not digits:
        return tuple(fields)
    value = 0
    for (_, radix), v in zip(digits, fields, strict=True):
        value = value * radix + v
    return value


def _evaluate(adapter, P: dict, model: ChanceModel, policy, start: int, limit: int) -> float:
    """The exact expected return of one policy from `start` within `limit` steps on the table `P`."""
    memo: dict = {}

    def value(s: int, h: int) -> float:
        if h == 0:
            return 0.0
        if (s, h) not in memo:
            a = adapter.actions.index(policy.action(model.start(adapter.encode_observation(s)), h))
            memo[(s, h)] = sum(p * (r + (0.0 if done else value(s2, h - 1))) for p, s2, r, done in P[s][a])
        return memo[(s, h)]

    return value(start, limit)


def play_exact(world: World, adapter, policies: dict, episodes: int, seed: int) -> Measured:
    """Episodes played with the exact planner's policy for their start."""
    out = Measured()
    limit = world.horizon or adapter.max_steps
    for episode in range(episodes):
        state, mission = adapter.reset(seed=seed + episode)
        model, policy = policies[observation_index(adapter, state)]
        total = 0.0
        for t in range(adapter.max_steps):
            step = adapter.step(policy.action(model.start(state), limit - t))
            total += step.reward
            state = step.state
            if step.terminated or step.truncated:
                break
        out.values.append(float(total > 0) if world.objective == "goal" else total)
    return out


def play_mcts(world: World, adapter, program, episodes: int, seed: int, simulations: int,
              rollout_depth: int = CHANCE_MCTS.rollout_depth) -> Measured:
    """Episodes planning again before every action (MCTS with chance nodes where the exact
    planner gives up)."""
    out = Measured()
    acts = actions_of(world, adapter)
    settings = replace(CHANCE_MCTS, simulations=simulations, rollout_depth=rollout_depth)
    for episode in range(episodes):
        state, mission = adapter.reset(seed=seed + episode)
        model = ChanceModel(program, mission, rng=random.Random(seed + episode))
        won = 0.0
        for t in range(adapter.max_steps):
            plan, _ = plan_chance(program, state, mission, acts, objective="goal", horizon=adapter.max_steps - t,
                                  model=model, settings=settings, rng_seed=(seed + episode) * 1000 + t, max_nodes=2000)
            out.seconds += plan.seconds
            out.decisions += 1
            out.calls += plan.calls
            out.planners[plan.planner] = out.planners.get(plan.planner, 0) + 1
            step = adapter.step(plan.action)
            state = step.state
            if step.terminated or step.truncated:
                won = float(step.reward > 0)
                break
        out.values.append(won)
    return out


def play_agent(world: World, episodes: int) -> Measured:
    """The reference program stored and played by `wc eval` (the agent, the jailed sandbox, no
    LLM), in a store of its own; the episodes played with the program adopted."""
    from wc._api import add_program, evaluate
    from wc._core.config import Settings
    from wc.events import EpisodeStarted, PlanSearched, ProgramTransferred, RefineEnded, RefineSkipped

    source = program_source(world)
    options = {"env_kwargs": world.kwargs} if world.kwargs else {}
    out = Measured()
    adopted: list[int] = []      # the episode in which the agent took the program up (-1: from the start)
    kept_unsolved = [0]          # times it kept the program although φ1 or φ2 did not hold (none may be asked)
    episode = [-1]

    def on_event(event) -> None:
        if isinstance(event, EpisodeStarted):
            episode[0] = event.episode
        elif isinstance(event, ProgramTransferred) and not adopted:
            adopted.append(episode[0])
        elif isinstance(event, RefineEnded) and event.program_id is not None and not adopted:
            adopted.append(episode[0])
        elif isinstance(event, RefineSkipped):
            kept_unsolved[0] += 1
        elif isinstance(event, PlanSearched):
            out.decisions += 1
            out.seconds += event.seconds

    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{tmp}/bench.db"

        async def go():
            pid = await add_program(world.env_id, source, db, **options)
            return await evaluate(world.env_id, Settings(db=db), from_program=pid, env_options=options,
                                  episodes=episodes, on_event=on_event)

        began = time.monotonic()
        report = asyncio.run(go())
        wall = time.monotonic() - began
    run = report.run
    if run.status != "finished" or not adopted:
        raise SystemExit(f"{world.name}: the agent's run {run.status} ({run.error}); program adopted: {bool(adopted)}")
    played = [e for e in run.episode_list if e.index > adopted[0]]
    out.values = [float(e.total_reward > 0) if world.objective == "goal" else e.total_reward for e in played]
    out.calls = run.llm_calls
    out.planners = {"wall_seconds_per_step": wall / max(1, sum(e.steps for e in run.episode_list)),
                    "adopted_in_episode": adopted[0], "kept_unsolved": kept_unsolved[0]}
    return out


def program_source(world: World) -> str:
    source = (FIXTURES / world.model).read_text()
    for old, new in world.replacements:
        assert old in source, old
        source = source.replace(old, new)
    return source


def play_random(world: World, adapter, episodes: int, seed: int) -> Measured:
    out, rng, acts = Measured(), random.Random(seed), actions_of(world, adapter)
    for episode in range(episodes):
        adapter.reset(seed=seed + episode)
        total = 0.0
        for _ in range(adapter.max_steps):
            step = adapter.step(rng.choice(acts))
            total += step.reward
            if step.terminated or step.truncated:
                break
        out.values.append(float(total > 0) if world.objective == "goal" else total)
    return out


def play_knowing(adapter, episodes: int, seed: int) -> Measured:
    """Dynamic-Obstacles played from the real environment's own state: the shortest way to the
    goal around the balls where they stand now, turning while the cell in front is taken. A
    lower bound on the optimum."""
    out = Measured()
    for episode in range(episodes):
        adapter.reset(seed=seed + episode)
        won = 0.0
        for _ in range(adapter.max_steps):
            step = adapter.step(_knowing_action(adapter.env.unwrapped))
            if step.terminated or step.truncated:
                won = float(step.reward > 0)
                break
        out.values.append(won)
    return out


def _knowing_action(env) -> str:
    directions = [(1, 0), (0, 1), (-1, 0), (0, -1)]
    start = (int(env.agent_pos[0]), int(env.agent_pos[1]), int(env.agent_dir))

    def free(x: int, y: int) -> bool:
        cell = env.grid.get(x, y)
        return cell is None or cell.type == "goal"

    parents = {start: None}
    queue = deque([start])
    while queue:
        x, y, d = queue.popleft()
        cell = env.grid.get(x, y)
        if cell is not None and cell.type == "goal":
            node = (x, y, d)
            while parents[node] is not None and parents[node][0] != start:
                node = parents[node][0]
            return parents[node][1] if parents[node] is not None else "left"
        dx, dy = directions[d]
        for action, nxt in (("left", (x, y, (d - 1) % 4)), ("right", (x, y, (d + 1) % 4)),
                            ("forward", (x + dx, y + dy, d))):
            if action == "forward" and not free(x + dx, y + dy):
                continue
            if nxt not in parents:
                parents[nxt] = ((x, y, d), action)
                queue.append(nxt)
    return "left"   # boxed in for now: wait by turning


# --------------------------------------------------------------------------- the table


def run(world: World, scale: float, seed: int, simulations: int, agent_episodes: int | None,
        rollout_depth: int = CHANCE_MCTS.rollout_depth) -> dict:
    adapter = envs.make(world.env_id, env_kwargs=world.kwargs) if world.kwargs else envs.make(world.env_id)
    try:
        program = program_for(world, adapter)
        episodes = max(10, int(world.episodes * scale))
        best, _ = optimum_of(world, adapter)
        exact_value = exact_random = lower = None
        if world.minigrid:
            wc = cost = play_mcts(world, adapter, program, episodes, seed, simulations, rollout_depth)
            lower = play_knowing(adapter, max(episodes, 500), seed).mean
        else:
            policies, cost = solve_all(world, adapter, program)
            exact_value, exact_random = policy_value(world, adapter, policies)
            wc = play_exact(world, adapter, policies, episodes, seed)
        rnd = play_random(world, adapter, max(episodes, 1000), seed + 10**6)
        n_agent = world.agent_episodes if agent_episodes is None else agent_episodes
        agent = play_agent(world, max(10, int(n_agent * scale))) if n_agent else None
        return {"agent": agent, "world": world.name, "env": world.env_id, "objective": world.objective, "optimum": best,
                "lower": lower, "policy_value": exact_value, "random_value": exact_random, "measured": wc.mean,
                "half_width": wc.half_width, "episodes": episodes, "random": rnd.mean,
                "seconds_per_decision": cost.seconds / max(1, cost.decisions),
                "calls_per_decision": cost.calls / max(1, cost.decisions), "decisions": cost.decisions,
                "planners": cost.planners, "notes": world.notes}
    finally:
        adapter.close()


def report(row: dict) -> None:
    best, measured = row["optimum"], row["measured"]
    what = "success" if row["objective"] == "goal" else "mean return"
    print(f"\n{row['world']} ({row['env']}; {what}, {row['episodes']} episodes)"
          + (f": {row['notes']}" if row["notes"] else ""))
    if row["lower"] is not None:
        print(f"  optimum:          between {row['lower']:.3f} (a policy with full knowledge of the real env) and 1")
    else:
        print(f"  optimum:          {best:.6f}")
    random_value = row["random_value"] if row["random_value"] is not None else row["random"]
    if row["policy_value"] is not None:
        value = row["policy_value"]
        share = f"{value / best:.6f} of the optimum" if best > 0 else f"{best - value:.2g} below the optimum"
        print(f"  wc's policy:      {value:.6f} exactly in the true MDP ({share}; normalised "
              f"{(value - random_value) / (best - random_value):.6f})")
    print(f"  measured:         {measured:.4f} +- {row['half_width']:.4f} (95%)")
    print(f"  random play:      {random_value:.4f}" + (" exactly" if row["random_value"] is not None else ""))
    print(f"  planning:         {row['seconds_per_decision'] * 1000:.1f} ms and {row['calls_per_decision']:.0f} "
          f"program calls per decision, {row['decisions']} decisions ({row['planners']})")
    value = row["policy_value"] if row["policy_value"] is not None else measured
    if best > 0:
        ratio, kind = value / best, ("exact policy value" if row["policy_value"] is not None else "measured") \
            + " / optimum"
    else:
        ratio, kind = (value - random_value) / (best - random_value), "normalised return"
    print(f"RESULT {row['world']} ratio={ratio:.4f} ({kind}) measured={measured:.4f}+-{row['half_width']:.4f} "
          f"optimum={best:.6f}")
    agent = row["agent"]
    row["ratio"] = ratio
    if agent is not None:
        row["agent_ratio"] = agent.mean / best if best > 0 else (agent.mean - random_value) / (best - random_value)
        print(f"  the agent (wc eval, through the sandbox): {agent.mean:.4f} +- {agent.half_width:.4f} (95%) over "
              f"{len(agent.values)} episodes with the program (from episode "
              f"{agent.planners['adopted_in_episode'] + 1}; "
              f"kept while φ1 or φ2 failed: {agent.planners['kept_unsolved']} times); "
              f"{agent.decisions} plan requests, "
              f"{agent.seconds / max(1, agent.decisions):.3f} s each in the worker, "
              f"{agent.planners['wall_seconds_per_step']:.3f} s wall per step; {agent.calls} LLM calls")
        print(f"AGENT {row['world']} ratio={row['agent_ratio']:.4f} measured={agent.mean:.4f}+-{agent.half_width:.4f} "
              f"s/decision={agent.seconds / max(1, agent.decisions):.3f}")


def table(rows: list[dict]) -> None:
    """Every world in one table: the optimum, wc in-process and the agent, and the cost."""
    print("\n| world | optimum | wc in-process | ratio | agent (wc eval) | ratio | s/decision (agent) | wall s/step |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        best = f"{row['lower']:.3f}-1" if row["lower"] is not None else f"{row['optimum']:.4f}"
        mine = row["policy_value"] if row["policy_value"] is not None else row["measured"]
        agent = row["agent"]
        cells = [row["world"], best, f"{mine:.4f}", f"{row['ratio']:.3f}"]
        if agent is None:
            cells += ["-", "-", "-", "-"]
        else:
            cells += [f"{agent.mean:.3f} ± {agent.half_width:.3f} ({len(agent.values)})", f"{row['agent_ratio']:.3f}",
                      f"{agent.seconds / max(1, agent.decisions):.3f}",
                      f"{agent.planners['wall_seconds_per_step']:.3f}"]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the episodes")
    parser.add_argument("--only", default="", help="comma-separated world names")
    parser.add_argument("--episodes", type=int, default=0, help="episodes per world (default: each world's own)")
    parser.add_argument("--simulations", type=int, default=CHANCE_MCTS.simulations,
                        help="MCTS simulations per decision where the exact planner gives up")
    parser.add_argument("--rollout-depth", type=int, default=CHANCE_MCTS.rollout_depth,
                        help="MCTS rollout steps at most, where the exact planner gives up")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--agent-episodes", type=int, default=None,
                        help="episodes the agent plays through the sandbox per world (default: each world's own; "
                             "0: skip the agent)")
    args = parser.parse_args()
    chosen = [w for w in WORLDS if not args.only or w.name in args.only.split(",")]
    rows = []
    for world in chosen:
        if args.episodes:
            world = replace(world, episodes=args.episodes)
        rows.append(run(world, 0.1 if args.quick else 1.0, args.seed, args.simulations, args.agent_episodes,
                        args.rollout_depth))
        report(rows[-1])
    table(rows)


if __name__ == "__main__":
    main()
