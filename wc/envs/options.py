"""`--env-option KEY=VALUE` items as keyword arguments for `gymnasium.make`.

Pure: the command line and the Python API turn the same list into the same dict. A VALUE is read
as JSON when it parses (`false`, `0.5`, `"8x8"`, `[1, 2]`, `null`), and as a string otherwise
(`8x8`). Python's spellings `True`, `False` and `None` are read as true, false and null: a
string "False" would be truthy, the opposite of what was meant. To pass those words as strings,
write them as JSON strings (`KEY='"False"'`).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from wc.errors import InvalidInput

_PYTHON_WORDS = {"True": True, "False": False, "None": None}


def parse_env_option(item: str) -> tuple[str, Any]:
    """One `KEY=VALUE` item as (key, value)."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InvalidInput(f"an environment option is KEY=VALUE (e.g. is_slippery=false), not {item!r}")
    if not key.isidentifier():
        raise InvalidInput(f"environment option {key!r} is not a keyword argument name (in {item!r})")
    if text in _PYTHON_WORDS:
        return key, _PYTHON_WORDS[text]
    try:
        return key, json.loads(text)
    except ValueError:
        return key, text


def parse_env_options(items: Iterable[str]) -> dict[str, Any]:
    """`["is_slippery=false", "map_name=8x8"]` -> `{"is_slippery": False, "map_name": "8x8"}`;
    a malformed item or a key given twice is InvalidInput."""
    out: dict[str, Any] = {}
    for item in items:
        key, value = parse_env_option(item)
        if key in out:
            raise InvalidInput(f"environment option {key!r} is given twice")
        out[key] = value
    return out
