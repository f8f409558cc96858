"""Hostile programs, by class. Each ends exactly as stated: refused (`forbidden`), failed cleanly
with a classified failure, or contained (it runs, and nothing it does reaches beyond its own
worker). After each one, a correct and a wrong program are evaluated on the same pool, and their
verdicts must equal the ones computed in-process: no hostile program changes what is measured
about another.

Most programs run under the Python layer, as every program does. The classes "forged replies"
and "escaped programs" run without it (`python_layer=False`), to stand for a program that got
past the guard and holds the real `os` and `sys`: the jail, the one-program-per-worker rule and
the parent's verdicts must hold on their own.
"""
from __future__ import annotations

import os
import resource
import time
import warnings
from dataclasses import dataclass

import pytest
from support.helpers import record_transitions, replaced

from wc import envs
from wc._core.values import Transition
from wc._sandbox import runtime
from wc._sandbox.sandbox import Sandbox, SandboxLimits, program_key

warnings.simplefilter("ignore")
pytestmark = pytest.mark.slow

REWARD = "def reward(state, action, next_state, mission):\n    return 0.0, False\n"
MARK = "/tmp/wc-hostile-marker"
CALL_TIMEOUT, GRACE = 0.5, 0.5


def program(body: str = "", *, prelude: str = "", reward: str = REWARD) -> str:
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f"{prelude}\ndef transition(state, action):\n{lines}\n    return state\n\n{reward}"


def top(code: str) -> str:
    """A program whose hostile part runs when it loads."""
    return f"{code}\n\ndef transition(state, action):\n    return state\n\n{REWARD}"


@dataclass(frozen=True)
class Hostile:
    name: str
    source: str
    outcome: str               # a failure kind (or kinds: "memory|timeout"), or "contained": its verdict is its own
    message: str = ""          # a part of the failure's message, where it says something specific
    seconds: float = 10.0      # the most its evaluation may take


LYING_STR = """
class S(str):
    def startswith(self, prefix, *a):
        return False
    def endswith(self, suffix, *a):
        return False
    def __eq__(self, other):
        return False
    def __hash__(self):
        return 1
"""

ATTRIBUTE_WALKS = [
    # the first escape: a str whose startswith/endswith lie, handed to getattr
    Hostile("lying str to getattr", top(LYING_STR + "c = getattr((), S('__class__'))"), "forbidden", "plain str"),
    Hostile("lying str to hasattr", top(LYING_STR + "hasattr((), S('__class__'))"), "forbidden", "plain str"),
    Hostile("lying str to setattr", top(LYING_STR + "class A:\n    pass\nsetattr(A(), S('__class__'), int)"),
            "forbidden", "plain str"),
    Hostile("lying str to attrgetter", top(LYING_STR + "import operator\noperator.attrgetter(S('__class__'))(1)"),
            "forbidden", "plain str"),
    Hostile("lying str to methodcaller", top(LYING_STR + "import operator\noperator.methodcaller(S('__reduce__'))"),
            "forbidden", "plain str"),
    Hostile("subclasses", top("().__class__.__base__.__subclasses__()"), "forbidden"),
    Hostile("dunder through getattr", top("getattr((), '__class__')"), "forbidden"),
    Hostile("function globals", top("def f():\n    pass\ng = f.__globals__"), "forbidden"),
    Hostile("generator frame", top("g = (i for i in [1])\nf = g.gi_frame"), "forbidden"),
    Hostile("traceback frame", top("try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    t = e.__traceback__"),
            "forbidden"),
    Hostile("a library's private method", top("import random\nrandom.Random()._randbelow(3)"), "forbidden",
            "private attribute"),
    Hostile("a library object's __dict__", top("import functools\nd = functools.partial(len).__dict__"),
            "forbidden"),
    Hostile("format traversal", top("'{0.__class__.__base__}'.format(1)"), "forbidden"),
    Hostile("string.Formatter", top("import string\nstring.Formatter().get_field('0.__class__', (1,), {})"),
            "forbidden"),
    Hostile("match class pattern", top("match 1:\n    case object(__class__=c):\n        pass"), "forbidden",
            "class patterns"),
    Hostile("super of type", top("s = super(type, int).__subclasses__()"), "forbidden"),
    Hostile("partial getattr", top("import functools\nfunctools.partial(getattr, (), '__class__')()"), "forbidden"),
    Hostile("mro", top("int.mro()"), "forbidden"),
    Hostile("builtins that are not there", top("eval('1')"), "exception", "NameError"),
]

