"""A run on the command line: its progress on stderr (a bar over its episodes and a line per thing
worth saying), Ctrl-C said with how to resume, and its summary at the end."""
from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from wc._core.values import NOT_FAILED, RunStatus

from . import errors
from .common import err, fail, out, print_summary, run_coroutine

T = TypeVar("T")


class _LearnView:
    """Progress on stderr: a bar over episodes and a line per refinement."""

    def __init__(self, episodes: int) -> None:
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=err, transient=False)
        self.task = self.progress.add_task("episodes", total=episodes, info="")
        self.steps = self.calls = self.successes = 0
        self.fit = "-"
        self.warned_jail = False
        self.plan_note: int | None = None  # the episode in which an unfound plan was last reported
        self.episode = 0

    def finish(self, result: Any) -> None:
        """A run the stop rule ended early played fewer episodes than the bar's total: the bar ends
        full, at the episodes played. A failed run's bar stays where it stopped."""
        run = getattr(result, "run", result)  # an evaluation's report holds its run
        if getattr(run, "status", None) == RunStatus.FAILED:
            return
        task = self.progress.tasks[0]
        if task.completed and task.completed != task.total:
            self.progress.update(self.task, total=task.completed)

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        p = self.progress
        if kind == "sandbox":
            if not data["active"] and not self.warned_jail:
                self.warned_jail = True
                p.console.print(Text.assemble(
                    ("warning: LLM-written code runs without the OS jail", "bold red"),
                    f" (WC_SANDBOX=python): {data['jail']}. It is held only by wc's Python layer and resource "
                    "limits. Install bubblewrap (apt-get install bubblewrap) and unset WC_SANDBOX; `wc doctor` shows "
                    "every layer."), highlight=False)
            return
        if kind == "episode_start":
            self.episode = data["episode"]
        if kind == "plan" and not data["found"] and self.plan_note != self.episode:
            self.plan_note = self.episode
            if data["status"] == "budget":
                p.console.print(f"  no plan within the search budget ({data['nodes']:,} nodes, "
                                f"{data['seconds']:.1f} s): "
                                "undecided, not evidence against the program; exploring, then searching again with "
                                "a larger budget", style="yellow")
            else:
                p.console.print(f"  the program offers no plan from here (search complete, {data['nodes']:,} nodes)",
                                style="yellow")
        if kind == "step":
            self.steps += 1
        elif kind == "llm_call":
            self.calls += 1
            if data["status"] not in NOT_FAILED:
                p.console.print(f"  LLM request failed ({data['status']}); retrying or moving on", style="yellow")
        elif kind == "budget":
            p.console.print(f"  no more LLM requests: {data['reason']}", style="yellow")
        elif kind == "refine_start":
            p.console.print(f"  refining ({data['reason']}) on {data['transitions']} distinct transitions, "
                            f"{data['calls_left']} LLM calls left")
        elif kind == "candidate":
            extra = f", failure: {data['failure']}" if data.get("failure") else ""
            opt = f", optimism {data['optimism']}" if data.get("optimism") else ""
            line = f"    candidate program {data['program_id']}: fit {data['fit']:.2f}{opt}{extra}"
            p.console.print(Text.assemble(line, ("  solves φ1+φ2", "green") if data.get("solved") else ""))
        elif kind == "refine_end":
            if data.get("fit") is not None:
                self.fit = f"{data['fit']:.2f}"
            state = ("solved", "green") if data["solved"] else ("not solved", "yellow")
            aside = data.get("set_aside")
            note = (f" ({aside} start{'s' if aside > 1 else ''} with no plan set aside after their optimism "
                    "requests)") if aside else ""
            p.console.print(Text.assemble("  refinement ", state, f": current program {data['program_id']}, "
                                                                  f"{data['calls']} calls{note}"))
        elif kind == "refine_skipped":
            self.fit = f"{data['fit']:.2f}"
            why = "no LLM calls are left" if data["why"] == "budget" else \
                "the last refinement failed and too little new data has come in since"
            p.console.print(f"  program {data['program_id']} does not fit the data (fit {data['fit']:.2f}) and {why}:"
                            " acting with it unrefined", style="yellow")
        elif kind == "step_limit":
            if data["lifted"]:
                p.console.print(f"  --max-steps {data['requested']} is above the environment's own step limit "
                                f"({data['own']}): lifted, episodes may run to {data['requested']} steps",
                                style="yellow")
            else:
                p.console.print(f"  --max-steps {data['requested']} is above the environment's own step limit "
                                f"({data['own']}), which this environment cannot lift: episodes stop at its limit",
                                style="yellow")
        elif kind == "exploring":
            if data.get("believed"):
                p.console.print(f"  this start is believed unsolvable (program {data['believed']} finds no plan): "
                                "playing it exploring", style="yellow")
            else:
                p.console.print("  no plan from this start after its optimism requests: playing it exploring",
                                style="yellow")
        elif kind == "unsolvable":
            p.console.print(f"  the program still fits what was seen and finds no plan from this start: believed "
                            f"unsolvable under program {data['program_id']} ({data['believed']} such starts)",
                            style="yellow")
        elif kind == "reopened":
            p.console.print(f"  new data contradicts the program: {data['believed']} start(s) believed unsolvable "
                            f"and {data['set_aside']} set aside count against φ2 again", style="yellow")
        elif kind == "transfer":
            if data["program_id"] is None:
                p.console.print("  no stored program fits for transfer; starting from scratch", style="yellow")
            else:
                p.console.print(f"  starting from program {data['from_program']} ({data['env']}), "
                                f"stored here as program {data['program_id']}")
        elif kind == "episode_start" and data.get("resumed"):
            p.console.print(f"episode {data['episode']}: resumed after {data['resumed']} recorded steps")
        elif kind == "replay":
            p.console.print(f"  {data['hits']} LLM answers served from the store, {data['misses']} asked anew")
        elif kind == "curriculum_step":
            p.console.print(f"curriculum {data['index'] + 1}/{data['of']}: {data['env']}", style="bold")
        elif kind == "episode_end":
            self.successes += int(data["success"])
            p.advance(self.task)
            mark = ("won", "green") if data["success"] else ("lost", "red")
            p.console.print(Text.assemble(f"episode {data['episode']}: ", mark, f" in {data['steps']} steps"))
        p.update(self.task, info=f"steps {self.steps}  wins {self.successes}  LLM calls {self.calls}  fit {self.fit}")


