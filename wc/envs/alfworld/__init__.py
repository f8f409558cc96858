"""ALFWorld adapter: TextWorld's PDDL engine seen as entity states and text commands.

Games are `.tw-pddl` files (JSON with `pddl_domain`, `grammar`, `pddl_problem`), played through
`textworld.gym` with alfworld's `AlfredDemangler` (AI2-THOR ids -> "apple 1") and `AlfredInfos`
wrappers. wc ships a small set of its own games (`wc/envs/alfworld/games`, two per task type);
`games=` selects a game file, a folder of games, or a split of the real dataset under
`$ALFWORLD_DATA/json_2.1.1/`.

The symbolic state holds the facts that decide what commands do and whether a task is done:
the agent's location and what it holds, each receptacle (kind, location, open or not, which
kinds of object it accepts), each object (kind, affordances, clean/hot/cool/toggled) and one
`InReceptacle` entity per object-in-receptacle fact. Left out are facts no action of the six
task types reads: `checked`/`examined` (set by look/examine/open, never tested),
`objectAtLocation` (read only by slicing, which ALFWorld's loader excludes), `isOn`/`isSliced`,
and static facts the domain's actions do not use (`moveable`, `isReceptacleObject`, ...).

Episodes: reset(seed) plays game `order[seed % n]`, a fixed shuffle of the sorted game list,
so consecutive seeds visit every game. Reward 1 and termination when the game is won; truncation
after `max_steps` steps.
"""
from __future__ import annotations

from wc.envs.alfworld.adapter import ACTION_SOURCE, API, DEFAULT_MAX_STEPS, AlfworldAdapter, make_adapter
from wc.envs.alfworld.catalog import (
                                    DATA_SUBDIR,
                                    GAME_KEYS,
                                    TASK_TYPES,
                                    check_game,
                                    read_game,
                                    resolve_games,
                                    shipped_games,
                                    task_type_of,
)
from wc.envs.alfworld.imports import INSTALL_HINT, alfworld_modules, engine_call
from wc.envs.alfworld.pddl import check_problem, parse_sexp
from wc.envs.alfworld.state import facts_to_state, mission_of, render_state
from wc.errors import GameError

__all__ = ["ACTION_SOURCE", "API", "DATA_SUBDIR", "DEFAULT_MAX_STEPS", "GAME_KEYS", "INSTALL_HINT", "TASK_TYPES",
           "AlfworldAdapter", "GameError", "alfworld_modules", "check_game", "check_problem",
           "engine_call", "facts_to_state", "make_adapter", "mission_of", "parse_sexp", "read_game",
           "render_state", "resolve_games", "shipped_games", "task_type_of"]
