"""Sandbox processes: a template that holds the data, and one worker per program forked from it.

The *template* starts inside the OS jail (`wc._sandbox.jail`) with an empty environment and
nothing but its socket to the parent. It imports everything programs may use, takes the
snapshot of trusted classes (`wc._sandbox.ownership`), executes the API module and keeps the
recorded transitions (sent once, then only new ones). It never runs a program.

For each program the parent asks it to `fork`, passing a new socket and a page of shared memory
(the call heartbeat, `wc._sandbox.timer.beat`). The child becomes that program's *worker*: it
gives up what the template had (the template's socket, root where the template has it: each
worker gets a user id of its own, so workers cannot signal each other or the template), becomes
undumpable (no ptrace, no /proc/<pid>/mem), sets its resource limits (memory, CPU, no files, no
processes, few descriptors), loads the program and answers requests about it: predictions on
the data, plans, contract checks. Nothing one program does can reach another program's worker,
and the template is the same clean copy for every fork.

Replies are JSON, never pickle: what a worker sends is data that the parent checks
(`wc._sandbox.verdict`), not code or verdicts.
"""
from __future__ import annotations

import contextlib
import gc
import mmap
import os
import resource
import selectors
import signal
import socket
import sys
from dataclasses import asdict
from typing import Any

from wc._sandbox import frames


class Data:
    """What the template holds and each worker inherits: the API namespace, the domain's
    trusted hooks and the recorded transitions."""

    def __init__(self, config: dict[str, Any]) -> None:
        from wc._sandbox import runtime

        self.runtime = runtime
        self.guarded = bool(config.get("guarded", True))
        self.api_ns = runtime.api_namespace(config["api_source"], guarded=self.guarded)
        source = config.get("action_source")
        self.actions: Any = runtime.action_generator(source) or list(config["actions"])
        self.focus = runtime.search_focus(source)
        self.compare = runtime.comparison(source)
        self.frontier = runtime.search_frontier(source)
        self.estimator = runtime.search_estimator(source)
        self.call_timeout = float(config["call_timeout"])
        self.full_states = bool(config.get("full_states", False))  # predictions carry states: tolerance
        from wc._core.tolerance import CWMB, Tolerance

        self.tolerance = Tolerance(*config["tolerance"]) if config.get("tolerance") else CWMB  # random answers pruned
        self.transitions: list[Any] = []   # wc._core.values.Transition, from the wire's JSON
        self.next_keys: list[str] = []      # the key a prediction of each next state must have

    def sync(self, items: list[dict[str, Any]]) -> None:
        from wc._core.values import Transition
        from wc._sandbox.timer import tick

        for item in items:
            t = Transition.from_json(item)
            self.transitions.append(t)
            self.next_keys.append(self.runtime.compare_key(t.state, t.next_state, self.compare))
            tick()


# --------------------------------------------------------------------------- a program's worker


