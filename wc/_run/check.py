"""`check_program(env, source)`: a program against the world-model contract, the way gymnasium's
`check_env` checks an environment. It plays the environment a little (random actions), then
runs the program on what it saw, inside the sandbox: does it load, take the contract's
arguments, return states and rewards of the contract's form, leave its inputs alone, answer the
same twice; and how many of the transitions it explains."""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from wc import envs
from wc._core.contract import CONTRACT_VERSION
from wc._core.values import Transition
from wc._sandbox.sandbox import Sandbox
from wc.envs.base import EnvAdapter
from wc.errors import EnvError, InvalidInput


@dataclass
class ProgramCheck:
    env: str
    transitions: int                  # distinct transitions the program was checked on
    explained: int                    # of which φ1 holds (fit)
    problems: list[str] = field(default_factory=list)  # contract violations
    contract_version: int = CONTRACT_VERSION

    @property
    def ok(self) -> bool:
        """No contract violation (the program may still mispredict: see `fits`)."""
        return not self.problems

    @property
    def fits(self) -> bool:
        return self.ok and self.explained == self.transitions

    def __str__(self) -> str:
        head = f"{self.env}: explains {self.explained}/{self.transitions} transitions"
        return head + "".join(f"\n  - {p}" for p in self.problems) if self.problems else head + "; contract ok"


def _record(adapter: EnvAdapter, steps: int, seed: int) -> list[Transition]:
    rng = random.Random(seed)
    out: list[Transition] = []
    episode = 0
    while len(out) < steps:
        state, mission = adapter.reset(seed + episode)
        episode += 1
        if adapter.max_steps < 1:  # read after reset: BabyAI levels set their limit there
            raise EnvError(f"{adapter.name} gives its episodes a step limit of {adapter.max_steps}: nothing to play")
        for _ in range(adapter.max_steps):
            action = rng.choice(adapter.available_actions())
            step = adapter.step(action)
            out.append(Transition(state, action, step.state, step.reward, step.terminated, mission))
            state = step.state
            if step.terminated or step.truncated or len(out) >= steps:
                break
    return out


async def acheck_program(env: str | EnvAdapter, source: str, *, steps: int = 60, seed: int = 0,
                         **options) -> ProgramCheck:
    """`check_program` for code that runs an event loop already."""
    adapter = envs.make(env, **options) if isinstance(env, str) else env
    try:
        data = _record(adapter, steps, seed)
        async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1,
                           action_source=adapter.action_source) as sandbox:
            for t in data:
                sandbox.add(t)
            problems = await sandbox.check(source)
            evaluation = await sandbox.evaluate(source)
        return ProgramCheck(adapter.name, evaluation.n, evaluation.explained, problems)
    finally:
        if isinstance(env, str):
            adapter.close()


def check_program(env: str | EnvAdapter, source: str, *, steps: int = 60, seed: int = 0, **options) -> ProgramCheck:
    """Check a program against the contract on `steps` random steps of `env` (a name wc can
    make, or an adapter). Raises nothing for a bad program: its problems are in the result."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(acheck_program(env, source, steps=steps, seed=seed, **options))
    raise InvalidInput("check_program() was called inside an event loop; await acheck_program() instead")
