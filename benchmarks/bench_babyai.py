"""BabyAI's levels with the reference program: which does wc win, in how many steps, planning how long?

    PYTHONPATH=. python benchmarks/bench_babyai.py                      # every BabyAI level minigrid registers
    PYTHONPATH=. python benchmarks/bench_babyai.py --levels GoToSeq,BossLevel --seeds 5
    PYTHONPATH=. python benchmarks/bench_babyai.py --max-steps 0       # each level's own step limit

For each level, wc plays it from the reference program (tests/fixtures/babyai_model.py: the
grid's rules and the missions' progress, API module minigrid_v2), stored in a scratch store and
transferred with `from_program`, so no LLM is asked: env seeds 0..N-1, default planning
budgets, the sandbox as always. An episode is cut at --max-steps (200 by default; BabyAI's own
limits run from 64 to 2,880, and where a level's own limit is lower it holds), and a level at
--level-seconds of wall time (its episodes not finished by then are lost, "out of time"): an
episode that no search can plan would otherwise explore, and search again, for thousands of
steps.

Printed per level: episodes won, steps of the won ones (median), planning seconds per episode
(median, max), the searches' verdicts (found, undecided: the budget ran out, exhausted: the
program offers no plan), whether the program ever mispredicted what the level did, and the
level's own step limit. RESULT: levels whose every episode was won, and episodes won.
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
from wc.api import LearnConfig, Settings, add_program, learn  # noqa: E402
from wc.llm.base import NoLLM  # noqa: E402

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
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{tmp}/bench.db"
        pid = await add_program(level, PROGRAM, db)
        config = LearnConfig(env=level, episodes=seeds, solved=None, max_llm_calls=0, from_program=pid, seed=0,
                             max_steps=max_steps)
        timed_out = False
        try:
            await asyncio.wait_for(learn(config, Settings(db=db), llm=NoLLM(),
                                         on_event=lambda k, d: events.append((k, d))), seconds)
        except TimeoutError:
            timed_out = True
    ends = [d for k, d in events if k == "episode_end"]
    plans = Counter(d["status"] for k, d in events if k == "plan")
    won = [d for d in ends if d["success"]]
    return {"level": level, "episodes": seeds, "won": len(won), "finished": len(ends), "timed_out": timed_out,
            "steps": [d["steps"] for d in won], "plan_seconds": [d["plan_seconds"] for d in ends],
            "plans": plans, "mispredicted": any(k == "refine_skipped" for k, _ in events),
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
    parser.add_argument("--seeds", type=int, default=3, help="episodes (env seeds 0..N-1) per level")
    parser.add_argument("--max-steps", type=int, default=200, help="steps per episode at most (0: the level's own)")
    parser.add_argument("--level-seconds", type=float, default=120.0, help="wall time per level")
    args = parser.parse_args()
    chosen = levels()
    if args.levels:
        wanted = {w if w.startswith("BabyAI-") else f"BabyAI-{w}" for w in args.levels.split(",")}
        chosen = [c for c in chosen if c in wanted or c.rsplit("-v", 1)[0] in wanted]
    print(f"{len(chosen)} BabyAI levels, {args.seeds} seeds each, episodes cut at "
          f"{args.max_steps or 'the level limit'} steps, {args.level_seconds:.0f} s per level")
    header = f"{'level':32} {'won':>5} {'steps med':>9} {'plan s med':>10} {'max':>6} {'found':>5} {'undec':>5} " \
             f"{'exh':>4} {'limit':>5}  why lost"
    print(header)
    print("-" * len(header))
    results = []
    for level in chosen:
        r = asyncio.run(play(level, args.seeds, args.max_steps or None, args.level_seconds))
        results.append(r)
        s = r["plan_seconds"] or [0.0]
        print(f"{level.removeprefix('BabyAI-'):32} {r['won']:>2}/{r['episodes']:<2} "
              f"{statistics.median(r['steps']) if r['steps'] else '-':>9} {statistics.median(s):>10.2f} "
              f"{max(s):>6.1f} {r['plans'].get('found', 0):>5} {r['plans'].get('budget', 0):>5} "
              f"{r['plans'].get('exhausted', 0):>4} {r['limit']:>5}  {verdict(r)}", flush=True)
    all_won = sum(r["won"] == r["episodes"] for r in results)
    episodes = sum(r["episodes"] for r in results)
    won = sum(r["won"] for r in results)
    print(f"RESULT babyai_levels_all_won levels={all_won}/{len(results)} episodes_won={won}/{episodes}")


if __name__ == "__main__":
    main()
