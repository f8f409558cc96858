"""States as interned tuples, for planning. (The JSON form, which the store, the prompts and φ1
evaluation use, is the contract's codec, `wc._core.contract`.)

`EntityTable` gives each distinct entity value a small
int id once; a state is then the sorted tuple of its entities' ids, hashed once, compared in C,
and the atoms of width-based search are those ids. Objects for a program are built from the
table without JSON, and an entity the program returns unchanged (the same object) keeps its id
without being looked at again.
"""
from __future__ import annotations

from typing import Any

from wc._core.contract import FIELD_NAMES, JSON_ATOMS, MalformedOutput, field_names, is_entity

_ATOMIC = frozenset(JSON_ATOMS)


# --------------------------------------------------------------------------- interned tuples


class _List(tuple):
    """A list value inside an interned entity (kept apart from nested entities, which are
    tuples that start with their class)."""

    __slots__ = ()


Key = tuple[int, ...]


class EntityTable:
    """Interned entity values of one search: id -> (class, field values...), and back."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.values: list[tuple] = []
        self._templates: list[dict[str, Any]] = []   # private field dicts: building and mutation checks
        self._flat: list[bool] = []                  # no nested entity or list among the fields
        self._json: list[dict[str, Any] | None] = []
        self._plain: dict[type, bool] = {}

    def __len__(self) -> int:
        return len(self.values)

    # ------------------------------------------------------------ objects -> ids

    def value_of(self, obj: Any) -> tuple:
        """The hashable form of one entity object (validated like `encode_state`)."""
        cls = type(obj)
        names = FIELD_NAMES.get(cls)
        if names is None:
            if not is_entity(obj):
                raise MalformedOutput(f"a state holds entity objects, not {cls.__name__}")
            names = field_names(cls)
        try:
            d = obj.__dict__
            raw = [d[n] for n in names]
        except (AttributeError, KeyError):
            raw = [getattr(obj, n) for n in names]
        for v in raw:
            if type(v) not in _ATOMIC:
                return (cls, *[self._convert(v) for v in raw])
        return (cls, *raw)

    def _convert(self, v: Any) -> Any:
        t = type(v)
        if t in _ATOMIC:
            return v
        if isinstance(v, (bool, int, float, str)):  # subclasses of the JSON types
            return v
        if t is list or t is tuple:
            return _List(self._convert(x) for x in v)
        if is_entity(v):
            return self.value_of(v)
        raise MalformedOutput(f"a state may hold entities, numbers, strings, booleans and lists, not {t.__name__}")

    def intern(self, value: tuple) -> int:
        eid = self.index.get(value)
        if eid is None:
            names = field_names(value[0])
            flat = all(type(v) is not _List and type(v) is not tuple for v in value[1:])
            # nested entities are interned first: they take their ids before this one does
            template = dict(zip(names, value[1:] if flat else [self._fresh(v) for v in value[1:]], strict=False))
            eid = self.index[value] = len(self.values)
            self.values.append(value)
            self._flat.append(flat)
            self._templates.append(template)
            self._json.append(None)
        return eid

    def key_of(self, objs: Any, known: dict[int, int] | None = None,
               copied: dict[int, Any] | None = None) -> Key:
        """The key of a state a program returned. `known` maps id(object) -> entity id for
        objects handed out unchanged (verified by the caller); `copied` maps id(copy) ->
        original for objects the program copied: a copy whose class and fields still equal
        its original's entity takes that entity's id without being converted."""
        if type(objs) is not list and not isinstance(objs, (list, tuple)):
            raise MalformedOutput(f"transition() must return a list of entities, not {type(objs).__name__}")
        ids = []
        known_get = (known or {}).get
        copied_get = copied.get if copied else None
        templates, values, intern, value_of = self._templates, self.values, self.intern, self.value_of
        for obj in objs:
            eid = known_get(id(obj))
            if eid is None and copied_get is not None:
                source = copied_get(id(obj))
                if source is not None:
                    eid = known_get(id(source))
                    if eid is not None and (type(obj) is not values[eid][0] or
                                            getattr(obj, "__dict__", None) != templates[eid]):
                        eid = None
            if eid is None:
                eid = intern(value_of(obj))
            ids.append(eid)
        ids.sort()
        return tuple(ids)

    def templates(self, key: Key) -> list[dict[str, Any]]:
        """The private field dicts of a state's entities, to compare handed-out objects with."""
        return [self._templates[eid] for eid in key]

    # ------------------------------------------------------------ ids -> objects

    def build(self, eid: int) -> Any:
        """A fresh object for one entity, as `decode_entity` would make it."""
        value = self.values[eid]
        cls = value[0]
        plain = self._plain.get(cls)
        if plain is None:
            plain = self._plain[cls] = (cls.__new__ is object.__new__ and not hasattr(cls, "__post_init__")
                                        and "__slots__" not in vars(cls))
        if not plain:
            return cls(*[self._fresh(v) for v in value[1:]])
        obj = object.__new__(cls)
        if self._flat[eid]:
            obj.__dict__.update(self._templates[eid])
        else:
            obj.__dict__.update(zip(field_names(cls), [self._fresh(v) for v in value[1:]], strict=False))
        return obj

    def _fresh(self, v: Any) -> Any:
        if type(v) is _List:
            return [self._fresh(x) for x in v]
        if type(v) is tuple:
            return self.build(self.intern(v))
        return v

    def objects(self, key: Key) -> list[Any]:
        return [self.build(eid) for eid in key]

    # ------------------------------------------------------------ ids -> JSON

    def json_entity(self, eid: int) -> dict[str, Any]:
        """The JSON form of an entity (cached: callers must not modify it)."""
        cached = self._json[eid]
        if cached is None:
            cached = self._json[eid] = self._to_json(self.values[eid])
        return cached

    def _to_json(self, value: tuple) -> dict[str, Any]:
        cls = value[0]
        out: dict[str, Any] = {"type": cls.__name__}
        for name, v in zip(field_names(cls), value[1:], strict=False):
            out[name] = self._json_value(v)
        return out

    def _json_value(self, v: Any) -> Any:
        if type(v) is _List:
            return [self._json_value(x) for x in v]
        if type(v) is tuple:
            return self._to_json(v)
        return v

    def json_state(self, key: Key) -> list[dict[str, Any]]:
        return [self.json_entity(eid) for eid in key]
