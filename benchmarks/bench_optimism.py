"""Optimism's bound, measured: LLM calls spent learning a world where some starts cannot be won.

    PYTHONPATH=. python benchmarks/bench_optimism.py --scripted      # an answerer that returns the correct program
    OPENAI_API_KEY=… [OPENAI_BASE_URL=…] PYTHONPATH=. python benchmarks/bench_optimism.py --model M   # a real model

Learns wc.envs.variants:WC-DoorKeyIce-5x5-v0 (DoorKey on ice: forward slides until something
stops the agent) twice, with the same seed, episodes and call budget: "before", the paper's
unbounded φ2 (`optimism_requests=None`), and "after", the bound (`--optimism-requests`, default
1). With the default seed 0, episodes 0–19 play env seeds 0–19, of which a breadth-first search
of the real environment finds no plan from 14, 15 and 18. Printed per run: LLM calls, of which
optimism repairs (purpose `repair_optimism`), episodes won, and the starts believed unsolvable
(and whether the real environment agrees). The same with the command line:

    wc learn --env wc.envs.variants:WC-DoorKeyIce-5x5-v0 --episodes 20 --solved 20 --max-llm-calls 20 \
        --optimism-requests 1
    wc runs show RUN --json | jq '{llm_calls, unsolvable, unsolvable_list}'

(the command line has no unbounded setting: "before" is `LearnConfig(optimism_requests=None)`,
as here, or a wc from before the bound). `--scripted` needs no key: a local server answers every
request with the correct program (tests/fixtures/ice_model.py), which measures the agent, not a
model: with it, whatever calls are spent beyond the first are spent on starts that cannot be won.
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]

from wc._api import LearnConfig, Settings, learn  # noqa: E402
from wc._store import RunSummary  # noqa: E402
from wc.envs.variants import plan_exists  # noqa: E402
from wc.testing import FakeLLMServer, Reply, answer  # noqa: E402

ENV = "wc.envs.variants:WC-DoorKeyIce-5x5-v0"
PROGRAM = (ROOT / "tests" / "fixtures" / "ice_model.py").read_text()


def line(name: str, run: RunSummary) -> str:
    optimism = sum(c.purpose == "repair_optimism" for c in run.llm_call_list)
    believed = [u.episode for u in run.unsolvable_list if u.reopened_at is None]
    return (f"{name:7} run {run.id}: {run.llm_calls:>3} LLM calls ({optimism} optimism repairs), "
            f"{run.successes}/{run.episodes} episodes won, {run.env_steps} steps, believed unsolvable: "
            f"episodes {believed or 'none'}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scripted", action="store_true", help="answer with the correct program (no LLM)")
    parser.add_argument("--model", help="the chat model (default: WC_MODEL or wc's default)")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--max-llm-calls", type=int, default=20)
    parser.add_argument("--optimism-requests", type=int, default=1, help="the bound of the 'after' run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", help="a store URL to keep the two runs in (default: a scratch store)")
    args = parser.parse_args()
    env_seeds = [1009 * args.seed + i for i in range(args.episodes)]
    truth = {i: plan_exists(ENV.split(":")[1], s) for i, s in enumerate(env_seeds)}
    print(f"{ENV}, {args.episodes} episodes, seed {args.seed}, {args.max_llm_calls} LLM calls at most; "
          f"episodes a search of the real environment finds no plan for: "
          f"{[i for i, ok in truth.items() if ok is False] or 'none'}")
    server = FakeLLMServer(lambda request, n: Reply(answer(PROGRAM))) if args.scripted else None
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite+aiosqlite:///{tmp}/bench.db"
        if server is not None:
            server.__enter__()
            settings = Settings(db=db, openai_api_key="sk-scripted", openai_base_url=server.base_url,
                                model="scripted")
        else:
            settings = Settings(db=db, **({"model": args.model} if args.model else {}))
        try:
            runs = {}
            for name, bound in (("before", None), ("after", args.optimism_requests)):
                config = LearnConfig(env=ENV, episodes=args.episodes, solved=args.episodes, seed=args.seed,
                                     max_llm_calls=args.max_llm_calls, optimism_requests=bound)
                runs[name] = await learn(config, settings)
                print(line(name, runs[name]), flush=True)
        finally:
            if server is not None:
                server.__exit__(None, None, None)
    before, after = runs["before"], runs["after"]
    wrong = [u.episode for u in after.unsolvable_list if u.reopened_at is None and truth.get(u.episode)]
    print(f"believed unsolvable where the real environment has a plan: {wrong or 'none'}")
    print(f"RESULT optimism_calls before={before.llm_calls} after={after.llm_calls} "
          f"won_before={before.successes} won_after={after.successes}")


if __name__ == "__main__":
    asyncio.run(main())
