"""How much the sandbox and the concurrent fan-out cost, as ratios to a baseline measured in the
same run (so the figures hold on a noisy shared machine).

    python benchmarks/bench_core.py

* evaluation of a program on 1,000 and 10,000 distinct DoorKey transitions: throughput inside
  the sandbox (the OS jail included, where the machine has it) / throughput of the same work
  in-process (goal >= 0.8);
* planner nodes per second inside the sandbox / in-process; and planning in the learned program
  vs breadth-first search by cloning and stepping the real MiniGrid env (deepcopy + step);
* one round of K concurrent LLM candidates against a local server with a fixed latency L:
  wall time / L (1.0 is perfect overlap; K sequential requests would be K);
* a fresh worker per program: forking one from the template that holds N transitions (and
  loading the program) against starting a new jailed process and sending it the same data, the
  alternative "recycled" design.
"""
from __future__ import annotations

import asyncio
import copy
import random
import time
import warnings
from collections import deque
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]

from wc import envs  # noqa: E402
from wc._core.canonical import state_key  # noqa: E402
from wc._core.values import Transition  # noqa: E402
from wc._planning import PlanBudget  # noqa: E402
from wc._sandbox import runtime  # noqa: E402
from wc._sandbox.sandbox import Sandbox, SandboxLimits, program_key  # noqa: E402

MODEL = (ROOT / "tests" / "fixtures" / "minigrid_model.py").read_text()


def distinct_transitions(adapter, n: int) -> list[tuple]:
    rng = random.Random(0)
    seen, out, episode = set(), [], 0
    while len(out) < n:
        state, mission = adapter.reset(episode)
        episode += 1
        for _ in range(200):
            action = rng.choice(adapter.actions)
            step = adapter.step(action)
            key = (state_key(state), action, state_key(step.state))
            if key not in seen:
                seen.add(key)
                out.append((state, action, step.state, step.reward, step.terminated, mission))
            state = step.state
            if step.terminated or step.truncated or len(out) >= n:
                break
    return out


def in_process_eval(adapter, data, source):
    ns = runtime.api_namespace(adapter.api.source)
    transitions = [Transition(*t) for t in data]
    started = time.perf_counter()
    program = runtime.compile_program(ns, source)
    out = runtime.evaluate(program, transitions, adapter.reward_mode, call_timeout=2.0)
    assert all(o.transition == "o" and o.reward == "o" for o in out)
    return time.perf_counter() - started


async def sandbox_eval(sandbox, source):
    started = time.perf_counter()
    ev = await sandbox.evaluate(source)
    assert ev.fits, ev.error_counts()
    return time.perf_counter() - started


def best_of(times):
    return min(times)


async def bench_evaluation(adapter, repeats=5):
    results = {}
    for n in (1000, 10000):
        data = distinct_transitions(adapter, n)
        async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1) as sb:
            for t in data:
                sb.add(Transition(*t))
            await sb.evaluate("def transition(s, a):\n    return s\ndef reward(s, a, n, m):\n    return 0.0, False\n")
            # a fresh program each time (a comment differs), so nothing is served from the worker's cache
            boxed = best_of([await sandbox_eval(sb, MODEL + f"\n# {i}\n") for i in range(repeats)])
        plain = best_of([in_process_eval(adapter, data, MODEL + f"\n# {i}\n") for i in range(repeats)])
        ratio = plain / boxed
        print(f"evaluate {n} transitions: in-process {plain * 1000:.1f} ms, sandboxed {boxed * 1000:.1f} ms "
              f"({n / boxed:,.0f} transitions/s)")
        print(f"RESULT eval_{n // 1000}k ratio={ratio:.2f} sandboxed_ms={boxed * 1000:.1f} "
              f"in_process_ms={plain * 1000:.1f}")
        results[n] = ratio
    return results


def real_env_bfs(adapter, seed, max_nodes):
    """The baseline a model replaces: search by cloning the real environment and stepping it."""
    adapter.reset(seed)
    env = adapter.env.unwrapped
    start = copy.deepcopy(env)
    frontier = deque([start])
    seen = {state_key(adapter.symbolic_state())}
    nodes = 0
    started = time.perf_counter()
    while frontier and nodes < max_nodes:
        node = frontier.popleft()
        for index in range(len(adapter.actions)):
            child = copy.deepcopy(node)
            _, reward, terminated, _, _ = child.step(index)
            nodes += 1
            adapter.env.unwrapped.__dict__.update(child.__dict__)  # read the child's symbolic state
            key = state_key(adapter.symbolic_state())
            if terminated and reward > 0:
                return nodes, time.perf_counter() - started
            if key not in seen and not terminated:
                seen.add(key)
                frontier.append(child)
    return nodes, time.perf_counter() - started


