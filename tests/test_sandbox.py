"""The sandbox runs untrusted programs in worker processes; each abuse ends as a classified
failure within its limits and the sandbox keeps working."""
import os
import time
import warnings

import pytest
from support.helpers import record_transitions as record
from support.helpers import replaced

from wc import envs
from wc._core.values import Transition
from wc._sandbox import jail
from wc._sandbox.sandbox import Sandbox, SandboxLimits

warnings.simplefilter("ignore")

HEADER = "def reward(state, action, next_state, mission):\n    return 0.0, False\n\n"



@pytest.fixture(scope="module")
def doorkey():
    adapter = envs.make("minigrid-doorkey")
    yield adapter, record(adapter, 1200)
    adapter.close()


def make_sandbox(adapter, workers=2, **limits):
    return Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=workers, limits=SandboxLimits(**limits))


@pytest.fixture
async def sandbox(doorkey):
    """A started pool of two workers on DoorKey with the default limits; it holds the data a test
    adds, so each test has its own."""
    async with make_sandbox(doorkey[0]) as sb:
        yield sb


async def test_a_correct_model_explains_every_recorded_transition(doorkey, sandbox, minigrid_model):
    _, data = doorkey
    for t in data[:600]:
        sandbox.add(Transition(*t))
    first = await sandbox.evaluate(minigrid_model)
    for t in data[600:]:
        sandbox.add(Transition(*t))  # only these are sent to the workers next time
    second = await sandbox.evaluate(minigrid_model)
    distinct = len(sandbox.transitions)
    assert first.fits and first.n < distinct
    assert second.fits and second.n == distinct > 300


