"""`wc learn`, `wc resume` and `wc eval`: the commands that play a run of WorldCoder, with its
progress on stderr and its summary at the end; the lines `wc learn` ends with (where the run went,
what to run next)."""
from __future__ import annotations

import typer
from rich.table import Table

from wc._core.secrets import redact
from wc._core.values import RunStatus

from . import errors
from .common import (
    AtolOption,
    DbOption,
    EnvOptionOption,
    FitParamsOption,
    FitSecondsOption,
    FitTransitionsOption,
    ObserveOption,
    PlannerOption,
    RewardThresholdOption,
    RtolOption,
    env_options,
    err,
    fail,
    make_settings,
    out,
    print_json,
    replaying,
    run_coroutine,
)
from .progress import show_result, with_progress

# the options a recording's configuration replaces: giving one with --replay is an error
REPLAY_OVERRIDES = ["model", "episodes", "max_steps", "max_llm_calls", "max_cost", "concurrency", "seed", "solved",
                    "workers", "planner", "games", "observe", "levels", "from_program", "min_episodes",
                    "optimism_requests", "describe", "env_option", "rtol", "atol", "reward_threshold", "fit_params",
                    "fit_seconds", "fit_transitions"]


def learn(
    ctx: typer.Context,
    env: str = typer.Option(..., "--env", help="Short name (wc envs list), gymnasium id, or module:EnvId."),
    db: str | None = DbOption,
    model: str | None = typer.Option(None, "--model", envvar="WC_MODEL", help="Chat model name."),
    episodes: int = typer.Option(20, min=1, help="Episodes to play at most."),
    max_steps: int | None = typer.Option(None, min=1, help="Steps per episode (default: the env's limit)."),
    max_llm_calls: int = typer.Option(20, min=0, help="LLM requests allowed in the whole run."),
    max_cost: float | None = typer.Option(None, "--max-cost", min=0, help="Dollars the run's LLM requests may "
                                          "cost: no request is sent that could exceed it (prices: WC_PRICES)."),
    concurrency: int = typer.Option(4, min=1, help="LLM candidates requested at once after a first failed try."),
    seed: int = typer.Option(0, help="Run seed S: episode i plays env seed 1009·S + i; every random choice "
                             "derives from S."),
    solved: int | None = typer.Option(10, min=1, help="Stop after this many consecutive successes."),
    llm_timeout: float | None = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT", help="Seconds per LLM request."),
    workers: int = typer.Option(2, min=1, help="Sandbox worker processes."),
    planner: str | None = PlannerOption,
    env_option: list[str] | None = EnvOptionOption,
    rtol: float = RtolOption,
    atol: float = AtolOption,
    reward_threshold: float | None = RewardThresholdOption,
    games: str | None = typer.Option(None, "--games", help="ALFWorld: a game file, a folder of games, or a "
                                        "split of the downloaded data (train, valid_seen, valid_unseen)."),
    observe: str | None = ObserveOption,
    levels: str | None = typer.Option(None, "--levels", help="Sokoban: a level file (XSB, or a Boxoban "
                                      "collection of `; N` levels) or a shipped set; episode i plays level "
                                      "(env seed) mod the number of levels."),
    from_program: str | None = typer.Option(None, "--from-program", help="Start from a stored program id, or "
                                               "'auto' for the best programs of the most similar environments."),
    min_episodes: int = typer.Option(1, min=1, help="Play at least this many episodes before --solved may stop "
                                     "the run (the paper's rule: 11 episodes, the last 10 won)."),
    optimism_requests: int = typer.Option(1, "--optimism-requests", min=0, help="LLM requests a start may cost "
                                          "while a program that fits every transition finds no plan from it (a "
                                          "complete search); then it is played exploring and may be believed "
                                          "unsolvable."),
    replay: str | None = typer.Option(None, "--replay", help="Reproduce a recorded session without an LLM: a run "
                                         "id, a file from `wc runs export-llm`, or a shipped recording name. Its "
                                         "configuration replaces the other options."),
    describe: str = typer.Option("data", "--describe", help="What the prompt says of the environment: 'data' (its "
                                 "API module and data, the default) or 'docs' (also its documentation, as CWMB)."),
    fit_params: bool = FitParamsOption,
    fit_seconds: float = FitSecondsOption,
    fit_transitions: int = FitTransitionsOption,
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Learn a world model of ENV by acting, recording and asking an LLM to write code."""
    from wc._api import LearnConfig
    from wc._api import learn as api_learn

    settings = make_settings(db, model, llm_timeout=llm_timeout)
    recording = replaying(ctx, replay, settings.db, REPLAY_OVERRIDES)
    if describe not in ("data", "docs"):
        raise fail(f"unknown --describe {describe!r}; use data or docs")
    config = LearnConfig(env=env, env_options=env_options(games, observe=observe, levels=levels, env_option=env_option),
                         rtol=rtol, atol=atol, reward_threshold=reward_threshold, from_program=from_program,
                         min_episodes=min_episodes, episodes=episodes, max_steps=max_steps, max_llm_calls=max_llm_calls,
                         concurrency=concurrency, seed=seed, solved=solved, workers=workers, planner=planner,
                         max_cost_usd=max_cost, optimism_requests=optimism_requests, describe=describe,
                         fit_params=fit_params, fit_seconds=fit_seconds, fit_transitions=fit_transitions)
    model_name = recording["model"] + " (replayed)" if recording else \
        settings.model if max_llm_calls > 0 else "no LLM (--max-llm-calls 0)"
    summary = with_progress(episodes, lambda view, on_start: api_learn(config, settings, on_event=view,
                                                                        on_start=on_start, replay=recording),
                            f"learning {env} with {model_name}")
    show_result(summary, json_out)
    print_next_steps(summary, db, getattr(ctx.get_parameter_source("db"), "name", None) == "COMMANDLINE")


def eval_(
    env: str = typer.Option(..., "--env", help="Short name (wc envs list), gymnasium id, or module:EnvId."),
    from_program: str = typer.Option(..., "--from-program", help="The learned program to start from (an id, or "
                                     "'auto')."),
    games: str | None = typer.Option(None, "--games", help="ALFWorld: the split or folder whose games are each "
                                     "played once (e.g. valid_seen)."),
    levels: str | None = typer.Option(None, "--levels", help="Sokoban: a level file (XSB, or a Boxoban "
                                      "collection of `; N` levels) or a shipped set; episode i plays level "
                                      "(env seed) mod the number of levels."),
    episodes: int | None = typer.Option(None, min=1, help="Games to play (default: every game of the split; "
                                        "MiniGrid and Sokoban: 20 seeds)."),
    max_llm_calls: int = typer.Option(0, min=0, help="LLM requests the evaluation may spend to keep learning."),
    observe: str | None = ObserveOption,
    env_option: list[str] | None = EnvOptionOption,
    db: str | None = DbOption,
    model: str | None = typer.Option(None, "--model", envvar="WC_MODEL", help="Chat model name."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Play every game of a split once from a learned program: success per task type, LLM calls, steps."""
    from wc._api import evaluate

    settings = make_settings(db, model)
    report = with_progress(episodes or 0, lambda view, on_start: evaluate(
        env, settings, from_program=from_program,
        env_options=env_options(games, observe=observe, levels=levels, env_option=env_option),
        episodes=episodes,
        max_llm_calls=max_llm_calls, on_event=view, on_start=on_start), f"evaluating {env} from program {from_program}")
    if json_out:
        print_json(report.to_json())
    else:
        table = Table("task type", "games", "won", "success", title=f"run {report.run.id}: {env}")
        for group, n, won in report.table():
            table.add_row(group, str(n), str(won), f"{won / n:.0%}" if n else "-")
        out.print(table)
        if report.observe:
            out.print(f"observation mode {report.observe}", highlight=False)
        games_played = len(report.games) or 1
        out.print(f"{report.won_without_llm} of {len(report.games)} games won without any LLM call; "
                  f"{report.run.llm_calls} LLM calls, {report.run.prompt_tokens + report.run.completion_tokens:,} "
                  f"tokens, {report.run.env_steps / games_played:.1f} env steps per game", highlight=False)
    if report.run.status == RunStatus.FAILED:
        raise fail(str(report.run.error), errors.FAILED_RUN)


def resume(run: int = typer.Argument(..., help="Run id."), db: str | None = DbOption,
           llm_timeout: float | None = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT",
                                                       help="Seconds per LLM request."),
           json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout.")) -> None:
    """Continue an interrupted run from its last checkpoint (recorded LLM answers are not paid again)."""
    from wc._api import resume as api_resume
    from wc._api import run_summary

    settings = make_settings(db, llm_timeout=llm_timeout)
    before = run_coroutine(run_summary(run, settings.db))
    summary = with_progress(int(before.config.get("episodes", 20)),
                            lambda view, on_start: api_resume(run, settings, on_event=view, on_start=on_start),
                            f"resuming {before.env} ({before.status}, {before.env_steps} steps recorded)")
    show_result(summary, json_out)


def print_next_steps(summary, db: str | None, db_given: bool) -> None:
    """After a run: where it is stored and the two or three commands worth running next (stderr,
    so that `--json` output stays clean)."""
    if summary.status == RunStatus.FAILED:
        return
    url = redact(make_settings(db).db)
    flag = f" --db {url}" if db_given else ""
    commands = []
    if summary.best_program_id:
        commands.append((f"wc programs show {summary.best_program_id}{flag}", "the learned program"))
    commands.append((f"wc runs show {summary.id}{flag}", "episodes, LLM calls, tokens and cost"))
    commands.append((f"wc report {summary.id} --out report-{summary.id}{flag}", "figures of the run"))
    width = max(len(c) for c, _ in commands)
    err.print(f"run {summary.id} is stored in {url} (`wc db path` shows the store); next:", highlight=False,
              markup=False, soft_wrap=True)
    for command, what in commands:
        err.print(f"  {command.ljust(width)}   {what}", highlight=False, markup=False, soft_wrap=True)
