"""What every dataset reader shares: the dataset as a source of wc transitions, and the checks
that turn recorded observations and actions into wc states and action values through the
environment's own adapter (`encode_observation`, `encode_action`), refusing what the
environment's spaces cannot hold with the place where it was found."""
from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wc._core.values import State
from wc._store.records import DataTransition
from wc.errors import DatasetError, EnvError, InvalidAction

__all__ = ["DatasetSource", "Encoder", "Where", "file_hash"]


@dataclass(frozen=True)
class DatasetSource:
    """A dataset ready to be read: where it is, what it is, a hash of its content, and a function
    that reads it afresh as wc transitions (streamed: a dataset may not fit in memory)."""

    format: str                     # "jsonl" or "minari"
    location: str                   # the file's absolute path, or the Minari dataset id
    content_hash: str               # sha256 of the bytes read (the file; Minari's data files)
    env_id: str                     # the environment the transitions are encoded for
    reader: Callable[[], Iterator[DataTransition]] = field(repr=False, compare=False)
    data_env_id: str | None = None  # the environment the data says it was recorded on, if it says
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def transitions(self) -> Iterator[DataTransition]:
        """The transitions in order (episode by episode); DatasetError where the data is bad, and
        for a dataset without any transition."""
        count = 0
        for t in self.reader():
            count += 1
            yield t
        if count == 0:
            raise DatasetError(f"the dataset {self.location} holds no transitions", path=self.location)

    def read(self) -> list[DataTransition]:
        """Every transition, in memory."""
        return list(self.transitions())


def file_hash(paths: Iterable[Path]) -> str:
    """sha256 over the bytes of the files, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Where:
    """Where a value was read, for an error: "FILE line 3", "dataset X episode 2 step 7"."""

    text: str
    path: str | None = None
    line: int | None = None


class Encoder:
    """Observations and actions of one environment's adapter (a `wc.envs.gym.GymAdapter`) as wc
    values, checked against its spaces: every number finite, discrete values whole and within
    their range, bounded fields within their bounds, actions of the action space."""

    def __init__(self, adapter: Any) -> None:
        if not hasattr(adapter, "encode_observation") or not hasattr(adapter, "encode_action"):
            raise DatasetError(f"environment {adapter.name!r} reads no offline data: its adapter has no "
                               "encode_observation (the generic gymnasium domain has)")
        self.adapter = adapter
        self.layout = adapter.layout
        self.kind = adapter.action_space
        self.space = adapter.env.action_space
        self.size = math.prod(radix for _, radix in self.layout.digits)
        self.checks = [(f.name, f.kind == "int", f.low, f.high) for f in self.layout.fields]
        self.names = [f.name for f in self.layout.fields]
        self.plain = not self.layout.digits and all(not whole and low is None and high is None
                                                    for _, whole, low, high in self.checks)
        self.box = [(lo, hi) for lo, hi in zip(self.kind.low, self.kind.high, strict=True)]

    def state(self, obs: Any, where: Callable[[], Where]) -> State:
        """The wc state of an observation; DatasetError (saying `where()`) when it does not fit."""
        try:
            state = self.adapter.encode_observation(obs)
        except EnvError as exc:
            raise self.error(where, f"the observation does not fit {self.adapter.env_id}'s observation space: "
                                    f"{_detail(exc)}") from None
        raw = None if self.plain else _numbers(obs)
        if self.layout.digits:  # a Discrete observation decoded into fields: the number itself must be whole
            if raw is None or len(raw) != 1 or not _whole(raw[0]):
                raise self.error(where, f"the observation {str(obs)[:80]} is not a whole number, as "
                                        f"{self.adapter.env_id}'s Discrete observation space needs")
            if not 0 <= int(raw[0]) - self.layout.start < self.size:
                raise self.error(where, f"the observation {raw[0]} is outside {self.adapter.env_id}'s observation "
                                        f"space ({self.layout.start} to {self.layout.start + self.size - 1})")
        entity = state[0]
        if self.plain:  # floats without bounds: one sum tells whether all are finite
            total = sum(entity[name] for name in self.names)
            if total - total == 0.0:
                return state
        for i, (name, whole, low, high) in enumerate(self.checks):
            v = entity[name]
            if raw is not None and not self.layout.digits and whole and not _whole(raw[i]):
                raise self.error(where, f"observation field {name} = {raw[i]!r} is not a whole number")
            if not math.isfinite(v):
                raise self.error(where, f"observation field {name} = {v!r} is not a finite number")
            if (low is not None and v < low) or (high is not None and v > high):
                bounds = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
                raise self.error(where, f"observation field {name} = {v!r} is outside {self.adapter.env_id}'s "
                                        f"observation space {bounds}")
        return state

    def action(self, action: Any, where: Callable[[], Where]) -> Any:
        """The wc action value of a recorded action (an index, a name, a list of numbers)."""
        kind = self.kind
        try:
            if kind.kind == "discrete":
                if isinstance(action, str):
                    self.adapter.decode_action(action)
                    return action
                flat = _numbers(action)
                if flat is None or len(flat) != 1 or not _whole(flat[0]):
                    raise InvalidAction(f"a discrete action is a whole number, not {str(action)[:80]}")
                return self.adapter.encode_action(int(flat[0]))
            values = _numbers(action)
            if values is None:
                raise InvalidAction(f"an action is a list of {kind.size} numbers, not {str(action)[:80]}")
            if kind.kind == "multidiscrete":
                if not all(_whole(v) for v in values):
                    raise InvalidAction(f"a multi-discrete action is a list of whole numbers, not {values[:8]}")
                values = [int(v) for v in values]
            else:
                values = [float(v) for v in values]
                if len(values) == len(self.box) and all(lo <= v <= hi for v, (lo, hi) in zip(values, self.box,
                                                                                              strict=True)):
                    return values  # within the bounds as written (NaN is not): what decode_action would accept
            self.adapter.decode_action(values)  # the length, finite numbers within the bounds (as float32)
            return values
        except InvalidAction as exc:
            raise self.error(where, f"the action does not fit {self.adapter.env_id}'s action space: "
                                    f"{_detail(exc)}") from None

    @staticmethod
    def error(where: Callable[[], Where], message: str) -> DatasetError:
        place = where()
        return DatasetError(f"{place.text}: {message}", path=place.path, line=place.line)


def _detail(exc: Exception) -> str:
    return str(exc)[:300]


def _whole(v: Any) -> bool:
    return isinstance(v, int) or (isinstance(v, float) and v.is_integer())


def _numbers(value: Any) -> list[Any] | None:
    """A number or a flat list of numbers as a list of Python numbers (bools refused), else None
    (a structure: a Dict or Tuple observation read by the adapter itself)."""
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        value = value.tolist()
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                for v in value):
        return list(value)
    return None
