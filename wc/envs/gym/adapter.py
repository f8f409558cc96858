"""The generic adapter: any gymnasium environment whose observation is a number, a vector or a
small structure of them, and whose actions are discrete, a box or multi-discrete."""
from __future__ import annotations

import random
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from wc._core.tolerance import CWMB, Tolerance
from wc._core.values import ApiModule, State
from wc.envs.base import EnvAdapter, Step
from wc.envs.gym import source
from wc.envs.gym.names import known
from wc.envs.gym.spaces import (
    ActionSpace,
    ActionValue,
    ObservationLayout,
    action_space,
    decode_action,
    encode_action,
    observation_layout,
    unsupported_action,
    unsupported_observation,
)
from wc.errors import UnknownEnvironment

# the step limit of an environment that has none of its own (no TimeLimit): wc still ends its episodes
DEFAULT_MAX_STEPS = 1000


def refusal(unwrapped: Any) -> str | None:
    """Why the generic adapter cannot read an environment, or None when it can."""
    return (unsupported_observation(getattr(unwrapped, "observation_space", None))
            or unsupported_action(getattr(unwrapped, "action_space", None)))


def accepts(unwrapped: Any) -> bool:
    return refusal(unwrapped) is None


def time_limit(env: Any) -> int | None:
    """The episode step limit gymnasium applies: the TimeLimit wrapper's, else the spec's."""
    while env is not None:
        limit = getattr(env, "_max_episode_steps", None)
        if isinstance(limit, int):
            return limit
        env = getattr(env, "env", None)
    return None


class GymAdapter(EnvAdapter):
    """One gymnasium environment seen through its spaces: a state is `[Observation(...)]`."""

    domain = "gym"
    reward_mode = "value"

    def __init__(self, name: str, env_id: str, env: Any, env_kwargs: Mapping[str, Any] | None = None,
                 tolerance: Tolerance = CWMB) -> None:
        self.name = name
        self.env_id = env_id
        self.env = env
        self.env_kwargs = MappingProxyType(dict(env_kwargs or {}))
        self.tolerance = tolerance
        self.version = source.GENERATOR_VERSION  # of the API module's generator (set_version)
        unwrapped = env.unwrapped
        info = known(unwrapped)
        reason = unsupported_observation(env.observation_space) or unsupported_action(env.action_space)
        if reason:
            raise UnknownEnvironment(refused(name, reason), name=name)
        self.layout: ObservationLayout = observation_layout(env.observation_space, info, unwrapped)
        self.action_space: ActionSpace = action_space(env.action_space, info)
        self.actions = self.action_space.names if self.action_space.kind == "discrete" else ()
        spec = getattr(env, "spec", None)
        self._title = info.title if info is not None else (spec.name if spec is not None else env_id)
        self.api = self._api_module()
        threshold = getattr(spec, "reward_threshold", None) if spec is not None else None
        self.reward_threshold = float(threshold) if threshold is not None else None
        self.mission = source.mission(env_id, float(threshold) if threshold is not None else None)
        self.max_steps = self._limit()

    def _api_module(self) -> ApiModule:
        return source.api_module(self.env_id, source.generate(self.env_id, self._title, self.layout.fields,
                                                              self.action_space, self.tolerance,
                                                              decoded=bool(self.layout.digits),
                                                              version=self.version), version=self.version)

    def set_reward_threshold(self, threshold: float) -> None:
        """The run's own target return in place of gymnasium's `spec.reward_threshold` (none for
        Pendulum or CliffWalking): episodes succeed, and the run is solved, against it."""
        self.reward_threshold = float(threshold)
        self.mission = source.mission(self.env_id, self.reward_threshold, given=True)

    def set_tolerance(self, tolerance: Tolerance) -> None:
        """Judge this run's numbers within `tolerance`: the API module, which states the rule, follows."""
        if tolerance != self.tolerance:
            self.tolerance = tolerance
            self.api = self._api_module()

    def set_version(self, version: int) -> None:
        """Generate the API module at another generator version (2: a run stored before the PARAMS
        convention, which its recorded prompts were asked with)."""
        if version not in source.VERSIONS:
            raise ValueError(f"no API module generator version {version}")
        if version != self.version:
            self.version = version
            self.api = self._api_module()

    @property
    def stored_name(self) -> str:
        """The name the store keeps it under: with the gymnasium arguments it was made with
        (`FrozenLake-v1(is_slippery=False)`), so that variants never share data or programs."""
        if not self.env_kwargs:
            return self.name
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in sorted(self.env_kwargs.items()))})"

    def _limit(self) -> int:
        limit = time_limit(self.env)
        if limit is None and getattr(self.env, "spec", None) is not None:
            limit = self.env.spec.max_episode_steps
        return int(limit) if limit else DEFAULT_MAX_STEPS

    # ------------------------------------------------------------ the data an agent and offline data share

    def encode_observation(self, obs: Any) -> State:
        """The state for a gymnasium observation."""
        return [self.layout.entity(obs)]

    def decode_action(self, value: ActionValue) -> Any:
        """The gymnasium action for a wc action value (InvalidAction when it is not one)."""
        return decode_action(self.env.action_space, self.action_space, value)

    def encode_action(self, action: Any) -> ActionValue:
        """The wc action value for a gymnasium action (an index, an array), e.g. from offline data."""
        return encode_action(self.env.action_space, self.action_space, action)

    def sample_action(self, rng: random.Random) -> ActionValue:
        return self.action_space.sample(rng)

    # ------------------------------------------------------------ EnvAdapter

    def reset(self, seed: int | None = None) -> tuple[State, str]:
        obs, _ = self.env.reset(seed=seed)
        self.max_steps = self._limit()  # an environment may set its limit when an episode starts
        return self.encode_observation(obs), self.mission

    def step(self, action: ActionValue) -> Step:
        obs, reward, terminated, truncated, _ = self.env.step(self.decode_action(action))
        return Step(self.encode_observation(obs), float(reward), bool(terminated), bool(truncated))

    def close(self) -> None:
        self.env.close()


def refused(name: str, reason: str) -> str:
    """The one error message for an environment wc cannot read."""
    return (f"environment {name!r} exists but no wc adapter fits it: {reason}. An object-level adapter is "
            "needed: write one and declare it with wc.envs.register_domain")


def make_adapter(name: str, env_id: str, env: Any, options: dict[str, Any]) -> GymAdapter:
    env_kwargs = options.get("env_kwargs") or {}
    unknown = sorted(set(options) - {"env_kwargs"})
    if unknown:
        env.close()
        raise UnknownEnvironment(f"{name} takes no option {unknown[0]!r}: the arguments of gymnasium.make go in "
                                 "env_kwargs", name=name)
    try:
        return GymAdapter(name, env_id, env, env_kwargs)
    except Exception:
        env.close()
        raise
