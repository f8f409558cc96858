"""φ2 with a bound: a start from which a correct program rightly finds no plan costs at most its
optimism requests, is played exploring, is believed unsolvable (stored, listed by `wc runs
show`, kept by `wc resume`), and data that contradicts the program reopens it.

The world is MiniGrid DoorKey on ice (wc.envs.variants): `forward` slides until something stops
the agent, so from some starts no resting place faces the key. The test checks that claim with
a breadth-first search of the real environment, not only in the program."""
from __future__ import annotations

import copy
import json
from collections import deque

from support.helpers import keys_of, replaced, run_wc
from support.helpers import llm_settings as settings

from wc.agent import LearnConfig
from wc.api import resume
from wc.runner import learn
from wc.synth.optimism import OptimismBudget
from wc.testing import Reply, answer

ICE = "wc.envs.variants:WC-DoorKeyIce-5x5-v0"
SEED = 11  # run seed 11: episodes 0 and 2 start where no plan exists, episodes 1 and 3 can be won
SLIDE = """        # on ice: the agent slides until something stops it (the goal ends the slide)
        while not _blocking(ahead):
            agent.x, agent.y = fx, fy
            if any(isinstance(e, Goal) for e in ahead):
                break
            fx, fy = _front(agent)
            ahead = [e for e in entities_at(state, fx, fy) if not isinstance(e, Agent)]
"""


def ice_program(minigrid_model: str, doorways_stop: bool = False) -> str:
    """The reference program with ice; `doorways_stop`: wrong in one way that only a solvable
    episode shows (an open doorway stops the slide), right about everything else."""
    slide = SLIDE.replace("isinstance(e, Goal)", "isinstance(e, (Goal, Door))") if doorways_stop else SLIDE
    source = replaced(minigrid_model, """        # goal, lava, floor and open doors can be walked onto
        if not _blocking(ahead):
            agent.x, agent.y = fx, fy
""", slide)
    one_cell = """    if action == "forward" and (after.x, after.y) == (fx, fy):
        here = entities_at(next_state, fx, fy)"""
    moved = """    if action == "forward" and (after.x, after.y) != (before.x, before.y):
        here = entities_at(next_state, after.x, after.y)"""
    return replaced(source, one_cell, moved)


def real_plan_exists(env_seed: int) -> bool:
    """Breadth-first search of the real environment (copies of it) from the episode's start."""
    import gymnasium as gym

    import wc.envs.variants  # noqa: F401  (registers the ice worlds)

    env = gym.make("WC-DoorKeyIce-5x5-v0").unwrapped
    env.reset(seed=env_seed)

    def key(e):
        cells = tuple((i, j, o.type, getattr(o, "is_open", None), getattr(o, "is_locked", None))
                      for j in range(e.height) for i in range(e.width)
                      if (o := e.grid.get(i, j)) is not None and o.type in ("door", "key"))
        return tuple(e.agent_pos), e.agent_dir, e.carrying is not None, cells
    seen, frontier = {key(env)}, deque([env])
    while frontier:
        current = frontier.popleft()
        for action in range(6):
            nxt = copy.deepcopy(current)
            nxt.step_count = 0
            _, reward, terminated, _, _ = nxt.step(action)
            if terminated and reward > 0:
                return True
            if not terminated and key(nxt) not in seen:
                seen.add(key(nxt))
                frontier.append(nxt)
    return False


def test_the_ice_world_has_starts_without_a_plan():
    assert [real_plan_exists(1009 * SEED + i) for i in range(4)] == [False, True, False, True]


def test_a_budget_counts_spends_believes_and_reopens():
    budget = OptimismBudget(limit=1)
    assert budget.counts("s") and budget.left("s") == 1
    budget.spend("s", 1)
    assert not budget.counts("s") and budget.set_aside() == ["s"]
    budget.believe("s", 7)
    assert budget.set_aside() == [] and not budget.counts("s")
    assert budget.reopen() and budget.counts("s") and budget.left("s") == 1
    assert not budget.reopen()
    unbounded = OptimismBudget(limit=None)
    unbounded.spend("s", 99)
    assert unbounded.counts("s") and unbounded.left("s") is None and unbounded.set_aside() == []