EVALUATION_OF_TEXT = [
    # the second escape: typing and dataclasses evaluate text the program controls
    Hostile("ForwardRef evaluated", top("import typing\nref = typing.get_args(typing.List['__import__(\"os\")'])[0]\n"
                                        "ref._evaluate({}, {}, frozenset())"), "forbidden", "private attribute"),
    Hostile("get_type_hints", top("import typing\ntyping.get_type_hints(len)"), "forbidden"),
    Hostile("singledispatch", top("from functools import singledispatch"), "forbidden"),
    Hostile("dataclass field name as code",
            top("import dataclasses\nX = type('X', (), {'__annotations__': {'a=__import__(\"os\")': int}, "
                "'__module__': 'builtins'})\ndataclasses.dataclass(X)"), "forbidden", "field name"),
    Hostile("make_dataclass field name as code",
            top("import dataclasses\ndataclasses.make_dataclass('X', ['a=__import__(\"os\")'])"), "forbidden",
            "field name"),
    Hostile("a base's field renamed",
            top("import dataclasses\n@dataclasses.dataclass\nclass B:\n    a: int = 0\n"
                "dataclasses.fields(B)[0].name = 'a=__import__(\"os\")'\n"
                "@dataclasses.dataclass\nclass C(B):\n    b: int = 0"), "forbidden", "field name"),
    Hostile("a field renamed while the class is processed",
            top("import dataclasses\nf = dataclasses.field(default=0)\nclass D:\n"
                "    def get(self, obj, cls):\n        f.name = 'a=__import__(\"os\")'\n        return 0\n"
                "D.__get__ = D.get\nclass C:\n    a: int = f\n    b: int = D()\ndataclasses.dataclass(C)"),
            "forbidden"),
    Hostile("a dataclass with a metaclass of its own",
            top("import dataclasses\nclass M(type):\n    pass\nclass C(metaclass=M):\n    a: int = 0\n"
                "dataclasses.dataclass(C)"), "forbidden", "metaclass"),
    Hostile("a dataclass flag that runs code",
            top("import dataclasses\nclass T:\n    def __bool__(self):\n        return True\n"
                "@dataclasses.dataclass(order=T())\nclass C:\n    a: int = 0"), "exception", "bool"),
    Hostile("namedtuple field name as code", top("import collections\ncollections.namedtuple('X', ['a=1'])"),
            "exception", "identifiers"),
    Hostile("compile", top("compile('1', 'x', 'eval')"), "exception", "NameError"),
]

DUNDER_WRITES = [
    Hostile("__reduce_ex__ with a __class__ slot state",
            top("import copy\nclass A:\n    pass\nclass B:\n    pass\n"
                "def reduce(self, protocol):\n    return (A, (), (None, {'__class__': B}))\n"
                "R = type('R', (), {'__reduce_ex__': reduce})\ncopy.copy(R())"), "forbidden"),
    Hostile("__reduce_ex__ writing into a library object",
            top("import copy, functools\np = functools.partial(len)\n"
                "def reduce(self, protocol):\n    return (lambda: p, (), {'func': print})\n"
                "R = type('R', (), {'__reduce_ex__': reduce})\ncopy.deepcopy(R())"), "forbidden",
            "write state"),
    Hostile("__class__ through setattr", top("class A:\n    pass\nsetattr(A(), '__class__', int)"), "forbidden"),
    Hostile("__class__ assigned", top("class A:\n    pass\na = A()\na.__class__ = int"), "forbidden"),
    Hostile("object.__setattr__", top("class A:\n    pass\nobject.__setattr__(A(), '__class__', int)"),
            "forbidden"),
    Hostile("a library class assigned to", top("import random\nrandom.Random.random = lambda self: 0.5"),
            "forbidden", "read-only"),
    Hostile("a module assigned to", top("import math\nmath.floor = len"), "forbidden", "read-only"),
    Hostile("defining __del__", top("class A:\n    def __del__(self):\n        pass"), "forbidden"),
    Hostile("defining __getattribute__", top("class A:\n    def __getattribute__(self, name):\n        return 1"),
            "forbidden"),
    Hostile("a dunder written to a library object", top("import functools\nfunctools.partial(len).__doc__ = 'x'"),
            "forbidden"),
]

