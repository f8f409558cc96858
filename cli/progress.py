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
from wc.events import (
    BenchEnvEnded,
    BenchEnvStarted,
    BudgetStopped,
    CandidateChecked,
    CurriculumStep,
    DatasetReady,
    EpisodeEnded,
    EpisodeStarted,
    Event,
    Exploring,
    LLMCalled,
    PlanSearched,
    ProgramTransferred,
    RefineEnded,
    RefineSkipped,
    RefineStarted,
    ReplayServed,
    SandboxReady,
    StartsReopened,
    StartUnsolvable,
    StepLimit,
    StepTaken,
)

from . import errors
from .common import err, fail, out, print_summary, run_coroutine

T = TypeVar("T")


class _LearnView:
    """Progress on stderr: a bar over episodes (or what `unit` names) and a line per refinement."""

    def __init__(self, episodes: int, unit: str = "episodes") -> None:
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=err, transient=False)
        self.task = self.progress.add_task(unit, total=episodes, info="")
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

    def __call__(self, event: Event) -> None:
        match event:
            case SandboxReady():
                self._sandbox(event)
                return
            case EpisodeStarted() | StepTaken() | EpisodeEnded() | PlanSearched() | StepLimit() | Exploring():
                self._episode(event)
            case RefineStarted() | CandidateChecked() | RefineEnded() | RefineSkipped() | StartUnsolvable() \
                    | StartsReopened():
                self._refinement(event)
            case _:
                self._run(event)
        self.progress.update(self.task, info=f"steps {self.steps}  wins {self.successes}  LLM calls {self.calls}  "
                                             f"fit {self.fit}")

    def _say(self, *parts: str | tuple[str, str], style: str | None = None) -> None:
        """A line above the bar: one plain text (highlighted as the console does), or styled parts."""
        console = self.progress.console
        if len(parts) == 1 and isinstance(parts[0], str):
            console.print(parts[0], style=style)
        else:
            console.print(Text.assemble(*parts, style=style or ""), highlight=False)

    def _sandbox(self, event: SandboxReady) -> None:
        if not event.active and not self.warned_jail:
            self.warned_jail = True
            self._say(("warning: LLM-written code runs without the OS jail", "bold red"),
                      f" (WC_SANDBOX=python): {event.jail}. It is held only by wc's Python layer and resource "
                      "limits. Install bubblewrap (apt-get install bubblewrap) and unset WC_SANDBOX; `wc doctor` "
                      "shows every layer.")

    def _episode(self, event: Event) -> None:
        """An episode's course: its start, steps, plans, limits and end."""
        match event:
            case EpisodeStarted(episode=episode, resumed=resumed):
                self.episode = episode
                if resumed:
                    self._say(f"episode {episode}: resumed after {resumed} recorded steps")
            case StepTaken():
                self.steps += 1
            case PlanSearched(found=False) if self.plan_note != self.episode:
                self.plan_note = self.episode
                if event.status == "budget":
                    self._say(f"  no plan within the search budget ({event.nodes:,} nodes, {event.seconds:.1f} s): "
                              "undecided, not evidence against the program; exploring, then searching again with "
                              "a larger budget", style="yellow")
                else:
                    self._say(f"  the program offers no plan from here (search complete, {event.nodes:,} nodes)",
                              style="yellow")
            case StepLimit(requested=requested, own=own, lifted=True):
                self._say(f"  --max-steps {requested} is above the environment's own step limit ({own}): lifted, "
                          f"episodes may run to {requested} steps", style="yellow")
            case StepLimit(requested=requested, own=own, lifted=False):
                self._say(f"  --max-steps {requested} is above the environment's own step limit ({own}), which this "
                          "environment cannot lift: episodes stop at its limit", style="yellow")
            case Exploring(believed=believed) if believed:
                self._say(f"  this start is believed unsolvable (program {believed} finds no plan): playing it "
                          "exploring", style="yellow")
            case Exploring():
                self._say("  no plan from this start after its optimism requests: playing it exploring",
                          style="yellow")
            case EpisodeEnded(episode=episode, success=success, steps=steps):
                self.successes += int(success)
                self.progress.advance(self.task)
                self._say(f"episode {episode}: ", ("won", "green") if success else ("lost", "red"),
                          f" in {steps} steps")

    def _refinement(self, event: Event) -> None:
        """A refinement: its start, candidates and end; a program kept unrefined; φ2's starts."""
        match event:
            case RefineStarted(reason=reason, transitions=transitions, calls_left=calls_left):
                self._say(f"  refining ({reason}) on {transitions} distinct transitions, {calls_left} LLM calls left")
            case CandidateChecked(program_id=pid, fit=fit, solved=solved, optimism=optimism, failure=failure):
                extra = f", failure: {failure}" if failure else ""
                opt = f", optimism {optimism}" if optimism else ""
                self._say(f"    candidate program {pid}: fit {fit:.2f}{opt}{extra}",
                          ("  solves φ1+φ2", "green") if solved else "")
            case RefineEnded(solved=solved, calls=calls, program_id=pid, fit=fit, set_aside=aside):
                if fit is not None:
                    self.fit = f"{fit:.2f}"
                note = (f" ({aside} start{'s' if aside > 1 else ''} with no plan set aside after their optimism "
                        "requests)") if aside else ""
                self._say("  refinement ", ("solved", "green") if solved else ("not solved", "yellow"),
                          f": current program {pid}, {calls} calls{note}")
            case RefineSkipped(program_id=pid, fit=fit, why=why):
                self.fit = f"{fit:.2f}"
                because = "no LLM calls are left" if why == "budget" else \
                    "the last refinement failed and too little new data has come in since"
                self._say(f"  program {pid} does not fit the data (fit {fit:.2f}) and {because}: acting with it "
                          "unrefined", style="yellow")
            case StartUnsolvable(program_id=pid, believed=believed):
                self._say(f"  the program still fits what was seen and finds no plan from this start: believed "
                          f"unsolvable under program {pid} ({believed} such starts)", style="yellow")
            case StartsReopened(believed=believed, set_aside=set_aside):
                self._say(f"  new data contradicts the program: {believed} start(s) believed unsolvable and "
                          f"{set_aside} set aside count against φ2 again", style="yellow")

    def _run(self, event: Event) -> None:
        """Around the agent: LLM requests and the budget, transfer, replayed answers, curricula."""
        match event:
            case LLMCalled(status=status):
                self.calls += 1
                if status not in NOT_FAILED:
                    self._say(f"  LLM request failed ({status}); retrying or moving on", style="yellow")
            case BudgetStopped(reason=reason):
                self._say(f"  no more LLM requests: {reason}", style="yellow")
            case ProgramTransferred(program_id=None):
                self._say("  no stored program fits for transfer; starting from scratch", style="yellow")
            case ProgramTransferred(from_program=source, program_id=pid, env=env):
                self._say(f"  starting from program {source} ({env}), stored here as program {pid}")
            case ReplayServed(hits=hits, misses=misses):
                self._say(f"  {hits} LLM answers served from the store, {misses} asked anew")
            case CurriculumStep(index=index, env=env, of=of):
                self._say(f"curriculum {index + 1}/{of}: {env}", style="bold")