def with_progress(episodes: int, make_coro: Callable[[_LearnView, Callable[[int], None]], Coroutine[Any, Any, T]],
                  what: str) -> T:
    """Run a learning coroutine with the progress view; Ctrl-C says how to resume."""
    view = _LearnView(episodes)
    started: list[int] = []

    def on_start(run_id: int) -> None:
        started.append(run_id)
        view.progress.stop()
        err.print(f"run {run_id}: {what}", highlight=False)
        view.progress.start()

    try:
        result = run_coroutine(make_coro(view, on_start))
        view.finish(result)
        return result
    except KeyboardInterrupt:
        view.progress.stop()
        if started:
            err.print(Text.assemble((errors.interrupted_by(), "yellow"), f": run {started[-1]} is marked "
                                    f"interrupted; continue it with `wc resume {started[-1]}`"), highlight=False)
        else:
            err.print(errors.interrupted_by(), style="yellow")
        raise typer.Exit(errors.interrupted_code()) from None
    finally:
        view.progress.stop()


def show_result(summary, json_out: bool) -> None:
    """A run's summary as a table or JSON; a failed run then says why in one line and exits 1, or 5
    when the LLM was unavailable."""
    if json_out:
        out.print_json(json.dumps(summary.to_json(), default=str))
    else:
        print_summary(summary)
    if summary.status == RunStatus.FAILED:
        resumable = "can be resumed" in str(summary.error) or summary.failure == "llm"
        hint = f"; continue with `wc resume {summary.id}`" if resumable else ""
        code = errors.LLM_UNAVAILABLE if summary.failure == "llm" else errors.FAILED_RUN
        raise fail(str(summary.error) + hint, code)
