"""docs/RESULTS.md from the store: wc's runs beside the bar set by the paper's own code."""
from __future__ import annotations

from collections import defaultdict
from statistics import mean

from wc._core.values import RunStatus
from wc._store import RunSummary

BAR = """| run | LLM calls | env steps | episodes | wall time (of it, waiting for the LLM) |
|---|---|---|---|---|
| MiniGrid-DoorKey-5x5 from scratch | 2 | 131 | 11, all won | 5.8 min (0.5 min) |
| curriculum: MiniGrid-Empty-5x5 from scratch | 2 | 78 | 11, all won | |
| then DoorKey-5x5 from Empty's program | +1 | 129 | 11, all won | |
| then MiniGrid-Unlock from DoorKey's program | +1 | not measured (4–5 min per episode) | first 3 won | |
| a world kept out of sight, rules no model has read about | 4 | 110 | 11, first one won | 3.1 min (1.1 min) |"""


def _first_success(run: RunSummary) -> str:
    for e in run.episode_list:
        if e.success:
            return f"episode {e.index} (after {run.steps_to_first_success} steps)"
    return "none"


def _row(run: RunSummary) -> str:
    cfg = run.config
    non_llm = run.wall_seconds - run.llm_wait_seconds
    start = f"from program {cfg['from_program']}" if cfg.get("from_program") else "from scratch"
    return (f"| {run.id} | {run.env} | {start} | {run.seed} | {cfg.get('concurrency', '')} | {run.llm_calls} | "
            f"{run.prompt_tokens:,} + {run.completion_tokens:,} | {run.env_steps} | {run.episodes} ({run.successes}) | "
            f"{_first_success(run)} | {run.wall_seconds:.1f} s | {run.llm_wait_seconds:.1f} s | {non_llm:.1f} s | "
            f"{run.model or '-'} | {run.created_at:%Y-%m-%d} |")


def results_markdown(runs: list[RunSummary], *, command: str, note: str | None = None) -> str:
    lines = [
        "# Results",
        "",
        *([note, ""] if note else []),
        f"Generated from the store by `{command}`. Every figure below comes from the runs' records: LLM calls are "
        "requests sent (concurrent candidates, retries and cancelled requests included); wall time is the run's; "
        "LLM wait is the time during which at least one request was outstanding (the union of the intervals); "
        "non-LLM time is the difference.",
        "",
        "## The bar: the paper's own code with the same model",
        "",
        BAR,
        "",
        "Its stop rule, also used here: at least 11 episodes, the last 10 won (`--solved 10 --min-episodes 11`).",
        "",
        "## wc's runs",
        "",
        "| run | env | start | seed | concurrency | LLM calls | tokens (prompt + completion) | env steps | "
        "episodes (won) | first success | wall | LLM wait | non-LLM | model | date |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *[_row(r) for r in runs],
        "",
        "## Means over seeds",
        "",
        "| env | start | concurrency | runs (seeds) | LLM calls | env steps | non-LLM time | "
        "all reached the stop rule |",
        "|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple, list[RunSummary]] = defaultdict(list)
    for r in runs:
        start = "transfer" if r.config.get("from_program") else "scratch"
        groups[(r.env, start, r.config.get("concurrency"))].append(r)
    for (env, start, conc), members in groups.items():
        solved = all(r.status == RunStatus.FINISHED and r.successes >= (r.config.get("solved") or 0) for r in members)
        lines.append(f"| {env} | {start} | {conc} | {len(members)} ({', '.join(str(r.seed) for r in members)}) | "
                     f"{mean(r.llm_calls for r in members):.1f} | {mean(r.env_steps for r in members):.1f} | "
                     f"{mean(r.wall_seconds - r.llm_wait_seconds for r in members):.1f} s | "
                     f"{'yes' if solved else 'no'} |")
    lines += [
        "",
        "## How to reproduce",
        "",
        "Each run's configuration is stored with it (`wc runs show RUN --json`). With a model behind an "
        "OpenAI-compatible endpoint (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `--model`):",
        "",
        "```",
        "wc learn --env minigrid-doorkey --seed 0 --solved 10 --min-episodes 11 --max-llm-calls 10",
        "wc curriculum --envs minigrid-empty,minigrid-doorkey,minigrid-unlock --solved 10 --min-episodes 11",
        "wc learn --env wc.envs.variants:WC-DoorKeyDoubleToggle-5x5-v0 --solved 10 --min-episodes 11 --max-llm-calls 5",
        "```",
        "",
        "A recorded session replays exactly, without a model: `wc runs export-llm RUN > session.json`, then "
        "`wc learn --env ENV --replay session.json`.",
        "",
    ]
    return "\n".join(lines)
