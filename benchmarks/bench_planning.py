"""Planning at scale, with a correct world model: does wc win, and how long does it plan?

    python benchmarks/bench_planning.py                 # every world below
    python benchmarks/bench_planning.py --worlds doorkey-8x8,sokoban-10x10-4
    python benchmarks/bench_planning.py --episodes 5    # a quick look

For each world, wc learns it starting from the reference program in tests/fixtures (stored in a
scratch store and transferred with `from_program`, so no LLM is asked): 20 episodes, env seeds
0–19, default budgets, the sandbox and its OS jail as always. Printed per world: episodes won,
planning seconds and nodes expanded per episode (median and maximum), nodes per second.

Then, in the same run, the baseline: the planner wc had before (breadth-first search with a JSON
encode/decode per node, 20,000 nodes, 10 s), copied below, from the first starts of each world.
RESULT lines compare the fraction of worlds solved (19 of 20 episodes won; the baseline: every
start tried planned) and nodes/s on DoorKey-5x5 with the same program (goal: at least 3x).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]

from wc import envs  # noqa: E402
from wc._api import LearnConfig, Settings, add_program, learn  # noqa: E402
from wc._llm.base import NoLLM  # noqa: E402
from wc._sandbox import runtime, timer  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
MINIGRID = (FIXTURES / "minigrid_model.py").read_text()
SOKOBAN = (FIXTURES / "sokoban_model.py").read_text()
ALFWORLD = (FIXTURES / "alfworld_model.py").read_text()
ALFWORLD_DATA = Path(os.environ.get("ALFWORLD_DATA", ROOT.parent / "shared" / "alfworld"))


@dataclass(frozen=True)
class World:
    name: str
    env: str
    model: str
    options: tuple = ()
    episodes: int = 20
    named: bool = True  # named by the planning issue; the others are worlds of the same families


WORLDS = [
    World("doorkey-8x8", "MiniGrid-DoorKey-8x8-v0", MINIGRID),
    World("doorkey-16x16", "MiniGrid-DoorKey-16x16-v0", MINIGRID),
    World("unlockpickup", "MiniGrid-UnlockPickup-v0", MINIGRID),
    World("blockedunlockpickup", "MiniGrid-BlockedUnlockPickup-v0", MINIGRID),
    World("keycorridor-s3r3", "MiniGrid-KeyCorridorS3R3-v0", MINIGRID),
    World("multiroom-n4-s5", "MiniGrid-MultiRoom-N4-S5-v0", MINIGRID),
    World("fetch-8x8-n3", "MiniGrid-Fetch-8x8-N3-v0", MINIGRID),
    World("lavagap-s7", "MiniGrid-LavaGapS7-v0", MINIGRID),
    World("sokoban-8x8-3", "sokoban-3box", SOKOBAN, (("width", 8), ("height", 8))),
    World("sokoban-10x10-4", "sokoban-3box", SOKOBAN, (("boxes", 4), ("width", 10), ("height", 10),
                                                       ("max_steps", 200))),
    World("alfworld-valid-seen", "alfworld", ALFWORLD, (("games", "valid_seen"),), episodes=140),
    # the same families, not named by the issue
    World("doorkey-6x6", "MiniGrid-DoorKey-6x6-v0", MINIGRID, named=False),
    World("keycorridor-s4r3", "MiniGrid-KeyCorridorS4R3-v0", MINIGRID, named=False),
    World("multiroom-n6", "MiniGrid-MultiRoom-N6-v0", MINIGRID, named=False),
    World("lavacrossing-s9n2", "MiniGrid-LavaCrossingS9N2-v0", MINIGRID, named=False),
    World("fetch-6x6-n2", "MiniGrid-Fetch-6x6-N2-v0", MINIGRID, named=False),
    World("sokoban-9x9-3", "sokoban-3box", SOKOBAN, (("width", 9), ("height", 9)), named=False),
    World("sokoban-teleport", "sokoban-teleport", SOKOBAN, named=False),
    World("alfworld-valid-train", "alfworld", ALFWORLD, (("games", "valid_train"),), episodes=40, named=False),
]



async def play(world: World, episodes: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{tmp}/bench.db"
        pid = await add_program(world.env, world.model, db, **dict(world.options))
        per_episode: list[dict] = []

        def on_event(kind, data):
            if kind == "episode_end":
                per_episode.append(data)
        config = LearnConfig(env=world.env, env_options=dict(world.options), episodes=episodes, solved=None,
                             max_llm_calls=0, from_program=pid, seed=0)
        started = time.monotonic()
        summary = await learn(config, Settings(db=db), llm=NoLLM(), on_event=on_event)
        wall = time.monotonic() - started
    seconds = [e["plan_seconds"] for e in per_episode]
    nodes = [e["plan_nodes"] for e in per_episode]
    return {"won": sum(e["success"] for e in per_episode), "episodes": len(per_episode), "status": summary.status,
            "seconds": seconds, "nodes": nodes, "wall": wall,
            "nodes_per_s": sum(nodes) / sum(seconds) if sum(seconds) else 0.0,
            "undecided": sum(e["plans_undecided"] for e in per_episode)}


# --------------------------------------------------------------------------- the baseline


def _legacy_key(state):
    return "\x1e".join(sorted(json.dumps(e, sort_keys=True, separators=(",", ":")) for e in state))


def legacy_plan(program, state, mission, actions, max_nodes=20_000, max_depth=100, time_limit=10.0,
                call_timeout=2.0):
    """wc's planner before this benchmark: breadth-first search over JSON states, decoding and
    encoding every node (as it was; kept here only to measure against)."""
    ns = program.ns
    deadline = time.monotonic() + time_limit

    def expand(encoded, action):
        with timer.limit(call_timeout):
            nxt = program.transition(runtime.decode_state(ns, encoded), action)
            nxt_encoded = runtime.encode_state(nxt)
            r, done = runtime.reward_pair(program.reward(runtime.decode_state(ns, encoded), action, nxt, mission))
        return nxt_encoded, _legacy_key(nxt_encoded), r, done

    parents = {_legacy_key(state): None}
    frontier = deque([(state, _legacy_key(state), 0)])
    nodes = 0
    with timer.installed():
        while frontier:
            current, key, depth = frontier.popleft()
            if depth >= max_depth:
                continue
            for action in (actions(current) if callable(actions) else actions):
                if nodes >= max_nodes or time.monotonic() > deadline:
                    return False, nodes
                nodes += 1
                try:
                    nxt, nkey, reward, done = expand(current, action)
                except Exception:  # noqa: BLE001
                    continue
                if reward > 0 and done:
                    return True, nodes
                if done or nkey in parents:
                    continue
                parents[nkey] = key
                frontier.append((nxt, nkey, depth + 1))
    return False, nodes


def legacy_world(world: World, starts: int) -> dict:
    adapter = envs.make(world.env, **dict(world.options))
    try:
        program = legacy_program(adapter, world.model)
        actions = runtime.action_generator(adapter.action_source) or list(adapter.actions)
        found = 0
        for seed in range(starts):
            state, mission = adapter.reset(seed)
            ok, _ = legacy_plan(program, state, mission, actions)
            found += ok
        return {"found": found, "starts": starts}
    finally:
        adapter.close()


def legacy_program(adapter, source):
    """The program as wc ran it before: the same source with the real modules (the standard
    copy.deepcopy), which is what the sandbox gave programs until then."""
    return runtime.compile_program(runtime.api_namespace(adapter.api.source, guarded=False), source, guarded=False)


def nodes_per_second(planner, program, starts, actions) -> float:
    nodes, started = 0, time.perf_counter()
    for state, mission in starts:
        if planner == "legacy":
            nodes += legacy_plan(program, state, mission, actions, max_nodes=10 ** 9)[1]
        else:
            nodes += runtime.plan(program, state, mission, actions, planner="bfs", max_nodes=10 ** 9).nodes
    return nodes / (time.perf_counter() - started)


def doorkey_rates(rounds: int = 3) -> tuple[float, float]:
    """Nodes/s of the same breadth-first search in the same program, before and after, on
    DoorKey-5x5, alternating so that load on the machine hits both alike."""
    adapter = envs.make("minigrid-doorkey")
    before = legacy_program(adapter, MINIGRID)
    now = runtime.compile_program(runtime.api_namespace(adapter.api.source), MINIGRID)
    starts = [adapter.reset(s) for s in range(10)]
    legacy, new = [], []
    for _ in range(rounds):
        legacy.append(nodes_per_second("legacy", before, starts, list(adapter.actions)))
        new.append(nodes_per_second("new", now, starts, list(adapter.actions)))
    adapter.close()
    return statistics.median(legacy), statistics.median(new)


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worlds", help="comma-separated world names (default: all)")
    parser.add_argument("--episodes", type=int, help="episodes per world (default: 20; ALFWorld: its games)")
    parser.add_argument("--baseline-starts", type=int, default=5, help="starts per world for the baseline")
    args = parser.parse_args()
    os.environ.setdefault("ALFWORLD_DATA", str(ALFWORLD_DATA))
    chosen = [w for w in WORLDS if not args.worlds or w.name in args.worlds.split(",")]
    if not ALFWORLD_DATA.is_dir():
        print(f"(no ALFWorld dataset at {ALFWORLD_DATA}: its worlds are skipped)")
        chosen = [w for w in chosen if w.env != "alfworld"]
    header = f"{'world':22} {'won':>8} {'plan s/ep med':>13} {'max':>7} {'nodes/ep med':>12} {'max':>8} " \
             f"{'nodes/s':>8} {'undecided':>9} {'baseline':>9}"
    print(header)
    print("-" * len(header))
    solved_new = solved_old = 0
    for world in chosen:
        result = asyncio.run(play(world, args.episodes or world.episodes))
        base = legacy_world(world, args.baseline_starts)
        need = result["episodes"] - result["episodes"] // 20  # 19 of 20
        solved_new += result["won"] >= need
        solved_old += base["found"] == base["starts"]
        s, n = result["seconds"], result["nodes"]
        print(f"{world.name + ('' if world.named else ' *'):22} {result['won']:>4}/{result['episodes']:<3} "
              f"{statistics.median(s):>13.2f} {max(s):>7.2f} {statistics.median(n):>12,.0f} {max(n):>8,} "
              f"{result['nodes_per_s']:>8,.0f} {result['undecided']:>9} {base['found']:>5}/{base['starts']:<3}",
              flush=True)
    print("(* a world of the same family that the planning issue does not name)")
    total = len(chosen)
    print(f"RESULT worlds_solved ratio={(solved_new / total) / max(solved_old / total, 1 / total):.2f} "
          f"new={solved_new}/{total} baseline={solved_old}/{total}")
    legacy, new = doorkey_rates()
    print(f"breadth-first search on DoorKey-5x5, same program: {new:,.0f} nodes/s now, {legacy:,.0f} before")
    print(f"RESULT nodes_per_s_doorkey5 ratio={new / legacy:.2f} new={new:.0f} baseline={legacy:.0f}")


if __name__ == "__main__":
    main()
