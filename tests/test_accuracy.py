"""CWMB's accuracy in both forms (`wc._measure.accuracy`), on examples computed by hand, against a numpy
transcription of the released code's computation, and on a real program over CWMB's data."""
import random
from pathlib import Path

import numpy as np
import pytest

from wc import envs
from wc._core.tolerance import CWMB, Tolerance
from wc._measure.accuracy import (
    CWMB_REWARD,
    Predicted,
    Recorded,
    accuracy,
    code_accuracy,
    paper_accuracy,
    state_fraction,
)
from wc._measure.program import program_accuracy
from wc._sandbox import runtime
from wc.datasets import cwmb


def obs(a, b):
    return [{"type": "Observation", "a": a, "b": b}]


# four transitions; what each scores is written beside it
RECORDED = [
    Recorded(obs(1.0, 2.0), 1.0, False),   # T1
    Recorded(obs(0.0, 0.0), 1.0, True),    # T2: terminal
    Recorded(obs(1.0, 1.0), 0.0, False),   # T3
    Recorded(obs(3.0, 4.0), 1.0, False),   # T4
]
PREDICTED = [
    Predicted(obs(1.0, 2.5), 1.0, False),      # state wrong in b: paper 2/3; code (1/2 + 1 + 1)/3 = 5/6
    Predicted(obs(5.0, 5.0), 1.0, True),       # state wrong: paper 2/3; code, terminal: 1/2 + 1/2 = 1
    Predicted(obs(1.0, 1.0), 0.5, False),      # reward wrong: paper 2/3; code (1 + 0 + 1)/3 = 2/3
    Predicted(obs(3.00003, 4.0), 1.0, False),  # a within 1e-5 + 1e-5·3: paper 1; code 1
]


def test_the_papers_form_by_hand():
    assert paper_accuracy(PREDICTED, RECORDED) == pytest.approx((2 / 3 + 2 / 3 + 2 / 3 + 1) / 4)  # 0.75


def test_the_released_codes_form_by_hand():
    """Reward 1.0 appears three times (weight 1/3 each), 0.0 once (weight 1): each reward value
    counts as much as the other. (5/6 + 1 + 1)/3 · … = (17/18 + 2/3) / 2 = 29/36."""
    assert code_accuracy(PREDICTED, RECORDED) == pytest.approx(29 / 36)
    both = accuracy(PREDICTED, RECORDED)
    assert (both.paper, both.code) == (pytest.approx(0.75), pytest.approx(29 / 36))
    assert (both.states, both.rewards, both.dones) == (0.5, 0.75, 1.0)
    assert both.to_json()["accuracy_code"] == both.code


def test_a_truncated_transition_is_terminal_in_the_codes_form_and_done_is_the_termination():
    """CWMB recorded done at a step limit; wc records a truncation, so the program is right to say
    not done, and the released form still skips that transition's next state."""
    recorded = [Recorded(obs(0.0, 0.0), -1.0, False, truncated=True)]
    predicted = [Predicted(obs(9.0, 9.0), -1.0, False)]
    assert code_accuracy(predicted, recorded) == 1.0
    assert paper_accuracy(predicted, recorded) == pytest.approx(2 / 3)
    assert paper_accuracy([Predicted(obs(9.0, 9.0), -1.0, True)], recorded) == pytest.approx(1 / 3)


def test_failed_calls_lose_their_parts():
    recorded = [Recorded(obs(1.0, 2.0), 1.0, False)]
    assert paper_accuracy([Predicted(None, 1.0, False)], recorded) == pytest.approx(2 / 3)
    assert paper_accuracy([Predicted(obs(1.0, 2.0), None, None)], recorded) == pytest.approx(1 / 3)
    assert code_accuracy([Predicted(None, None, None)], recorded) == 0.0
    assert code_accuracy([Predicted([{"type": "Observation", "a": 1.0}], 1.0, False)], recorded) == \
        pytest.approx((0.5 + 2) / 3)  # a missing field is a wrong one


