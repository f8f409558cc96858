"""Sandbox worker process: runs untrusted programs under OS limits, speaking JSON lines.

Started by `wc.programs.sandbox`, inside the OS jail (`wc.programs.jail`) where there is one,
with an empty environment. Before it reads a message it closes every descriptor but its pipe,
gives up root where it has it, and sets its resource limits. The recorded transitions live
here (sent once, then only new ones), so evaluating a program is one round trip however much
data there is. Replies are JSON, never pickle: a compromised worker must not be able to run
code in the agent by what it sends back.
"""
from __future__ import annotations

import json
import os
import resource
import sys
from collections import OrderedDict
from dataclasses import asdict
from typing import Any

from wc.programs import runtime

MAX_FAILURE_DETAILS = 40


class WorkerState:
    def __init__(self) -> None:
        self.api_ns: dict[str, Any] = {}
        self.reward_mode = "exact"
        self.actions: list[str] | Any = []
        self.focus: Any = None
        self.compare: Any = None
        self.frontier: Any = None
        self.estimator: Any = None
        self.call_timeout = 2.0
        self.guarded = True
        self.transitions: list[runtime.Transition] = []
        self.programs: OrderedDict[str, runtime.CompiledProgram] = OrderedDict()
        self.outcomes: OrderedDict[str, list[runtime.Outcome]] = OrderedDict()

    def program(self, key: str, source: str) -> runtime.CompiledProgram:
        if key in self.programs:
            self.programs.move_to_end(key)
            return self.programs[key]
        compiled = runtime.compile_program(self.api_ns, source, self.call_timeout, guarded=self.guarded)
        self.programs[key] = compiled
        while len(self.programs) > 32:
            old, _ = self.programs.popitem(last=False)
            self.outcomes.pop(old, None)
        return compiled

    def handle(self, msg: dict[str, Any]) -> Any:
        for t in msg.get("sync", ()):
            self.transitions.append(runtime.Transition.from_json(t, self.compare))
        op = msg["op"]
        if op == "init":
            self.guarded = bool(msg.get("guarded", True))
            self.api_ns = runtime.api_namespace(msg["api_source"], guarded=self.guarded)
            self.reward_mode = msg["reward_mode"]
            self.actions = runtime.action_generator(msg.get("action_source")) or list(msg["actions"])
            self.focus = runtime.search_focus(msg.get("action_source"))
            self.compare = runtime.comparison(msg.get("action_source"))
            self.frontier = runtime.search_frontier(msg.get("action_source"))
            self.estimator = runtime.search_estimator(msg.get("action_source"))
            self.call_timeout = float(msg["call_timeout"])
            return {"pid": os.getpid()}
        if op == "evaluate":
            return self.evaluate(msg["key"], msg["source"])
        if op == "plan":
            program = self.program(msg["key"], msg["source"])
            results = []
            for start in msg["starts"]:
                result = runtime.plan(program, start["state"], start["mission"], self.actions,
                                      planner=msg.get("planner", "bfws"), max_nodes=msg["max_nodes"],
                                      max_depth=msg["max_depth"], time_limit=msg["time_limit"],
                                      call_timeout=self.call_timeout, focus=self.focus,
                                      frontier=self.frontier, estimator=self.estimator, horizon=msg.get("horizon"))
                results.append(asdict(result))
            return results
        if op == "check":
            program = self.program(msg["key"], msg["source"])
            return runtime.check(program, self.transitions, self.call_timeout)
        if op == "ping":
            return {"transitions": len(self.transitions)}
        if op == "probe":
            return dict(probe(), python_layer=self.guarded)
        raise ValueError(f"unknown op {op!r}")

    def evaluate(self, key: str, source: str) -> dict[str, Any]:
        program = self.program(key, source)
        done = self.outcomes.get(key, [])
        if len(done) < len(self.transitions):
            done = done + runtime.evaluate(program, self.transitions[len(done):], self.reward_mode,
                                           self.call_timeout, self.compare)
            self.outcomes[key] = done
        failures: dict[str, Any] = {}
        for index in range(len(done) - 1, -1, -1):  # newest first: the freshest evidence
            outcome = done[index]
            if outcome.detail:
                failures[str(index)] = outcome.detail
                if len(failures) >= MAX_FAILURE_DETAILS:
                    break
        return {
            "transition": "".join(o.transition for o in done),
            "reward": "".join(o.reward for o in done),
            "failures": failures,
            "load_failure": program.failure,
        }


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
        "limits": limits,
    }


def close_inherited_descriptors() -> None:
    """Keep only the pipe (0, 1) and 2; anything else a parent let through is closed."""
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def drop_privileges(uid: int) -> None:
    """Give up root for an unprivileged user and group; the worker stops if that fails."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != uid:
        raise SystemExit("the worker could not drop its privileges")


def apply_limits(memory_mb: int, cpu_seconds: int) -> None:
    """OS limits that hold whatever the program does (root bypasses only RLIMIT_NPROC)."""
    def setlimit(which: int, value: int) -> None:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    setlimit(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    setlimit(resource.RLIMIT_CPU, cpu_seconds)
    setlimit(resource.RLIMIT_FSIZE, 0)
    setlimit(resource.RLIMIT_CORE, 0)
    setlimit(resource.RLIMIT_NPROC, 0)
    setlimit(resource.RLIMIT_NOFILE, 16)


def main() -> None:
    config = json.loads(sys.argv[1])
    close_inherited_descriptors()
    if config.get("drop_to") is not None:
        drop_privileges(int(config["drop_to"]))
    proto_in = sys.stdin.buffer
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    sys.setrecursionlimit(config.get("recursion_limit", 3000))
    apply_limits(config["memory_mb"], config["cpu_seconds"])
    state = WorkerState()
    for line in proto_in:
        msg = json.loads(line)
        try:
            reply = {"id": msg.get("id"), "ok": True, "result": state.handle(msg)}
        except MemoryError:
            reply = {"id": msg.get("id"), "ok": False, "error": "memory limit reached in the worker"}
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which decides
            reply = {"id": msg.get("id"), "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        try:
            data = json.dumps(reply, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            data = json.dumps({"id": msg.get("id"), "ok": False, "error": f"unserialisable reply: {exc}"})
        proto_out.write(data.encode() + b"\n")
        proto_out.flush()


if __name__ == "__main__":
    main()
