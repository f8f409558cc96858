"""An environment's description as CWMB gives it to the LLM (`--describe docs`): the class
docstring of the installed environment, read at run time (wc copies none of it), without its
"Version History", "Arguments" and "References" sections (CWMB's rule: what remains describes
the dynamics, the spaces, the rewards and when an episode ends).

gymnasium 1.x keeps the documentation of its MuJoCo environments on the newest version's class
only (the v4 classes CWMB's data was collected with have no docstring). For such an environment
the text is the newest documented version's of the same environment, read the same way, under a
first line that says so: where the versions differ, the API module's fields are the ones of the
environment that runs."""
from __future__ import annotations

import inspect
import re
from typing import Any

from wc.errors import InvalidInput

__all__ = ["DESCRIBE", "DROPPED", "description", "documentation"]

DESCRIBE = ("data", "docs")  # what a prompt says of the environment: its data alone, or its documentation too
DROPPED = ("version history", "arguments", "references")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def documentation(doc: str) -> str:
    """A docstring without the dropped sections (markdown headings, each to the next heading of
    its level or above)."""
    kept: list[str] = []
    skipping: int | None = None  # the level of the dropped section being skipped
    for line in doc.splitlines():
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if skipping is not None and level <= skipping:
                skipping = None
            if skipping is None and heading.group(2).strip().lower() in DROPPED:
                skipping = level
        if skipping is None:
            kept.append(line)
    return "\n".join(kept).strip()


def description(adapter: Any, describe: str = "docs") -> str | None:
    """What the prompt says of the adapter's environment: None for "data", its documentation for
    "docs" (InvalidInput where the environment has none)."""
    if describe not in DESCRIBE:
        raise InvalidInput(f"unknown --describe {describe!r}; use {' or '.join(DESCRIBE)}")
    if describe == "data":
        return None
    env = getattr(adapter, "env", None)
    unwrapped = getattr(env, "unwrapped", env)
    doc = inspect.getdoc(type(unwrapped)) if unwrapped is not None and type(unwrapped).__doc__ else None
    if doc:
        return documentation(doc)
    newer = _newer_documented(getattr(env, "spec", None))
    if newer is None:
        raise InvalidInput(f"{adapter.name} has no documentation to describe it (its class has no docstring); "
                           "use --describe data")
    env_id, doc = newer
    spec_id = env.spec.id  # type: ignore[union-attr]
    return (f"(The installed gymnasium documents {spec_id} only under {env_id}; this is {env_id}'s documentation. "
            f"Where the two versions differ, the API module describes {spec_id}.)\n\n" + documentation(doc))


def _newer_documented(spec: Any) -> tuple[str, str] | None:
    """(id, docstring) of the newest registered version of the same environment whose class has a
    docstring (its class loaded, no environment made), or None."""
    if spec is None or getattr(spec, "version", None) is None:
        return None
    import gymnasium as gym
    from gymnasium.envs.registration import load_env_creator

    newer = sorted((s for s in gym.registry.values() if s.namespace == spec.namespace and s.name == spec.name
                    and s.version is not None and s.version > spec.version), key=lambda s: -(s.version or 0))
    for other in newer:
        if not isinstance(other.entry_point, str):
            continue
        try:
            creator = load_env_creator(other.entry_point)
        except Exception:  # noqa: BLE001 - a version whose module does not import here documents nothing
            continue
        if isinstance(creator, type) and creator.__doc__:
            return other.id, inspect.getdoc(creator) or ""
    return None
