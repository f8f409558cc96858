"""The sandbox's outer wall, proved by attack: workers run in a bubblewrap jail (these machines
and CI have it), and code that has the real `os` inside it still cannot delete, read or write
files, reach the network, kill wc or leave processes behind. The attacks run with the Python
layer switched off, so that the jail alone has to hold; the run goes on after each."""
import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from wc import envs
from wc._core.values import Transition
from wc._sandbox import jail
from wc._sandbox.processes import UID_BASE, UID_SPAN
from wc._sandbox.sandbox import Sandbox, SandboxLimits

REWARD = "def reward(state, action, next_state, mission):\n    return 0.0, False\n"


@pytest.fixture(scope="module")
def empty():
    adapter = envs.make("minigrid-empty")
    state, mission = adapter.reset(0)
    step = adapter.step("left")
    yield adapter, [(state, "left", step.state, step.reward, step.terminated, mission)]
    adapter.close()


@pytest.fixture(scope="module")
def correct():
    from conftest import FIXTURES

    return (FIXTURES / "minigrid_model.py").read_text()


def test_this_machine_has_the_jail():
    """The suite must exercise the real jail: .ci/run and the README install bubblewrap."""
    found = jail.detect()
    assert found.kind == "bwrap", found.reason


async def test_a_worker_finds_itself_walled_in(empty):
    adapter, _ = empty

    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1) as sb:
        facts = await sb.probe()
    assert facts["jail_active"]
    # as root each program's worker has a user of its own; otherwise bwrap maps the user to nobody
    expected = range(UID_BASE, UID_BASE + UID_SPAN) if os.geteuid() == 0 else [jail.UNPRIVILEGED]
    assert facts["uid"] == facts["gid"] and facts["uid"] in expected
    assert facts["capabilities"].strip("0") == "" and facts["no_new_privs"] and facts["dumpable"] is False
    assert all(facts["namespaces"][n] for n in ("pid", "net", "ipc", "uts", "mnt"))
    assert facts["processes_visible"] <= 4 and facts["network_interfaces"] == ["lo"]  # bwrap, template, worker(s)
    assert facts["hostname"] == "wc-sandbox"
    assert not facts["root_writable"] and not facts["tmp_writable"] and facts["tmp_entries"] == []
    # no home, no project, no store, no shell: only libraries, the interpreter and wc's package
    assert set(facts["root_entries"]) <= {"usr", "lib", "lib64", "lib32", "libx32", "opt", "root", "home", "dev",
                                          "proc", "tmp"}
    assert "bin" not in facts["root_entries"] and "etc" not in facts["root_entries"]
    assert set(facts["open_files"]) <= {"socket", "/dev/null"}
    assert facts["limits"]["nproc"] == 0 and facts["limits"]["fsize"] == 0
    assert set(facts["environment"]) <= {"LANG", "PWD", "PYTHONPATH", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE"}


def attack(body: str) -> str:
    """A program whose transition() carries out `body` with the real os (imported at call time)."""
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f"import os\n\ndef transition(state, action):\n{lines}\n    return state\n\n{REWARD}"


@pytest.fixture
def victim(tmp_path):
    """A file outside the jail that an attack tries to read or delete."""
    path = tmp_path / "victim.txt"
    path.write_text("a secret the program must not read")
    os.chmod(tmp_path, 0o755)
    os.chmod(path, 0o644)
    return path


async def jailed_eval(adapter, data, source, correct, **limits):
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1,
                       limits=SandboxLimits(python_layer=False, call_timeout=5, **limits)) as sb:
        for t in data:
            sb.add(Transition(*t))
        ev = await sb.evaluate(source)
        after = await sb.evaluate(correct)  # the run goes on: the sandbox still answers
    return ev, after


def failure_of(ev):
    return ev.load_failure or ev.failures[0].get("transition_error")


@pytest.mark.parametrize("name, body, expect", [
    ("delete a file", "os.remove({victim!r})", "FileNotFoundError"),
    ("read a file outside the jail", "open({victim!r}).read()", "FileNotFoundError"),
    ("read a file in the user's home", "open('/root/.bashrc').read()", "Error"),
    ("write into /tmp", "open('/tmp/wc-jail-escape', 'w').write('x')", "PermissionError"),
    ("write into wc's package", "open(os.path.join(os.path.dirname(os.__file__), 'x'), 'w')", "Error"),
    ("write at the root", "open('/wc-jail-escape', 'w')", "OSError"),
    ("open a socket", "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)",
     "ConnectionRefusedError"),
    ("kill the parent", "os.kill({parent}, 9)", "ProcessLookupError"),
    ("kill the jail's init", "os.kill(1, 9)", "PermissionError"),
    ("kill every process it may", "os.kill(-1, 9)\nraise RuntimeError('nothing was killed')", "nothing was killed"),
    ("leave a process behind", "os.fork()", "BlockingIOError"),
    ("run a shell command", "import subprocess\nsubprocess.run(['/bin/sh', '-c', 'touch /tmp/wc-jail-escape'])",
     "Error"),
])
async def test_attacks_inside_the_jail_are_contained(empty, correct, victim, name, body, expect):
    adapter, data = empty
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        source = attack(body.format(victim=str(victim), port=port, parent=os.getpid()))
        ev, after = await jailed_eval(adapter, data, source, correct)
        listener.settimeout(0.1)
        with pytest.raises(OSError):
            listener.accept()  # nothing reached the loopback server outside the jail
    finally:
        listener.close()
    failure = failure_of(ev)
    assert failure["kind"] == "exception", failure
    assert expect in failure["message"] or failure["message"].split(":")[0].endswith(expect), failure
    assert victim.read_text() == "a secret the program must not read"
    assert not os.path.exists("/tmp/wc-jail-escape") and not os.path.exists("/wc-jail-escape")
    assert after.fits and after.n == 1


