"""Evaluation: every game of a split (or N seeds) played once, starting from a learned program.

`wc eval` is a run like any other, recorded in the store: episode i plays game i of the split
(ALFWorld) or env seed i (MiniGrid; Sokoban: level i of a level file, wrapping around); the run
may keep learning within its call budget (0 by default: the program as it is). The report groups
the games by task type, as the ALFWorld papers tabulate them, and counts the games won without
any LLM call.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from wc import envs
from wc._agent.config import LearnConfig
from wc._core.config import Settings
from wc._run.runner import learn
from wc._store import RunSummary
from wc.errors import InvalidInput
from wc.events import OnEvent

# ALFWorld's task types by their folder prefix, in the order the papers' tables use
TASK_TYPES = {"pick_and_place_simple": "Pick", "pick_clean_then_place_in_recep": "Clean",
              "pick_heat_then_place_in_recep": "Heat", "pick_cool_then_place_in_recep": "Cool",
              "look_at_obj_in_light": "Look", "pick_two_obj_and_place": "Pick2"}


@dataclass
class GameResult:
    index: int
    game: str          # ALFWorld: task folder/trial (a dataset game) or the game's name; else "seed N" or a level
    group: str         # its task type, or "all"
    won: bool
    steps: int
    llm_calls: int     # requests sent while this game was played


@dataclass
class EvalReport:
    run: RunSummary
    games: list[GameResult] = field(default_factory=list)
    observe: str | None = None  # ALFWorld's observation mode ("full" or "observed"); None elsewhere

    def table(self) -> list[tuple[str, int, int]]:
        """(group, games, won) per group in the papers' order, then All."""
        order = list(TASK_TYPES.values()) + ["all"]
        groups = sorted({g.group for g in self.games}, key=lambda g: order.index(g) if g in order else len(order))
        rows = [(grp, sum(1 for g in self.games if g.group == grp), sum(1 for g in self.games if g.group == grp
                                                                         and g.won)) for grp in groups]
        if not (len(rows) == 1 and rows[0][0] == "all"):
            rows.append(("All", len(self.games), sum(1 for g in self.games if g.won)))
        return rows

    @property
    def won_without_llm(self) -> int:
        return sum(1 for g in self.games if g.won and g.llm_calls == 0)

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run.to_json(), "observe": self.observe,
                "table": [{"group": g, "games": n, "won": w} for g, n, w in self.table()],
                "won_without_llm": self.won_without_llm, "games": [asdict(g) for g in self.games]}


def _names(adapter: Any, n: int) -> list[tuple[str, str]]:
    order = getattr(adapter, "order", None)
    if order:
        out = []
        for i in range(n):
            path = order[i % len(order)]
            # a dataset game is trial_…/game.tw-pddl in its task folder, and one task folder holds
            # several trials (134 unseen games share 47 folders): the name is folder/trial
            folder = path.parent.parent.name if path.name == "game.tw-pddl" else path.stem
            name = f"{folder}/{path.parent.name}" if path.name == "game.tw-pddl" else folder
            group = next((t for k, t in TASK_TYPES.items() if folder.startswith(k)), "all")
            out.append((name, group))
        return out
    name = getattr(adapter, "game_name", None)  # e.g. a Sokoban level by number and title
    return [(name(i) if name else f"seed {i}", "all") for i in range(n)]


async def evaluate(env: str, settings: Settings | None = None, *, from_program: int | str,
                   env_options: dict[str, Any] | None = None, episodes: int | None = None, max_llm_calls: int = 0,
                   on_event: OnEvent | None = None, on_start: Callable[[int], None] | None = None,
                   **config: Any) -> EvalReport:
    """Play every game of the environment's split once (or `episodes` seeds) from `from_program`."""
    adapter = envs.make(env, **(env_options or {}))
    try:
        observe = getattr(adapter, "observe", None)
        order = getattr(adapter, "order", None)
        n = episodes or (len(order) if order else 20)
        names = _names(adapter, n)
    finally:
        adapter.close()
    if n < 1:
        raise InvalidInput(f"nothing to evaluate: {n} games")
    run_config = LearnConfig(env=env, env_options=dict(env_options or {}), from_program=from_program, episodes=n,
                             solved=None, min_episodes=n, max_llm_calls=max_llm_calls, seed=0, **config)
    summary = await learn(run_config, settings, on_event=on_event, on_start=on_start)
    games = []
    for e in summary.episode_list:
        calls = sum(1 for c in summary.llm_call_list if e.started_at is not None and c.started_at >= e.started_at
                    and (e.finished_at is None or c.started_at <= e.finished_at))
        game, group = names[e.index] if e.index < len(names) else (f"seed {e.index}", "all")
        games.append(GameResult(e.index, game, group, e.success, e.steps, calls))
    return EvalReport(summary, games, observe)
