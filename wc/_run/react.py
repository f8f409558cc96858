"""The ReAct baseline: an agent that asks the LLM for every action (a thought, then an action).

It is the comparison for WorldCoder's cost claim, in the same harness: the same environments, the
same store (a run whose configuration says `"agent": "react"`; every call, token and step
recorded), the same `runs show` and `runs compare`. On ALFWorld it sees what ReAct sees, the text
observation and the admissible commands; on MiniGrid and Sokoban, the rendered state.
"""
from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

from wc import envs
from wc._core.config import Settings
from wc._core.values import LLMCall, RunStatus
from wc._llm.base import ChatClient
from wc._run.runner import Heartbeat, make_llm, owner
from wc._store import RunSummary, Store, open_store
from wc.errors import EnvError, InvalidInput, LLMError, LLMFatalError
from wc.events import EpisodeEnded, LLMCalled, OnEvent, StepTaken

SYSTEM = """You are an agent acting in an environment to complete a task.
At each turn you are shown the task, your recent actions and what you observed, the current
observation, and the actions you may take. Think briefly about what to do next, then give exactly
one action, copied from the list, on a last line of the form

Action: <one of the admissible actions>

Example:
Observation: You are in the middle of a room. Looking around you, you see a countertop 1 and a fridge 1.
Admissible actions: go to countertop 1, go to fridge 1, look, inventory
Thought: The apple is probably on the countertop; I should look there first.
Action: go to countertop 1"""

_ACTION = re.compile(r"^\s*Action:\s*(.+?)\s*$", re.MULTILINE | re.IGNORECASE)
NOTHING = "Nothing happens (that is not one of the admissible actions)."


def parse_action(text: str) -> str | None:
    """The last `Action: …` line of an answer, or None."""
    found = _ACTION.findall(text or "")
    return found[-1].strip().rstrip(".").strip("`'\"") if found else None


def prompt(mission: str, history: list[tuple[str, str]], observation: str, actions: list[str]) -> list[dict[str, str]]:
    lines = [f"Task: {mission}", ""]
    for action, seen in history:
        lines += [f"Action: {action}", f"Observation: {seen}"]
    lines += ["", f"Observation: {observation}", f"Admissible actions: {', '.join(actions)}"]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


async def react(env: str, settings: Settings | None = None, *, episodes: int = 10, seed: int = 0,
                env_options: dict[str, Any] | None = None, max_steps: int | None = None, history: int = 30,
                llm: ChatClient | None = None, on_event: OnEvent | None = None,
                on_start: Callable[[int], None] | None = None, replay: dict[str, Any] | None = None) -> RunSummary:
    """Play `episodes` episodes (episode i: env seed 1009·seed + i, as `learn` does), one LLM call per step.
    With `replay` (a recording of a ReAct run), its configuration is used and its answers are served:
    the recorded run is reproduced without an LLM or API key."""
    settings = settings or Settings()
    emit: OnEvent = on_event or (lambda event: None)
    config: dict[str, Any] = {"agent": "react", "env": env, "env_options": dict(env_options or {}),
                              "episodes": episodes, "seed": seed, "history": history, "max_steps": max_steps}
    if replay is not None:
        config, llm = _replayed(env, replay)
    if config["episodes"] < 1:
        raise InvalidInput(f"episodes must be at least 1, not {config['episodes']}")
    adapter = envs.make(env, **config["env_options"])
    llm = llm or make_llm(settings)
    store = await open_store(settings.db)
    try:
        env_id = await envs.record_environment(store, adapter)
        holder = owner()
        run_id = await store.runs.create(env_id, config=config, seed=config["seed"], model=llm.model, owner=holder)
        if on_start:
            on_start(run_id)

        async def on_call(call: LLMCall) -> None:
            call.meta["id"] = await store.calls.add(run_id, call)
            emit(LLMCalled(status=call.status, latency=call.latency_s, purpose=call.purpose,
                           tokens=call.prompt_tokens + call.completion_tokens))
        llm = llm.with_hooks(on_call=on_call, may_send=None)
        return await _play(adapter, store, llm, run_id, holder, config, emit)
    finally:
        adapter.close()
        close = getattr(llm, "close", None)
        if close is not None:
            await close()
        await store.close()


