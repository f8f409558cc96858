"""Boxoban with the reference world model: N levels of a collection, each played once through `wc eval`.

    PYTHONPATH=. python benchmarks/bench_sokoban.py       # the first 100 of ../shared/boxoban/medium-train-000.txt
    PYTHONPATH=. python benchmarks/bench_sokoban.py --levels FILE --count 50
    PYTHONPATH=. python benchmarks/bench_sokoban.py --start 500 --count 200   # levels 500-699
    PYTHONPATH=. python benchmarks/bench_sokoban.py --max-steps 400          # the step limit lifted

The reference program (tests/fixtures/sokoban_model.py) is stored in a scratch store and
evaluated from there, as `wc eval --env sokoban --levels FILE --episodes N` does: no LLM is
asked, default budgets, the sandbox as always; the program is a black box and Sokoban's trusted
hint (wc/envs/sokoban/hints.py) guides and prunes the search. Episode i plays level i of the file
(from --start on), within the environment's step limit (120, Boxoban's own; --max-steps lifts
it). Printed: levels won, planning seconds
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

from wc._api import Settings, add_program, evaluate  # noqa: E402
from wc.envs.sokoban.xsb import load_levels, write_xsb  # noqa: E402

MODEL = (ROOT / "tests" / "fixtures" / "sokoban_model.py").read_text()
DEFAULT_LEVELS = ROOT.parent / "shared" / "boxoban" / "medium-train-000.txt"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default=str(DEFAULT_LEVELS), help="a level file (Boxoban or XSB)")
    parser.add_argument("--count", type=int, default=100, help="play N levels")
    parser.add_argument("--start", type=int, default=0, help="from level S of the file (0: the first)")
    parser.add_argument("--max-steps", type=int, help="the episodes' step limit (default: the file's, 120)")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{tmp}/bench.db"
        levels = args.levels
        if args.start:  # the slice as a file of its own: episode i plays its level i
            levels = f"{tmp}/slice.xsb"
            Path(levels).write_text(write_xsb(load_levels(args.levels)[args.start:args.start + args.count]))
        options = {"levels": levels, **({"max_steps": args.max_steps} if args.max_steps else {})}
        pid = await add_program("sokoban", MODEL, db, **options)
        report = await evaluate("sokoban", Settings(db=db), from_program=pid, env_options=options,
                                episodes=args.count)
    wall = time.monotonic() - started
    episodes = report.run.episode_list
    seconds = [e.plan_seconds for e in episodes]
    won = [e for e in episodes if e.success]
    print(f"Sokoban {args.levels} from level {args.start}: {len(episodes)} levels, reference program, no LLM, "
          f"default budgets, step limit {args.max_steps or 120}")
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
    lengths = sorted(e.steps for e in won)
    print(f"won levels by steps: <=60 {sum(n <= 60 for n in lengths)}, 61-100 {sum(60 < n <= 100 for n in lengths)}, "
          f"101-120 {sum(100 < n <= 120 for n in lengths)}, >120 {sum(n > 120 for n in lengths)}; "
          f"mean {statistics.mean(lengths) if lengths else 0:.1f}")
    print(f"RESULT sokoban_solved rate={len(won) / len(episodes):.3f} won={len(won)} levels={len(episodes)}")
    print(f"RESULT sokoban_plan_seconds median={statistics.median(seconds):.3f} max={max(seconds):.1f} "
          f"bench_seconds={wall:.0f}")


if __name__ == "__main__":
    asyncio.run(main())
