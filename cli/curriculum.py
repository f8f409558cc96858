"""`wc curriculum`: environments learned in order, each from the previous one's program; its
subcommands list, show and resume them."""
from __future__ import annotations

import typer
from rich.table import Table

from .common import (
    DbOption,
    EnvOptionOption,
    JsonOption,
    env_options,
    fail,
    listing,
    make_settings,
    out,
    print_json,
    replaying,
    run_coroutine,
    say_nothing,
)
from .progress import with_progress

app = typer.Typer(help="Learn environments in order, each from the previous one's program. "
                       "`wc curriculum --envs a,b,c` runs one; subcommands list, show and resume them.")


@app.callback(invoke_without_command=True)
def curriculum(
    ctx: typer.Context,
    envs: str | None = typer.Option(None, "--envs", help="Comma-separated environments, in order, or the "
                                       "name of a built-in curriculum (minigrid)."),
    db: str | None = DbOption,
    model: str | None = typer.Option(None, "--model", envvar="WC_MODEL"),
    episodes: int = typer.Option(20, min=1, help="Episodes per environment at most."),
    max_steps: int | None = typer.Option(None, min=1),
    max_llm_calls: int = typer.Option(20, min=0, help="LLM requests per environment."),
    concurrency: int = typer.Option(4, min=1),
    seed: int = typer.Option(0),
    solved: int | None = typer.Option(10, min=1),
    min_episodes: int = typer.Option(1, min=1, help="Episodes each environment plays at least."),
    from_program: str | None = typer.Option(None, "--from-program", help="Program for the first environment."),
    env_option: list[str] | None = EnvOptionOption,
    llm_timeout: float | None = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT"),
    replay: str | None = typer.Option(None, "--replay", help="Reproduce a recorded curriculum without an LLM: a "
                                      "shipped recording name or a file from `wc runs export-llm --curriculum ID`. "
                                      "Its environments and configuration replace the other options."),
) -> None:
    """Learn environments in order, each starting from the previous one's final program."""
    if ctx.invoked_subcommand is not None:
        return
    from wc._api import LearnConfig
    from wc._api import curriculum as api_curriculum
    from wc._api import expand_curriculum as expand

    settings = make_settings(db, model, llm_timeout=llm_timeout)
    recording = replaying(ctx, replay, settings.db, [
        "envs", "model", "episodes", "max_steps", "max_llm_calls", "concurrency", "seed", "solved", "min_episodes",
        "from_program", "env_option"])
    if recording is not None:
        names = [str(e) for e in recording.get("envs", [])]
        episodes = int(recording["config"].get("episodes", episodes)) if isinstance(recording.get("config"),
                                                                                     dict) else episodes
    elif not envs:
        raise fail("give the environments with --envs a,b,c (or --envs minigrid for the paper's curriculum)")
    else:
        names = expand(envs)
    config = LearnConfig(env=names[0] if names else "", env_options=env_options(None, env_option=env_option),
                         episodes=episodes, max_steps=max_steps,
                         max_llm_calls=max_llm_calls, concurrency=concurrency, seed=seed, solved=solved,
                         min_episodes=min_episodes, from_program=from_program)
    group = with_progress(episodes * max(1, len(names)),
                          lambda view, on_start: api_curriculum(names, config, settings, on_event=view,
                                                                on_start=on_start, replay=recording),
                          f"curriculum {' -> '.join(names)}")
    _print_curriculum(group.id, settings.db)


def _print_curriculum(curriculum_id: int, db, json_out: bool = False) -> None:
    from wc._api import curriculum_steps

    group, steps = run_coroutine(curriculum_steps(curriculum_id, db))
    if json_out:
        print_json(dict(group.to_json(), steps=[step.to_json() for step in steps]))
        return
    table = Table("step", "env", "run", "status", "episodes", "won", "steps", "LLM calls", "final program",
                  title=f"curriculum {group.id} ({group.status})")
    for step in steps:
        s = step.run
        if s is None:
            table.add_row(str(step.index + 1), step.env, "-", "pending", "", "", "", "", "")
            continue
        table.add_row(str(step.index + 1), step.env, str(s.id), s.status, str(s.episodes), str(s.successes),
                      str(s.env_steps), str(s.llm_calls), str(s.best_program_id or "-"))
    out.print(table)


@app.command("list")
def curriculum_list(db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """Curricula in the store."""
    groups = listing(db, lambda r: r.curricula())
    if json_out:
        print_json([g.to_json() for g in groups])
        return
    if not groups:
        say_nothing("curricula")
        return
    table = Table("id", "status", "environments", "runs", "created")
    for g in groups:
        table.add_row(str(g.id), g.status, " -> ".join(g.envs), ",".join(map(str, g.run_ids)) or "-",
                      g.created_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)


@app.command("show")
def curriculum_show(curriculum_id: int = typer.Argument(..., metavar="ID"), db: str | None = DbOption,
                    json_out: bool = JsonOption) -> None:
    """One curriculum: its environments and their runs."""
    _print_curriculum(curriculum_id, make_settings(db).db, json_out)


@app.command("resume")
def curriculum_resume(curriculum_id: int = typer.Argument(..., metavar="ID"), db: str | None = DbOption,
                      llm_timeout: float | None = typer.Option(None, min=1, envvar="WC_LLM_TIMEOUT")) -> None:
    """Continue a curriculum: resume its interrupted run, then run the environments left."""
    from wc._api import curriculum_summary, resume_curriculum

    settings = make_settings(db, llm_timeout=llm_timeout)
    group = run_coroutine(curriculum_summary(curriculum_id, settings.db))
    done = with_progress(20 * len(group.envs),
                         lambda view, on_start: resume_curriculum(curriculum_id, settings, on_event=view,
                                                                  on_start=on_start),
                         f"curriculum {curriculum_id}")
    _print_curriculum(done.id, settings.db)