async def bench_planning(adapter, seeds=range(8), max_nodes=20000):
    starts = [adapter.reset(s) for s in seeds]
    ns = runtime.api_namespace(adapter.api.source)
    program = runtime.compile_program(ns, MODEL)
    started = time.perf_counter()
    plain_nodes = sum(runtime.plan(program, s, m, list(adapter.actions), planner="bfs", max_nodes=max_nodes).nodes
                      for s, m in starts)
    plain = time.perf_counter() - started
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1,
                       limits=SandboxLimits(plan=PlanBudget(planner="bfs", max_nodes=max_nodes))) as sb:
        await sb.plan_many(MODEL, starts[:1])
        started = time.perf_counter()
        plans = await sb.plan_many(MODEL, starts)
        boxed = time.perf_counter() - started
    boxed_nodes = sum(p.nodes for p in plans)
    assert boxed_nodes == plain_nodes and all(p.found for p in plans)
    real_nodes = real_time = 0.0
    for seed in seeds:
        n, t = real_env_bfs(adapter, seed, max_nodes)
        real_nodes += n
        real_time += t
    rate_plain, rate_boxed, rate_real = plain_nodes / plain, boxed_nodes / boxed, real_nodes / real_time
    print(f"planner: {rate_boxed:,.0f} nodes/s sandboxed, {rate_plain:,.0f} in-process, "
          f"{rate_real:,.0f} cloning the real env")
    print(f"RESULT plan_sandbox ratio={rate_boxed / rate_plain:.2f} nodes_per_s={rate_boxed:.0f}")
    print(f"RESULT plan_vs_real_env ratio={rate_boxed / rate_real:.2f} real_env_nodes_per_s={rate_real:.0f}")


async def bench_fanout(k=8, latency=1.0):
    from wc._llm.openai_backend import OpenAIChat
    from wc.testing import FakeLLMServer, Reply

    with FakeLLMServer(lambda request, n: Reply("```python\nX = 1\n```", delay=latency)) as server:
        llm = OpenAIChat(model="bench", api_key="bench", base_url=server.base_url, concurrency=k)
        try:
            messages = [{"role": "user", "content": "hi"}]
            await llm.complete(messages, purpose="warmup")
            started = time.perf_counter()
            await asyncio.gather(*(llm.complete(messages, purpose="bench", sample=i) for i in range(k)))
            wall = time.perf_counter() - started
        finally:
            await llm.close()
    print(f"{k} concurrent candidates at latency {latency:.1f} s took {wall:.2f} s")
    print(f"RESULT fanout_k{k} ratio={wall / latency:.2f} wall_s={wall:.2f}")


async def bench_worker(adapter, n=1000, programs=20):
    """What one program's own worker costs: fork + load, against a new jailed process + data."""
    from wc._sandbox.processes import TemplateProcess

    trivial = "def transition(s, a):\n    return s\ndef reward(s, a, n, m):\n    return 0.0, False\n"
    data = distinct_transitions(adapter, n)
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1) as sb:
        for t in data:
            sb.add(Transition(*t))
        await sb.check(trivial)  # the template has the data; the first fork is not counted
        started = time.perf_counter()
        for i in range(programs):  # a new program: its own worker, forked, which loads it
            source = trivial + f"# {i}\n"
            await sb._worker(program_key(source), source)
        forked = (time.perf_counter() - started) / programs
        limits = sb.limits
        started = time.perf_counter()
        for _ in range(3):
            fresh = TemplateProcess(sb.jail, {"memory_mb": limits.memory_mb, "cpu_seconds": limits.cpu_seconds})
            await fresh.start({"api_source": adapter.api.source, "actions": list(adapter.actions),
                               "action_source": None, "call_timeout": limits.call_timeout, "guarded": True})
            await fresh.sync(sb.transitions)
            await fresh.fork(None)  # the data has arrived once the fork is answered
            await fresh.kill()
        new = (time.perf_counter() - started) / 3
    print(f"a worker per program with {n} transitions: forked {forked * 1000:.1f} ms, a new jailed process "
          f"{new * 1000:.1f} ms")
    print(f"RESULT worker_fork ratio={new / forked:.1f} fork_ms={forked * 1000:.1f} new_process_ms={new * 1000:.1f}")


async def main():
    from wc._sandbox import jail

    print(f"sandbox workers run in: {jail.detect().describe()}")
    big = envs.make("MiniGrid-DoorKey-16x16-v0")  # enough distinct transitions for 10,000
    await bench_evaluation(big)
    await bench_planning(envs.make("minigrid-doorkey"))
    await bench_worker(big)
    await bench_fanout()


if __name__ == "__main__":
    asyncio.run(main())
