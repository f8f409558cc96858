"""The environment registry: like `gymnasium.make`, by short name, gymnasium id or `module:EnvId`.

A domain is declared once, with `register_domain`: its name, its API module, its short names (and
the options each implies), its options, and how its adapters are made, either

* from a gymnasium env: `accepts(env.unwrapped)` says whether the domain's adapter fits a made
  env (MiniGrid, Sokoban: so any gymnasium id of theirs works), or
* by the domain itself from the spec and options (ALFWorld builds TextWorld games).

A `fallback` domain is tried after every other one, whenever it was declared: the generic
gymnasium domain (`wc.envs.gym`) reads any environment whose spaces are numbers and vectors, and
a domain of the user's own still comes first. When no domain fits, the error says why, from each
domain's `refusal`.

`make(name, env_kwargs={...})` passes keyword arguments to `gymnasium.make` for any domain whose
environments gymnasium makes, beside that domain's own options (`levels=` for Sokoban).

Adapters and predicates are given as "module:function" strings, imported on first use: making a
MiniGrid env never imports textworld.
"""
from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wc._core.values import ApiModule
from wc.envs.api import load as load_api_module
from wc.envs.base import EnvAdapter, Step
from wc.envs.options import parse_env_options
from wc.errors import InvalidInput, UnknownEnvironment, WcError

__all__ = ["ApiModule", "Domain", "EnvAdapter", "EnvSpec", "Step", "api_module", "domain_of", "list_envs", "make",
           "parse_env_options", "register_domain", "stored_name"]


@dataclass(frozen=True)
class EnvSpec:
    """A short name: what it makes and what it is."""

    name: str
    env_id: str
    domain: str
    description: str
    defaults: dict[str, Any] = field(default_factory=dict, compare=False)  # options the name implies

    def to_json(self) -> dict[str, Any]:
        """The Environment object of docs/JSON.md."""
        return {"name": self.name, "env_id": self.env_id, "domain": self.domain, "description": self.description,
                "defaults": dict(self.defaults)}


@dataclass(frozen=True)
class Domain:
    name: str
    api: tuple[str, int]                     # the API module's name and version
    adapter: str                             # "module:function"; see the module docstring for its arguments
    accepts: str | None = None               # "module:function" on env.unwrapped; None: the domain makes its env
    envs: tuple[EnvSpec, ...] = ()
    options: tuple[str, ...] = ()            # options its adapters take
    fallback: bool = False                   # tried after every domain that is not a fallback
    refusal: str | None = None               # "module:function" on env.unwrapped: why it does not fit, or None


DOMAINS: dict[str, Domain] = {}
SHORT_NAMES: dict[str, EnvSpec] = {}


def register_domain(domain: Domain) -> None:
    """Declare a domain and its short names (a later declaration of the same name replaces it)."""
    DOMAINS[domain.name] = domain
    for spec in domain.envs:
        SHORT_NAMES[spec.name] = spec