def test_rewards_are_exact_unless_told_and_a_decoded_index_is_one_value():
    recorded = [Recorded(obs(1.0, 2.0), np.float32(-0.1).item(), False)]
    close = [Predicted(obs(1.0, 2.0), -0.1, False)]   # float64 -0.1: not the recorded float32 value
    assert paper_accuracy(close, recorded) == pytest.approx(2 / 3)
    assert paper_accuracy(close, recorded, reward_tol=CWMB) == 1.0
    taxi = [Recorded([{"type": "Observation", "row": 1, "col": 2, "p": 3, "d": 0}], -1.0, False)]
    off = [Predicted([{"type": "Observation", "row": 1, "col": 2, "p": 3, "d": 1}], -1.0, False)]
    assert code_accuracy(off, taxi) == pytest.approx((0.75 + 2) / 3)
    assert code_accuracy(off, taxi, whole_state=True) == pytest.approx(2 / 3)
    assert state_fraction(obs(1.0, 2.1), obs(1.0, 2.0), Tolerance(0.0, 0.2)) == 1.0


def test_rewards_match_as_cwmbs_released_code_compares_them_in_both_forms():
    """CWMB's `check_transition_via_enum` compares `pred_reward == reward` with the reward a numpy
    float32 (its replay buffer's dtype) under numpy 1.26.4, which compares in float64. Pendulum's
    first recorded step: θ = atan2(sin, cos) of the float32 observation, θ̇ and the torque, cost
    θ² + 0.1·θ̇² + 0.001·u². Its float64 value is within 1e-7 of the record but is not the record,
    so it is a miss in both forms; the float32 value itself, widened, is a hit."""
    import math

    cos, sin, thdot, u = -0.5989656448364258, -0.8007746934890747, 0.1858699917793274, -0.37491326773723965
    th = math.atan2(sin, cos)
    reward64 = -(th ** 2 + 0.1 * thdot ** 2 + 0.001 * u ** 2)
    record = -4.900987148284912  # as CWMB's data holds it: float32(reward), widened
    assert float(np.float32(reward64)) == record and reward64 != record
    state = obs(0.5, 0.25)
    recorded = [Recorded(state, record, False), Recorded(state, record, True)]  # a step, then a terminal one
    miss = [Predicted(state, reward64, False), Predicted(state, reward64, True)]
    hit = [Predicted(state, record, False), Predicted(state, record, True)]
    # paper: (⅔ + ⅔) / 2; code: (⅓·1 + ⅓·0 + ⅓·1) and terminal (½·0 + ½·1), one reward value, equal weights
    assert paper_accuracy(miss, recorded) == pytest.approx(2 / 3)
    assert code_accuracy(miss, recorded) == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert paper_accuracy(hit, recorded) == 1.0 and code_accuracy(hit, recorded) == 1.0
    assert CWMB_REWARD == Tolerance(0.0, 0.0)
    # the same records scored by the transcription of the released code: the same numbers
    as_rec = [([0.5, 0.25], record, False), ([0.5, 0.25], record, True)]
    assert cwmb_code_reference([([0.5, 0.25], reward64, False), ([0.5, 0.25], reward64, True)], as_rec) == \
        pytest.approx((2 / 3 + 1 / 2) / 2)
    # done is compared exactly too: a terminal transition predicted not done keeps only its reward's half
    assert code_accuracy([Predicted(state, record, False)], recorded[1:]) == 0.5


def test_a_correct_pendulum_program_scores_two_thirds_on_cwmbs_data():
    """The reference Pendulum model predicts every next state within the tolerance, every
    termination, and no reward exactly (float64 arithmetic on float32 observations): ⅔ in the
    paper's form, as CWMB's released code would score it; the last transition ends its episode
    (truncated) and counts ½ in the code's form. Within CWMB's state tolerance every reward is right."""
    adapter = envs.make("Pendulum-v1")
    data = cwmb.dataset("Pendulum-v1", adapter).read()
    ns = runtime.api_namespace(adapter.api.source)
    program = runtime.compile_program(ns, (FIXTURES / "pendulum_model.py").read_text())
    exact = program_accuracy(program, data, adapter)
    assert exact.transitions == len(data) and (exact.states, exact.rewards, exact.dones) == (1.0, 0.0, 1.0)
    assert exact.paper == pytest.approx(2 / 3)
    ended = sum(1 for t in data if t.done or t.truncated)
    assert exact.code == pytest.approx(((len(data) - ended) * 2 / 3 + ended * 1 / 2) / len(data))
    assert program_accuracy(program, data, adapter, reward_tol=CWMB).paper == 1.0


