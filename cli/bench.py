"""`wc bench cwmb`: the Code World Models Benchmark, each environment fitted, its accuracy and
normalized return measured, in a table beside CWMB's published rows."""
from __future__ import annotations

import json

import typer
from rich.table import Table

from .common import DbOption, FitSecondsOption, FitTransitionsOption, make_settings, out
from .progress import FitView, with_progress

app = typer.Typer(help="Benchmarks of learned world models.", no_args_is_help=True)


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


@app.command("cwmb")
def cwmb(
    envs: str | None = typer.Option(None, "--envs", help="CWMB environments, comma-separated (default: all 18)."),
    data: str | None = typer.Option(None, "--data", help="A dataset of your own (JSONL in CWMB's form) for the one "
                                    "environment --envs names."),
    max_llm_calls: int = typer.Option(10, min=0, help="LLM requests each environment's fit may send."),
    episodes: int = typer.Option(10, min=0, help="Episodes of R_program and R_true (R_random: 10, as CWMB's code); "
                                 "0 measures the accuracy only (the return is then 'not measured')."),
    max_steps: int | None = typer.Option(None, min=1, help="Steps per episode (default: CWMB's, the environment's "
                                         "step limit or 100); fewer makes a quick check, not CWMB's measure."),
    describe: str = typer.Option("docs", "--describe", help="What the prompt says of each environment: 'docs' "
                                 "(gymnasium's documentation, as CWMB) or 'data'."),
    seed: int = typer.Option(0, help="Seed of the fits and of the episodes."),
    fit_params: bool = typer.Option(True, "--fit-params/--no-fit-params", help="The fits fit a program's PARAMS (its "
                                    "declared constants) to the data before judging it; a fit with and one without "
                                    "are stored apart, each reused on its own."),
    fit_seconds: float = FitSecondsOption,
    fit_transitions: int = FitTransitionsOption,
    fresh: bool = typer.Option(False, "--fresh", help="Fit every environment anew (by default a fit of the same "
                               "settings in the store is reused, or resumed where it was interrupted)."),
    engine: str = typer.Option("local", "--engine", help="local: the environments one after another in this "
                               "process; ray: a Ray task per environment on the cluster at --address (the store must "
                               "be PostgreSQL)."),
    parallel: int = typer.Option(4, "--parallel", min=1, help="Ray: environments at once."),
    address: str | None = typer.Option(None, "--address", envvar="RAY_ADDRESS", help="Ray: the cluster's HOST:PORT "
                                       "(`ray start --head` prints it)."),
    db: str | None = DbOption,
    model: str | None = typer.Option(None, "--model", envvar="WC_MODEL", help="Chat model name."),
    json_out: bool = typer.Option(False, "--json", help="Print the results as JSON on stdout."),
) -> None:
    """Fit each CWMB environment's dataset with at most --max-llm-calls calls, then measure the
    program's accuracy on the dataset and its normalized return with CWMB's planners."""
    from wc._api import bench

    settings = make_settings(db, model)
    names = [n.strip() for n in envs.split(",") if n.strip()] if envs else None
    result = with_progress(0, lambda view, on_start: bench(
        names, settings, data=data, max_llm_calls=max_llm_calls, episodes=episodes, max_steps=max_steps,
        describe=describe, seed=seed, fresh=fresh, engine=engine, parallel=parallel, address=address,
        fit_params=fit_params, fit_seconds=fit_seconds, fit_transitions=fit_transitions, on_event=view),
        "the Code World Models Benchmark",
        view=FitView(max_llm_calls))
    if json_out:
        out.print_json(json.dumps(result.to_json(), default=str))
        return
    show(result)


def show(result) -> None:
    """The environments' lines, then the means per group beside the published rows."""
    table = Table("environment", "group", "run", "LLM calls", "tokens", "fits", "accuracy (paper)", "accuracy (code)",
                  "normalized return", "R_program / R_true / R_random", "planner s / action", "wall time",
                  title="CWMB: accuracy in the paper's form (eq. 2); the released code's form beside it; rewards "
                  "and done compared exactly, as CWMB's code does; PARAMS "
                  + ("fitted to the data" if result.fit_params else "not fitted (--no-fit-params)")
                  + ("" if result.episodes else "; return not measured (--episodes 0)"))
    for line in result.envs:
        j = line.to_json()
        if line.error:
            table.add_row(line.env, line.group, str(j["run_id"] or "-"), "-", "-", "-", "-", "-", "-", line.error,
                          "-", "-")
            continue
        r = line.returns
        rs = "-" if r is None else f"{r.program.mean:.1f} / {r.true.mean:.1f} / {r.random.mean:.1f}"
        normalized = _num(j["normalized_return"]) if line.return_measured else "not measured"
        per_action = j["planner_seconds_per_action"]
        wall = (j["wall_seconds"] or 0.0) + (j["measure_seconds"] or 0.0)
        table.add_row(line.env, line.group, str(j["run_id"]), str(j["llm_calls"]), str(j["tokens"]),
                      "yes" if j["fits"] else "no", _num(j["accuracy_paper"], 3), _num(j["accuracy_code"], 3),
                      normalized, rs, "-" if per_action is None else f"{per_action * 1000:.1f} ms",
                      f"{wall:.1f} s")
    out.print(table)
    means = result.means()
    rows = Table("method", "LLM calls", "discrete: accuracy / return", "continuous: accuracy / return",
                 title="means beside CWMB's published rows")
    for p in result.published:
        rows.add_row(p["method"], str(p["llm_calls"]), "{:.2f} / {:.2f}".format(*p["discrete"]),
                     "{:.2f} / {:.2f}".format(*p["continuous"]))

    def cell(group: str) -> str:
        m = means.get(group)
        if not m:
            return "-"
        back = _num(m["normalized_return"]) if result.episodes else "not measured"
        return f"{_num(m['accuracy_paper'])} / {back} ({m['envs']} envs)"
    rows.add_row(f"wc, {result.model or 'no LLM'} (this run)", str(result.max_llm_calls), cell("discrete"),
                 cell("continuous"), style="bold")
    out.print(rows)
