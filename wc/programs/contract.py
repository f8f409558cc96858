"""What a program must return, checked: `reward()` gives (number, bool); the reward matches the
recorded one by sign or exactly, as the environment's adapter says."""
from __future__ import annotations

from typing import Any


class MalformedOutput(Exception):
    """A program returned a value outside the contract."""


def reward_pair(value: Any) -> tuple[float, bool]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise MalformedOutput(f"reward() must return (reward, done), not {value!r}"[:300])
    r, done = value
    if isinstance(r, bool) or not isinstance(r, (int, float)):
        raise MalformedOutput(f"reward() must return a number as reward, not {type(r).__name__}")
    if not isinstance(done, bool) and done not in (0, 1):
        raise MalformedOutput(f"reward() must return a bool as done, not {type(done).__name__}")
    return float(r), bool(done)


def rewards_match(mode: str, predicted: tuple[float, bool], reward: float, done: bool) -> bool:
    if predicted[1] != done:
        return False
    if mode == "sign":
        return (predicted[0] > 0) == (reward > 0)
    return abs(predicted[0] - reward) <= 1e-6
