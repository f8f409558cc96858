"""ALFWorld with the reference world model: every game of a split once, through `wc eval`, in
both observation modes.

    ALFWORLD_DATA=../shared/alfworld python benchmarks/bench_alfworld.py                # valid_seen
    python benchmarks/bench_alfworld.py --games tests/fixtures/alfworld                 # the six test games
    python benchmarks/bench_alfworld.py --observe observed                              # one mode only

The reference program (tests/fixtures/alfworld_model.py, one program for both modes) is stored
in a scratch store and evaluated from there: no LLM is asked. Printed per mode: success per task
type, planning seconds per game (median, maximum), env steps per game and the slowest games.
RESULT lines: the success rate and planning seconds per game in each mode, and the observed
mode's env steps per game as a ratio to the full mode's on the same games (the price of not
knowing where things are).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("ALFWORLD_DATA", str(ROOT.parent / "shared" / "alfworld"))

from wc._api import Settings, add_program, evaluate  # noqa: E402

MODEL = (ROOT / "tests" / "fixtures" / "alfworld_model.py").read_text()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", default="valid_seen", help="a split of ALFWORLD_DATA, or a folder of games")
    parser.add_argument("--episodes", type=int, help="only the first N games")
    parser.add_argument("--observe", choices=["full", "observed", "both"], default="both")
    args = parser.parse_args()
    modes = ["full", "observed"] if args.observe == "both" else [args.observe]
    steps = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{tmp}/bench.db"
        pid = await add_program("alfworld", MODEL, db, games=args.games)
        settings = Settings(db=db)
        for mode in modes:
            report = await evaluate("alfworld", settings, from_program=pid,
                                    env_options={"games": args.games, "observe": mode}, episodes=args.episodes)
            steps[mode] = show(args.games, mode, report)
    if len(steps) == 2:
        print(f"RESULT alfworld_observed_steps ratio={steps['observed'] / steps['full']:.2f} "
              f"observed={steps['observed']:.1f} full={steps['full']:.1f}")


def show(games: str, mode: str, report) -> float:
    """Print one mode's figures; its env steps per game."""
    episodes = report.run.episode_list
    seconds = [e.plan_seconds for e in episodes]
    print(f"ALFWorld {games}, observation mode {mode}, {len(episodes)} games, reference program, no LLM")
    print(f"{'task type':10} {'games':>5} {'won':>5} {'success':>8}")
    for group, n, won in report.table():
        print(f"{group:10} {n:5} {won:5} {won / n:8.1%}")
    print(f"planning per game: median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s; "
          f"{report.run.env_steps / len(episodes):.1f} env steps per game")
    slow = sorted(zip(seconds, report.games, strict=True), key=lambda x: -x[0])[:5]
    for s, g in slow:
        print(f"  {s:7.1f} s  {'won ' if g.won else 'lost'}  {g.game}")
    won = sum(1 for g in report.games if g.won)
    print(f"RESULT alfworld_success_{mode} rate={won / len(report.games):.3f} won={won} games={len(report.games)}")
    print(f"RESULT alfworld_plan_seconds_{mode} median={statistics.median(seconds):.3f} max={max(seconds):.1f}")
    return report.run.env_steps / len(episodes)


if __name__ == "__main__":
    asyncio.run(main())