POISONING = [
    # the issue: patched classes, finalizers and shared state left for the next program
    # its own states no longer decode (Agent() keeps no fields): that is its business, not the next program's
    Hostile("API class __init__ patched", top("Agent.__init__ = lambda self, *a, **k: None"), "exception",
            "has no attribute"),
    Hostile("API class __eq__ patched", top("Door.__eq__ = lambda self, other: True\nDoor.__hash__ = "
                                            "lambda self: 0"), "contained"),
    Hostile("a finalizer on a cycle (built with type)",
            top("def slow(self):\n    while True:\n        pass\nX = type('X', (), {'__del__': slow})\n"
                "a, b = X(), X()\na.b, b.a = b, a\ndel a, b"), "timeout", "killed",
            seconds=CALL_TIMEOUT + GRACE + 1.5),
    Hostile("global random state", top("import random\nrandom.seed(0)\nx = [random.random() for _ in range(9)]"),
            "contained"),
    Hostile("a huge structure kept at top level", top("KEEP = [[0] * 1000 for _ in range(2000)]"), "contained"),
]

TIMER_DEFEAT = [
    Hostile("a loop that catches BaseException",
            program("while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n"
                    "        continue"), "timeout", seconds=CALL_TIMEOUT + GRACE + 1.5),
    Hostile("a C-level loop (deque of repeat)",
            program("deque(repeat(0, 10 ** 12), maxlen=0)", prelude="from collections import deque\n"
                    "from itertools import repeat\n"), "timeout", "killed", seconds=CALL_TIMEOUT + GRACE + 1.5),
    Hostile("a C-level sum", program("sum(range(10 ** 13))"), "timeout", "killed",
            seconds=CALL_TIMEOUT + GRACE + 1.5),
    Hostile("catastrophic regex", program("re.match('(a+)+$', 'a' * 64 + 'b')", prelude="import re\n"), "timeout",
            seconds=CALL_TIMEOUT + GRACE + 1.5),
    Hostile("a loop at load time that catches BaseException",
            top("while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n"
                "        continue"), "timeout", seconds=CALL_TIMEOUT + GRACE + 1.5),
    Hostile("a reward that defeats the timer",
            program("pass", reward="def reward(state, action, next_state, mission):\n"
                    "    return sum(range(10 ** 13)), False\n"), "timeout", seconds=CALL_TIMEOUT + GRACE + 1.5),
]

RESOURCES = [
    Hostile("multi-GB allocation", program("x = [0] * (2 * 1024 ** 3)"), "memory"),
    Hostile("a huge string", program("x = 'x' * 10 ** 10"), "memory"),
    # memory, or the call's time when a loaded machine is slower to hand out 100 MB than the limit
    Hostile("growing list", program("x = []\nwhile True:\n    x.append('y' * 10 ** 8)"), "memory|timeout"),
    Hostile("deep recursion", program("return f(0)", prelude="def f(n):\n    return f(n + 1)\n"), "recursion"),
    Hostile("a predicted state too large to show", program("return state + [Wall(x='w' * 10 ** 6, y=0)]"),
            "contained"),
]

# without the Python layer: a program that got past the guard, with the real os and sys
ESCAPED = """import os, sys, json, struct, socket
def socket_fd():
    for f in os.listdir('/proc/self/fd'):
        try:
            if os.readlink(f'/proc/self/fd/{f}').startswith('socket'):
                return int(f)
        except OSError:
            pass
FD = socket_fd()
"""
def _forged_chance(answer: str) -> str:
    """A worker patched to answer every transition with `answer`, a random answer as JSON."""
    return ("w = sys.modules['__main__']\n"
            "w.ProgramWorker.handle = lambda self, msg: ({'failure': None} if msg['op'] == 'load' else "
            "{'p': [[None, None]] * (msg['stop'] - msg['start']), 'detail': {}, 'c': {str(i): " + answer +
            " for i in range(msg['stop'] - msg['start'])}} if msg['op'] == 'predict' else [])")


