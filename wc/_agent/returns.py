"""Worlds scored by their return (the generic gymnasium domain: CartPole, Taxi, Pendulum, …):
which planner acts in them, and when an episode of one counts as a success.

A return world is one whose adapter judges rewards by value and has a generic `action_space`
(`wc.envs.gym`); MiniGrid, Sokoban and ALFWorld are goal worlds, untouched by anything here.

* **Planner.** The domain chooses (`LearnConfig.planner` None): best-first width search in a goal
  world, MCTS over discrete (and small multi-discrete) actions, CEM over continuous ones;
  `--planner` overrides, and a planner that does not fit the world or its actions is refused.
* **Success.** An episode succeeds when its return reaches gymnasium's `spec.reward_threshold`;
  without one, when it reaches the best return of the run's earlier episodes (never the first).
  The run is solved (`Agent._solved`) when the mean return of its last `solved` episodes reaches
  the threshold (it is a mean in gymnasium too); without one, by `solved` successes in a row.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from wc._agent.config import LearnConfig
from wc._planning import PLANNERS, RETURN_PLANNERS
from wc.errors import InvalidInput

GOAL_DEFAULT = "bfws"


def action_space(adapter: Any) -> Any | None:
    """The generic action space of a return world, or None for a goal world."""
    if getattr(adapter, "reward_mode", None) != "value":
        return None
    return getattr(adapter, "action_space", None)


def default_planner(adapter: Any) -> str:
    space = action_space(adapter)
    if space is None:
        return GOAL_DEFAULT
    return "cem" if space.kind == "continuous" else "mcts"


def resolve_planner(config: LearnConfig, adapter: Any) -> LearnConfig:
    """The configuration with the planner the run uses: the domain's choice when none was named;
    a named planner that does not fit the world or its action space is an InvalidInput."""
    name = config.planner
    known = sorted(PLANNERS) + sorted(RETURN_PLANNERS)
    if name is None:
        return replace(config, planner=default_planner(adapter))
    if name not in PLANNERS and name not in RETURN_PLANNERS:
        raise InvalidInput(f"unknown planner {name!r}; planners: {', '.join(known)}")
    space = action_space(adapter)
    if space is None and name in RETURN_PLANNERS:
        raise InvalidInput(f"planner {name!r} maximises return; {config.env} is a goal world: use "
                           f"{' or '.join(sorted(PLANNERS))}")
    if space is not None:
        if name in PLANNERS:
            raise InvalidInput(f"planner {name!r} searches for a goal; {config.env} is scored by its return: use "
                               f"{' or '.join(_fitting(space.kind))}")
        if (RETURN_PLANNERS[name].kind == "continuous") != (space.kind == "continuous"):
            raise InvalidInput(f"planner {name!r} plans over {RETURN_PLANNERS[name].kind} actions; {config.env}'s "
                               f"actions are {space.kind}: use {' or '.join(_fitting(space.kind))}")
    return config


def _fitting(kind: str) -> list[str]:
    return [n for n, s in RETURN_PLANNERS.items() if (s.kind == "continuous") == (kind == "continuous")]


def reward_threshold(adapter: Any) -> float | None:
    """The return an episode must reach: the run's `--reward-threshold` (set on the adapter), else
    gymnasium's `spec.reward_threshold` for the adapter's environment, where it gives one."""
    value = getattr(adapter, "reward_threshold", None)
    if value is None:
        spec = getattr(getattr(adapter, "env", None), "spec", None)
        value = getattr(spec, "reward_threshold", None)
    return float(value) if value is not None and math.isfinite(float(value)) else None


def ends_in_goal(rewards: list[float]) -> bool:
    """A plan that ends the episode ends at a goal when its last reward is above every other of
    its rewards (Taxi's drop-off, FrozenLake's goal, Acrobot's 0 after -1s), not an ending
    rewarded like any other step (CartPole's fall)."""
    return bool(rewards) and rewards[-1] > max(rewards[:-1], default=0.0)


def episode_success(total: float, threshold: float | None, best_before: float | None) -> bool:
    """The success rule of a return world (module docstring)."""
    if threshold is not None:
        return total >= threshold
    return best_before is not None and total >= best_before
