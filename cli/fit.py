"""`wc fit`: a world model fitted to recorded transitions alone, with its progress on stderr and
its result at the end."""
from __future__ import annotations

import json

import typer
from rich.table import Table

from wc._core.values import RunStatus

from . import errors
from .common import (
    DbOption,
    EnvOptionOption,
    FitParamsOption,
    FitSecondsOption,
    FitTransitionsOption,
    call,
    env_options,
    err,
    fail,
    make_settings,
    out,
)
from .progress import FitView, with_progress

DATA_HELP = ("The transitions: a JSONL file in CWMB's form (.jsonl or .jsonl.gz), 'cwmb' for CWMB's dataset of "
             "ENV (shipped with wc), or 'minari:DATASET_ID' (a dataset in the local Minari root).")
DESCRIBE_HELP = ("What the prompt says of the environment: 'data' (its API module and data only, the default) or "
                 "'docs' (also gymnasium's documentation of it, as CWMB gives it).")


def fit(
    env: str = typer.Option(..., "--env", help="gymnasium id (or a CWMB id such as Taxi-v3), or module:EnvId."),
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    env_option: list[str] | None = EnvOptionOption,
    db: str | None = DbOption,
    model: str | None = typer.Option(None, "--model", envvar="WC_MODEL", help="Chat model name."),
    max_llm_calls: int = typer.Option(10, min=0, help="LLM requests allowed in the whole fit."),
    max_cost: float | None = typer.Option(None, "--max-cost", min=0, help="Dollars the fit's LLM requests may cost."),
    concurrency: int = typer.Option(4, min=1, help="LLM candidates requested at once after a first failed try."),
    rtol: float = typer.Option(1e-5, "--rtol", min=0, help="Relative tolerance of a predicted number (CWMB's)."),
    atol: float = typer.Option(1e-5, "--atol", min=0, help="Absolute tolerance of a predicted number (CWMB's)."),
    describe: str = typer.Option("data", "--describe", help=DESCRIBE_HELP),
    seed: int = typer.Option(0, help="Seed of REx's choices."),
    llm_timeout: float | None = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT", help="Seconds per LLM request."),
    workers: int = typer.Option(2, min=1, help="Sandbox worker processes."),
    fit_params: bool = FitParamsOption,
    fit_seconds: float = FitSecondsOption,
    fit_transitions: int = FitTransitionsOption,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Fit a world model of ENV to recorded transitions alone: REx until the program predicts every
    transition within the tolerance (φ1), no environment step."""
    from wc._api import FitConfig
    from wc._api import fit as api_fit

    settings = make_settings(db, model, llm_timeout=llm_timeout)
    config = call(FitConfig, env=env, data=data, env_options=env_options(None, env_option=env_option),
                  max_llm_calls=max_llm_calls, max_cost_usd=max_cost,
                  concurrency=concurrency, rtol=rtol, atol=atol, describe=describe, seed=seed, workers=workers,
                  fit_params=fit_params, fit_seconds=fit_seconds, fit_transitions=fit_transitions)
    result = with_progress(0, lambda view, on_start: api_fit(config, settings, on_event=view, on_start=on_start),
                           f"fitting {env} to {data}", view=FitView(max_llm_calls))
    show_fit(result, json_out)


def show_fit(result, json_out: bool) -> None:
    """A fit's result as a table or JSON; a failed fit says why in one line and exits non-zero."""
    run = result.run
    if json_out:
        out.print_json(json.dumps(result.to_json(), default=str))
    else:
        d = result.dataset
        table = Table(title=f"run {run.id}: {run.env} fitted to dataset {d.id} ({run.status})", show_header=False)
        for k, v in [
            ("dataset", f"{d.name} ({d.format}): {d.n_transitions} transitions, {d.n_episodes} episodes"),
            ("fits", f"{'yes' if result.fits else 'no'}: {result.explained}/{result.transitions} distinct "
                     "transitions predicted"),
            ("program", str(result.program_id) if result.program_id else "none"),
            ("LLM calls", f"{run.llm_calls} ({run.llm_calls_failed} failed)"),
            ("tokens", f"{run.prompt_tokens} prompt + {run.completion_tokens} completion"),
            ("programs", str(run.programs)),
            ("env steps", str(run.env_steps)),
            ("wall time", f"{run.wall_seconds:.1f} s (waiting for the LLM {run.llm_wait_seconds:.1f} s)"),
        ]:
            table.add_row(k, v)
        out.print(table)
    if run.status == RunStatus.FAILED:
        resumable = run.failure in ("llm", "internal")
        hint = f"; continue with `wc resume {run.id}`" if resumable else ""
        raise fail(str(run.error) + hint, errors.LLM_UNAVAILABLE if run.failure == "llm" else errors.FAILED_RUN)
    if result.program_id and not json_out:
        err.print(f"next: `wc programs lineage {result.program_id}` (where its data came from), "
                  f"`wc learn --env {run.env} --from-program {result.program_id}` (continue online)",
                  highlight=False, markup=False, soft_wrap=True)