def test_mismatched_or_empty_inputs_are_refused():
    with pytest.raises(ValueError, match="2 predictions for 1"):
        paper_accuracy(PREDICTED[:2], RECORDED[:1])
    with pytest.raises(ValueError, match="at least one"):
        code_accuracy([], [])


def cwmb_code_reference(pred, rec):
    """The released code's `check_code_world_model(weight_reward=True, check_valid_actions=False,
    continuous_state=True)` computation over (state vector, reward, done) arrays, transcribed."""
    rewards = np.array([r[1] for r in rec], dtype=np.float64)
    values = np.unique(rewards)
    w = np.array([len(rec) / len(np.where(rewards == v)[0]) for v in values])
    w = dict(zip(values, w / w.sum(), strict=True))
    rates = []
    for (ps, pr, pd), (s, r, d) in zip(pred, rec, strict=True):
        if d:
            rates.append(0.5 * float(pr == r) + 0.5 * float(pd == d))
        else:
            per = sum((1 / 3) / len(s) * float(np.allclose(ps[i], s[i], rtol=1e-5, atol=1e-5)) for i in range(len(s)))
            rates.append(per + (1 / 3) * float(pr == r) + (1 / 3) * float(pd == d))
    return float(np.average(rates, weights=[w[r[1]] for r in rec]))


def test_the_codes_form_agrees_with_a_transcription_of_the_released_code():
    rng = random.Random(0)
    rec, pred = [], []
    for _ in range(300):
        s = [rng.choice([0.0, 1.0, rng.uniform(-3, 3)]) for _ in range(3)]
        r, d = rng.choice([-1.0, 0.0, 2.5, rng.random()]), rng.random() < 0.2
        ps = [x + rng.choice([0.0, 2e-6, 1e-3]) for x in s]
        rec.append((s, r, d))
        pred.append((ps, r if rng.random() < 0.8 else r + 1, d if rng.random() < 0.9 else not d))
    as_state = lambda v: [{"type": "Observation", **{f"x{i}": x for i, x in enumerate(v)}}]  # noqa: E731
    ours = code_accuracy([Predicted(as_state(ps), pr, pd) for ps, pr, pd in pred],
                         [Recorded(as_state(s), r, d) for s, r, d in rec])
    assert ours == pytest.approx(cwmb_code_reference(pred, rec), abs=1e-12)


FIXTURES = Path(__file__).parent / "fixtures"


def test_the_cartpole_reference_program_on_cwmbs_cartpole_data():
    """The reference model (float64 physics) predicts every next state within the tolerance,
    every reward (1.0) and every termination: 1.0 in both forms; a model that pushes the wrong
    way loses the states it gets wrong, not the rewards."""
    adapter = envs.make("CartPole-v1")
    data = cwmb.dataset("CartPole-v1", adapter).read()
    ns = runtime.api_namespace(adapter.api.source)
    source = (FIXTURES / "cartpole_model.py").read_text()
    good = program_accuracy(runtime.compile_program(ns, source), data, adapter)
    assert (good.paper, good.code, good.transitions) == (1.0, 1.0, 402)
    wrong = source.replace('FORCE if action == "push_right" else -FORCE', '-FORCE if action == "push_right" else FORCE')
    bad = program_accuracy(runtime.compile_program(ns, wrong), data, adapter)
    assert bad.rewards == 1.0 and bad.states < 0.1 and 0.66 < bad.paper < 0.7 and bad.code < 1.0


# --------------------------------------------------------------------------- a random program

BLACKJACK_FIELDS = ("player_sum", "dealer_card", "usable_ace")