def _replayed(env: str, replay: dict[str, Any]) -> tuple[dict[str, Any], ChatClient]:
    """A recorded ReAct run's configuration, and a client serving its answers."""
    from wc._run import recordings

    recordings.expect(replay, "run", "react")
    if env != replay["env"]:
        raise InvalidInput(f"the recording is of {replay['env']!r}, not {env!r}")
    recorded = replay["config"]
    config: dict[str, Any] = {"agent": "react", "env": env, "env_options": dict(recorded.get("env_options") or {}),
                              "episodes": int(recorded["episodes"]), "seed": int(recorded["seed"]),
                              "history": int(recorded.get("history", 30)), "max_steps": recorded.get("max_steps")}
    return config, recordings.client(replay)


async def _play(adapter, store: Store, llm: ChatClient, run_id: int, holder: str, config: dict[str, Any],
                emit: OnEvent) -> RunSummary:
    """The run's episodes, then how it ended, in the store (an interrupted or unplayable run too)."""
    started = time.monotonic()
    seed, history, max_steps = config["seed"], config["history"], config["max_steps"]
    status, error = RunStatus.FINISHED, None

    async def finish(status: str, error: str | None) -> None:
        await store.runs.finish(run_id, status=status, best_program_id=None, wall_seconds=time.monotonic() - started,
                                llm_wait_seconds=llm.wait.seconds, error=error)
    try:
        with Heartbeat(store, run_id, holder, lambda: (time.monotonic() - started, llm.wait.seconds)):
            for index in range(config["episodes"]):
                await _episode(adapter, store, llm, run_id, index, 1009 * seed + index, history, max_steps, emit)
    except LLMFatalError as exc:
        status, error = RunStatus.FAILED, str(exc)
    except EnvError as exc:  # an environment that cannot be played: the run says so, then the caller
        await finish(RunStatus.FAILED, str(exc))
        raise
    except BaseException as exc:  # Ctrl-C, SIGTERM, a cancelled task: stopped, and said so in the store
        interrupted = isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError))
        await asyncio.shield(finish(RunStatus.INTERRUPTED if interrupted else RunStatus.FAILED,
                                    "interrupted" if interrupted else f"{type(exc).__name__}: {exc}"))
        raise
    await finish(status, error)
    summary = await store.runs.summary(run_id)
    summary.error = error
    summary.failure = "llm" if error else None
    return summary


async def _episode(adapter, store, llm: ChatClient, run_id: int, index: int, env_seed: int, keep: int,
                   max_steps: int | None, emit: OnEvent) -> None:
    state, mission = adapter.reset(env_seed)
    # the limit is read after reset (BabyAI levels set theirs there); --max-steps may only lower it
    limit = min(max_steps, adapter.max_steps) if max_steps else adapter.max_steps
    if limit < 1:
        raise EnvError(f"episode {index} of {adapter.name} has a step limit of {limit}: nothing can be played",
                       name=adapter.name)
    episode_id = await store.runs.start_episode(run_id, index, env_seed, mission)
    seen: list[tuple[str, str]] = []
    observation = adapter.observation(state)
    steps, recorded, total, won, truncated = 0, 0, 0.0, False, False
    while steps < limit:
        actions = list(adapter.available_actions())
        try:
            completion = await llm.complete(prompt(mission, seen[-keep:], observation, actions), purpose="react")
            action = parse_action(completion.text)
        except LLMFatalError:
            raise
        except LLMError:
            action = None
        steps += 1
        if action is None or action not in actions:
            observation = NOTHING
            seen.append((action or "(none)", observation))
            emit(StepTaken(episode=index, t=steps - 1, action=action))
            continue
        result = adapter.step(action)
        await store.runs.add_transition(run_id=run_id, episode_id=episode_id, step=recorded, state=state,
                                        action=action, next_state=result.state, reward=result.reward,
                                        done=result.terminated, truncated=result.truncated, mission=mission,
                                        action_source="llm")
        recorded += 1
        total += result.reward
        state, observation = result.state, adapter.observation(result.state)
        seen.append((action, observation))
        emit(StepTaken(episode=index, t=steps - 1, action=action, reward=result.reward))
        if result.terminated or result.truncated:
            won, truncated = result.terminated and result.reward > 0, result.truncated
            break
    await store.runs.finish_episode(episode_id, steps=steps, total_reward=total, success=won,
                                    terminated=won, truncated=truncated or not won)
    emit(EpisodeEnded(episode=index, success=won, steps=steps, total_reward=total))
