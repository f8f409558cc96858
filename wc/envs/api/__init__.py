"""API modules: the plain Python source the LLM reads and programs run against.

Each file is one version of one domain's module; a changed module is a new file, never an edit
of a published one, so stored programs keep running.
"""
from __future__ import annotations

import importlib.resources

from wc._core.values import ApiModule
from wc.errors import UnknownEnvironment


def load(name: str, version: int) -> ApiModule:
    """A published API module by domain name and version."""
    path = importlib.resources.files(__name__).joinpath(f"{name}_v{version}.py")
    if not path.is_file():
        raise UnknownEnvironment(f"no API module {name}_v{version}")
    return ApiModule(name=name, version=version, source=path.read_text())


def published() -> list[ApiModule]:
    """Every API module wc ships, oldest version first."""
    found = []
    for path in importlib.resources.files(__name__).iterdir():
        stem = path.name[:-3] if path.name.endswith(".py") else ""
        name, _, version = stem.rpartition("_v")
        if name and version.isdigit():
            found.append(load(name, int(version)))
    return sorted(found, key=lambda a: (a.name, a.version))
