"""The sandbox's Python layer: every known route from an allowed module or builtin to `os`,
`sys`, the real builtins, frames or code objects is refused as a classified failure, and a walk
over everything a program can reach finds none of them."""
import builtins
import sys
import types
from pathlib import Path

import pytest
from support.helpers import llm_settings

from wc import envs
from wc._api import LearnConfig, learn
from wc._sandbox import guard, modules, runtime
from wc._sandbox.sandbox import Sandbox
from wc.testing import Reply, answer

TAIL = "\ndef transition(state, action):\n    return state\n\ndef reward(state, action, next_state, mission):\n" \
       "    return 0.0, False\n"
MARK = "/tmp/wc-guard-escape"

# the four escapes the issue reported, then every other route of the same kind we know of
ESCAPES = {
    "random._os": f"import random\nrandom._os.system('touch {MARK}')",
    "enum.sys": f"import enum\nenum.sys.modules['os'].system('touch {MARK}')",
    "typing.sys": f"import typing\ntyping.sys.modules['os'].system('touch {MARK}')",
    "dataclasses.sys": f"import dataclasses\ndataclasses.sys.modules['os'].system('touch {MARK}')",
    "dataclasses.inspect": "import dataclasses\ndataclasses.inspect.currentframe()",
    "dataclasses.builtins": "import dataclasses\ndataclasses.builtins.open",
    "enum.bltns": "from enum import bltns",
    "typing.types": "import typing\ntyping.types.FunctionType",
    "fractions.sys": "import fractions\nfractions.sys",
    "statistics.random": "import statistics\nstatistics.random._os",
    "re.enum": "import re\nre.enum.sys",
    "re.copyreg": "from re import copyreg",
    "collections._sys": "from collections import _sys",
    "string._string": "import string\nstring._string",
    "copy.builtins via getattr": "import copy\ngetattr(copy, '_copy_immutable')",
    "private through hasattr": "import random\nhasattr(random, '_os')",
    "typing.get_type_hints": "import typing\ntyping.get_type_hints(transition)",
    "typing.ForwardRef": "from typing import ForwardRef",
    "functools.singledispatch": "from functools import singledispatch",
    "string.Formatter": "import string\nstring.Formatter().format('{0.__class__}', 1)",
    "collections.UserString": "from collections import UserString",
    "enum.global_enum": "import enum\nenum.global_enum",
    "format a dunder": "'{0.__class__.__base__}'.format(1)",
    "format, unbound": "str.format('{0.__class__}', 1)",
    "format_map": "'{a.__class__}'.format_map({'a': 1})",
    "format, nested spec": "'{0:{1.__class__}}'.format(1, 2)",
    "format a private attribute": "import random\n'{0._randbelow}'.format(random.Random())",
    "format through getattr": "getattr('{0.__class__}', 'format')(1)",
    "format through super": "class S(str):\n    def f(self):\n        return super().format(1)\nS('{0.__class__}').f()",
    "format from a class __dict__": "str.__dict__['format']('{0.__class__}', 1)",
    "operator.attrgetter": "import operator\noperator.attrgetter('__class__.__base__')(1)",
    "operator.methodcaller": "import operator\noperator.methodcaller('__reduce_ex__', 2)(1)",
    "methodcaller format": "import operator\noperator.methodcaller('format', 1)('{0.__class__}')",
    "functools.update_wrapper": "import functools\nclass C: pass\n"
                                "functools.update_wrapper(C(), len, assigned=('__self__',), updated=())",
    "module attribute write": "import math\nmath.floor = len",
    "dunder attribute": "().__class__.__bases__[0].__subclasses__()",
    "dunder through getattr": "getattr((), '__class__')",
    "frame of a generator": "g = (i for i in [1])\ng.gi_frame.f_globals",
    "import os": "import os",
    "import from a module": "from importlib import import_module",
    "builtins module": "import builtins",
    "eval": "eval('1')",
    "open": f"open('{MARK}', 'w')",
}

# what world models do with the same modules keeps working
BENIGN = {
    "submodules": "import collections.abc\nfrom collections.abc import Iterable\nfrom collections import abc\n"
                  "import collections.abc as cabc\nassert collections.abc.Iterable is Iterable is cabc.Iterable",
    "random": "import random\nrandom.Random(1).choice([1, 2])",
    "format": "'{0} {a.x}'.format(1, a=type('A', (), {'x': 2}))\nstr.format('{}', 1)\n'{k}'.format_map({'k': 1})",
    "instance __dict__": "class A:\n    def __init__(self):\n        self.x = 1\nassert A().__dict__ == {'x': 1}",
    "own private attributes": "class A:\n    def __init__(self):\n        self._x = 1\nassert A()._x == 1",
    "functools.wraps": "import functools\ndef deco(f):\n    @functools.wraps(f)\n    def g(*a):\n        return f(*a)\n"
                       "    return g\n@deco\ndef h(x):\n    return x\nassert h(1) == 1 and h.__name__ == 'h'",
    "attrgetter": "import operator\nclass A:\n    x = 1\nassert operator.attrgetter('x')(A()) == 1",
    "dataclasses": "from dataclasses import dataclass, replace, asdict\n@dataclass\nclass P:\n    x: int = 0\n"
                   "assert asdict(replace(P(), x=2)) == {'x': 2}",
    "copy and itertools": "import copy, itertools, math\nassert copy.deepcopy([[1]]) == [[1]]\n"
                          "assert list(itertools.product([1], [2])) == [(1, 2)] and math.floor(1.5) == 1",
    "string annotations": "x: '().__class__' = 1",
}


@pytest.fixture(scope="module")
def doorkey():
    adapter = envs.make("minigrid-doorkey")
    yield adapter
    adapter.close()


