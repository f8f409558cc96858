"""BabyAI's levels with the reference program: which does wc win, in how many steps, planning how long?

    PYTHONPATH=. python benchmarks/bench_babyai.py                      # every BabyAI level minigrid registers
    PYTHONPATH=. python benchmarks/bench_babyai.py --levels GoToSeq,BossLevel --seeds 5
    PYTHONPATH=. python benchmarks/bench_babyai.py --max-steps 0       # each level's own step limit

For each level, wc plays it from the reference program (tests/fixtures/babyai_model.py: the
grid's rules and the missions' progress, API module minigrid_v2), stored in a scratch store and
transferred with `from_program`, so no LLM is asked; default planning budgets, the sandbox as
always. Each episode is a run of its own (run seed k, so env seed 1009·k, k = 0..N-1), cut at
--max-steps (200 by default; BabyAI's own limits run from 64 to 2,880, and where a level's own
limit is lower it holds) and at --episode-seconds of wall time (then lost, "out of time"): an
episode that no search can plan would otherwise explore, and search again with the agent's
back-off, for thousands of steps.

Printed per level: episodes won, steps of the won ones (median), planning seconds per episode
started (median, max), the searches' verdicts (found, undecided: the budget ran out, exhausted:
the program offers no plan), expansions per second of planning, the level's own step limit, and
why episodes were lost: the program mispredicted what the level did, it offers no plan, searches
ran out of budget, the level ran out of wall time. RESULT: levels whose every episode was won,
and episodes won.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]

import gymnasium as gym  # noqa: E402
import minigrid  # noqa: E402, F401  (registers the BabyAI ids)

from wc import envs  # noqa: E402
from wc._api import LearnConfig, Settings, add_program, learn  # noqa: E402
from wc._llm.base import NoLLM  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
PROGRAM = (FIXTURES / "babyai_model.py").read_text()


def levels() -> list[str]:
    return [env_id for env_id in gym.registry if env_id.startswith("BabyAI-")]


def own_limit(level: str) -> int:
    adapter = envs.make(level)
    try:
        adapter.reset(0)
        return adapter.max_steps
    finally:
        adapter.close()


async def play(level: str, seeds: int, max_steps: int | None, seconds: float) -> dict:
    events: list[tuple[str, dict]] = []
    started = time.monotonic()
    timed_out = False
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{tmp}/bench.db"
        pid = await add_program(level, PROGRAM, db)
        for k in range(seeds):
            config = LearnConfig(env=level, episodes=1, solved=None, max_llm_calls=0, from_program=pid, seed=k,
                                 max_steps=max_steps)
            try:
                await asyncio.wait_for(learn(config, Settings(db=db), llm=NoLLM(),
                                             on_event=lambda kind, data: events.append((kind, data))), seconds)
            except TimeoutError:
                timed_out = True
    ends = [d for k, d in events if k == "episode_end"]
    searches = [d for k, d in events if k == "plan"]
    planning: list[float] = []  # seconds of search per episode, finished or not
    for kind, data in events:
        if kind == "episode_start":
            planning.append(0.0)
        elif kind == "plan" and planning:
            planning[-1] += data["seconds"]
    won = [d for d in ends if d["success"]]
    seconds = sum(d["seconds"] for d in searches)
    return {"level": level, "episodes": seeds, "won": len(won), "finished": len(ends), "timed_out": timed_out,
            "steps": [d["steps"] for d in won], "plan_seconds": planning,
            "plans": Counter(d["status"] for d in searches),
            "nodes_per_s": sum(d["nodes"] for d in searches) / seconds if seconds else 0.0,
            "mispredicted": any(k == "refine_skipped" for k, _ in events),
            "limit": own_limit(level), "wall": time.monotonic() - started}


def verdict(r: dict) -> str:
    if r["won"] == r["episodes"]:
        return ""
    why = []
    if r["mispredicted"]:
        why.append("program mispredicts")
    if r["plans"].get("exhausted"):
        why.append("no plan in the program")
    if r["plans"].get("budget"):
        why.append("search budget")
    if r["timed_out"]:
        why.append("out of time")
    return ", ".join(why) or "step limit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", help="comma-separated level names, with or without BabyAI- and -v0 "
                                         "(default: every BabyAI level)")
    parser.add_argument("--seeds", type=int, default=3, help="episodes per level (run seeds 0..N-1)")
    parser.add_argument("--max-steps", type=int, default=200, help="steps per episode at most (0: the level's own)")
    parser.add_argument("--episode-seconds", type=float, default=60.0, help="wall time per episode")
    args = parser.parse_args()
    chosen = levels()
    if args.levels:
        wanted = {w if w.startswith("BabyAI-") else f"BabyAI-{w}" for w in args.levels.split(",")}
        chosen = [c for c in chosen if c in wanted or c.rsplit("-v", 1)[0] in wanted]
    print(f"{len(chosen)} BabyAI levels, {args.seeds} seeds each, episodes cut at "
          f"{args.max_steps or 'the level limit'} steps and {args.episode_seconds:.0f} s")
    header = f"{'level':28} {'won':>5} {'steps med':>9} {'plan s med':>10} {'max':>6} {'found':>5} {'undec':>5} " \
             f"{'exh':>4} {'nodes/s':>7} {'limit':>5}  why lost"
    print(header)
    print("-" * len(header))
    results = []
    for level in chosen:
        r = asyncio.run(play(level, args.seeds, args.max_steps or None, args.episode_seconds))
        results.append(r)
        s = r["plan_seconds"] or [0.0]
        print(f"{level.removeprefix('BabyAI-'):28} {r['won']:>2}/{r['episodes']:<2} "
              f"{statistics.median(r['steps']) if r['steps'] else '-':>9} {statistics.median(s):>10.2f} "
              f"{max(s):>6.1f} {r['plans'].get('found', 0):>5} {r['plans'].get('budget', 0):>5} "
              f"{r['plans'].get('exhausted', 0):>4} {r['nodes_per_s']:>7,.0f} {r['limit']:>5}  {verdict(r)}",
              flush=True)
    all_won = sum(r["won"] == r["episodes"] for r in results)
    episodes = sum(r["episodes"] for r in results)
    won = sum(r["won"] for r in results)
    print(f"RESULT babyai_levels_all_won levels={all_won}/{len(results)} episodes_won={won}/{episodes}")


if __name__ == "__main__":
    main()
