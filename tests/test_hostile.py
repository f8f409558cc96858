"""Hostile programs, each through evaluation and the planner: a classified failure, the run goes
on, nothing outside the worker changes, and the agent's own memory does not grow."""
from __future__ import annotations

import os
import resource
import time
import warnings

import pytest
from support.helpers import record_transitions

from wc import envs
from wc.programs.sandbox import Sandbox, SandboxLimits

warnings.simplefilter("ignore")

REWARD = "def reward(state, action, next_state, mission):\n    return 0.0, False\n"
MARKER = "/tmp/wc-hostile-marker"


def program(body: str, *, prelude: str = "", reward: str = REWARD) -> str:
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f"{prelude}\ndef transition(state, action):\n{lines}\n\n{reward}"


# name, program, the failure kinds it may be classified as
HOSTILE = [
    ("infinite loop", program("while True:\n    pass"), {"timeout"}),
    ("deep recursion", program("return f(0)", prelude="def f(n):\n    return f(n + 1)\n"), {"recursion"}),
    ("multi-GB allocation", program("x = [0] * (2 * 1024 ** 3)\nreturn state"), {"memory"}),
    ("growing list", program("x = []\nwhile True:\n    x.append('y' * 10 ** 6)"), {"memory", "timeout"}),
    ("os.system", program("os.system('touch " + MARKER + "')\nreturn state", prelude="import os\n"),
     {"forbidden"}),
    ("subprocess", program("subprocess.run(['touch', '" + MARKER + "'])\nreturn state",
                           prelude="import subprocess\n"), {"forbidden"}),
    ("socket", program("socket.create_connection(('127.0.0.1', 9))\nreturn state", prelude="import socket\n"),
     {"forbidden"}),
    ("read /etc/passwd", program("return open('/etc/passwd').read()"), {"exception"}),  # no open()
    ("write a file", program("open('" + MARKER + "', 'w').write('x')\nreturn state"), {"exception"}),
    ("__import__", program("__import__('os').system('touch " + MARKER + "')\nreturn state"),
     {"forbidden"}),
    ("__subclasses__", program("for c in ().__class__.__base__.__subclasses__():\n"
                               "    if c.__name__ == 'Popen':\n        c(['touch', '" + MARKER + "'])\n"
                               "return state"), {"forbidden"}),
    ("frame walking", program("g = (lambda: 0).__globals__\nf = g['__builtins__']\nreturn state"),
     {"forbidden"}),
    ("sys._getframe", program("import sys\nsys._getframe(1).f_globals.clear()\nreturn state"), {"forbidden"}),
    ("sys.exit", program("import sys\nsys.exit(3)"), {"forbidden"}),
    ("raise SystemExit", program("raise SystemExit(3)"), {"exception"}),
    ("os._exit", program("os._exit(1)", prelude="import os\n"), {"forbidden"}),
    ("os.fork", program("os.fork()\nreturn state", prelude="import os\n"), {"forbidden"}),
    ("signal handler", program("signal.signal(signal.SIGALRM, lambda *a: None)\nreturn state",
                               prelude="import signal\n"), {"forbidden"}),
    ("thread left running", program("threading.Thread(target=lambda: time.sleep(3600), daemon=True).start()\n"
                                    "return state", prelude="import threading, time\n"), {"forbidden"}),
    ("print megabytes", program("print('x' * 50_000_000)\nreturn state"), {"wrong"}),  # discarded output
    ("mutating the input", program("state.clear()\nreturn state"), {"wrong"}),
    ("a generator", program("return (e for e in state)"), {"malformed"}),
    ("an open file", program("return open('/dev/null')"), {"exception"}),
    ("non-deterministic", program("import random\nreturn state if random.random() < 0.5 else []"),
     {"wrong"}),
    ("KeyboardInterrupt", program("raise KeyboardInterrupt"), {"exception"}),
    ("a reward that loops", program("return state", reward="def reward(state, action, next_state, mission):\n"
                                    "    while True:\n        pass\n"), {"timeout"}),
]


def worker_processes() -> int:
    count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"wc.programs.worker" in f.read():
                        count += 1
            except OSError:
                pass
    return count


@pytest.fixture(scope="module")
def world():
    adapter = envs.make("minigrid-doorkey")
    yield adapter, record_transitions(adapter, 40, seed=5)
    adapter.close()


def failure_kind(evaluation):
    if evaluation.fits:
        return None
    failure = evaluation.load_failure or next(
        (d.get("transition_error") or d.get("reward_error") for d in evaluation.failures.values()), None)
    return failure["kind"] if failure else "wrong"


@pytest.mark.slow
async def test_hostile_programs_are_contained(world, minigrid_model):
    adapter, data = world
    if os.path.exists(MARKER):
        os.remove(MARKER)
    assert len(HOSTILE) >= 20
    workers_before = worker_processes()
    limits = SandboxLimits(call_timeout=1.0, memory_mb=512)
    rss_before = None
    seen: dict = {}
    wrong: list = []
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=2, limits=limits) as sb:
        for t in data:
            sb.add(*t)
        assert (await sb.evaluate(minigrid_model)).fits
        state, mission = adapter.reset(0)
        for name, source, kinds in HOSTILE:
            evaluation = await sb.evaluate(source)
            kind = failure_kind(evaluation)
            plan = await sb.plan(source, state, mission)
            failure = evaluation.load_failure or next(iter(evaluation.failures.values()), {})
            seen[name] = (kind, plan.status, plan.first_error and plan.first_error["kind"], str(failure)[:150])
            if kind not in kinds:
                wrong.append((name, kind, seen[name]))
                continue
            assert not plan.found or kind is None, (name, plan.status)
            if kind not in (None, "wrong"):
                assert plan.status == "error" or plan.first_error is not None, (name, plan.status)
            # the sandbox goes on: the correct program still explains everything
            assert (await sb.evaluate(minigrid_model)).fits, name
            assert not os.path.exists(MARKER), name
            if rss_before is None:
                rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert rss_after - rss_before < 100 * 1024, (rss_before, rss_after)  # KiB: the agent did not grow by 100 MB
    deadline = time.monotonic() + 10
    while worker_processes() > workers_before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert worker_processes() <= workers_before  # no worker, and nothing a worker started, is left behind
    for name, result in seen.items():
        print(f"{name:22} {result}")
    assert not wrong, wrong