class ProgramWorker:
    """Serves one program: loads it once, then predictions, plans and checks."""

    def __init__(self, data: Data) -> None:
        self.data = data
        self.program: Any = None
        self.kept: Any = None   # wc._sandbox.plan_chance.KeptPlans: a random program's models and policy

    def handle(self, msg: dict[str, Any]) -> Any:
        data, runtime = self.data, self.data.runtime
        data.sync(msg.get("sync", ()))
        op = msg["op"]
        if op == "load":
            self.program = runtime.compile_program(data.api_ns, msg["source"], data.call_timeout,
                                                   guarded=data.guarded)
            # what the program left for the collector (finalizers on cycles) runs now, in a timed call,
            # not at some later point inside wc's own work (the template's objects are frozen: cheap)
            from wc._sandbox import timer

            with timer.installed(), timer.limit(data.call_timeout):
                try:
                    gc.collect()
                except timer.CallTimeout:
                    pass
            return {"failure": self.program.failure}
        if op == "probe":
            return dict(probe(), python_layer=data.guarded)
        if self.program is None:
            raise ValueError("no program is loaded")
        if op == "predict":
            start, stop = int(msg["start"]), min(int(msg["stop"]), len(data.transitions))
            predictions = runtime.predict(self.program, data.transitions[start:stop], data.call_timeout,
                                          data.compare, data.full_states, data.next_keys[start:stop], data.tolerance,
                                          point=bool(msg.get("point")))
            return runtime.wire_predictions(predictions)
        if op == "plan":
            return [asdict(self._plan_chance(msg, start) if self._over_chance(msg, start) else
                           runtime.plan(self.program, start["state"], start["mission"], data.actions,
                                        planner=msg.get("planner", "bfws"), max_nodes=msg["max_nodes"],
                                        max_depth=msg["max_depth"], time_limit=msg["time_limit"],
                                        call_timeout=data.call_timeout, focus=data.focus, frontier=data.frontier,
                                        estimator=data.estimator, horizon=msg.get("horizon")))
                    for start in msg["starts"]]
        if op == "plan_return":
            from wc._sandbox.plan_return import plan_return

            return [asdict(self._plan_chance(msg, start, objective="return") if self._over_chance(msg, start) else
                           plan_return(self.program, start["state"], start["mission"], msg["action_space"],
                                       planner=msg["planner"], max_steps=msg["max_steps"],
                                       time_limit=msg["time_limit"], call_timeout=data.call_timeout,
                                       rng_seed=msg["seed"], init=start.get("init"),
                                       outcomes="sample" if self._sampled(msg, start) else None,
                                       hopeful=bool(msg.get("hopeful"))))
                    for start in msg["starts"]]
        if op == "check":
            return runtime.check(self.program, data.transitions, data.call_timeout)
        if op == "fit":
            return self._fit(msg)
        raise ValueError(f"unknown op {op!r}")

    def _fit(self, msg: dict[str, Any]) -> Any:
        """Fit the program's PARAMS to the sampled transitions (`wc._sandbox.param_fit`); the
        program keeps the fitted values for the requests that follow."""
        from wc._sandbox.param_fit import fit
        from wc._sandbox.params import Declared

        if self.program.failure is not None:
            return {"status": "failed", "values": msg["params"]["values"], "message": "the program does not load"}
        data = self.data
        sample = [data.transitions[i] for i in msg["sample"] if 0 <= i < len(data.transitions)]
        return fit(self.program, sample, Declared.from_json(msg["params"]), evaluations=int(msg["evaluations"]),
                   seconds=float(msg["seconds"]), call_timeout=data.call_timeout, tolerance=data.tolerance,
                   with_reward=bool(msg.get("reward", True)))

    def _over_chance(self, msg: dict[str, Any], start: dict[str, Any]) -> bool:
        """A plan over chance: the parent says the program answered with distributions, or, where
        it cannot know yet (no transition judged: a transferred program before the first step),
        the program does so from this start. A return plan only over discrete actions and with
        the steps left (`horizon`) given."""
        if msg["op"] == "plan":  # a goal world: its fixed actions
            actions = self.data.actions
        else:
            space = msg["action_space"]
            if not msg.get("horizon") or space.get("kind") != "discrete":
                return False
            actions = space.get("names")
        if msg.get("chance"):
            return True
        if not isinstance(actions, list):  # actions that depend on the state (text worlds): as the parent says
            return False
        from wc._sandbox.plan_chance import answers_randomly

        return answers_randomly(self.program, start["state"], start["mission"], actions, self.data.call_timeout)

    def _sampled(self, msg: dict[str, Any], start: dict[str, Any]) -> bool:
        """A random program over continuous actions, planned with sampled outcomes
        (`wc._sandbox.plan_return`): the parent says it answered with distributions, or the
        program does so from this start for one of the actions the width-based search tries
        (the box's corners and middle)."""
        space = msg["action_space"]
        if space.get("kind") != "continuous":
            return False
        if msg.get("chance"):
            return True
        from wc._planning.seeded import corners
        from wc._sandbox.plan_chance import answers_randomly

        try:
            actions: list[Any] = [list(a) for a in corners([float(x) for x in space["low"]],
                                                           [float(x) for x in space["high"]])]
        except (KeyError, TypeError, ValueError):  # the planner says what is wrong with the space
            return False
        return answers_randomly(self.program, start["state"], start["mission"], actions, self.data.call_timeout)

    def _plan_chance(self, msg: dict[str, Any], start: dict[str, Any], objective: str = "goal") -> Any:
        """A random program's plan (`wc._sandbox.plan_chance`): in a goal world (op `plan`) the
        probability of reaching the goal within the steps left (`horizon`, else the depth limit),
        maximised; in a return world (op `plan_return`) the expected return over the steps left,
        and for φ2 (`hopeful`) a trajectory that reaches the most return with positive
        probability. Seeded by the state (and a return plan's seed), so that the same request
        gets the same plan in any worker."""
        import zlib

        from wc._sandbox.plan_chance import KeptPlans, as_plan_result, as_return_plan, first_step

        data = self.data
        if self.kept is None or self.kept.program is not self.program:
            self.kept = KeptPlans(self.program, data.call_timeout)
        seed = zlib.crc32(data.runtime.state_key(start["state"]).encode())
        hopeful = objective == "return" and bool(msg.get("hopeful"))
        if objective == "return":
            seed ^= int(msg.get("seed", 0)) & 0xFFFFFFFF
            actions, depth = list(msg["action_space"]["names"]), int(msg["horizon"])
            budget: dict[str, Any] = {}
        else:
            actions, depth = list(data.actions), int(msg["max_depth"])
            budget = {"max_nodes": int(msg["max_nodes"])}
        plan, model = self.kept.plan(start["state"], start["mission"], actions, objective=objective,
                                     horizon=int(msg.get("horizon") or depth), seed=seed, hopeful=hopeful,
                                     time_limit=float(msg["time_limit"]), **budget)
        if self.program.failure is None and plan.status != "error" and not hopeful:
            first_step(plan, model, start["state"])
        if objective == "return":
            return as_return_plan(plan, hopeful=hopeful)
        return as_plan_result(plan, depth, acting=bool(msg.get("horizon")))