def blackjack(adapter, source=None):
    source = source or (FIXTURES / "blackjack_model.py").read_text()
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), source)
    assert program.failure is None, program.failure
    return program


def hand(state):
    return tuple(state[0][k] for k in BLACKJACK_FIELDS)


# the reference model's point predictions on CWMB's 15 Blackjack transitions, checked by hand (docs/RESULTS.md):
# a hit predicts the ten (4/13), a stick its state unchanged and the dealer's most probable result
BLACKJACK_POINTS = [
    ((21, 5, 1), "hit", (21, 5, 0), 0.0), ((21, 5, 0), "stick", (21, 5, 0), 1.0),
    ((17, 10, 0), "stick", (17, 10, 0), -1.0), ((7, 2, 0), "stick", (7, 2, 0), -1.0),
    ((16, 7, 0), "stick", (16, 7, 0), -1.0), ((12, 3, 0), "hit", (22, 3, 0), 0.0),
    ((21, 3, 0), "hit", (31, 3, 0), -1.0), ((17, 3, 1), "stick", (17, 3, 1), -1.0),
    ((14, 10, 1), "hit", (14, 10, 0), 0.0), ((17, 10, 1), "hit", (17, 10, 0), 0.0),
    ((20, 10, 1), "hit", (20, 10, 0), 0.0), ((20, 10, 0), "stick", (20, 10, 0), 1.0),
    ((20, 5, 0), "stick", (20, 5, 0), 1.0), ((21, 10, 1), "stick", (21, 10, 1), 1.0),
    ((20, 1, 0), "stick", (20, 1, 0), 1.0)]


def test_a_random_program_is_scored_by_its_point_prediction_on_cwmbs_blackjack_data():
    """The reference Blackjack model answers with distributions (cards dealt, the dealer's draws);
    its point predictions (the most probable next state, the most probable reward for the recorded
    next state) are the ones worked out by hand, and score 38/45 and 371/432 (before: 0.0)."""
    from wc._core.values import Transition
    from wc._measure.program import predicted

    adapter = envs.make("Blackjack-v1")
    data = cwmb.dataset("Blackjack-v1", adapter, FIXTURES / "cwmb").read()
    program = blackjack(adapter)
    cases = [Transition(t.state, t.action, t.next_state, t.reward, t.done, adapter.mission) for t in data]
    points = [predicted(p) for p in runtime.predict(program, cases, full=True, point=True)]
    assert [(hand(t.state), t.action, hand(p.next_state), p.reward) for t, p in zip(data, points, strict=True)] == \
        BLACKJACK_POINTS
    # done is that of the recorded next state (a hit from 12 predicts 22 but is judged, as its reward, on 21)
    assert [p.done for p in points] == [t.done for t in data]
    got = program_accuracy(program, data, adapter)
    assert (got.transitions, got.states, got.rewards, got.dones) == (15, 12 / 15, 11 / 15, 1.0)
    assert got.paper == pytest.approx(38 / 45) and got.code == pytest.approx(371 / 432)
    # φ1's answers (not asked for a point) carry no next state to compare: only the pruned distribution
    assert all(predicted(p).next_state is None for p in runtime.predict(program, cases, full=True))


