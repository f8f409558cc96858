"""Learning and acting in worlds scored by their return (issue 27): CartPole, Taxi, FrozenLake
through the generic gymnasium domain, with scripted answers from the reference programs."""
from __future__ import annotations

from pathlib import Path

import pytest
from support.helpers import llm_settings as settings
from support.helpers import replaced

from wc._api import LearnConfig, learn
from wc.testing import Reply, answer

FIXTURES = Path(__file__).parent / "fixtures"


def program(name: str) -> str:
    return (FIXTURES / name).read_text()


async def test_cartpole_is_won_with_the_correct_program(fake_llm, db_url):
    model = program("cartpole_model.py")
    server = fake_llm(lambda r, n: Reply(answer(model)))
    summary = await learn(LearnConfig(env="CartPole-v1", episodes=3, solved=1, max_llm_calls=2,
                                      planner="mcts-cwmb"), settings(server, db_url))
    assert summary.status == "finished", summary.error
    won = [e for e in summary.episode_list if e.success]
    assert won and won[0].total_reward >= 475
    assert len(summary.llm_call_list) == 1