FORGED_REPLIES = [
    # the third escape: patch the worker's own functions so that every answer is "right"
    Hostile("patched predictions for itself and later programs",
            top(ESCAPED + "rt = sys.modules['wc._sandbox.runtime']\n"
                "rt.predict = lambda program, transitions, *a, **k: [rt.Prediction('0' * 24, (0.0, False)) "
                "for t in transitions]"), "contained"),
    Hostile("a forged reply line, then exit",
            program(prelude=ESCAPED, body="s = socket.socket(fileno=FD)\n"
                    "d = json.dumps({'id': 2, 'ok': True, 'result': {'transition': 'o' * 999}}).encode()\n"
                    "s.sendall(struct.pack('!I', len(d)) + d)\nos._exit(0)"), "malformed"),
    Hostile("a reply for another request", program(prelude=ESCAPED, body="s = socket.socket(fileno=FD)\n"
                                                   "d = json.dumps({'id': 999, 'ok': True, 'result': {}}).encode()\n"
                                                   "s.sendall(struct.pack('!I', len(d)) + d)\nos._exit(0)"),
            "malformed", "out-of-turn"),
    Hostile("a 2 GiB reply announced", program(prelude=ESCAPED, body="s = socket.socket(fileno=FD)\n"
                                               "s.sendall(struct.pack('!I', 2 ** 31) + b'x' * 10 ** 6)\n"
                                               "while True:\n    s.sendall(b'x' * 10 ** 6)"),
            "malformed", "bytes"),
    Hostile("garbage on the channel", program(prelude=ESCAPED, body="s = socket.socket(fileno=FD)\n"
                                              "s.sendall(struct.pack('!I', 5) + b'{{{{{')\nos._exit(0)"),
            "malformed", "JSON"),
    Hostile("a plan of actions that do not exist",
            top(ESCAPED + "w = sys.modules['__main__']\n"
                "w.ProgramWorker.handle = lambda self, msg: ([{'found': True, 'status': 'found', 'actions': "
                "['fly'], 'predictions': [['x', 1.0, True]]}] if msg['op'] == 'plan' else "
                "{'failure': None} if msg['op'] == 'load' else {'p': [], 'detail': {}})"), "malformed"),
    Hostile("a random answer breaking the rules of distributions", top(ESCAPED + _forged_chance(
        "{'d': {'branches': [[1.5, []]]}, 'r': [[1.0, [0.0, False]]]}")), "malformed", "a probability is a number"),
    Hostile("a random answer listing 5,000 outcomes", top(ESCAPED + _forged_chance(
        "{'d': {'branches': [[1.0, [{'choice': [[0.0002, []]] * 5000}]]]}, 'r': [[1.0, [0.0, False]]]}")),
        "malformed", "more than 4096"),
    Hostile("signal the template and the other workers",
            program(prelude=ESCAPED, body="for pid in set(range(1, 64)) - {os.getpid()}:\n    try:\n"
                                          "        os.kill(pid, 9)\n    except OSError:\n        pass"), "contained"),
    Hostile("read the template's memory", program(prelude=ESCAPED, body="open('/proc/2/mem', 'rb').read(1)"),
            "exception", "Error"),
    Hostile("fork", program(prelude=ESCAPED, body="os.fork()"), "exception", "BlockingIOError"),
    Hostile("exit the worker", program(prelude=ESCAPED, body="os._exit(3)"), "crash", "exit status 3"),
]


@pytest.fixture(scope="module")
def world():
    adapter = envs.make("minigrid-doorkey")
    data = record_transitions(adapter, 60, seed=5)
    yield adapter, data
    adapter.close()