def serve(channel: socket.socket, data: Data) -> None:
    worker = ProgramWorker(data)
    while True:
        try:
            msg = frames.read(channel)
        except (frames.FrameError, OSError):
            return
        try:
            reply = {"id": msg.get("id"), "ok": True, "result": worker.handle(msg)}
        except MemoryError:
            reply = {"id": msg.get("id"), "ok": False, "error": "memory limit reached in the worker"}
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which decides
            reply = {"id": msg.get("id"), "ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]}
        try:
            out = frames.encode(reply)
        except (TypeError, ValueError) as exc:
            out = frames.encode({"id": msg.get("id"), "ok": False, "error": f"unserialisable reply: {exc}"})
        except MemoryError:
            out = frames.encode({"id": msg.get("id"), "ok": False, "error": "memory limit reached in the worker"})
        try:
            channel.sendall(out)
        except OSError:
            return


def become_worker(channel: socket.socket, beat_fd: int, uid: int | None, config: dict[str, Any], data: Data) -> None:
    """In the forked child, before it reads a message: give up the template's rights and set
    the limits that hold whatever the program does."""
    beat = mmap.mmap(beat_fd, 16)
    os.close(beat_fd)
    _undumpable()
    if uid is not None:
        drop_privileges(uid)
    close_other_descriptors(keep={channel.fileno()})
    sys.setrecursionlimit(config.get("recursion_limit", 3000))
    apply_limits(config["memory_mb"] * 1024 * 1024 + _address_space(), config["cpu_seconds"], nproc=0, nofile=16)
    from wc._sandbox import timer

    timer.beat = memoryview(beat).cast("Q")
    serve(channel, data)


# --------------------------------------------------------------------------- the template


class Template:
    """Holds the data; forks a worker per program on the parent's request; reports exits."""

    def __init__(self, control: socket.socket, config: dict[str, Any]) -> None:
        self.control = control
        self.config = config
        self.data: Data | None = None
        self.fds: list[int] = []      # descriptors received and not yet used by a fork
        self.buffer = b""
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)

    def run(self) -> None:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        selector = selectors.DefaultSelector()
        selector.register(self.control, selectors.EVENT_READ, "control")
        selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        while True:
            for key, _ in selector.select():
                if key.data == "wake":
                    with contextlib.suppress(BlockingIOError, InterruptedError):
                        os.read(self.wake_r, 4096)
                    self.reap()
                elif not self.receive():
                    return

    def receive(self) -> bool:
        """Read what the parent sent (with any descriptors) and handle each whole message."""
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.control, 1 << 20, 8)
        except InterruptedError:
            return True
        except OSError:
            return False
        if not data:
            return False
        self.fds.extend(fds)
        self.buffer += data
        while len(self.buffer) >= frames.HEADER.size:
            (size,) = frames.HEADER.unpack_from(self.buffer)
            if len(self.buffer) < frames.HEADER.size + size:
                break
            message = frames.decode(self.buffer[frames.HEADER.size:frames.HEADER.size + size])
            self.buffer = self.buffer[frames.HEADER.size + size:]
            self.handle(message)
        return True

    def send(self, message: dict[str, Any]) -> None:
        self.control.sendall(frames.encode(message))

    def handle(self, msg: dict[str, Any]) -> None:
        op = msg["op"]
        if op == "init":
            try:
                self.data = Data(msg)
                self.send({"op": "ready", "pid": os.getpid()})
            except Exception as exc:  # noqa: BLE001 - the parent reports it
                self.send({"op": "ready", "error": f"{type(exc).__name__}: {exc}"[:2000]})
        elif op == "sync":
            assert self.data is not None
            self.data.sync(msg["transitions"])
        elif op == "fork":
            self.fork(msg)
        elif op == "preload":
            preload_fit()

    def fork(self, msg: dict[str, Any]) -> None:
        assert self.data is not None
        channel_fd, beat_fd = self.fds.pop(0), self.fds.pop(0)
        gc.freeze()  # the template's objects stay out of the workers' collections (and their pages shared)
        pid = os.fork()
        if pid == 0:  # the program's worker
            code = 0
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for fd in (self.wake_r, self.wake_w, *self.fds):
                    os.close(fd)
                self.control.close()
                channel = socket.socket(fileno=channel_fd)
                channel.setblocking(True)
                become_worker(channel, beat_fd, msg.get("uid"), self.config, self.data)
            except BaseException:  # noqa: BLE001 - nothing of the child may return into the template's loop
                code = 1
            finally:
                os._exit(code)
        os.close(channel_fd)
        os.close(beat_fd)
        self.send({"op": "forked", "token": msg["token"], "pid": pid, "transitions": len(self.data.transitions)})

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
            self.send({"op": "exit", "pid": pid, "signal": signum,
                       "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None})


def preload_fit() -> None:
    """Import what a parameter fit uses (numpy, scipy.optimize: about a second) once in the
    template, so that the workers forked after it start with it. wc's own code, run before any
    program of those workers; a failure is left for the fit itself to report."""
    from wc._sandbox.param_fit import single_threaded

    single_threaded()
    try:
        import scipy.optimize  # noqa: F401
    except Exception:  # noqa: BLE001 - the worker's own import says what is missing
        pass


# --------------------------------------------------------------------------- process set-up


def probe() -> dict[str, Any]:
    """What a program running here would find: the facts `wc doctor` shows."""
    def listing(path: str) -> list[str] | str:
        try:
            return sorted(os.listdir(path))
        except OSError as exc:
            return type(exc).__name__

    status: dict[str, str] = {}
    try:
        with open("/proc/self/status") as fh:
            status = dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)
    except OSError:
        pass
    try:
        with open("/proc/net/dev") as fh:
            interfaces = sorted(line.split(":")[0].strip() for line in fh.readlines()[2:])
    except OSError:
        interfaces = []
    fds: set[str] = set()
    for fd in listing("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the descriptor listdir itself used
            continue
        fds.add(target.split(":")[0] if target.startswith(("pipe:", "socket:")) else target)
    procs = listing("/proc")
    limits = {name: resource.getrlimit(getattr(resource, "RLIMIT_" + name.upper()))[0]
              for name in ("as", "cpu", "fsize", "nproc", "nofile", "core")}
    return {
        "uid": os.getuid(), "gid": os.getgid(), "pid": os.getpid(), "hostname": os.uname().nodename,
        "processes_visible": len([p for p in procs if p.isdigit()]) if isinstance(procs, list) else None,
        "network_interfaces": interfaces, "root_entries": listing("/"), "tmp_entries": listing("/tmp"),
        "root_writable": os.access("/", os.W_OK), "tmp_writable": os.access("/tmp", os.W_OK),
        "environment": sorted(os.environ), "open_files": sorted(fds),
        "capabilities": status.get("CapEff", "?"), "no_new_privs": status.get("NoNewPrivs", "?") == "1",
        "dumpable": _dumpable(), "limits": limits,
    }


def _prctl(option: int, arg: int = 0) -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(option, arg, 0, 0, 0))


PR_GET_DUMPABLE, PR_SET_DUMPABLE = 3, 4


def _undumpable() -> None:
    """No ptrace, no /proc/<pid>/mem: another process of the same user cannot reach into this one."""
    if _prctl(PR_SET_DUMPABLE, 0) != 0:
        raise SystemExit("the worker could not make itself undumpable")


def _dumpable() -> bool | None:
    try:
        return _prctl(PR_GET_DUMPABLE) == 1
    except OSError:
        return None


def _address_space() -> int:
    """Bytes of address space in use now (a forked worker starts with the template's)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def close_other_descriptors(keep: set[int]) -> None:
    """Keep only stdin/stdout/stderr (the null device) and `keep`."""
    top = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    fd = 3
    for k in sorted(keep):
        if k >= fd:
            os.closerange(fd, k)
            fd = k + 1
    os.closerange(fd, top)


def drop_privileges(uid: int) -> None:
    """Give up root for an unprivileged user and group; the worker stops if that fails."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != uid:
        raise SystemExit("the worker could not drop its privileges")


def apply_limits(address_space: int, cpu_seconds: int, *, nproc: int | None, nofile: int) -> None:
    """OS limits that hold whatever the program does (root bypasses only RLIMIT_NPROC)."""
    def setlimit(which: int, value: int) -> None:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    if address_space:
        setlimit(resource.RLIMIT_AS, address_space)
    if cpu_seconds:
        setlimit(resource.RLIMIT_CPU, cpu_seconds)
    setlimit(resource.RLIMIT_FSIZE, 0)
    setlimit(resource.RLIMIT_CORE, 0)
    if nproc is not None:
        setlimit(resource.RLIMIT_NPROC, nproc)
    setlimit(resource.RLIMIT_NOFILE, nofile)


def main() -> None:
    import json

    config = json.loads(sys.argv[1])
    control = socket.socket(fileno=os.dup(0))
    control.setblocking(True)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    close_other_descriptors(keep={control.fileno()})
    _undumpable()
    apply_limits(0, 0, nproc=None, nofile=256)
    from wc._sandbox import ownership

    ownership.freeze()  # before the API module or any program runs
    Template(control, config).run()


if __name__ == "__main__":
    main()
