"""φ2 with a bound: a start from which a correct program rightly finds no plan costs at most its
optimism requests, is played exploring, is believed unsolvable (stored, listed by `wc runs
show`, kept by `wc resume`), and data that contradicts the program reopens it.

The world is MiniGrid DoorKey on ice (wc.envs.variants): `forward` slides until something stops
the agent, so from some starts no resting place faces the key. The test checks that claim with
a breadth-first search of the real environment, not only in the program."""
from __future__ import annotations

import json

from conftest import FIXTURES
from support.helpers import keys_of, replaced, run_wc
from support.helpers import llm_settings as settings

from wc._agent.config import LearnConfig
from wc._api import resume
from wc._run.runner import learn
from wc._synth.optimism import OptimismBudget
from wc.envs.variants import plan_exists
from wc.events import EpisodeStarted, Event
from wc.testing import Reply, answer

ICE = "wc.envs.variants:WC-DoorKeyIce-5x5-v0"
SEED = 11  # run seed 11: episodes 0 and 2 start where no plan exists, episodes 1 and 3 can be won


def ice_program(doorways_stop: bool = False) -> str:
    """The reference program on ice; `doorways_stop`: wrong in one way that only a solvable
    episode shows (an open doorway stops the slide), right about everything else."""
    source = (FIXTURES / "ice_model.py").read_text()
    if doorways_stop:
        source = replaced(source, "            if any(isinstance(e, Goal) for e in ahead):",
                          "            if any(isinstance(e, (Goal, Door)) for e in ahead):")
    return source


def test_the_ice_world_has_starts_without_a_plan():
    assert [plan_exists("WC-DoorKeyIce-5x5-v0", 1009 * SEED + i) for i in range(4)] == [False, True, False, True]
    assert [seed for seed in range(20) if not plan_exists("WC-DoorKeyIce-5x5-v0", seed)] == [14, 15, 18]


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
    assert not unbounded.reopen()


def ice_script():
    """The program that stops in doorways until a repair is asked for, then the right one."""
    wrong, right = ice_program(doorways_stop=True), ice_program()
    repaired = {"yes": False}

    def script(request, n):
        if "It does not explain" in request["messages"][-1]["content"]:
            repaired["yes"] = True
        return Reply(answer(right if repaired["yes"] else wrong))
    return script


def optimism_asks(server) -> int:
    return sum("no sequence of actions" in r["messages"][-1]["content"] for r in server.requests)


CONFIG = dict(env=ICE, episodes=4, solved=None, max_llm_calls=12, max_steps=40, seed=SEED)


async def test_optimism_is_bounded_per_start_and_contradicting_data_reopens(fake_llm, db_url):
    server = fake_llm(ice_script())
    events: list[Event] = []
    summary = await learn(LearnConfig(**CONFIG), settings(server, db_url), on_event=events.append)
    assert summary.status == "finished", summary.error
    kinds = [e.kind for e in events]
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
    server = fake_llm(ice_script())
    unbounded = await learn(LearnConfig(**CONFIG, optimism_requests=None),
                            settings(server, db_url.replace("wc.db", "unbounded.db")))
    assert unbounded.llm_calls == 12 and optimism_asks(server) == 11 and unbounded.unsolvable == 0

    shown = run_wc("runs", "show", str(summary.id), "--db", db_url)
    assert shown.returncode == 0 and "believed unsolvable" in shown.stdout and "2 starts" in shown.stdout
    data = json.loads(run_wc("runs", "show", str(summary.id), "--json", "--db", db_url).stdout)
    assert data["unsolvable"] == 2 and all(set(u) == keys_of("Unsolvable start") for u in data["unsolvable_list"])


async def test_beliefs_survive_a_resume(fake_llm, db_url):
    """Stopped when episode 2 begins, after episode 0's start was believed unsolvable again under
    the repaired program; resumed: that belief is read back from the store (the start is neither
    asked about nor judged again), and the run ends as the uninterrupted one does."""
    server = fake_llm(ice_script())

    def stop(event: Event) -> None:
        if isinstance(event, EpisodeStarted) and event.episode == 2:
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
