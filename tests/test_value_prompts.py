"""What the LLM is shown of a continuous world: every number as recorded, transitions spread over
the states seen (not hundreds of near-identical steps of one episode), and where a prediction
misses, each field's error against the tolerance."""
from __future__ import annotations

import random

from wc import envs
from wc._core.tolerance import CWMB, Tolerance, state_difference
from wc._core.values import Transition
from wc._synth import prompts


def cartpole_data(n=400, seed=0):
    adapter = envs.make("CartPole-v1")
    rng, data = random.Random(seed), []
    state, mission = adapter.reset(seed)
    while len(data) < n:
        action = adapter.action_space.sample(rng)
        step = adapter.step(action)
        data.append(Transition(state, action, step.state, step.reward, step.terminated, mission))
        state = step.state
        if step.terminated or step.truncated:
            state, mission = adapter.reset(rng.randrange(10_000))
    return adapter, data


def test_the_transitions_shown_cover_each_action_an_ending_and_the_range_of_states():
    adapter, data = cartpole_data()
    shown = prompts.choose_informative_numeric(data, 12)
    assert len(shown) == 12 == len(set(shown))
    assert {data[i].action for i in shown} == {"push_left", "push_right"}
    assert any(data[i].done for i in shown) and not all(data[i].done for i in shown)
    angles = sorted(d.state[0]["pole_angle"] for d in data)
    picked = [data[i].state[0]["pole_angle"] for i in shown]
    # spread: the chosen states reach into both tails of what was seen, unlike the first 12 steps
    assert min(picked) <= angles[len(angles) // 10] and max(picked) >= angles[-len(angles) // 10]
    # the chosen states lie farther apart (fields scaled by their range) than the first twelve recorded
    assert spread([data[i] for i in shown], data) > 1.5 * spread(data[:12], data)


def spread(some, every):
    fields = list(every[0].state[0])[1:]
    width = {f: max(d.state[0][f] for d in every) - min(d.state[0][f] for d in every) for f in fields}
    vectors = [[d.state[0][f] / width[f] for f in fields] for d in some]
    pairs = [(a, b) for i, a in enumerate(vectors) for b in vectors[i + 1:]]
    return sum(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5 for a, b in pairs) / len(pairs)


def test_numbers_are_shown_as_recorded_and_the_rule_is_stated():
    adapter, data = cartpole_data(50)
    ctx = prompts.PromptContext(adapter.api.source, adapter.reward_mode, adapter.render_state, Tolerance(1e-4, 1e-6))
    text = prompts.scratch(ctx, data, [0, 1])[1]["content"]
    assert repr(data[0].next_state[0]["cart_velocity"]) in text  # every digit
    assert "1e-06 + 0.0001 * |recorded|" in text and "`done` exactly" in text


def test_a_repair_names_each_field_outside_the_tolerance():
    adapter, data = cartpole_data(50)
    ctx = prompts.PromptContext(adapter.api.source, adapter.reward_mode, adapter.render_state, CWMB)
    t = data[5]
    predicted = [dict(t.next_state[0], pole_angle=t.next_state[0]["pole_angle"] + 0.01)]
    detail = {"predicted_state": predicted, "difference": state_difference(predicted, t.next_state, CWMB).to_json()}
    program = "def transition(s, a):\n    return s\n"
    text = prompts.repair(ctx, program, data, [0, 1], 5, detail, "transition")[1]["content"]
    assert "state[0].pole_angle: predicted" in text and "off by 0.01" in text and "allowed 1" in text
    assert "cart_position" not in text.split("outside the tolerance:")[1].split("\n")[0]  # only what is off
