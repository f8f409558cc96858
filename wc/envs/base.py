"""The adapter protocol: a gymnasium env seen as symbolic states, a mission and action names."""
from __future__ import annotations

import importlib.resources
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

from wc.programs.canonical import State

RewardMode = Literal["sign", "exact"]


@dataclass(frozen=True)
class ApiModule:
    """Source the LLM reads and programs run against; versioned, never edited in place."""

    name: str
    version: int
    source: str

    @property
    def ref(self) -> str:
        return f"{self.name}_v{self.version}"

    @classmethod
    def load(cls, name: str, version: int) -> "ApiModule":
        source = importlib.resources.files("wc.envs.api").joinpath(f"{name}_v{version}.py").read_text()
        return cls(name=name, version=version, source=source)


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
    max_steps: int
    # Trusted source defining `candidate_actions(state) -> list[str]` for domains whose actions
    # depend on the state (ALFWorld's text commands); the planner calls it inside the sandbox.
    # None: every state has the fixed `actions`.
    action_source: str | None = None

    @abstractmethod
    def reset(self, seed: int | None = None) -> tuple[State, str]:
        """Start an episode; returns the initial state and the mission text."""

    @abstractmethod
    def step(self, action: str) -> Step:
        """Take a named action."""

    def available_actions(self) -> tuple[str, ...]:
        """Actions the environment accepts now; exploration draws from these."""
        return self.actions

    def render_state(self, state: State) -> str:
        """Text for prompts; grid worlds override this with a picture."""
        return "\n".join(repr(e) for e in state)

    def close(self) -> None:  # pragma: no cover - trivial
        pass

    def check_action(self, action: str) -> int:
        try:
            return self.actions.index(action)
        except ValueError:
            from wc.errors import WcError

            raise WcError(f"{self.name} has no action {action!r}; actions are {', '.join(self.actions)}") from None