def _resolve(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


register_domain(Domain(
    "minigrid", ("minigrid", 1), adapter="wc.envs.minigrid:make_adapter", accepts="wc.envs.minigrid:accepts",
    envs=(
        EnvSpec("minigrid-empty", "MiniGrid-Empty-5x5-v0", "minigrid", "reach the goal in an empty room"),
        EnvSpec("minigrid-doorkey", "MiniGrid-DoorKey-5x5-v0", "minigrid",
                "pick up a key, unlock a door, reach the goal"),
        EnvSpec("minigrid-unlock", "MiniGrid-Unlock-v0", "minigrid", "open a locked door"),
        EnvSpec("minigrid-fetch", "MiniGrid-Fetch-6x6-N2-v0", "minigrid", "pick up the named object"),
        EnvSpec("minigrid-unlockpickup", "MiniGrid-UnlockPickup-v0", "minigrid",
                "unlock a door, pick up the box behind it"),
        EnvSpec("minigrid-blockedunlockpickup", "MiniGrid-BlockedUnlockPickup-v0", "minigrid",
                "move a ball out of the way, unlock, pick up the box"),
    )))

# Sokoban lives in wc (wc.envs.sokoban registers these gymnasium ids on import)
register_domain(Domain(
    "sokoban", ("sokoban", 1), adapter="wc.envs.sokoban.adapter:make_adapter",
    accepts="wc.envs.sokoban.adapter:accepts",
    options=("levels", "boxes", "width", "height", "max_steps", "check_solvable", "solver_budget"),
    envs=(
        EnvSpec("sokoban", "wc.envs.sokoban:WC-Sokoban-v0", "sokoban",
                "push boxes onto targets: 8 small fixed levels, 1-2 boxes"),
        EnvSpec("sokoban-2box", "wc.envs.sokoban:WC-Sokoban-2Box-v0", "sokoban",
                "push 2 boxes onto targets in generated 7x7 rooms"),
        EnvSpec("sokoban-3box", "wc.envs.sokoban:WC-Sokoban-3Box-v0", "sokoban",
                "push 3 boxes onto targets in generated 7x7 rooms"),
        EnvSpec("sokoban-teleport", "wc.envs.sokoban:WC-Sokoban-Teleport-v0", "sokoban",
                "Sokoban with pairs of teleport gates: 5 fixed levels"),
    )))

# ALFWorld through TextWorld's PDDL engine (the alfworld extra): wc's own small games by task
# type, or any game file, folder or dataset split with games=
register_domain(Domain(
    "alfworld", ("alfworld", 2), adapter="wc.envs.alfworld.adapter:make_adapter",
    options=("games", "max_steps", "observe"),
    envs=(
        EnvSpec("alfworld", "ALFWorld/all", "alfworld", "household text tasks: wc's 12 small games, all six types",
                {"task_types": None}),
        EnvSpec("alfworld-pick", "ALFWorld/pick_and_place_simple", "alfworld", "put an object in or on a receptacle",
                {"task_types": ("pick_and_place_simple",)}),
        EnvSpec("alfworld-light", "ALFWorld/look_at_obj_in_light", "alfworld", "look at an object under a lamp",
                {"task_types": ("look_at_obj_in_light",)}),
        EnvSpec("alfworld-clean", "ALFWorld/pick_clean_then_place_in_recep", "alfworld",
                "clean an object, then put it in a receptacle", {"task_types": ("pick_clean_then_place_in_recep",)}),
        EnvSpec("alfworld-heat", "ALFWorld/pick_heat_then_place_in_recep", "alfworld",
                "heat an object, then put it in a receptacle", {"task_types": ("pick_heat_then_place_in_recep",)}),
        EnvSpec("alfworld-cool", "ALFWorld/pick_cool_then_place_in_recep", "alfworld",
                "cool an object, then put it in a receptacle", {"task_types": ("pick_cool_then_place_in_recep",)}),
        EnvSpec("alfworld-pick2", "ALFWorld/pick_two_obj_and_place", "alfworld", "put two objects in a receptacle",
                {"task_types": ("pick_two_obj_and_place",)}),
    )))


# any other gymnasium environment whose spaces are numbers, vectors and small structures of them
register_domain(Domain(
    "gym", ("gym", 1), adapter="wc.envs.gym.adapter:make_adapter", accepts="wc.envs.gym.adapter:accepts",
    refusal="wc.envs.gym.adapter:refusal", options=("env_kwargs",), fallback=True))


def list_envs() -> list[EnvSpec]:
    return list(SHORT_NAMES.values())


def _gym_make(env_id: str, env_kwargs: dict[str, Any]):
    import gymnasium as gym
    import minigrid  # noqa: F401  (registers MiniGrid ids)

    if ":" in env_id:
        module, _, _ = env_id.partition(":")
        if os.getcwd() not in sys.path:  # as `python -m` would: the user's own modules are found
            sys.path.append(os.getcwd())
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UnknownEnvironment(f"cannot import module {module!r} for environment {env_id!r}: {exc}",
                                     name=env_id) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return gym.make(env_id, **env_kwargs)
    except WcError:
        raise  # the environment's own clear error (a bad level file, …)
    except Exception as exc:  # gymnasium raises several error types for unknown ids
        if env_id.rpartition(":")[2] in gym.registry:  # it exists: a missing extra, a bad argument
            given = f" with {_kwargs_text(env_kwargs)}" if env_kwargs else ""
            raise UnknownEnvironment(f"gymnasium cannot make {env_id!r}{given} ({type(exc).__name__}: {exc})",
                                     name=env_id) from None
        known = ", ".join(SHORT_NAMES)
        raise UnknownEnvironment(
            f"unknown environment {env_id!r} ({type(exc).__name__}: {exc}); "
            f"try one of {known}, a gymnasium id, or module:EnvId", name=env_id, unknown_name=True) from None


def _kwargs_text(env_kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in env_kwargs.items())


def _env_kwargs(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and k.isidentifier() for k in value):
        raise InvalidInput(f"env_kwargs must map argument names to values, not {value!r}"[:300])
    return dict(value)


def make(name: str, **options: Any) -> EnvAdapter:
    """An adapter for a short name (`minigrid-doorkey`), a gymnasium id or `module:EnvId`.

    `options` are domain-specific (e.g. `games=` for ALFWorld, `levels=` for Sokoban), and
    `env_kwargs` (a dict) holds keyword arguments for `gymnasium.make` (`{"is_slippery": False}`),
    whatever the domain; the generic domain's adapter keeps them as `adapter.env_kwargs`."""
    env_kwargs = _env_kwargs(options.pop("env_kwargs", None))
    spec = SHORT_NAMES.get(name.lower())
    domain = DOMAINS.get(spec.domain) if spec is not None else None
    if domain is not None and domain.accepts is None:
        if env_kwargs:
            raise UnknownEnvironment(f"{name} is not made by gymnasium.make, so it takes no gymnasium arguments "
                                     f"({_kwargs_text(env_kwargs)})", name=name)
        return _resolve(domain.adapter)(spec, options)
    env_id = spec.env_id if spec else name
    if spec is None and "-" not in name and ":" not in name:
        raise UnknownEnvironment(
            f"unknown environment {name!r}; known names: {', '.join(SHORT_NAMES)} "
            "(a gymnasium id or module:EnvId also works)", name=name, unknown_name=True)
    env = _gym_make(env_id, env_kwargs)
    ordered = sorted(DOMAINS.values(), key=lambda d: d.fallback)  # stable: declaration order otherwise
    for candidate in ordered:
        if candidate.accepts is not None and _resolve(candidate.accepts)(env.unwrapped):
            if candidate.fallback:  # the generic domain records the arguments it was made with
                options = dict(options, env_kwargs=env_kwargs)
            return _resolve(candidate.adapter)(spec.name if spec else name, env_id, env, options)
    reasons = [r for r in (_resolve(d.refusal)(env.unwrapped) for d in ordered if d.refusal) if r]
    env.close()
    if reasons:
        from wc.envs.gym.adapter import refused

        raise UnknownEnvironment(refused(name, "; ".join(reasons)), name=name)
    raise UnknownEnvironment(f"environment {name!r} exists but no wc adapter fits it "
                             f"(domains: {', '.join(DOMAINS)}); an object-level adapter is needed: write one "
                             "and declare it with wc.envs.register_domain", name=name)


def api_module(name: str) -> ApiModule:
    """The API module the LLM reads for an environment (a short name's, without making it)."""
    spec = SHORT_NAMES.get(name.lower())
    if spec is not None:
        return load_api_module(*DOMAINS[spec.domain].api)
    adapter = make(name)
    try:
        return adapter.api
    finally:
        adapter.close()


def stored_name(adapter: EnvAdapter) -> str:
    """The name the store keeps an environment under: its name, with the gymnasium arguments it
    was made with where there are any (`FrozenLake-v1(is_slippery=False)`)."""
    return adapter.stored_name


def domain_of(adapter: EnvAdapter) -> str:
    spec = SHORT_NAMES.get(adapter.name)
    if spec is not None:
        return spec.domain
    return getattr(adapter, "domain", "unknown")


async def record_environment(store: Any, adapter: EnvAdapter) -> int:
    """The id of the adapter's environment in `store` (a wc._store Store), recorded on first use
    under its `stored_name`, with its API module and reward mode: the one way every run (learn,
    fit, ReAct), dataset import and stored program names an environment, so a variant made with
    gymnasium arguments never shares another's data or programs."""
    return await store.environments.ensure(stored_name(adapter), adapter.env_id, domain_of(adapter), adapter.api,
                                           adapter.reward_mode)
