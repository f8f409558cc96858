"""The outer wall of the sandbox: the operating system.

Every worker process runs in a bubblewrap jail (`bwrap`, Debian's `bubblewrap` package) where the
machine allows it:

* a read-only filesystem that shows only the shared libraries, the Python installation and wc's
  own package (no shell, no home directory, no store), with a private empty `/tmp`;
* new PID, network, IPC, UTS and cgroup namespaces: no other process to see or signal, no
  network but a loopback with no address;
* an unprivileged user (uid and gid 65534, `nobody`): as root, bwrap keeps only the two
  capabilities the worker needs to switch to it, and the worker switches before it reads a
  message; otherwise bwrap maps the user to 65534 in a user namespace;
* `--die-with-parent` and a new session, an empty environment, no inherited descriptors.

Where bwrap is missing or refused, wc refuses to run LLM-written code (`SandboxError`, exit 6)
and says how to fix it, unless the user opts in explicitly with `WC_SANDBOX=python`: workers
then run without the jail (in a network namespace of their own where `unshare` allows it), held
by the Python layer, the OS resource limits and, where wc runs as root, a user id of their own.
That is documented as unsafe: the Python layer is an inner wall, not an outer one.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from wc.errors import ConfigError, SandboxError

JailKind = Literal["bwrap", "unshare", "none"]
Policy = Literal["jail", "python"]
POLICIES: tuple[str, ...] = ("jail", "python")
# the policy's earlier name: "strict" refused to run without the jail, which is now the default
ALIASES = {"strict": "jail"}

UNPRIVILEGED = 65534  # nobody / nogroup
PACKAGE_MOUNT = "/opt/wc"  # wc's package appears here inside the jail, as /opt/wc/wc
LIBRARY_MOUNT = "/opt/wc/lib"  # numpy and scipy, for the worker's parameter fit (not importable by programs)
FIT_LIBRARIES = ("numpy", "scipy")
WORKER_ENV = {"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
NAMESPACES = ("pid", "net", "ipc", "uts", "mnt", "user", "cgroup")


@dataclass(frozen=True)
class Jail:
    """How worker processes are walled in here, and why."""

    kind: JailKind
    reason: str = ""                 # why not a stronger kind
    executable: str | None = None    # bwrap or unshare
    version: str | None = None
    # as root: each program's worker switches to a user of its own (bwrap keeps CAP_SETUID/CAP_SETGID
    # for the template that forks them)
    worker_drops_privileges: bool = False
    visible: tuple[str, ...] = field(default=())  # paths the jail shows, read-only

    @property
    def active(self) -> bool:
        return self.kind == "bwrap"

    def command(self, argv: list[str]) -> tuple[list[str], dict[str, str]]:
        """The command line and environment that start `python argv…` inside this jail."""
        package_parent = str(_package_dir().parent)
        if self.kind == "bwrap":
            env = dict(WORKER_ENV, PYTHONPATH=f"{PACKAGE_MOUNT}:{LIBRARY_MOUNT}")
            args = [self.executable or "bwrap", *_bwrap_args(self.worker_drops_privileges)]
            for key, value in env.items():
                args += ["--setenv", key, value]
            return [*args, "--", _python(), "-s", *argv], {}
        env = dict(WORKER_ENV, PATH="/usr/bin:/bin", PYTHONPATH=package_parent)
        cmd = [sys.executable, *argv]
        if self.kind == "unshare":
            cmd = [self.executable or "unshare", "--net", "--", *cmd]
        return cmd, env

    def describe(self) -> str:
        if self.kind == "bwrap":
            return f"bubblewrap {self.version or ''} ({self.executable})".replace("  ", " ")
        if self.kind == "unshare":
            return f"no jail ({self.reason}); network namespace only (unshare --net)"
        return f"no jail ({self.reason})"


def _package_dir() -> Path:
    return Path(__file__).resolve().parents[1]  # .../wc


def _python() -> str:
    """The real interpreter binary (not a virtual environment's link to it): the worker needs
    the standard library only."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def _visible_paths() -> list[tuple[str, str]]:
    """(source, destination) pairs bound read-only: libraries, the interpreter, wc's package."""
    wanted = [p for p in ("/usr/lib", "/usr/lib64", "/usr/lib32") if os.path.isdir(p) and not os.path.islink(p)]
    python = _python()
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    stdlib = sysconfig.get_paths()["stdlib"]
    for path in (python, libdir, os.path.realpath(stdlib), os.path.realpath(os.path.join(stdlib, "lib-dynload"))):
        if path and os.path.exists(path) and not any(_inside(path, w) for w in wanted):
            wanted = [w for w in wanted if not _inside(w, path)] + [path]
    pairs = [(p, p) for p in wanted]
    pairs.append((str(_package_dir()), f"{PACKAGE_MOUNT}/wc"))
    pairs += [(path, f"{LIBRARY_MOUNT}/{os.path.basename(path)}") for path in _fit_libraries()]
    return pairs


def _fit_libraries() -> list[str]:
    """numpy's and scipy's package folders (and the shared libraries their wheels bundle): the
    worker's parameter fit imports them (`wc._sandbox.param_fit`); programs still may not."""
    import importlib.util

    found = []
    for name in FIT_LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = os.path.realpath(list(spec.submodule_search_locations)[0])
        found.append(folder)
        bundled = folder + ".libs"  # manylinux wheels keep their own libopenblas, libgfortran here
        if os.path.isdir(bundled):
            found.append(bundled)
    return found


def _inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _bwrap_args(worker_drops_privileges: bool) -> list[str]:
    args: list[str] = []
    made: set[str] = set()

    def parents(dest: str) -> None:
        # bwrap would create missing parents itself, but as root with mode 0700; nobody must pass
        parts = Path(dest).parent.parts
        for i in range(2, len(parts) + 1):
            d = str(Path(*parts[:i]))
            if d not in made:
                made.add(d)
                args.extend(["--perms", "0755", "--dir", d])

    for link in ("/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    for source, dest in _visible_paths():
        parents(dest)
        args += ["--ro-bind", source, dest]
    args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--remount-ro", "/",
             "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
             "--hostname", "wc-sandbox", "--die-with-parent", "--new-session", "--clearenv", "--chdir", "/"]
    if worker_drops_privileges:
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--uid", str(UNPRIVILEGED), "--gid", str(UNPRIVILEGED), "--cap-drop", "ALL"]
    return args


@functools.cache
def _detect(bwrap: str | None, unshare: str | None, as_root: bool) -> Jail:
    reason = "bubblewrap (bwrap) is not installed"
    if bwrap:
        jail = Jail("bwrap", executable=bwrap, version=_version(bwrap), worker_drops_privileges=as_root,
                    visible=tuple(dest for _, dest in _visible_paths()))
        cmd, env = jail.command(["-c", "pass"])
        try:
            run = subprocess.run(cmd, env=env, capture_output=True, timeout=30)
            if run.returncode == 0:
                return jail
            reason = "bwrap is installed but refused to start a jail: " + (
                run.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        except (OSError, subprocess.SubprocessError) as exc:
            reason = f"bwrap is installed but cannot run ({exc})"
    if unshare:
        try:
            if subprocess.run([unshare, "--net", "--", "true"], capture_output=True, timeout=10).returncode == 0:
                return Jail("unshare", reason=reason, executable=unshare, worker_drops_privileges=as_root)
        except (OSError, subprocess.SubprocessError):
            pass
    return Jail("none", reason=reason, worker_drops_privileges=as_root)


def _version(exe: str) -> str | None:
    try:
        text = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return text.split()[-1] if text.split() else None


def detect() -> Jail:
    """The strongest jail this machine gives (checked once per process and PATH)."""
    return _detect(shutil.which("bwrap"), shutil.which("unshare"), os.geteuid() == 0)


def select(policy: str) -> Jail:
    """The jail for a policy: `jail` (the default) refuses to run without bwrap; `python` is the
    explicit, unsafe opt-in to run without it."""
    policy = ALIASES.get(policy, policy)
    if policy not in POLICIES:
        extra = " (the silent fallback `auto` is gone: LLM-written code runs in the jail, or with " \
                "WC_SANDBOX=python by choice)" if policy == "auto" else ""
        raise ConfigError(f"WC_SANDBOX must be one of {', '.join(POLICIES)}, not {policy!r}{extra}")
    if policy == "python":
        jail = detect()
        return jail if not jail.active else _unjailed(jail)
    jail = detect()
    if not jail.active:
        raise SandboxError(f"the OS jail for LLM-written code is not available ({jail.reason}): install bubblewrap "
                           "(apt-get install bubblewrap), or set WC_SANDBOX=python to run it without the jail "
                           "(unsafe: the Python layer alone stands between the code and this machine)")
    return jail


def _unjailed(jail: Jail) -> Jail:
    """What WC_SANDBOX=python runs in on a machine that has the jail: no jail, as asked."""
    unshare = shutil.which("unshare")
    found = _detect(None, unshare, os.geteuid() == 0)
    return Jail(found.kind, reason="WC_SANDBOX=python", executable=found.executable,
                worker_drops_privileges=found.worker_drops_privileges)


def namespaces_of(pid: int) -> dict[str, bool]:
    """Which namespaces process `pid` does not share with this process (read from /proc)."""
    out: dict[str, bool] = {}
    for ns in NAMESPACES:
        try:
            out[ns] = os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}")
        except OSError:
            continue
    return out


def descendants(pid: int) -> list[int]:
    """Processes below `pid`, nearest first (the worker sits under bwrap's own processes)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        try:
            with open(f"/proc/{current}/task/{current}/children") as fh:
                children = [int(x) for x in fh.read().split()]
        except OSError:
            children = []
        found += children
        queue += children
    return found


def host_pid(root: int, inner: int) -> int | None:
    """The pid, as this process sees it, of the process below `root` whose pid in its own
    namespace is `inner` (a worker forked inside the jail)."""
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("NSpid:"):
                        if int(line.split()[-1]) == inner:
                            return pid
                        break
        except (OSError, ValueError):
            continue
    return None


@dataclass(frozen=True)
class Layer:
    """One wall of the sandbox as `wc doctor` reports it."""

    name: str
    active: bool
    detail: str


def layers(facts: dict, policy: str) -> list[Layer]:
    """The sandbox's walls, judged from what a live worker reported (`Sandbox.probe`)."""
    ns = facts.get("namespaces", {})
    own = [n for n in ("pid", "net", "ipc", "uts", "mnt", "cgroup", "user") if ns.get(n)]
    limits = facts.get("limits", {})
    caps = str(facts.get("capabilities", "?"))
    mb = limits.get("as", -1)
    secrets = [k for k in facts.get("environment", []) if k not in {*WORKER_ENV, "PYTHONPATH", "PWD", "PATH"}]
    visible = facts.get("visible_paths") or []
    return [
        Layer("OS jail", bool(facts.get("jail_active")), str(facts.get("jail", "?"))),
        Layer("namespaces", all(ns.get(n) for n in ("pid", "net", "ipc", "uts", "mnt")),
              "own " + ", ".join(own) if own else "shares every namespace with wc"),
        Layer("unprivileged user", facts.get("uid") != 0 and caps.strip("0") == "",
              f"uid {facts.get('uid')}, gid {facts.get('gid')}, capabilities {caps}, "
              f"no_new_privs {'on' if facts.get('no_new_privs') else 'off'}"),
        Layer("filesystem", not facts.get("root_writable") and not facts.get("tmp_writable")
              and facts.get("tmp_entries") == [] and bool(visible),
              (f"read-only; shows only {', '.join(visible)}; private empty /tmp" if visible else
               f"the whole filesystem as wc's user; / {'writable' if facts.get('root_writable') else 'read-only'}")),
        Layer("network", bool(ns.get("net")) and facts.get("network_interfaces") == ["lo"],
              "interfaces: " + ", ".join(facts.get("network_interfaces") or ["none"])),
        Layer("processes", bool(ns.get("pid")) and limits.get("nproc") == 0,
              f"sees {facts.get('processes_visible')} processes; may start "
              f"{'none' if limits.get('nproc') == 0 else 'new ones'}"),
        Layer("environment", not secrets, "variables: " + ", ".join(facts.get("environment", [])) or "none"),
        Layer("descriptors", all(f in ("pipe", "socket", "/dev/null") for f in facts.get("open_files", [])),
              "open: " + ", ".join(facts.get("open_files", []))),
        Layer("resource limits", limits.get("fsize") == 0 and 0 < mb,
              f"memory {mb // (1 << 20) if mb > 0 else 'unlimited'} MB, CPU {limits.get('cpu')} s, "
              f"file size {limits.get('fsize')}, processes {limits.get('nproc')}, descriptors {limits.get('nofile')}"),
        Layer("one process per program", bool(facts.get("dumpable") is False),
              "each program runs in a worker of its own, forked from a clean template and undumpable"
              + ("; with a user id of its own" if facts.get("own_user_per_program") else
                 "; all workers share one user id (wc does not run as root), so a program could signal another "
                 "program's worker: that one fails, it cannot pass")),
        Layer("verdicts in the parent", True,
              "workers return predictions and plans (JSON, at most 16 MiB a reply); wc compares them with the "
              "data itself, and the real environment judges every plan"),
        Layer("Python layer", bool(facts.get("python_layer")),
              "the inner wall: every attribute access guarded (exact names, no dunders outside the data "
              "protocols, no private attributes or __dict__ of library objects, modules inert), imports from an "
              "allowlist as read-only views, no module that evaluates program text; it can have gaps, "
              "which is why the OS jail is the outer wall"),
        Layer("policy", not facts.get("refused"),
              f"WC_SANDBOX={policy}: " + (facts["refused"] if facts.get("refused") else
                                          "runs LLM-written code only inside the OS jail" if policy != "python" else
                                          "runs LLM-written code without the OS jail (unsafe, by choice)")),
    ]
