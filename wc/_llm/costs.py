"""The one cost table: dollars per million prompt and completion tokens, by model.

Extend or override it with WC_PRICES, a JSON object {"model": [prompt_usd_per_mtok, completion_usd_per_mtok]}.
A model without a price has no cost (None), never a guessed one.
"""
from __future__ import annotations

import json
import os

PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1": (15.00, 60.00),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
}


def prices() -> dict[str, tuple[float, float]]:
    table = dict(PRICES)
    extra = os.environ.get("WC_PRICES")
    if extra:
        try:
            table.update({k: (float(v[0]), float(v[1])) for k, v in json.loads(extra).items()})
        except (ValueError, TypeError, IndexError, AttributeError):
            pass  # a malformed override leaves the built-in table in force
    return table


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    price = prices().get(model)
    if price is None:
        # dated snapshots ("gpt-4o-2024-08-06") cost what their family costs
        family = max((k for k in prices() if model.startswith(k + "-")), key=len, default=None)
        price = prices().get(family) if family else None
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000