@pytest.fixture(scope="module")
def references(world, minigrid_model_source):
    """In-process verdicts of a correct and of a wrong program: what the sandbox must report."""
    adapter, data = world
    ns = runtime.api_namespace(adapter.api.source)
    transitions = [runtime.Transition.from_json(dict(zip(("state", "action", "next_state", "reward", "done",
                                                          "mission"), t, strict=True))) for t in data]
    distinct = {}
    for t in transitions:  # the sandbox keeps distinct transitions, in order
        key = (runtime.state_key(t.state), t.action, runtime.state_key(t.next_state), t.reward, t.done, t.mission)
        distinct.setdefault(key, t)
    transitions = list(distinct.values())
    wrong = replaced(minigrid_model_source, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    out = {}
    for name, source in (("correct", minigrid_model_source), ("wrong", wrong)):
        outcomes = runtime.evaluate(runtime.compile_program(ns, source), transitions, adapter.reward_mode)
        out[name] = (source, "".join(o.transition for o in outcomes), "".join(o.reward for o in outcomes))
    assert "w" in out["wrong"][1] and set(out["correct"][1] + out["correct"][2]) == {"o"}
    return out


@pytest.fixture(scope="module")
def minigrid_model_source():
    from conftest import FIXTURES

    return (FIXTURES / "minigrid_model.py").read_text()


def kind_of(evaluation) -> str:
    if evaluation.load_failure is not None:
        return evaluation.load_failure["kind"]
    for detail in evaluation.failures.values():
        for key in ("transition_error", "reward_error"):
            if key in detail:
                return detail[key]["kind"]
    return "contained"


def message_of(evaluation) -> str:
    failure = evaluation.load_failure or next(
        (d.get("transition_error") or d.get("reward_error") for d in evaluation.failures.values()), None) or {}
    return failure.get("message", "")


async def run_class(world, references, hostiles: list[Hostile], *, python_layer: bool = True) -> None:
    adapter, data = world
    if os.path.exists(MARK):
        os.remove(MARK)
    limits = SandboxLimits(call_timeout=CALL_TIMEOUT, grace=GRACE, memory_mb=512, python_layer=python_layer,
                           live_workers=64)
    wrong_outcomes: list = []
    rss = []
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=2, limits=limits) as sb:
        for t in data:
            sb.add(Transition(*t))
        state, mission = adapter.reset(0)
        # a worker that lives through every attack: another program's, alive while they run
        sentinel = references["correct"][0] + "\n# sentinel\n"
        assert await sb.check(sentinel) == []
        (sentinel_worker,) = sb._workers[program_key(sentinel)]
        for i, hostile in enumerate(hostiles):
            started = time.monotonic()
            evaluation = await sb.evaluate(hostile.source)
            elapsed = time.monotonic() - started
            plan = await sb.plan(hostile.source, state, mission)
            kind, message = kind_of(evaluation), message_of(evaluation)
            if kind not in hostile.outcome.split("|") or hostile.message not in message or elapsed > hostile.seconds:
                wrong_outcomes.append((hostile.name, kind, message[:200], round(elapsed, 2)))
            if hostile.outcome != "contained":
                assert not plan.found, hostile.name  # a program that fails is not planned in
            # what is measured about other programs on the same pool is exactly what it should be
            for name, (source, transition, reward) in references.items():
                after = await sb.evaluate(source + f"\n# after hostile program {i}\n")
                assert (after.transition, after.reward, after.load_failure) == (transition, reward, None), \
                    (hostile.name, name, after.transition, after.load_failure)
            assert await sb.check(sentinel) == [], hostile.name
            assert sb._workers[program_key(sentinel)] == [sentinel_worker] and sentinel_worker.alive, hostile.name
            assert not os.path.exists(MARK), hostile.name
            rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    assert rss[-1] - rss[0] < 100 * 1024, rss  # KiB: the parent did not grow by 100 MB, whatever was sent
    assert not wrong_outcomes, wrong_outcomes


async def test_attribute_walks_are_refused(world, references):
    await run_class(world, references, ATTRIBUTE_WALKS)


async def test_text_is_never_evaluated(world, references):
    await run_class(world, references, EVALUATION_OF_TEXT)


async def test_dunder_writes_are_refused(world, references):
    await run_class(world, references, DUNDER_WRITES)


async def test_poisoning_stays_in_its_own_worker(world, references):
    await run_class(world, references, POISONING)


async def test_a_defeated_timer_costs_the_limit_and_a_second(world, references):
    await run_class(world, references, TIMER_DEFEAT)


async def test_resource_exhaustion_fails_cleanly(world, references):
    await run_class(world, references, RESOURCES)


async def test_escaped_programs_cannot_forge_a_verdict(world, references):
    await run_class(world, references, FORGED_REPLIES, python_layer=False)


def test_there_are_enough_hostile_programs():
    classes = [ATTRIBUTE_WALKS, EVALUATION_OF_TEXT, DUNDER_WRITES, POISONING, TIMER_DEFEAT, RESOURCES, FORGED_REPLIES]
    assert sum(map(len, classes)) >= 40 and all(len(c) >= 5 for c in classes)