async def test_escapes_are_refused_in_the_worker_and_the_sandbox_goes_on(doorkey, tmp_path):
    async with Sandbox(doorkey.api, doorkey.actions, doorkey.reward_mode, workers=1) as sb:
        refused, allowed = {name: await sb.evaluate(body + TAIL) for name, body in ESCAPES.items()}, \
            {name: await sb.evaluate(body + TAIL) for name, body in BENIGN.items()}
    for name, ev in refused.items():
        assert ev.load_failure is not None, name
        assert ev.load_failure["kind"] in ("forbidden", "exception"), (name, ev.load_failure)
    kinds = {name: ev.load_failure["kind"] for name, ev in refused.items()}
    # NameError for names the builtins do not have (eval, open); everything else is refused by name
    assert {n for n, k in kinds.items() if k != "forbidden"} == {"eval", "open"}, kinds
    for name, ev in allowed.items():
        assert ev.load_failure is None, (name, ev.load_failure)
    assert not Path(MARK).exists()


async def test_a_learning_run_with_escaping_answers_goes_on(fake_llm, db_url):
    """The issue's report: a scripted LLM answers with the escapes; `wc learn` records them as
    forbidden programs and keeps going, and nothing ran outside."""
    bodies = [ESCAPES[k] for k in ("random._os", "enum.sys", "typing.sys", "dataclasses.sys")]

    def script(request, n):
        return Reply(answer(bodies[n % len(bodies)] + TAIL))
    server = fake_llm(script)
    config = LearnConfig(env="minigrid-empty", episodes=2, max_steps=20, max_llm_calls=4, concurrency=2)
    summary = await learn(config, llm_settings(server, db_url))
    assert summary.status == "finished" and summary.episodes == 2 and summary.llm_calls == 4
    from support.helpers import sqlite_rows
    errors = [row[0] for row in sqlite_rows(db_url, "select errors from programs")]
    assert len(errors) == 4 and all('"forbidden"' in e for e in errors), errors
    assert not Path(MARK).exists()


# --------------------------------------------------------------------------- the walk

_DANGEROUS_MODULES = {"posix", "nt", "os", "sys", "_io", "io", "builtins", "marshal", "_imp", "gc", "_thread",
                      "signal", "_signal", "faulthandler", "_posixsubprocess", "select", "_socket", "importlib"}
_LEAVES = (str, bytes, int, float, bool, complex, type(None), types.BuiltinMethodType, types.MethodWrapperType,
           types.WrapperDescriptorType, types.MethodDescriptorType, types.GetSetDescriptorType,
           types.MemberDescriptorType, types.ClassMethodDescriptorType)


def _what_is_wrong(value, module_dicts) -> str | None:
    if isinstance(value, (types.ModuleType, types.FrameType, types.CodeType, types.TracebackType)):
        return type(value).__name__
    if isinstance(value, dict) and id(value) in module_dicts:
        return "a module's globals"
    if value is builtins.__dict__:
        return "the real builtins"
    if isinstance(value, types.BuiltinFunctionType) and getattr(value, "__module__", None) in _DANGEROUS_MODULES \
            and value not in modules.restricted_builtins().values():
        return f"{value.__module__}.{value.__name__}"
    return None


def reachable_holes(roots: list[tuple[str, object]], depth: int) -> list[tuple[str, str]]:
    """Follow every attribute a program may read (through the same guard as program code), the
    values of every dict and sequence, from the roots; report modules, frames, code objects,
    module globals and os-level functions found."""
    module_dicts = {id(m.__dict__) for m in list(sys.modules.values()) if m is not None}
    keep, seen, found = [], set(), []
    queue = [(path, value, 0) for path, value in roots]
    while queue:
        path, obj, d = queue.pop(0)
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        keep.append(obj)  # ids stay unique while the walk runs
        wrong = _what_is_wrong(obj, module_dicts)
        if wrong:
            found.append((path, wrong))
            continue
        if d >= depth or isinstance(obj, _LEAVES):
            continue
        try:
            names = dir(obj)
        except Exception:  # noqa: BLE001
            names = []
        for name in names:
            try:
                guard.check_attr(name)
                value = guard.guarded_getattr(obj, name)
            except Exception:  # noqa: BLE001 - refused or raising: not reachable this way
                continue
            queue.append((f"{path}.{name}", value, d + 1))
        if isinstance(obj, (dict, types.MappingProxyType)):
            queue += [(f"{path}[{k!r}]", v, d + 1) for k, v in list(obj.items())]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            queue += [(f"{path}[{i}]", v, d + 1) for i, v in enumerate(obj)]
    return found


def _roots(api_source: str) -> list[tuple[str, object]]:
    roots = [(f"import {m}", modules.module_proxy(m)) for m in sorted(modules.ALLOWED_MODULES)]
    roots += [(f"builtins.{k}", v) for k, v in modules.restricted_builtins().items()]
    ns = runtime.api_namespace(api_source)
    return roots + [(f"api.{k}", v) for k, v in ns.items() if k != "__builtins__"]


def test_the_walk_finds_a_planted_hole():
    class Innocent:
        pass
    Innocent.cache = [{"helper": sys}]
    assert reachable_holes([("planted", Innocent)], depth=4) == [("planted.cache[0]['helper']", "module")]


@pytest.mark.parametrize("domain", ["minigrid", "sokoban", "alfworld"])
def test_nothing_dangerous_is_reachable_from_what_a_program_sees(domain):
    from wc.envs.api import load as load_api_module

    holes = reachable_holes(_roots(load_api_module(domain, 1).source), depth=6)
    assert holes == []
