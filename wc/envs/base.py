"""The adapter protocol: a gymnasium env seen as symbolic states, a mission and action names."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from wc._core.values import ApiModule, RewardMode, State
from wc.envs.render import entity_lines
from wc.errors import InvalidAction


@dataclass(frozen=True)
class Step:
    state: State
    reward: float
    terminated: bool
    truncated: bool


class EnvAdapter(ABC):
    """One environment instance, speaking in JSON entity states and action names."""

    name: str
    env_id: str
    domain: str = "unknown"
    api: ApiModule
    actions: tuple[str, ...]
    reward_mode: RewardMode = "exact"
    # the step limit of the current episode: read it after reset (BabyAI levels set theirs there)
    max_steps: int
    # Trusted source defining `candidate_actions(state) -> list[str]` for domains whose actions
    # depend on the state (ALFWorld's text commands); the planner calls it inside the sandbox.
    # None: every state has the fixed `actions`. The same source may define the other trusted
    # search hints of wc._core.contract.HOOKS (`focus`, `estimator`).
    action_source: str | None = None

    @property
    def stored_name(self) -> str:
        """The name the store keeps this environment under; an adapter whose environments are
        made with arguments adds them (the generic gymnasium adapter), so variants never mix."""
        return self.name

    @abstractmethod
    def reset(self, seed: int | None = None) -> tuple[State, str]:
        """Start an episode; returns the initial state and the mission text."""

    @abstractmethod
    def step(self, action: str) -> Step:
        """Take a named action."""

    def lift_step_limit(self, steps: int) -> bool:
        """Let episodes run to at least `steps` steps from the next reset on, where the
        environment's own limit is lower; False when this environment cannot (its limit stands)."""
        return False

    def own_step_limit(self) -> int:
        """The environment's own step limit for the current episode, before any lifting."""
        return self.max_steps

    def available_actions(self) -> tuple[str, ...]:
        """Actions the environment accepts now; exploration draws from these."""
        return self.actions

    def render_state(self, state: State) -> str:
        """Text for prompts; grid worlds override this with a picture."""
        return entity_lines(state)

    def observation(self, state: State) -> str:
        """What an agent that reads text sees now (the ReAct baseline): the rendered state, or a
        text game's own feedback."""
        return self.render_state(state)

    pictures: bool = False  # whether `frame` and `picture` draw (grid worlds) or not (text worlds)

    def frame(self) -> Any | None:
        """A picture (a PIL image) of the environment as it is now, drawn by the environment's own
        renderer where it has one, for watching an episode; None for text domains."""
        return None

    def picture(self, state: State) -> Any | None:
        """A picture (a PIL image) of any state of this domain, such as a program's prediction, in
        the look of `frame`; None where the domain has no pictures or the state cannot be drawn."""
        return None

    def close(self) -> None:  # noqa: B027 - optional: adapters without resources need not close
        """Release the environment's resources."""

    def check_action(self, action: str) -> int:
        try:
            return self.actions.index(action)
        except ValueError:
            raise InvalidAction(f"{self.name} has no action {action!r}; actions are {', '.join(self.actions)}",
                                action=action) from None
