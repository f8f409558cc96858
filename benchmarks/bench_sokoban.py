"""Boxoban with the reference world model: N levels of a collection, each played once through `wc eval`.

    PYTHONPATH=. python benchmarks/bench_sokoban.py       # the first 100 of ../shared/boxoban/medium-train-000.txt
    PYTHONPATH=. python benchmarks/bench_sokoban.py --levels FILE --count 50

The reference program (tests/fixtures/sokoban_model.py) is stored in a scratch store and
evaluated from there, as `wc eval --env sokoban --levels FILE --episodes N` does: no LLM is
asked, default budgets, the sandbox as always; the program is a black box and Sokoban's trusted
hint (wc/envs/sokoban/hints.py) guides and prunes the search. Episode i plays level i of the file,
within the environment's step limit (120, Boxoban's own). Printed: levels won, planning seconds
per level (median, maximum; all the searches of an episode), plan lengths, the slowest levels.
RESULT lines: the solved fraction, and planning seconds per level (the issue's goal: at least 90%
of 100 medium levels, at a median of at most 30 s).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]

from wc.api import Settings, add_program, evaluate  # noqa: E402

MODEL = (ROOT / "tests" / "fixtures" / "sokoban_model.py").read_text()
DEFAULT_LEVELS = ROOT.parent / "shared" / "boxoban" / "medium-train-000.txt"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default=str(DEFAULT_LEVELS), help="a level file (Boxoban or XSB)")
    parser.add_argument("--count", type=int, default=100, help="play the first N levels")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{tmp}/bench.db"
        pid = await add_program("sokoban", MODEL, db, levels=args.levels)
        report = await evaluate("sokoban", Settings(db=db), from_program=pid, env_options={"levels": args.levels},
                                episodes=args.count)
    wall = time.monotonic() - started
    episodes = report.run.episode_list
    seconds = [e.plan_seconds for e in episodes]
    won = [e for e in episodes if e.success]
    print(f"Sokoban {args.levels}: {len(episodes)} levels, reference program, no LLM, default budgets")
    print(f"won {len(won)} of {len(episodes)}; planning per level: median {statistics.median(seconds):.2f} s, "
          f"max {max(seconds):.1f} s; steps per won level: median "
          f"{statistics.median(e.steps for e in won) if won else 0:.0f}, max {max((e.steps for e in won), default=0)}; "
          f"searches per level: max {max(e.plans for e in episodes)}; the whole benchmark {wall:.0f} s")
    slow = sorted(zip(seconds, report.games, episodes, strict=True), key=lambda x: -x[0])[:8]
    for s, g, e in slow:
        print(f"  {s:7.1f} s  {'won ' if g.won else 'lost'}  {g.game:16} {e.plans} searches, {e.steps} steps")
    lost = [g.game for g in report.games if not g.won]
    if lost:
        print("lost: " + ", ".join(lost))
    print(f"RESULT sokoban_solved rate={len(won) / len(episodes):.3f} won={len(won)} levels={len(episodes)}")
    print(f"RESULT sokoban_plan_seconds median={statistics.median(seconds):.3f} max={max(seconds):.1f} "
          f"bench_seconds={wall:.0f}")


if __name__ == "__main__":
    asyncio.run(main())
