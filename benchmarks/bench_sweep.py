"""A sweep's wall time with runs in parallel, as a ratio to the same runs one after another,
both measured in this run (goal: at most 0.35 for 2 environments × 4 seeds at --parallel 4).

    python benchmarks/bench_sweep.py [--latency 1.0] [--parallel 4] [--repeat 1]

The LLM is wc's scripted local server answering after a fixed latency: a wrong program first (a
turn inverted), then its repair, so every run waits for two answers, as a real run waits for its
model. Each sweep is a fresh SQLite store; both sweeps play the same (environment, seed) runs with
the same answers. `serial` is `--parallel 1`; the ratio is parallel wall time / serial wall time.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from wc._agent.config import LearnConfig  # noqa: E402
from wc._core.config import Settings  # noqa: E402
from wc._run.sweep import sweep  # noqa: E402
from wc.testing import FakeLLMServer, Reply, answer  # noqa: E402

ENVS = ["minigrid-empty", "minigrid-doorkey"]
SEEDS = [0, 1, 2, 3]


def script(model: str, latency: float):
    wrong = model.replace("(agent.direction - 1) % 4", "(agent.direction + 1) % 4")
    assert wrong != model
    fixed = "def transition" + model.split("def transition", 1)[1].split("def reward", 1)[0]

    def reply(request, n):
        user = request["messages"][-1]["content"]
        if "It does not explain" in user and "(agent.direction + 1) % 4" in user:
            return Reply(answer(fixed, "The turn was inverted."), delay=latency)
        return Reply(answer(wrong), delay=latency)
    return reply


async def timed(server: FakeLLMServer, parallel: int) -> tuple[float, int, int]:
    """Wall seconds of one sweep at `parallel`, its LLM calls and its episodes won."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(db=f"sqlite+aiosqlite:///{Path(tmp) / 'wc.db'}", openai_api_key="sk-bench",
                            openai_base_url=server.base_url, model="bench-model")
        config = LearnConfig(env=ENVS[0], episodes=3, solved=2, max_llm_calls=6, workers=1)
        started = time.perf_counter()
        summary = await sweep(ENVS, SEEDS, settings, config=config, parallel=parallel)
        wall = time.perf_counter() - started
        from wc._run.sweep import view

        shown = await view(summary.id, settings.db)
        assert summary.status == "finished", summary.status
        return wall, sum(r.llm_calls for r in shown.runs.values()), sum(r.successes for r in shown.runs.values())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=1.0, help="seconds the LLM takes per answer")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1, help="pairs of sweeps, interleaved; medians reported")
    args = parser.parse_args()
    model = (ROOT / "tests" / "fixtures" / "minigrid_model.py").read_text()
    serial, parallel = [], []
    with FakeLLMServer(script(model, args.latency)) as server:
        await timed(server, args.parallel)  # warm: imports, file cache
        for _ in range(args.repeat):
            parallel.append(await timed(server, args.parallel))
            serial.append(await timed(server, 1))
    s_wall = statistics.median(w for w, _, _ in serial)
    p_wall = statistics.median(w for w, _, _ in parallel)
    print(f"sweep of {len(ENVS)} envs x {len(SEEDS)} seeds, LLM latency {args.latency:.2f} s, "
          f"{serial[0][1]} LLM calls, {serial[0][2]} episodes won")
    print(f"serial (--parallel 1): {s_wall:7.2f} s")
    print(f"--parallel {args.parallel}:         {p_wall:7.2f} s   (calls {parallel[0][1]}, won {parallel[0][2]})")
    print(f"ratio: {p_wall / s_wall:.3f}  (goal <= 0.35)")


if __name__ == "__main__":
    asyncio.run(main())
