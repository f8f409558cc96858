"""Fitting a program's PARAMS (issue 30): the time per fit against the number of transitions and
of parameters, as a ratio to evaluating the same program on the same transitions (φ1, the
sandbox's `evaluate`), measured in the same run.

    python benchmarks/bench_param_fit.py [--transitions 50 200 800] [--params 1 3 5] [--repeat 3]

The world is gymnasium's CartPole with lunar constants (gravity 1.62, pole mass 0.3, push 6);
the program is CartPole's equations with the first P of its five constants declared in PARAMS
at the textbook values (wrong) and the others written in at the true ones. Both the fit and the
evaluation run in the sandbox's jailed workers as a run does, each on a fresh copy of the program
(a comment makes it new: no worker or verdict is reused), so each figure includes a worker's fork
and the program's load. `ratio` is fit seconds over evaluation seconds (medians); `per_eval` is the
fit's time per evaluation of the program on the sample over the evaluation's time, the optimiser's
overhead beyond running the program. numpy and scipy are imported into the sandbox's template
before the figures (a sandbox's first fit pays it once); that time is printed apart.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.changed_physics import LUNAR, cartpole_transitions  # noqa: E402

from wc._sandbox.param_fit import FitBudget  # noqa: E402
from wc._sandbox.params import declared  # noqa: E402
from wc._sandbox.sandbox import Sandbox  # noqa: E402

TRUE = {"gravity": 1.62, "masspole": 0.3, "force_mag": 6.0, "length": 0.5, "masscart": 1.0}
TEXTBOOK = {"gravity": 9.8, "masspole": 0.1, "force_mag": 10.0, "length": 0.5, "masscart": 1.0}
ORDER = ["gravity", "masspole", "force_mag", "length", "masscart"]

TEMPLATE = '''import math
{params}
{constants}
TAU = 0.02


def transition(state, action):
    obs = state[0]
    total_mass = {masspole} + {masscart}
    pole_mass_length = {masspole} * {length}
    force = {force_mag} if action == "push_right" else -{force_mag}
    cos_a, sin_a = math.cos(obs.pole_angle), math.sin(obs.pole_angle)
    temp = (force + pole_mass_length * obs.pole_angular_velocity ** 2 * sin_a) / total_mass
    angle_acc = ({gravity} * sin_a - cos_a * temp) / ({length} * (4.0 / 3.0 - {masspole} * cos_a ** 2 / total_mass))
    cart_acc = temp - pole_mass_length * angle_acc * cos_a / total_mass
    return [Observation(
        cart_position=obs.cart_position + TAU * obs.cart_velocity,
        cart_velocity=obs.cart_velocity + TAU * cart_acc,
        pole_angle=obs.pole_angle + TAU * obs.pole_angular_velocity,
        pole_angular_velocity=obs.pole_angular_velocity + TAU * angle_acc,
    )]


def reward(state, action, next_state, mission):
    obs = next_state[0]
    return 1.0, abs(obs.cart_position) > 2.4 or abs(obs.pole_angle) > 12 * 2 * math.pi / 360
'''


def program(p: int, copy: int) -> str:
    """CartPole's equations with the first `p` constants in PARAMS (textbook values) and the rest
    fixed at the lunar ones."""
    fitted = ORDER[:p]
    params = "PARAMS = {" + ", ".join(f'"{n}": {TEXTBOOK[n]!r}' for n in fitted) + "}"
    names = {n: f'PARAMS["{n}"]' if n in fitted else n.upper() for n in ORDER}
    constants = "\n".join(f"{n.upper()} = {TRUE[n]!r}" for n in ORDER if n not in fitted)
    return f"# copy {copy}\n" + TEMPLATE.format(params=params, constants=constants, **names)


async def measure(sizes: list[int], counts: list[int], repeat: int, seconds: float) -> list[dict]:
    adapter, data = cartpole_transitions(max(sizes), **LUNAR)
    rows = []
    copy = 0
    for n in sizes:
        async with Sandbox(adapter.api, adapter.actions, "value", workers=1) as sandbox:
            for t in data[:n]:
                sandbox.add(t)
            started = time.perf_counter()
            await sandbox._preload_fit()  # numpy and scipy into the template: once per sandbox, timed apart
            await sandbox.evaluate(program(1, 0))  # the template's own start-up, out of the first figure
            print(f"(a sandbox's first fit also imports numpy and scipy in its template: "
                  f"{time.perf_counter() - started:.2f} s with one evaluation)", flush=True)
            for p in counts:
                fits, evals, evaluations, fitted = [], [], [], []
                for _ in range(repeat):
                    copy += 1
                    source = program(p, copy)
                    found = declared(source)
                    assert found is not None
                    started = time.perf_counter()
                    fit = await sandbox.fit(source, found, FitBudget(seconds=seconds, transitions=n))
                    fits.append(time.perf_counter() - started)
                    evaluations.append(fit.evaluations)
                    fitted.append(fit.within)
                    copy += 1
                    started = time.perf_counter()
                    evaluation = await sandbox.evaluate(program(p, copy))
                    evals.append(time.perf_counter() - started)
                    assert evaluation.n == n
                fit_s, eval_s, runs = statistics.median(fits), statistics.median(evals), statistics.median(evaluations)
                per_eval = fit_s / runs / eval_s
                rows.append({"transitions": n, "params": p, "fit_s": fit_s, "evaluations": runs,
                             "within": min(fitted), "eval_s": eval_s, "ratio": fit_s / eval_s,
                             "per_eval": per_eval})
                r = rows[-1]
                print(f"{n:>6} {p:>3} {r['fit_s']:>8.3f} {r['evaluations']:>6.0f} {r['within']:>6} "
                      f"{r['eval_s']:>8.3f} {r['ratio']:>7.1f} {r['per_eval']:>8.2f}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, nargs="+", default=[50, 200, 800])
    parser.add_argument("--params", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0, help="each fit's budget (its count of evaluations)")
    args = parser.parse_args()
    if not all(1 <= p <= len(ORDER) for p in args.params):
        parser.error(f"--params must be 1 to {len(ORDER)}")
    print(f"{'trans':>6} {'P':>3} {'fit_s':>8} {'evals':>6} {'within':>6} {'eval_s':>8} {'ratio':>7} {'per_eval':>8}")
    rows = asyncio.run(measure(args.transitions, args.params, args.repeat, args.seconds))
    for r in rows:
        print(f"RESULT param_fit_{r['transitions']}x{r['params']} ratio={r['ratio']:.2f} per_eval={r['per_eval']:.2f}")


if __name__ == "__main__":
    main()
