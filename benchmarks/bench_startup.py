"""Start-up of the commands that only read the store, as ratios to `wc --help` measured in the
same run (goal: at most 2).

    python benchmarks/bench_startup.py [--repeat 7]

Each command runs as a user runs it (`python -m wc …`, a fresh process) against a SQLite store
holding one run of the shipped recording; the figure is the median wall time of several runs,
the commands interleaved so that a busy machine slows them alike. `ratio` compares wall times,
`cpu_ratio` the processes' CPU time (user + system), which other work on the machine disturbs less.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "runs_list": ["runs", "list"],
    "runs_show": ["runs", "show", "1"],
    "programs_list": ["programs", "list"],
    "programs_show": ["programs", "show", "1"],
    "envs_list": ["envs", "list"],
    "curriculum_list": ["curriculum", "list"],
    "db_path": ["db", "path"],
}


def wc(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one `python -m wc ARGS`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "wc", *args], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WC_", "OPENAI_"))}
        env["WC_DB"] = f"sqlite:///{Path(tmp) / 'wc.db'}"
        subprocess.run([sys.executable, "-m", "wc", "learn", "--env", "minigrid-doorkey", "--replay",
                        "minigrid-doorkey"], env=env, check=True, capture_output=True)
        times: dict[str, list[tuple[float, float]]] = {"help": [], **{name: [] for name in COMMANDS}}
        wc(["--help"], env)  # warm the file cache once
        for _ in range(repeat):
            times["help"].append(wc(["--help"], env))
            for name, args in COMMANDS.items():
                times[name].append(wc(args, env))
    def median(name: str, which: int) -> float:
        return statistics.median(t[which] for t in times[name])

    help_s, help_cpu = median("help", 0), median("help", 1)
    print(f"RESULT startup_help seconds={help_s:.3f} cpu_seconds={help_cpu:.3f}")
    for name in COMMANDS:
        seconds, cpu = median(name, 0), median(name, 1)
        print(f"RESULT startup_{name} ratio={seconds / help_s:.2f} seconds={seconds:.3f} "
              f"cpu_ratio={cpu / help_cpu:.2f} cpu_seconds={cpu:.3f}")


if __name__ == "__main__":
    main()
