"""The parent's side of the sandbox's processes: the template, and a worker per program.

`TemplateProcess` starts `wc._sandbox.worker` in the jail and talks to it over a Unix socket:
it sends the data, and for each program a `fork` with the new worker's socket and heartbeat
memory attached (SCM_RIGHTS). `ProgramProcess` is one such worker: requests go out and replies
come back as length-prefixed frames; a reply larger than `frames.MAX_REPLY` is refused unread,
and a call that runs past its limit, whatever the program does about the in-process timer, is
ended by killing the worker (`watch`).
"""
from __future__ import annotations

import array
import asyncio
import contextlib
import json
import mmap
import os
import signal
import socket
import sys
import time
from typing import Any

from wc._core.values import Transition
from wc._sandbox import frames
from wc._sandbox import jail as jails
from wc.errors import SandboxError

SYNC_CHUNK = 1000     # transitions per data message (a worker decodes one well within a call's limit)


def wire(transitions: list[Transition]) -> list[dict[str, Any]]:
    """Transitions as they cross to a worker: JSON, converted here only (`Transition.from_json`
    reads them back in the worker)."""
    return [t.to_json() for t in transitions]
UID_BASE, UID_SPAN = 61000, 3000  # a user id per program worker, where the template may give them


class WorkerFailed(Exception):
    """A request to a program's worker ended without a usable reply; `failure` says why, in the
    terms of a program's failures (timeout, memory, malformed, crash)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.failure = {"kind": kind, "message": message}


async def _writable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)
    loop.add_writer(sock.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_writer(sock.fileno())


async def _send_with_fds(sock: socket.socket, data: bytes, fds: list[int]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        try:
            sent = sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
            break
        except BlockingIOError:
            await _writable(loop, sock)
    if sent < len(data):
        await loop.sock_sendall(sock, data[sent:])


# The jail's processes ignore SIGTERM and SIGINT (an ignored disposition survives exec): a batch
# system signals every process of a job (SLURM: SIGTERM); wc stops its sandbox itself once it has
# marked its run interrupted, so the sandbox must not die first and make programs look as if they
# crashed. A small exec wrapper sets it, rather than preexec_fn in a process with threads.
_IGNORING_TERMINATION = (sys.executable, "-S", "-c", "import os, signal, sys; "
                         "[signal.signal(s, signal.SIG_IGN) for s in (signal.SIGTERM, signal.SIGINT)]; "
                         "os.execvp(sys.argv[1], sys.argv[1:])")


class TemplateProcess:
    """The jailed process that holds the data and forks program workers."""

    def __init__(self, jail: jails.Jail, config: dict[str, Any]) -> None:
        self.jail = jail
        self.config = config
        self.fit_preloaded = False  # numpy and scipy imported (Sandbox.fit), for the workers forked after
        self.proc: asyncio.subprocess.Process | None = None
        self.sock: socket.socket | None = None
        self.synced = 0
        self.pid: int | None = None  # the template's pid inside its namespace
        self._reader: asyncio.Task | None = None
        self._write = asyncio.Lock()
        self._waiting: dict[Any, asyncio.Future] = {}
        self._exits: dict[int, dict[str, Any]] = {}
        self._token = 0

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None and self._reader is not None \
            and not self._reader.done()

    async def start(self, init: dict[str, Any]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cmd, env = self.jail.command(["-m", "wc._sandbox.worker", json.dumps(self.config)])
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *_IGNORING_TERMINATION, *cmd, stdin=theirs.fileno(), stdout=theirs.fileno(),
                stderr=asyncio.subprocess.DEVNULL, env=env, start_new_session=True, close_fds=True)
        finally:
            theirs.close()
        ours.setblocking(False)
        self.sock = ours
        self.synced = 0
        self._reader = asyncio.create_task(self._read_loop())
        ready = self._expect("ready")
        await self.send(dict(init, op="init"))
        try:
            reply = await asyncio.wait_for(ready, 60)
        except (TimeoutError, SandboxError) as exc:
            await self.kill()
            raise SandboxError(f"the sandbox's template process did not start: {exc}") from None
        if reply.get("error"):
            await self.kill()
            raise SandboxError(f"the sandbox's template process could not load the API module: {reply['error']}")
        self.pid = reply.get("pid")

    def _expect(self, key: Any) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        return future

    async def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        assert self.sock is not None
        data = frames.encode(message)
        async with self._write:
            if fds:
                await _send_with_fds(self.sock, data, fds)
            else:
                await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        buffer = b""
        assert self.sock is not None
        try:
            while True:
                chunk = await loop.sock_recv(self.sock, 1 << 16)
                if not chunk:
                    break
                buffer += chunk
                while len(buffer) >= frames.HEADER.size:
                    (size,) = frames.HEADER.unpack_from(buffer)
                    if len(buffer) < frames.HEADER.size + size:
                        break
                    message = frames.decode(buffer[frames.HEADER.size:frames.HEADER.size + size])
                    buffer = buffer[frames.HEADER.size + size:]
                    self._dispatch(message)
        except (OSError, frames.FrameError):
            pass
        finally:
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(SandboxError("the sandbox's template process ended"))
            self._waiting.clear()

    def _dispatch(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "exit":
            self._exits[int(message["pid"])] = message
            key: Any = ("exit", int(message["pid"]))
        elif op == "forked":
            key = ("forked", message["token"])
        else:
            key = op
        future = self._waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(message)

    async def sync(self, transitions: list[Transition]) -> None:
        while self.synced < len(transitions):
            chunk = transitions[self.synced:self.synced + SYNC_CHUNK]
            await self.send({"op": "sync", "transitions": wire(chunk)})
            self.synced += len(chunk)

    async def fork(self, uid: int | None) -> tuple[int, int, socket.socket, mmap.mmap]:
        """A new worker: its pid (in the jail), how many transitions it holds, its socket and its
        heartbeat memory."""
        self._token += 1
        token = self._token
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        beat_fd = os.memfd_create("wc-beat")
        try:
            os.ftruncate(beat_fd, 16)
            beat = mmap.mmap(beat_fd, 16)
            forked = self._expect(("forked", token))
            await self.send({"op": "fork", "token": token, "uid": uid}, fds=[theirs.fileno(), beat_fd])
        finally:
            theirs.close()
            os.close(beat_fd)
        reply = await asyncio.wait_for(forked, 30)
        return int(reply["pid"]), int(reply["transitions"]), ours, beat

    def pidfd_of(self, inner: int) -> int | None:
        """A pidfd for the worker whose pid in the jail is `inner` (None if it is gone already):
        what the parent kills it by, race-free and whatever the template is doing."""
        if self.proc is None:
            return None
        pid = jails.host_pid(self.proc.pid, inner)
        if pid is None:
            return None
        try:
            return os.pidfd_open(pid)
        except OSError:
            return None

    async def exit_of(self, pid: int, wait: float = 1.0) -> dict[str, Any] | None:
        """How a worker ended, if the template has said (or says within `wait` seconds)."""
        if pid in self._exits:
            return self._exits.pop(pid)
        exited = self._expect(("exit", pid))
        try:
            return await asyncio.wait_for(exited, wait)
        except (TimeoutError, SandboxError):
            return None

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.proc = None


class ProgramProcess:
    """One program's worker, as the parent sees it."""

    def __init__(self, template: TemplateProcess, key: str, *, call_timeout: float, grace: float) -> None:
        self.template = template
        self.key = key
        self.call_timeout = call_timeout
        self.grace = grace
        self.lock = asyncio.Lock()
        self.pid: int | None = None
        self.synced = 0
        self.load_failure: dict[str, Any] | None = None
        self.last_used = time.monotonic()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._beat: Any = None
        self._mmap: mmap.mmap | None = None
        self._pidfd: int | None = None
        self._next_id = 0

    @property
    def alive(self) -> bool:
        return self._writer is not None

    async def start(self, uid: int | None) -> None:
        self.pid, self.synced, sock, self._mmap = await self.template.fork(uid)
        self._pidfd = self.template.pidfd_of(self.pid)
        self._beat = memoryview(self._mmap).cast("Q")
        self._reader, self._writer = await asyncio.open_unix_connection(sock=sock)

    async def call(self, message: dict[str, Any], transitions: list[Transition], timeout: float) -> Any:
        """Send a request (with the transitions this worker has not seen) and read its reply;
        WorkerFailed, with the worker killed, if it cannot be had."""
        assert self._writer is not None and self._reader is not None
        self.last_used = time.monotonic()
        pending = len(transitions) - self.synced
        while pending > SYNC_CHUNK:  # a worker that missed much data gets it in pieces first
            await self._exchange({"op": "sync"}, transitions[self.synced:self.synced + SYNC_CHUNK], timeout)
            pending = len(transitions) - self.synced
        return await self._exchange(message, transitions[self.synced:], timeout)

    async def _exchange(self, message: dict[str, Any], sync: list[Transition], timeout: float) -> Any:
        assert self._writer is not None
        self._next_id += 1
        self._writer.write(frames.encode(dict(message, id=self._next_id, sync=wire(sync))))
        reply_task = asyncio.ensure_future(self._read_reply())
        watch_task = asyncio.ensure_future(self.watch())
        try:
            done, _ = await asyncio.wait({reply_task, watch_task}, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            # cancelled mid-request: its reply would be read by the next request; end the worker
            reply_task.cancel()
            watch_task.cancel()
            await asyncio.shield(self.kill())
            raise
        for task in (reply_task, watch_task):
            if task not in done:
                task.cancel()
        if watch_task in done:
            await self.kill()
            raise WorkerFailed("timeout", f"a call of the program ran past its {self.call_timeout:g} s limit (or its "
                                          "code ran where no call is timed); its worker was killed")
        if reply_task not in done:
            await self.kill()
            raise WorkerFailed("timeout", f"the worker did not answer within {timeout:.0f} s and was killed")
        try:
            reply = reply_task.result()
        except WorkerFailed:
            await self.kill()
            raise
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            raise await self._died() from None
        if not isinstance(reply, dict) or reply.get("id") != self._next_id:
            await self.kill()
            raise WorkerFailed("malformed", "the worker sent a malformed or out-of-turn reply and was killed")
        self.synced += len(sync)
        if not reply.get("ok"):
            error = str(reply.get("error", "worker error"))[:2000]
            await self.kill()  # its state after a failure inside wc's own code is not to be trusted
            raise WorkerFailed("memory" if "memory limit" in error else "crash", error)
        return reply.get("result")

    async def _read_reply(self) -> Any:
        assert self._reader is not None and self._writer is not None
        await self._writer.drain()
        header = await self._reader.readexactly(frames.HEADER.size)
        (size,) = frames.HEADER.unpack(header)
        if size > frames.MAX_REPLY:
            raise WorkerFailed("malformed", f"the worker sent a reply of {size:,} bytes (at most "
                                            f"{frames.MAX_REPLY:,}) and was killed")
        data = await self._reader.readexactly(size)
        try:
            return frames.decode(data)
        except frames.FrameError as exc:
            raise WorkerFailed("malformed", f"the worker sent {exc} and was killed") from None

    async def watch(self) -> None:
        """Return when the worker has made no progress (no call started or ended, no step of its
        own work) for longer than a call may take plus the grace: a call ran past its limit, or
        program code runs where no call is timed."""
        if self.call_timeout <= 0:
            await asyncio.Event().wait()
        limit = self.call_timeout + self.grace
        seen, since = self._beat[0], time.monotonic()
        while True:
            await asyncio.sleep(min(0.1, limit / 4))
            count, now = self._beat[0], time.monotonic()
            if count != seen:
                seen, since = count, now
            elif now - since > limit:
                return

    async def _died(self) -> WorkerFailed:
        status = await self.template.exit_of(self.pid) if self.pid is not None else None
        self.close()
        signum = (status or {}).get("signal")
        if signum in (signal.SIGXCPU, signal.SIGKILL):
            return WorkerFailed("timeout" if signum == signal.SIGXCPU else "crash",
                                f"the worker was killed by {signal.Signals(signum).name} (its CPU time limit, or "
                                "another process)")
        if signum is not None:
            return WorkerFailed("crash", f"the worker died of {signal.Signals(signum).name}")
        return WorkerFailed("crash", f"the worker died (exit status {(status or {}).get('code')})")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer = self._reader = None
        if self._beat is not None:
            self._beat.release()
            self._beat = None
        if self._mmap is not None:
            self._mmap.close()
            self._mmap = None
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    async def kill(self) -> None:
        """SIGKILL the worker (by its pidfd: no other process can be hit) and let it go."""
        if self._pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
        self.close()
