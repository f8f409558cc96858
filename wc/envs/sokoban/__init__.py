"""Sokoban as a gymnasium environment, with wc's teleport-gate variant.

No maintained gymnasium package exists (gym-sokoban targets old gym), so wc implements the game
here and registers it with gymnasium on import.

Rules (classic Sokoban)
    Actions are `up`, `down`, `left`, `right` (gymnasium indices 0-3); x grows rightward,
    y downward. The player moves one cell onto floor, a target or a gate; a wall stops it (nothing
    moves). Moving into a box pushes that one box a cell further when the cell beyond it holds no
    wall and no box; otherwise nothing moves. Boxes are never pulled.

Rewards (gym-sokoban's)
    -0.1 every step; +1 when a push puts a box onto a target; -1 when a push takes a box off a
    target; +10 more, and the episode terminates, when every box is on a target. The episode is
    truncated (gymnasium's `truncated`) after `max_steps` steps.

Teleport gates (wc's own rule; the paper's variant is not public)
    Gates come in pairs named by a letter. Player and boxes enter a gate like floor. When a move
    ends with the player entering a gate (by walking, or by pushing a box off it), the player is
    moved to the twin gate of the same pair, unless a box stands on the twin: then the player
    stays on the gate it entered. Arriving on the twin does not teleport again, and a move that
    is blocked does not teleport. Boxes never teleport: a box pushed onto a gate stays there.
    Teleporting adds no reward. A gate is never also a target.

Level text (XSB)
    `#` wall, `@` player, `+` player on a target, `$` box, `*` box on a target, `.` target,
    space floor (`-` and `_` are read as floor too). wc's extension for gates: a lowercase letter
    `a`-`z` is a gate of the pair named by that letter (each letter appears exactly twice in a
    level), the uppercase letter is the player standing on such a gate. A box on a gate has no
    character: levels cannot start with one (state pictures draw it as `$`). The letters make
    the alternative `p`/`P`/`b`/`B` notation unavailable.

    A file holds one or more levels. A board line is one whose first character other than
    floor is `#`; a run of board lines is a level. Blank lines, `;` comments and other text
    (`Title: ...`) separate levels; the last such text line before a level is its title.

Levels of an environment: a level file (or a shipped set: `small`, `teleport`), where reset(seed)
plays level `seed % n`; or levels generated from the seed (`boxes`, `width`, `height`), built by
playing the game backwards (pulls) from the solved state, so each is solvable by construction.
Levels from files are checked with a bounded breadth-first solver when the environment is made.
"""
from __future__ import annotations

from wc.envs.sokoban.adapter import API, ENV_OPTIONS, SokobanAdapter, level_entities, render_state
from wc.envs.sokoban.env import DEFAULT_MAX_STEPS, REGISTERED, SokobanEnv, register_levels
from wc.envs.sokoban.generator import generate_level
from wc.envs.sokoban.rules import (
                                   ACTIONS,
                                   DELTAS,
                                   MISSION,
                                   REWARD_BOX_OFF_TARGET,
                                   REWARD_BOX_ON_TARGET,
                                   REWARD_FINISHED,
                                   REWARD_STEP,
                                   Board,
                                   Cell,
                                   Level,
                                   step_reward,
)
from wc.envs.sokoban.solver import DEFAULT_SOLVER_BUDGET, Solution, require_solution, solve
from wc.envs.sokoban.xsb import (
                                   SHIPPED_SETS,
                                   draw,
                                   format_level,
                                   load_levels,
                                   parse_level,
                                   read_xsb,
                                   shipped_levels,
                                   write_xsb,
)
from wc.errors import LevelError

__all__ = ["ACTIONS", "API", "DEFAULT_MAX_STEPS", "DEFAULT_SOLVER_BUDGET", "DELTAS", "ENV_OPTIONS", "MISSION",
           "REGISTERED", "REWARD_BOX_OFF_TARGET", "REWARD_BOX_ON_TARGET", "REWARD_FINISHED", "REWARD_STEP",
           "SHIPPED_SETS", "Board", "Cell", "Level", "LevelError", "Solution", "SokobanAdapter", "SokobanEnv", "draw",
           "format_level", "generate_level", "level_entities", "load_levels", "parse_level", "read_xsb",
           "register_levels", "render_state", "require_solution", "shipped_levels", "solve", "step_reward",
           "write_xsb"]