async def test_a_wrong_model_fails_exactly_where_it_is_wrong(doorkey, sandbox, minigrid_model):
    _, data = doorkey
    wrong = replaced(minigrid_model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    assert wrong != minigrid_model  # the fault was planted

    for t in data:
        sandbox.add(Transition(*t))
    ev, transitions = await sandbox.evaluate(wrong), sandbox.transitions
    lefts = {i for i, t in enumerate(transitions) if t.action == "left"}
    assert set(ev.failing("transition")) == lefts
    assert ev.failing("reward") == []
    some = ev.failures[max(lefts)]
    assert "predicted_state" in some


def test_identical_transitions_are_stored_once(doorkey):
    adapter, data = doorkey
    sb = make_sandbox(adapter)
    assert sb.add(Transition(*data[0])) == sb.add(Transition(*data[0])) == 0
    assert len(sb.transitions) == 1


ABUSES = {
    "loop": ("def transition(state, action):\n    while True:\n        pass\n", "timeout"),
    "memory": ("def transition(state, action):\n    x = [0] * (10 ** 10)\n    return state\n", "memory"),
    "import": ("import os\ndef transition(state, action):\n    return state\n", "forbidden"),
    "import_inside": ("def transition(state, action):\n    import subprocess\n    return state\n", "forbidden"),
    "dunder": ("def transition(state, action):\n    return ().__class__.__bases__[0].__subclasses__()\n", "forbidden"),
    "getattr": ("def transition(state, action):\n    return getattr(state, '__class__')\n", "forbidden"),
    "open": ("def transition(state, action):\n    open('/tmp/wc-escape', 'w').write('x')\n    return state\n",
             "exception"),
    "recursion": ("def transition(state, action):\n    return transition(state, action)\n", "recursion"),
    "malformed": ("def transition(state, action):\n    return {'agent': 1}\n", "malformed"),
    "raises": ("def transition(state, action):\n    return state[99]\n", "exception"),
    "syntax": ("def transition(state, action)\n    return state\n", "syntax"),
}


@pytest.mark.parametrize("name", sorted(ABUSES))
async def test_abusive_programs_end_as_classified_failures(doorkey, name):
    adapter, data = doorkey
    body, kind = ABUSES[name]
    source = HEADER + body

    async with make_sandbox(adapter, call_timeout=0.5, memory_mb=512) as sb:
        for t in data[:30]:
            sb.add(Transition(*t))
        started = time.monotonic()
        ev = await sb.evaluate(source)
        elapsed = time.monotonic() - started
        # the sandbox still works afterwards
        ok = await sb.evaluate(HEADER + "def transition(state, action):\n    return state\n")
    failure = ev.load_failure or next(iter(ev.failures.values()))["transition_error"]
    assert failure["kind"] == kind, failure
    assert ev.explained == 0
    assert elapsed < 30
    assert ok.load_failure is None and ok.n == ev.n
    assert not os.path.exists("/tmp/wc-escape")


@pytest.mark.slow
async def test_a_hang_in_c_code_is_killed_from_outside_and_the_worker_replaced(doorkey, minigrid_model):
    adapter, data = doorkey
    hang = HEADER + "def transition(state, action):\n    return sum(range(10 ** 13))\n"

    async with make_sandbox(adapter, workers=1, call_timeout=0.5, evaluate_timeout=3.0) as sb:
        for t in data[:20]:
            sb.add(Transition(*t))
        ev = await sb.evaluate(hang)
        for t in data[20:60]:
            sb.add(Transition(*t))
        after = await sb.evaluate(minigrid_model)
        forks, n = sb.forks, len(sb.transitions)
    assert ev.load_failure["kind"] == "timeout" and "killed" in ev.load_failure["message"]
    assert forks == 2  # the hanging program's worker, then the correct program's, forked with the data
    assert after.fits and after.n == n


async def test_mutating_the_input_does_not_leak_between_transitions(doorkey, sandbox, minigrid_model):
    _, data = doorkey
    mutating = replaced(minigrid_model, "    state = copy.deepcopy(state)\n", "    state.clear()\n    return state\n")
    assert mutating != minigrid_model  # the program really empties the state it is given

    for t in data[:50]:
        sandbox.add(Transition(*t))
    spoiled = await sandbox.evaluate(mutating)
    returned = await sandbox.evaluate(minigrid_model)
    assert spoiled.explained == 0 and not spoiled.fits and spoiled.n == returned.n
    assert returned.fits


async def test_workers_start_without_secrets_in_their_environment(doorkey, monkeypatch):
    adapter, _ = doorkey
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-for-test")
    monkeypatch.setenv("WC_DB", "postgresql://user:pw@host/db")

    async with make_sandbox(adapter) as sb:
        await sb.evaluate(HEADER + "def transition(state, action):\n    return state\n")  # a program's worker too
        environ = []
        # the template sits under bwrap's processes and forks the workers; read every one's environment
        root = sb._template.proc.pid
        for p in [root] + jail.descendants(root):
            with open(f"/proc/{p}/environ", "rb") as fh:
                environ.append(fh.read())
    assert len(environ) >= 3
    for env in environ:
        assert b"sk-secret-for-test" not in env and b"WC_DB" not in env


async def test_planning_runs_in_the_worker(doorkey, sandbox, minigrid_model):
    adapter, _ = doorkey
    state, mission = adapter.reset(3)

    plans = await sandbox.plan_many(minigrid_model, [(state, mission)] * 2)
    assert all(p.found for p in plans) and plans[0].actions == plans[1].actions


async def test_one_program_evaluated_twice_at_once_is_judged_once(doorkey, sandbox, minigrid_model):
    """Two candidates with the same source (identical answers) are evaluated concurrently: the
    second waits for the first and reads its verdicts, each transition is judged once."""
    import asyncio

    _, data = doorkey
    for t in data[:200]:
        sandbox.add(Transition(*t))
    first, second = await asyncio.gather(sandbox.evaluate(minigrid_model), sandbox.evaluate(minigrid_model))
    assert first.fits and second.fits and first.n == second.n == len(sandbox.transitions)


async def test_a_batch_systems_sigterm_does_not_kill_the_sandbox_first(doorkey, sandbox, minigrid_model):
    """SLURM sends SIGTERM to every process of a job: the jail's processes ignore it (wc stops
    them itself once the run is marked interrupted), so no program looks as if it crashed."""
    import asyncio
    import signal

    _, data = doorkey
    for t in data[:30]:
        sandbox.add(Transition(*t))
    assert (await sandbox.evaluate(minigrid_model)).fits
    root = sandbox._template.proc.pid
    tree = [root] + jail.descendants(root)
    for pid in tree:
        os.kill(pid, signal.SIGTERM)
    await asyncio.sleep(0.3)
    assert all(os.path.exists(f"/proc/{pid}") for pid in tree)
    for t in data[30:90]:
        sandbox.add(Transition(*t))
    after = await sandbox.evaluate(minigrid_model)  # the same worker, now with the new transitions
    assert after.fits and after.n == len(sandbox.transitions) and sandbox.restarts == 0