async def test_os_system_finds_no_shell(empty, correct):
    adapter, data = empty
    source = attack("status = os.system('touch /tmp/wc-jail-escape')\nif status != 0:\n"
                    "    raise RuntimeError(f'the shell did not run: {status}')")
    ev, after = await jailed_eval(adapter, data, source, correct)
    assert "the shell did not run" in failure_of(ev)["message"]
    assert not os.path.exists("/tmp/wc-jail-escape")
    assert after.fits


async def test_a_worker_that_kills_itself_is_replaced(empty, correct):
    adapter, data = empty
    ev, after = await jailed_eval(adapter, data, attack("os.kill(os.getpid(), 9)"), correct)
    assert failure_of(ev)["kind"] == "crash"  # the worker died; a new one took its place
    assert after.fits and after.n == 1


async def test_nothing_outlives_the_sandbox(empty, correct):
    adapter, data = empty

    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1) as sb:
        for t in data:
            sb.add(Transition(*t))
        assert (await sb.evaluate(correct)).fits  # a program's worker runs beside the template
        root = sb._template.proc.pid
        tree = [root] + jail.descendants(root)
    assert len(tree) >= 4  # bwrap, its init, the template and a program's worker
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") and _state(p) != "Z" for p in tree):
        await asyncio.sleep(0.05)
    assert not any(os.path.exists(f"/proc/{p}") and _state(p) != "Z" for p in tree)


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def wc_cli(*args, env):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WC_"))}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "wc", *args], capture_output=True, text=True, env=full, timeout=120)


@pytest.mark.slow
def test_doctor_shows_every_layer_active():
    result = wc_cli("doctor", "--json", env={})
    report = json.loads(result.stdout)
    # no LLM is configured here: the one thing a run would miss (exit 5); the sandbox is complete
    assert result.returncode == report["exit_code"] == 5, result.stderr
    assert [c["name"] for c in report["checks"] if c["ok"] is False] == ["LLM"]
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert {"OS jail", "namespaces", "unprivileged user", "filesystem", "network", "processes",
            "Python layer"} <= set(layers)
    assert all(layer["active"] for layer in layers.values()), layers


@pytest.mark.slow
def test_without_bwrap_wc_refuses_unless_told_to_run_unjailed(tmp_path):
    bin_dir = tmp_path / "bin"  # a PATH with unshare but no bwrap
    bin_dir.mkdir()
    os.symlink("/usr/bin/unshare", bin_dir / "unshare")
    shown = wc_cli("doctor", env={"PATH": str(bin_dir)})
    assert shown.returncode == 5  # the LLM (none configured) is the first thing a run needs that fails here
    assert "not installed" in shown.stdout and "not active: OS jail" in shown.stdout
    assert "WC_SANDBOX=python" in shown.stdout
    assert "bubblewrap" in shown.stderr and "the sandbox's walls" in shown.stderr
    plain = {"PATH": str(bin_dir), "OPENAI_API_KEY": "x", "WC_DB": f"sqlite:///{tmp_path}/w.db"}
    refused = wc_cli("learn", "--env", "minigrid-empty", "--episodes", "1", "--max-steps", "3",
                     "--max-llm-calls", "0", env=plain)
    assert refused.returncode == 6 and "Traceback" not in refused.stderr  # the sandbox cannot run
    assert "bubblewrap" in refused.stderr and "WC_SANDBOX=python" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1  # one line that names the fix and the opt-in
    assert not (tmp_path / "w.db").exists()  # refused before anything was recorded
    opted = wc_cli("learn", "--env", "minigrid-empty", "--episodes", "1", "--max-steps", "3",
                   "--max-llm-calls", "0", env=dict(plain, WC_SANDBOX="python"))
    assert opted.returncode == 0, opted.stderr
    assert opted.stderr.count("warning: LLM-written code runs without the OS jail") == 1
    unknown = wc_cli("learn", "--env", "minigrid-empty", env=dict(plain, WC_SANDBOX="auto"))
    assert unknown.returncode == 2 and "WC_SANDBOX must be one of jail, python" in unknown.stderr
