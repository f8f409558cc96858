"""The one way entities become text, for prompts and the command line: `Type(field=value, …)`,
with nested entities (a carried key, a box's contents) written the same way."""
from __future__ import annotations

from typing import Any

from wc._core.values import State


def entity_text(entity: dict[str, Any]) -> str:
    fields = ", ".join(f"{k}={_value(v)}" for k, v in entity.items() if k != "type")
    return f"{entity.get('type')}({fields})"


def _value(value: Any) -> str:
    return entity_text(value) if isinstance(value, dict) else repr(value)


def entity_lines(state: State) -> str:
    """One entity per line, in the state's order."""
    return "\n".join(entity_text(e) for e in state)
