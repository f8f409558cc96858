"""`wc runs list|show|render|results|export-llm|compare|export`: recorded runs, read from the store."""
from __future__ import annotations

import json
import sys

import typer
from rich.table import Table
from rich.text import Text

from wc._core.values import RunStatus

from .common import (
    DbOption,
    JsonOption,
    fail,
    listing,
    make_settings,
    out,
    print_json,
    print_summary,
    read,
    run_coroutine,
    say_nothing,
    spread_table,
)

app = typer.Typer(help="Recorded runs.", no_args_is_help=True)


@app.command("list")
def runs_list(db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """Runs in the store with their status and counters."""
    runs = listing(db, lambda r: r.runs())
    if json_out:
        print_json([s.to_json(details=False) for s in runs])
        return
    if not runs:
        say_nothing("runs")
        return
    table = Table("id", "env", "status", "episodes", "won", "steps", "LLM calls", "best program", "created")
    for s in runs:
        table.add_row(str(s.id), s.env, s.status, str(s.episodes), str(s.successes), str(s.env_steps),
                      str(s.llm_calls), str(s.best_program_id or "-"), s.created_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)


@app.command("show")
def runs_show(run: int = typer.Argument(..., help="Run id."), db: str | None = DbOption,
              episode: int | None = typer.Option(None, "--episode", min=0, metavar="N", help="Episode N step by "
                                                 "step: each action, where it came from, what changed, and what "
                                                 "the program predicted where it was wrong."),
              json_out: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """One run: counters, episodes and programs; with --episode N, that episode step by step."""
    if episode is not None:
        _show_episode(run, episode, db, json_out)
        return
    summary = read(db, lambda r: r.run(run))
    if json_out:
        print_json(summary.to_json())
        return
    print_summary(summary)
    table = Table("episode", "seed", "steps", "return", "won", "plans", "undecided", "planning", title="episodes")
    for e in summary.episode_list:
        won = ("yes" if e.success else "no") if e.finished else "(unfinished)"
        table.add_row(str(e.index), str(e.seed), str(e.steps), f"{e.total_reward:.2f}", won, str(e.plans),
                      str(e.plans_undecided), f"{e.plan_seconds:.1f} s")
    out.print(table)
    if summary.llm_call_list:
        calls = Table("call", "at", "purpose", "status", "tokens", "cumulative tokens", "cost", "latency",
                      title="LLM calls over time")
        total = 0
        spent = 0.0
        start = summary.llm_call_list[0].started_at
        for c in summary.llm_call_list:
            total += c.prompt_tokens + c.completion_tokens
            spent += c.cost_usd or 0.0
            calls.add_row(str(c.id), f"+{(c.started_at - start).total_seconds():.0f} s", c.purpose, c.status,
                          f"{c.prompt_tokens + c.completion_tokens:,}", f"{total:,}",
                          "-" if c.cost_usd is None else f"${spent:.4f}", f"{c.latency_s:.1f} s")
        out.print(calls)
    if summary.unsolvable_list:
        starts = Table("first episode", "mission", "state", "program", "believed", "reopened",
                       title="starts believed unsolvable (no plan in the program, which fitted all data)")
        for u in summary.unsolvable_list:
            starts.add_row("-" if u.episode is None else str(u.episode), u.mission, u.state_hash[:10],
                           str(u.program_id), u.believed_at.strftime("%H:%M:%S") if u.believed_at else "-",
                           u.reopened_at.strftime("%H:%M:%S") if u.reopened_at else "no")
        out.print(starts)
    if summary.fit_list:
        out.print(_fits_table(summary.fit_list))


def _fits_table(fits) -> Table:
    """The run's fits of PARAMS: each program made by one, from which, its values, the misses left,
    its time and whether its budget cut it short (by its count, or by the wall-time cap)."""
    table = Table("program", "fitted from", "status", "values", "misses left", "seconds", "cut short",
                  title="fits of PARAMS (values fitted to the data, no LLM call)")
    for f in fits:
        res = f.residuals or {}
        worst = max((res.get("max_error") or {}).items(), key=lambda kv: kv[1], default=None)
        misses = f"{res.get('within', 0)}/{res.get('sample', len(f.sample))} within" + (
            f", worst {worst[1]:.3g} in {worst[0]}" if worst else "")
        cut = {"evaluations": f"by its count ({f.evaluations})", "time": "by the wall-time cap (not reproducible)",
               None: "no"}.get(f.cut, str(f.cut))
        table.add_row(str(f.program_id), str(f.parent_id), f.status,
                      ", ".join(f"{k}={v:.6g}" for k, v in f.fitted.items()), misses, f"{f.seconds:.2f}", cut)
    return table


def _show_episode(run: int, episode: int, db: str | None, json_out: bool) -> None:
    trace = read(db, lambda r: r.episode_trace(run, episode))
    if json_out:
        print_json(trace.to_json())
        return
    from wc._core.canonical import diff_states

    e = trace.episode
    outcome = ("won" if e.success else "lost") if e.finished else "unfinished"
    out.print(f"run {run}, episode {e.index} of {trace.env} (seed {e.seed}): {outcome} in {e.steps} steps, "
              f"return {e.total_reward:.2f}\ntask: {e.mission}", highlight=False, markup=False)
    table = Table("step", "action", "from", "reward", "what changed", "the program's prediction", title="steps")
    for s in trace.steps:
        changes = "; ".join(diff_states(s.state, s.next_state)) or "nothing"
        if s.done or s.truncated:
            changes += " [done]" if s.done else " [truncated]"
        predicted = {"held": "held", None: "-"}.get(s.prediction) or "wrong: " + "; ".join(
            diff_states(s.next_state, s.predicted_state or []))
        action = s.action if isinstance(s.action, str) else json.dumps(s.action)  # a continuous action's numbers
        table.add_row(str(s.step), action, s.action_source or "-", f"{s.reward:.2f}", changes,
                      predicted if s.prediction != "failed" else Text(predicted, "red"))
    out.print(table)
    if len(trace.steps) < e.steps:
        out.print(f"{e.steps - len(trace.steps)} of the {e.steps} steps changed nothing the store keeps (a ReAct "
                  "action that was not admissible)", highlight=False)


@app.command("render")
def runs_render(run: int = typer.Argument(..., help="Run id."),
                episode: int = typer.Option(0, "--episode", min=0, metavar="N", help="The episode (default 0)."),
                out_file: str = typer.Option(..., "--out", metavar="FILE", help="episode.gif (animated), "
                                             "episode.png (a sheet of frames) or episode.txt (a transcript; the "
                                             "form for text worlds such as ALFWorld)."),
                db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """Watch an episode: replayed in its environment from its seed and recorded actions, each frame
    with the action, where it came from, and the program's prediction where it was wrong."""
    from pathlib import Path

    from wc._api import render_episode

    done = run_coroutine(render_episode(run, episode, Path(out_file), make_settings(db).db))
    if json_out:
        print_json({"path": str(done.path), "format": done.format, "steps": done.steps, "frames": done.frames,
                    "frame_size": list(done.frame_size) if done.frame_size else None,
                    "mispredicted": done.mispredicted})
        return
    what = f"{done.frames} frames of {done.frame_size[0]}x{done.frame_size[1]}" if done.frame_size else "a transcript"
    wrong = f", the program's prediction wrong at step(s) {', '.join(map(str, done.mispredicted))}" \
        if done.mispredicted else ""
    out.print(f"{done.path}: {what}, {done.steps} steps{wrong}", highlight=False, markup=False, soft_wrap=True)


@app.command("results")
def runs_results(runs: list[int] | None = typer.Argument(None, help="Run ids (default: every finished run)."),
                 db: str | None = DbOption,
                 note: str | None = typer.Option(None, help="A paragraph on how the runs were made (the model, …)."),
                 ) -> None:
    """Markdown for docs/RESULTS.md: the runs beside the paper's bar, with how to reproduce them."""
    from wc._api import run_summary
    from wc._report.results import results_markdown

    settings = make_settings(db)
    chosen = [run_coroutine(run_summary(r, settings.db)) for r in runs] if runs else \
        [r for r in listing(db, lambda reader: reader.runs()) if r.status == RunStatus.FINISHED]
    command = ("wc runs results" + (" " + " ".join(map(str, runs)) if runs else "") + " --db URL"
               + (" --note TEXT" if note else "") + " > docs/RESULTS.md")
    sys.stdout.write(results_markdown(chosen, command=command, note=note))


@app.command("export-llm")
def runs_export_llm(run: int | None = typer.Argument(None, help="Run id (a WorldCoder or ReAct run)."),
                    db: str | None = DbOption,
                    label: str | None = typer.Option(None, help="What the recording is, stored in it."),
                    sweep: int | None = typer.Option(None, "--sweep", metavar="ID", help="Every run of a sweep, "
                                                     "for `wc sweep --replay`."),
                    curriculum: int | None = typer.Option(None, "--curriculum", metavar="ID", help="Every run "
                                                          "of a curriculum, for `wc curriculum --replay`.")) -> None:
    """Write LLM calls as a recording that replays without an LLM: a run's (`wc learn --replay FILE`,
    or `wc baseline react --replay FILE` for a ReAct run), a sweep's or a curriculum's."""
    from wc._api import export_llm, export_llm_curriculum, export_llm_sweep

    if sum(x is not None for x in (run, sweep, curriculum)) != 1:
        raise fail("name one run, or one sweep with --sweep ID, or one curriculum with --curriculum ID")
    url = make_settings(db).db
    if run is not None:
        data = run_coroutine(export_llm(run, url))
    elif sweep is not None:
        data = run_coroutine(export_llm_sweep(sweep, url))
    else:
        data = run_coroutine(export_llm_curriculum(int(curriculum or 0), url))
    if label:
        data = {"label": label, **data}
    sys.stdout.write(json.dumps(data, indent=1) + "\n")


@app.command("compare")
def runs_compare(runs: list[int] | None = typer.Argument(None, help="Run ids."), db: str | None = DbOption,
                 sweep: int | None = typer.Option(None, "--sweep", metavar="ID", help="A sweep's environments "
                                                  "side by side: mean ± std over its seeds."),
                 json_out: bool = typer.Option(False, "--json")) -> None:
    """Runs side by side: successes, env steps to first success, LLM calls, tokens, cost, time; with
    --sweep, a sweep's environments as mean ± std over seeds."""
    if not runs and sweep is None:
        raise fail("name the runs to compare (`wc runs list` shows them), or a sweep with --sweep ID")
    if sweep is not None:
        from wc._api import sweep_view_of

        view = read(db, lambda r: sweep_view_of(r, sweep))
        if json_out and not runs:
            print_json([e.to_json() for e in view.by_env])
            return
        if not json_out:
            out.print(spread_table(view.by_env, title=f"sweep {sweep}: mean ± std over seeds "
                                                      f"{','.join(map(str, view.sweep.seeds))}"))
        if not runs:
            return
    summaries = read(db, lambda r: [r.run(i) for i in runs or []])
    if json_out:
        if sweep is not None:
            print_json({"runs": [s.to_json(details=False) for s in summaries],
                        "sweep": [e.to_json() for e in view.by_env]})
        else:
            print_json([s.to_json(details=False) for s in summaries])
        return
    table = Table("", *[str(s.id) for s in summaries], title="runs compared")
    rows = [
        ("env", lambda s: s.env), ("model", lambda s: s.model or "-"), ("status", lambda s: s.status),
        ("episodes (won)", lambda s: f"{s.episodes} ({s.successes})"), ("env steps", lambda s: str(s.env_steps)),
        ("steps to first success", lambda s: str(s.steps_to_first_success or "-")),
        ("LLM calls", lambda s: str(s.llm_calls)),
        ("tokens", lambda s: f"{s.prompt_tokens + s.completion_tokens:,}"),
        ("cost", lambda s: "-" if s.cost_usd is None else f"${s.cost_usd:.4f}"),
        ("wall (LLM wait)", lambda s: f"{s.wall_seconds:.1f} s ({s.llm_wait_seconds:.1f} s)"),
    ]
    for label, fn in rows:
        table.add_row(label, *[fn(s) for s in summaries])
    out.print(table)


@app.command("export")
def runs_export(run: int = typer.Argument(..., help="Run id."),
                fmt: str = typer.Option("csv", "--format", help="csv, or parquet (the parquet extra: pyarrow)."),
                out_dir: str = typer.Option(".", "--out", help="Folder for the two files (made if missing)."),
                db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """Write a run's episodes and transitions as two tables (run-ID-episodes, run-ID-transitions) for
    pandas; states are JSON text columns."""
    from wc._report.export import export_run

    done = run_coroutine(export_run(run, out_dir, fmt, make_settings(db).db))
    if json_out:
        print_json({"run_id": done.run_id, "format": done.format, "episodes": str(done.episodes),
                    "transitions": str(done.transitions), "n_episodes": done.n_episodes,
                    "n_transitions": done.n_transitions})
        return
    out.print(f"{done.episodes} ({done.n_episodes} episodes)\n{done.transitions} ({done.n_transitions} transitions)",
              highlight=False)
