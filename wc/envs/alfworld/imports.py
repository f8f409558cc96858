"""Importing textworld and alfworld's wrappers without their side effects on this process."""
from __future__ import annotations

import importlib.util
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from wc.errors import UnknownEnvironment

INSTALL_HINT = "pip install 'worldcoder[alfworld]'"


@dataclass(frozen=True)
class _Alfworld:
    textworld: Any
    gym: Any
    wrappers: tuple[Any, ...]
    domain_path: str
    grammar_path: str


_ALFWORLD: _Alfworld | None = None


def alfworld_modules() -> _Alfworld:
    """Import textworld and alfworld's wrappers without alfworld's side effects.

    `import alfworld` runs `alfworld.info`, which creates `$ALFWORLD_DATA` (default
    ~/.cache/alfworld) and writes the variable into os.environ. Pointing it at alfworld's own
    package folder for the import (unless it names an existing folder) makes the mkdir a no-op;
    the environment is restored after. wc reads the dataset path itself, when it needs it.
    """
    global _ALFWORLD
    if _ALFWORLD is not None:
        return _ALFWORLD
    spec = importlib.util.find_spec("alfworld")
    if spec is None or spec.origin is None or importlib.util.find_spec("textworld") is None:
        raise UnknownEnvironment(f"ALFWorld environments need the alfworld extra: {INSTALL_HINT}")
    package_dir = os.path.dirname(spec.origin)
    saved = os.environ.get("ALFWORLD_DATA")
    borrowed = saved is None or not os.path.isdir(saved)
    if borrowed:
        os.environ["ALFWORLD_DATA"] = package_dir
    try:
        import textworld
        import textworld.gym
        from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredInfos
    except ImportError as exc:
        raise UnknownEnvironment(f"ALFWorld environments need the alfworld extra ({exc}): {INSTALL_HINT}") from None
    finally:
        if saved is None:
            os.environ.pop("ALFWORLD_DATA", None)
        elif borrowed:
            os.environ["ALFWORLD_DATA"] = saved
    data = os.path.join(package_dir, "data")
    _ALFWORLD = _Alfworld(textworld, textworld.gym, (AlfredDemangler, AlfredInfos),
                          os.path.join(data, "alfred.pddl"), os.path.join(data, "alfred.twl2"))
    return _ALFWORLD


@contextmanager
def engine_call():
    """fast-downward's PDDL translator overwrites sys.argv each time a game loads; put it back."""
    argv, saved = sys.argv, list(sys.argv)
    try:
        yield
    finally:
        argv[:] = saved
        sys.argv = argv