class FitView(_LearnView):
    """A fit's progress (`wc fit`, `wc bench cwmb`): a bar over the LLM calls allowed, a line for
    its dataset and each environment of a benchmark, and refinement's lines as `wc learn` shows them."""

    def __init__(self, calls: int) -> None:
        super().__init__(calls, unit="LLM calls")
        self.allowed = calls

    def __call__(self, event: Event) -> None:
        match event:
            case DatasetReady(dataset_id=did, name=name, transitions=n, episodes=episodes, imported=imported):
                how = "imported into the store" if imported else "already in the store"
                self._say(f"dataset {did}: {name}, {n} transitions in {episodes} episodes ({how})")
            case CandidateChecked(program_id=pid, fit=fit, solved=solved, failure=failure):
                extra = f", failure: {failure}" if failure else ""
                self._say(f"    candidate program {pid}: fit {fit:.2f}{extra}",
                          ("  fits every transition (φ1)", "green") if solved else "")
            case BenchEnvStarted(env=env, index=index, of=of):
                self.calls = 0
                self.progress.reset(self.task, total=self.allowed)
                self._say(f"{env} ({index + 1}/{of})", style="bold")
            case BenchEnvEnded(env=env, accuracy=acc, normalized_return=value):
                shown = "n/a" if value is None else f"{value:.2f}"
                self._say(f"  {env}: accuracy {acc if acc is None else f'{acc:.3f}'}, normalized return {shown}")
            case _:
                super().__call__(event)
        self.progress.update(self.task, completed=self.calls,
                             info=f"LLM calls {self.calls}  fit {self.fit}")


def with_progress(episodes: int, make_coro: Callable[[_LearnView, Callable[[int], None]], Coroutine[Any, Any, T]],
                  what: str, view: _LearnView | None = None) -> T:
    """Run a learning coroutine with the progress view (`view`, else a bar over `episodes`);
    Ctrl-C says how to resume."""
    view = view or _LearnView(episodes)
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
        resumable = summary.failure in ("llm", "internal")  # both keep everything up to the failure
        hint = f"; continue with `wc resume {summary.id}`" if resumable else ""
        code = errors.LLM_UNAVAILABLE if summary.failure == "llm" else errors.FAILED_RUN
        raise fail(str(summary.error) + hint, code)
