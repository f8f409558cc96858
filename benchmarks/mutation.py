"""Mutation testing of wc's pure core: the kill rate per module.

    pip install mutmut && python benchmarks/mutation.py            # run, then report
    python benchmarks/mutation.py --report                          # report the last run

mutmut (configured in pyproject.toml, [tool.mutmut]) mutates the evaluation values, REx, the
code extraction, the planners and the state canonicaliser, and runs the fast in-process tests
that reach each mutated function. A mutant is *killed* when some test fails, or it times out;
everything else (survived, or no test reaches it) counts against the rate.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KILLED = {"killed", "timeout"}


def module_of(mutant: str) -> str:
    # wc._planning.width.x_search__mutmut_3, wc._synth.rex.xǁRExǁchoose__mutmut_1 -> the module
    return re.split(r"\.x[_ǁ]", mutant, maxsplit=1)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="only report the last run")
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()
    if not args.report:
        subprocess.run(["mutmut", "run", "--max-children", str(args.max_children)], cwd=ROOT,
                       stdout=subprocess.DEVNULL, check=False)
    out = subprocess.run(["mutmut", "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        return 1
    by_module: dict[str, Counter] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for line in out.stdout.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name:
            continue
        module = module_of(name)
        by_module[module][status] += 1
        if status not in KILLED:
            survivors[module].append(f"{name} ({status})")
    total = Counter()
    print(f"{'module':32} {'mutants':>7} {'killed':>7} {'survived':>8} {'no test':>7} {'kill rate':>9}")
    for module in sorted(by_module):
        c = by_module[module]
        n = sum(c.values())
        killed = sum(c[s] for s in KILLED)
        total.update(c)
        print(f"{module:32} {n:7} {killed:7} {c['survived']:8} {c['no tests']:7} {killed / n:9.0%}")
        print(f"RESULT mutation_kill_rate[{module}] ratio={killed / n:.3f}")
    n = sum(total.values())
    killed = sum(total[s] for s in KILLED)
    print(f"{'all':32} {n:7} {killed:7} {total['survived']:8} {total['no tests']:7} {killed / n:9.0%}")
    print(f"RESULT mutation_kill_rate ratio={killed / n:.3f}")
    print("surviving mutants: `mutmut show NAME`;", sum(len(v) for v in survivors.values()), "in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