def ice_script(minigrid_model: str):
    """The program that stops in doorways until a repair is asked for, then the right one."""
    wrong, right = ice_program(minigrid_model, doorways_stop=True), ice_program(minigrid_model)
    repaired = {"yes": False}

    def script(request, n):
        if "It does not explain" in request["messages"][-1]["content"]:
            repaired["yes"] = True
        return Reply(answer(right if repaired["yes"] else wrong))
    return script


def optimism_asks(server) -> int:
    return sum("no sequence of actions" in r["messages"][-1]["content"] for r in server.requests)


CONFIG = dict(env=ICE, episodes=4, solved=None, max_llm_calls=12, max_steps=40, seed=SEED)


async def test_optimism_is_bounded_per_start_and_contradicting_data_reopens(fake_llm, db_url, minigrid_model):
    server = fake_llm(ice_script(minigrid_model))
    events: list[tuple[str, dict]] = []
    summary = await learn(LearnConfig(**CONFIG), settings(server, db_url), on_event=lambda k, d: events.append((k, d)))
    assert summary.status == "finished", summary.error
    kinds = [k for k, _ in events]
    # episode 0: the first program (wrong about doorways, which nothing here shows) has no plan;
    # one request for that start, then exploring, then the belief
    # episode 1: its plan goes through the doorway, the world slides on: the belief is reopened,
    # the repair fits, the reopened start costs one request again and is believed again
    # episode 2: one request for its start, exploring, believed; episode 3: won
    assert [e.success for e in summary.episode_list] == [False, True, False, True]
    assert kinds.count("reopened") == 1 and kinds.count("unsolvable") == 3
    assert summary.llm_calls == len(server.requests) == 5  # 2 programs + 3 × one request per opened start
    assert summary.unsolvable == 2
    listed = summary.unsolvable_list
    assert [(u.episode, u.reopened_at is None) for u in listed] == [(0, False), (0, True), (2, True)]
    assert listed[0].program_id != listed[1].program_id == listed[2].program_id == summary.best_program_id
    assert optimism_asks(server) == 3

    # unbounded (the paper's φ2), the same world spends the whole budget on the same starts
    server = fake_llm(ice_script(minigrid_model))
    unbounded = await learn(LearnConfig(**CONFIG, optimism_requests=None),
                            settings(server, db_url.replace("wc.db", "unbounded.db")))
    assert unbounded.llm_calls == 12 and optimism_asks(server) == 11 and unbounded.unsolvable == 0

    shown = run_wc("runs", "show", str(summary.id), "--db", db_url)
    assert shown.returncode == 0 and "believed unsolvable" in shown.stdout and "2 starts" in shown.stdout
    data = json.loads(run_wc("runs", "show", str(summary.id), "--json", "--db", db_url).stdout)
    assert data["unsolvable"] == 2 and all(set(u) == keys_of("Unsolvable start") for u in data["unsolvable_list"])


async def test_beliefs_survive_a_resume(fake_llm, db_url, minigrid_model):
    """Stopped when episode 2 begins, after episode 0's start was believed unsolvable again under
    the repaired program; resumed: that belief is read back from the store (the start is neither
    asked about nor judged again), and the run ends as the uninterrupted one does."""
    server = fake_llm(ice_script(minigrid_model))

    def stop(kind, data):
        if kind == "episode_start" and data["episode"] == 2:
            raise RuntimeError("stopped here")
    stopped = await learn(LearnConfig(**CONFIG), settings(server, db_url), on_event=stop)
    assert stopped.status == "failed" and "stopped here" in stopped.error
    assert stopped.unsolvable == 1 and len(stopped.unsolvable_list) == 2
    asked = len(server.requests)
    resumed = await resume(stopped.id, settings(server, db_url))
    assert resumed.status == "finished" and [e.success for e in resumed.episode_list] == [False, True, False, True]
    assert len(server.requests) == asked + 1  # episode 2's start, once; none for episode 0's
    assert resumed.llm_calls == 5 and resumed.unsolvable == 2
    assert [(u.episode, u.reopened_at is None) for u in resumed.unsolvable_list] == [(0, False), (0, True), (2, True)]
