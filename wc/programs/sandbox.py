"""The sandbox: a pool of long-lived worker processes that run untrusted programs.

Layers, outermost first: the OS jail (`wc.programs.jail`: bubblewrap with its own filesystem
view, namespaces and an unprivileged user, where the machine allows it), OS resource limits
(address space, CPU time, no file writes, no new processes, few descriptors), a wall-clock limit
per request enforced from outside (the worker is killed and replaced), a per-call timer inside
the worker, and the Python layer (`wc.programs.guard`). Workers start with an empty environment:
no API key, no database URL, and no handle to the store.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from wc.canonical import state_key
from wc.errors import SandboxError
from wc.planning import PlanBudget
from wc.planning.result import ERROR, PlanResult
from wc.programs import jail as jails
from wc.programs.evaluation import Evaluation, Optimism
from wc.values import ApiModule, State


@dataclass(frozen=True)
class SandboxLimits:
    memory_mb: int = 1024
    cpu_seconds: int = 3600
    call_timeout: float = 2.0
    evaluate_timeout: float = 120.0
    plan: PlanBudget = PlanBudget()
    jail: str = "auto"            # "auto": the OS jail where there is one; "strict": refuse without it
    python_layer: bool = True     # False only to test the OS jail on its own


def program_key(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


class WorkerDied(Exception):
    pass


class _Worker:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.proc: asyncio.subprocess.Process | None = None
        self.synced = 0
        self.next_id = 0

    async def start(self) -> None:
        sb = self.sandbox
        limits = sb.limits
        config = {"memory_mb": limits.memory_mb, "cpu_seconds": limits.cpu_seconds,
                  "drop_to": jails.UNPRIVILEGED if sb.jail.worker_drops_privileges else None}
        cmd, env = sb.jail.command(["-m", "wc.programs.worker", json.dumps(config)])
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=env, limit=1 << 30, start_new_session=True, close_fds=True)
        self.synced = 0
        await self.call({"op": "init", "api_source": sb.api.source, "reward_mode": sb.reward_mode,
                         "actions": list(sb.actions), "action_source": sb.action_source,
                         "call_timeout": limits.call_timeout, "guarded": limits.python_layer}, timeout=60)

    async def call(self, msg: dict[str, Any], timeout: float) -> Any:
        if self.proc is None or self.proc.returncode is not None:
            raise WorkerDied("worker is not running")
        pending = self.sandbox.transitions[self.synced:]
        self.next_id += 1
        msg = dict(msg, id=self.next_id, sync=pending)
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None  # started with pipes
        try:
            stdin.write(json.dumps(msg, separators=(",", ":")).encode() + b"\n")
            await stdin.drain()
            line = await asyncio.wait_for(stdout.readline(), timeout)
        except TimeoutError:
            await self.kill()
            raise TimeoutError(f"the worker did not answer within {timeout:.0f} s and was replaced") from None
        except (BrokenPipeError, ConnectionResetError) as exc:
            await self.kill()
            raise WorkerDied(f"the worker died ({exc})") from None
        except BaseException:
            # cancelled mid-request: its reply would be read by the next request; start afresh
            await asyncio.shield(self.kill())
            raise
        if not line:
            code = await self.proc.wait()
            self.proc = None
            raise WorkerDied(f"the worker died (exit status {code})")
        self.synced += len(pending)
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict) or reply.get("id") != self.next_id:
            await self.kill()
            raise WorkerDied("the worker sent a malformed or out-of-turn reply and was replaced")
        if not reply.get("ok"):
            raise SandboxError(str(reply.get("error", "worker error"))[:2000])
        return reply.get("result")

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
            await self.proc.wait()
        self.proc = None


class Sandbox:
    """Run programs against the recorded data and plan in them, in worker processes."""

    def __init__(self, api: ApiModule, actions: tuple[str, ...] | list[str], reward_mode: str,
                 workers: int = 2, limits: SandboxLimits | None = None, action_source: str | None = None) -> None:
        self.api = api
        self.actions = tuple(actions)
        self.action_source = action_source
        self.reward_mode = reward_mode
        self.limits = limits or SandboxLimits()
        self.jail = jails.select(self.limits.jail)  # SandboxError at once under a strict policy without a jail
        self.size = max(1, workers)
        self.transitions: list[dict[str, Any]] = []
        self._index: dict[tuple, int] = {}
        self._idle: asyncio.Queue[_Worker] | None = None
        self._workers: list[_Worker] = []
        self.restarts = 0

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def start(self) -> None:
        self._idle = asyncio.Queue()
        self._workers = [_Worker(self) for _ in range(self.size)]
        await asyncio.gather(*(w.start() for w in self._workers))
        for w in self._workers:
            self._idle.put_nowait(w)

    async def close(self) -> None:
        await asyncio.gather(*(w.kill() for w in self._workers), return_exceptions=True)
        self._workers = []

    # ---------------------------------------------------------------- data

    def add(self, state: State, action: str, next_state: State, reward: float, done: bool,
            mission: str) -> int:
        """Add a transition unless an identical one is there; returns its distinct index."""
        key = (state_key(state), action, state_key(next_state), float(reward), bool(done), mission)
        index = self._index.get(key)
        if index is None:
            index = len(self.transitions)
            self._index[key] = index
            self.transitions.append({"state": state, "action": action, "next_state": next_state,
                                     "reward": float(reward), "done": bool(done), "mission": mission})
        return index

    # ---------------------------------------------------------------- requests

    async def _request(self, msg: dict[str, Any], timeout: float) -> Any:
        assert self._idle is not None, "Sandbox.start() was not called"
        worker = await self._idle.get()
        try:
            if worker.proc is None:
                self.restarts += 1
                await worker.start()
            return await worker.call(msg, timeout)
        finally:
            self._idle.put_nowait(worker)

    async def evaluate(self, source: str) -> Evaluation:
        """φ1 on every distinct transition recorded so far."""
        n = len(self.transitions)
        timeout = self.limits.evaluate_timeout + 0.01 * n
        try:
            r = await self._request({"op": "evaluate", "key": program_key(source), "source": source}, timeout)
        except TimeoutError as exc:
            return Evaluation.failed(n, {"kind": "timeout", "message": str(exc)})
        except WorkerDied as exc:
            return Evaluation.failed(n, {"kind": "crash", "message": str(exc)})
        except SandboxError as exc:
            return Evaluation.failed(n, {"kind": "crash", "message": str(exc)})
        try:
            failures = {int(k): v for k, v in r["failures"].items()}
            return Evaluation(str(r["transition"]), str(r["reward"]), failures, r["load_failure"])
        except (TypeError, KeyError, ValueError, AttributeError):
            return Evaluation.failed(n, {"kind": "crash", "message": "the worker sent a malformed evaluation"})

    async def plan_many(self, source: str, starts: list[tuple[State, str]],
                        budget: PlanBudget | None = None) -> list[PlanResult]:
        """Plan from each start; the starts are shared out among the workers, which plan at once."""
        budget = budget or self.limits.plan
        chunks = [starts[i::self.size] for i in range(min(self.size, len(starts)))]
        done = await asyncio.gather(*(self._plan_chunk(source, chunk, budget) for chunk in chunks))
        results: list[PlanResult | None] = [None] * len(starts)
        for i, chunk_results in enumerate(done):
            results[i::len(chunks)] = chunk_results
        return results  # type: ignore[return-value]

    async def _plan_chunk(self, source: str, starts: list[tuple[State, str]], budget: PlanBudget) -> list[PlanResult]:
        msg = {"op": "plan", "key": program_key(source), "source": source,
               "starts": [{"state": s, "mission": m} for s, m in starts], "planner": budget.planner,
               "max_nodes": budget.max_nodes, "max_depth": budget.max_depth, "time_limit": budget.seconds,
               "horizon": budget.horizon}
        # a plan found near its horizon may take up to 1.5 times the search's own time to shorten
        timeout = len(starts) * (budget.seconds * (2.5 if budget.horizon else 1) + self.limits.call_timeout) + 30
        try:
            results = await self._request(msg, timeout)
        except (TimeoutError, WorkerDied, SandboxError) as exc:
            failure = {"kind": "timeout" if isinstance(exc, TimeoutError) else "crash", "message": str(exc)}
            return [PlanResult(False, reason=str(exc), first_error=failure, status=ERROR) for _ in starts]
        try:
            return [PlanResult(**r) for r in results]
        except (TypeError, KeyError, ValueError):
            failure = {"kind": "crash", "message": "the worker sent a malformed plan"}
            return [PlanResult(False, reason=failure["message"], first_error=failure, status=ERROR) for _ in starts]

    async def plan(self, source: str, state: State, mission: str, budget: PlanBudget | None = None) -> PlanResult:
        return (await self.plan_many(source, [(state, mission)], budget))[0]

    async def optimism(self, source: str, starts: list[tuple[State, str]]) -> Optimism:
        return Optimism(await self.plan_many(source, starts))

    async def check(self, source: str) -> list[str]:
        """What the program does against the contract on the recorded transitions (problems)."""
        try:
            found = await self._request({"op": "check", "key": program_key(source), "source": source},
                                        self.limits.evaluate_timeout + 0.05 * len(self.transitions))
        except (TimeoutError, WorkerDied, SandboxError) as exc:
            return [f"the check could not finish: {exc}"]
        return [str(p) for p in found] if isinstance(found, list) else ["the worker sent a malformed check"]

    async def probe(self) -> dict[str, Any]:
        """What a program inside a worker would find (uid, namespaces, files, limits, layers),
        asked of a live worker and checked from outside: the report `wc doctor` prints."""
        assert self._idle is not None, "Sandbox.start() was not called"
        worker = await self._idle.get()
        try:
            if worker.proc is None:
                await worker.start()
            facts = dict(await worker.call({"op": "probe"}, timeout=30))
            pid = worker.proc.pid if worker.proc else None
        finally:
            self._idle.put_nowait(worker)
        inner = jails.descendants(pid) if pid else []
        facts["namespaces"] = jails.namespaces_of(inner[-1] if inner else pid) if pid else {}
        facts["jail"] = self.jail.describe()
        facts["jail_active"] = self.jail.active
        facts["visible_paths"] = list(self.jail.visible)
        return facts
