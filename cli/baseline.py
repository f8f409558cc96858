"""`wc baseline react`: baselines in the same harness and store, for comparison."""
from __future__ import annotations

from typing import Any

import typer

from .common import DbOption, EnvOptionOption, env_options, make_settings, replaying
from .progress import show_result, with_progress

app = typer.Typer(help="Baselines in the same harness and store, for comparison.", no_args_is_help=True)


ReplayOption: Any = typer.Option(None, "--replay", help="Reproduce a recorded session without an LLM: a shipped "
                                 "recording name or a file from `wc runs export-llm` (a run id too, for a single "
                                 "run). Its configuration replaces the other options.")


@app.command("react")
def baseline_react(
    ctx: typer.Context,
    env: str = typer.Option(..., "--env", help="Short name (wc envs list), gymnasium id, or module:EnvId."),
    games: str | None = typer.Option(None, "--games", help="ALFWorld: a game file, folder or split."),
    levels: str | None = typer.Option(None, "--levels", help="Sokoban: a level file (XSB, or a Boxoban "
                                      "collection of `; N` levels) or a shipped set; episode i plays level "
                                      "(env seed) mod the number of levels."),
    env_option: list[str] | None = EnvOptionOption,
    episodes: int = typer.Option(10, min=1, help="Episodes (ALFWorld: game i of the split; else env seed i)."),
    max_steps: int | None = typer.Option(None, min=1, help="Steps per episode (default: the env's limit)."),
    seed: int = typer.Option(0, help="Run seed S: episode i plays env seed 1009·S + i, as `wc learn` does."),
    db: str | None = DbOption,
    model: str | None = typer.Option(None, "--model", envvar="WC_MODEL", help="Chat model name."),
    replay: str | None = ReplayOption,
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """ReAct: ask the LLM for every action (a thought, then an action), recording every call and step."""
    from wc._api import react

    settings = make_settings(db, model)
    recording = replaying(ctx, replay, settings.db, ["games", "levels", "episodes", "max_steps", "seed", "model",
                                                                "env_option"])
    what = f"{recording['model']} (replayed)" if recording else settings.model
    summary = with_progress(int(recording["config"]["episodes"]) if recording else episodes,
                            lambda view, on_start: react(
        env, settings, episodes=episodes, seed=seed,
        env_options=env_options(games, levels=levels, env_option=env_option),
        max_steps=max_steps, on_event=view, on_start=on_start, replay=recording), f"ReAct on {env} with {what}")
    show_result(summary, json_out)