async def test_the_sandbox_gives_the_point_prediction_and_a_deterministic_program_scores_as_before():
    """Through the jailed worker, as `wc bench cwmb` measures (`Sandbox.predictions`, judged in the
    parent): the random model scores its hand-checked figures, and a deterministic program that
    answers the model's modes scores the same, its predictions read as they always were."""
    from wc._core.values import Transition
    from wc._measure.program import predicted
    from wc._sandbox.sandbox import Sandbox

    adapter = envs.make("Blackjack-v1")
    data = cwmb.dataset("Blackjack-v1", adapter, FIXTURES / "cwmb").read()
    source = (FIXTURES / "blackjack_model.py").read_text()
    modes = source.replace("    return choice(outcomes)\n", "    return max(outcomes, key=lambda o: o[0])[1]\n") \
        .replace("    return choice({(value, True): p for value, p in odds.items()})\n",
                 "    return (max(odds, key=odds.get), True)\n")
    assert modes.count("choice(") == 0
    recorded = [Recorded.of(t) for t in data]
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, tolerance=CWMB, workers=1) as sb:
        index = [sb.add(Transition(t.state, t.action, t.next_state, t.reward, t.done, adapter.mission)) for t in data]
        found = {name: await sb.predictions(text) for name, text in (("random", source), ("modes", modes))}
    scores = {}
    for name, preds in found.items():
        assert preds is not None
        assert all((p.chance is not None) == (name == "random") for p in preds)
        scores[name] = accuracy([predicted(preds[i]) for i in index], recorded)
    assert scores["random"] == scores["modes"] == program_accuracy(blackjack(adapter, modes), data, adapter)
    assert scores["random"].paper == pytest.approx(38 / 45) and scores["random"].code == pytest.approx(371 / 432)


def test_a_mode_is_the_most_probable_outcome_whatever_the_order_ties_go_to_the_smallest_key():
    from wc._sandbox.chance import mode_reward, mode_state
    from wc._sandbox.distribution import Distribution, Factor

    a, b, c = ({"type": "Cell", "x": x} for x in (1, 2, 3))
    # two options that make the same state add up (0.3 + 0.3 of [a] beats 0.4 of [b])
    merged = Distribution(((0.6, (Factor(((0.5, (a,)), (0.5, (a,)))),)), (0.4, (b,))))
    assert mode_state(merged) == [a]
    # a tie, listed either way round: the smallest canonical key
    for options in (((0.5, (c,)), (0.5, (b,))), ((0.5, (b,)), (0.5, (c,)))):
        assert mode_state(Distribution(((1.0, (a, Factor(options))),))) == [a, b]
    # too many outcomes to list: each factor's most probable option, in the most probable branch
    wide = Factor(tuple((0.1, ({"type": "Cell", "x": 10 + i},)) for i in range(10)))
    many = Distribution(((1.0, (Factor(((0.2, (a,)), (0.8, (b,)))), *[wide] * 4)),))
    assert many.size > 4096 and mode_state(many) == [b, *[{"type": "Cell", "x": 10}] * 4]
    assert mode_reward(((0.25, (1.0, True)), (0.5, (0.0, True)), (0.25, (-1.0, True)))) == (0.0, True)
    assert mode_reward(((0.5, (1.0, True)), (0.5, (-1.0, True)))) == (-1.0, True)
    assert mode_reward(((0.3, (1.0, True)), (0.3, (1.0, True)), (0.4, (0.0, False)))) == (1.0, True)
    # what a worker sends is read back checked: a most probable next state is a state
    from wc._sandbox.chance import ChancePrediction
    from wc._sandbox.distribution import OutcomeError

    sent = ChancePrediction(rewards=((1.0, (0.0, False)),), mode=[a]).to_wire()
    assert ChancePrediction.from_wire(sent).mode == [a]
    with pytest.raises(OutcomeError, match="most probable next state"):
        ChancePrediction.from_wire(dict(sent, mode=[1]))


async def test_a_random_program_is_planned_over_chance_when_its_return_is_measured():
    """`wc bench cwmb`'s R_program: a random program (Blackjack's) is planned over chance with the
    steps the episode has left, not by the deterministic planner (which failed on every
    decision, so R_program was R_random's own stream and the normalized return exactly 0)."""
    from wc._core.values import Transition
    from wc._run.bench import _returns
    from wc._sandbox.sandbox import Sandbox

    adapter = envs.make("Blackjack-v1")
    data = cwmb.dataset("Blackjack-v1", adapter, FIXTURES / "cwmb").read()
    source = (FIXTURES / "blackjack_model.py").read_text()
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, tolerance=CWMB, workers=1) as sb:
        for t in data:
            sb.add(Transition(t.state, t.action, t.next_state, t.reward, t.done, adapter.mission))
        returns, failures = await _returns(sb, source, adapter, episodes=4, max_steps=None, seed=0)
    assert failures == 0 and returns.program.decisions > 0
