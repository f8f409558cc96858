"""An environment's description as CWMB gives it to the LLM (`--describe docs`): the class
docstring of the installed environment, read at run time (wc copies none of it), without its
"Version History", "Arguments" and "References" sections (CWMB's rule: what remains describes
the dynamics, the spaces, the rewards and when an episode ends)."""
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
    doc = inspect.getdoc(type(unwrapped)) if unwrapped is not None else None
    if not doc or type(unwrapped).__doc__ is None:
        raise InvalidInput(f"{adapter.name} has no documentation to describe it (its class has no docstring); "
                           "use --describe data")
    return documentation(doc)
