"""The program contract as code: published API modules never change, the system prompt states the
contract from its module, and `wc.check_program` checks programs against it."""
import hashlib

import pytest
from support.helpers import replaced

import wc
from wc._core import contract
from wc._synth import prompts
from wc.envs.api import published

# A published API module is never edited: a change is a new version beside it. Adding one here is
# how a new version is published; changing a hash here is a mistake.
PINNED = {
    "alfworld_v1": "172bed72b5e33e037be1691dcf111803ec06e7b019bc5cb55fe82da904a08ed8",
    "alfworld_v2": "c12c1a9b8aa4aa2dba86b4049d862ac9344e9778a2189012c48b4f4e06b6cbe5",
    "minigrid_v1": "1c23df270301951b7f897b109b075f7780a3c611d26bb4b54313ea4ba52c10c7",
    "minigrid_v2": "b3229fe2b958d1307c6730f014573e11046c2792f8a6a5607140987c1360c760",
    "minigrid_v3": "cdda57b03b2d24ee8d89775125d6e2006f4e11c6e9c04793923b171e49a6c1b9",
    "sokoban_v1": "3dda51f9c3015d9ae717a9afe013f27a23f8f01d9689f2cc24fceb958f6fe28d",
}


def test_published_api_modules_are_pinned():
    found = {a.ref: hashlib.sha256(a.source.encode()).hexdigest() for a in published()}
    assert found == PINNED


def test_the_system_prompt_states_the_contract_from_its_module():
    text = prompts.system_message(prompts.PromptContext("API = 1", "sign", str))["content"]
    assert contract.prompt_rules() in text
    for name, params in contract.FUNCTIONS.items():
        assert f"`{name}({', '.join(params)})`" in text
    for module in contract.ALLOWED_MODULES - {"__future__"}:
        assert module in text


def test_reward_checks():
    assert contract.reward_pair((1, False)) == (1.0, False)
    for bad in [(1, 2), (True, False), ("1", False), 1.0, (1.0,)]:
        with pytest.raises(contract.MalformedOutput):
            contract.reward_pair(bad)
    assert contract.rewards_match("sign", (0.3, True), 0.9, True)
    assert not contract.rewards_match("sign", (0.0, True), 0.9, True)
    assert not contract.rewards_match("exact", (0.3, True), 0.9, True)
    assert not contract.rewards_match("exact", (0.9, False), 0.9, True)


@pytest.fixture(scope="module")
def reference():
    from conftest import FIXTURES

    return {name: (FIXTURES / f"{name}_model.py").read_text() for name in ("minigrid", "sokoban", "babyai", "ice")}


@pytest.mark.parametrize("env, model", [("minigrid-doorkey", "minigrid"), ("MiniGrid-UnlockPickup-v0", "minigrid"),
                                        ("sokoban", "sokoban"), ("sokoban-teleport", "sokoban"),
                                        ("BabyAI-PutNextLocal-v0", "babyai"), ("BabyAI-SynthSeq-v0", "babyai"),
                                        ("wc.envs.variants:WC-DoorKeyIce-5x5-v0", "ice")])
def test_reference_models_satisfy_the_contract(reference, env, model):
    result = wc.check_program(env, reference[model])
    assert result.ok and result.fits, str(result)
    assert result.transitions > 10


@pytest.mark.parametrize("source, problem", [
    ("import os\n", "does not load: [forbidden]"),
    ("def transition(state):\n    return state\ndef reward(s, a, n, m):\n    return 0.0, False\n",
     "transition() must take (state, action)"),
    ("import random\ndef transition(s, a):\n    return list(s) if random.random() < 0.5 else []\n"
     "def reward(s, a, n, m):\n    return 0.0, False\n", "transition() answered differently"),
    ("def transition(s, a):\n    return s\ndef reward(s, a, n, m):\n    return 1, 2\n",
     "reward() must return a bool as done"),
    ("def transition(s, a):\n    return {'not': 'a state'}\ndef reward(s, a, n, m):\n    return 0.0, False\n",
     "transition() must return a list of entities"),
])
def test_contract_violations_are_named(source, problem):
    result = wc.check_program("minigrid-empty", source)
    assert not result.ok and any(problem in p for p in result.problems), str(result)


def test_a_program_that_modifies_its_input_is_caught(reference):
    mutating = replaced(reference["minigrid"], "    state = copy.deepcopy(state)\n", "")
    assert mutating != reference["minigrid"]
    result = wc.check_program("minigrid-doorkey", mutating)
    assert result.fits is False and any("modified the state" in p for p in result.problems)
