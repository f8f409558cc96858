"""Random transitions in the contract (issue 28): the chance helpers of the API modules that carry
them, what wc reads from a program's distribution and the clear failures of bad ones, the
likelihood of recorded transitions (without listing a product), φ1 and the score, the frequency
test and its statistics, nondeterminism found from the records, and the prompt texts."""
import hashlib
import itertools
import math
import random
from collections import Counter
from dataclasses import replace

import pytest

from wc import envs
from wc._core.canonical import state_key
from wc._core.contract import CHANCE_DOC, CHANCE_HELPERS, MAX_OUTCOMES
from wc._core.tolerance import Tolerance
from wc._core.values import Transition
from wc._sandbox import distribution, frequencies, likelihood, outcomes, runtime
from wc._sandbox.chance import ChancePrediction, most_probable, outcomes_with_rewards, predict_chance
from wc._sandbox.frequencies import binomial_p_value, chi_square_sf, disagreements, group_visits, varied
from wc._sandbox.likelihood import Fit, credit
from wc._sandbox.outcomes import Distribution, Factor, OutcomeError, TooManyOutcomes, read_reward, read_state
from wc._synth import chance as texts
from wc._synth.prompts import PromptContext
from wc.envs.api import load
from wc.envs.gym import source

MINIGRID = load("minigrid", 3)


@pytest.fixture(scope="module")
def lake():
    adapter = envs.make("FrozenLake-v1")
    yield adapter
    adapter.close()


@pytest.fixture(scope="module")
def ns(lake):
    return runtime.api_namespace(lake.api.source)


def obs(row, col):
    return {"type": "Observation", "row": row, "col": col}


def ball(x, y):
    return {"type": "Ball", "x": x, "y": y, "color": "blue"}


def program(ns, body):
    compiled = runtime.compile_program(ns, body + "\ndef reward(state, action, next_state, mission):\n"
                                                  "    return 0.0, False\n")
    assert compiled.failure is None, compiled.failure
    return compiled


def read(ns, value):
    return read_state(value, outcomes.chance_class(ns))


# --------------------------------------------------------------------------- the API modules


def test_minigrid_v3_is_version_1_with_the_chance_helpers():
    v1 = load("minigrid", 1).source
    assert CHANCE_HELPERS in MINIGRID.source and CHANCE_DOC in MINIGRID.source
    # every class and helper of version 1 is there unchanged: a program written for it runs here
    assert v1.split('"""', 2)[2].replace("import dataclass\n", "import dataclass, replace\n") in MINIGRID.source
    ns = runtime.api_namespace(MINIGRID.source)
    chosen = ns["vary"](ns["Ball"](1, 2, "blue"), x={1: 0.5, 2: 0.5})
    assert type(chosen.x) is ns["Choice"] and chosen.x.options == [(0.5, 1), (0.5, 2)]
    assert outcomes.chance_class(ns) is ns["Choice"]
    assert outcomes.chance_class(runtime.api_namespace(load("minigrid", 1).source)) is None


def test_the_gym_generator_adds_the_helpers_in_version_2_and_keeps_version_1(lake):
    assert source.GENERATOR_VERSION == 3 and lake.api.version == 3  # 3: PARAMS (tests/test_param_loop.py)
    assert CHANCE_HELPERS in lake.api.source and CHANCE_DOC in lake.api.source
    cartpole = envs.make("CartPole-v1")
    try:
        # version 1's source, byte for byte what the generator gave before version 2
        for adapter, title, digest in [
                (cartpole, "CartPole", "ebf13c2708b277895c4eb8bf5a92f517b736ad6cd0fe1b892a59e9442f69adeb"),
                (lake, "FrozenLake", "454baf1303297287f5bc6a467ff355c3106b1175b0721516760cbde70ff40d82")]:
            old = source.generate(adapter.env_id, title, adapter.layout.fields, adapter.action_space,
                                  adapter.tolerance, decoded=bool(adapter.layout.digits), version=1)
            assert hashlib.sha256(old.encode()).hexdigest() == digest
            assert source.api_module(adapter.env_id, old, version=1).version == 1
        # the helpers say nothing of any world's rules (CartPole's thresholds among them)
        assert "2.4" not in cartpole.api.source and "12" not in cartpole.api.source
    finally:
        cartpole.close()
    with pytest.raises(ValueError, match="no API module generator version 4"):
        source.generate("X", "X", lake.layout.fields, lake.action_space, lake.tolerance, version=4)


# --------------------------------------------------------------------------- reading a distribution


def test_a_plain_state_is_one_certain_outcome(ns):
    dist = read(ns, [ns["Observation"](1, 2)])
    assert dist.deterministic and dist.size == 1 and dist.listed == 1
    assert dist == Distribution.certain([obs(1, 2)])
    assert likelihood.state_probability(dist, [obs(1, 2)]) == 1.0
    assert likelihood.state_probability(dist, [obs(1, 3)]) == 0.0


def test_choices_are_read_multiplied_nested_and_grouped():
    ns = runtime.api_namespace(MINIGRID.source)
    Ball, Wall, choice, vary = ns["Ball"], ns["Wall"], ns["choice"], ns["vary"]
    wall = Wall(0, 0)
    # two independent balls, one with an independent field each way: a product never listed
    state = [wall, choice([(0.25, Ball(1, 1, "blue")), (0.75, Ball(1, 2, "blue"))]),
             vary(Ball(3, 3, "blue"), x={3: 0.5, 4: 0.5}, y={3: 0.5, 4: 0.5})]
    dist = read(ns, state)
    assert not dist.deterministic and dist.size == 2 * 4 and dist.listed == 2 + 4
    (p, items), = dist.branches
    assert items[0] == {"type": "Wall", "x": 0, "y": 0} and [type(i) for i in items[1:]] == [Factor, Factor]
    assert sorted(q for q, _ in items[2].options) == [0.25] * 4
    total = Counter()
    for q, s in dist.enumerate():
        total[state_key(s)] += q
    assert math.fsum(total.values()) == pytest.approx(1.0) and len(total) == 8
    # a choice of whole states whose options hold choices; a choice of lists (none or several)
    nested = choice([(0.5, [wall]), (0.5, [wall, choice([(0.5, []), (0.5, [Ball(2, 2, "red"), Ball(2, 3, "red")])])])])
    dist = read(ns, nested)
    assert len(dist.branches) == 2 and dist.size == 3
    assert likelihood.state_probability(dist, [{"type": "Wall", "x": 0, "y": 0}]) == pytest.approx(0.75)
    assert likelihood.state_probability(dist, [ball(2, 3) | {"color": "red"}, ball(2, 2) | {"color": "red"},
                                               {"type": "Wall", "x": 0, "y": 0}]) == pytest.approx(0.25)
    # zero-probability options are dropped, a certain choice is a plain entity
    assert read(ns, [choice([(1.0, wall), (0.0, Ball(1, 1, "blue"))])]).deterministic


def _brute(dist, recorded, ordered, tol):
    """The probability of `recorded` by listing the product: what the factored sums must equal."""
    total = 0.0
    for p, state in dist.enumerate(10_000):
        if ordered:
            same = len(state) == len(recorded) and all(
                likelihood._matches(a, b, tol) for a, b in zip(state, recorded, strict=True))
        else:
            same = state_key(state) == state_key(recorded)
        total += p * same
    return total


@pytest.mark.parametrize("ordered", [False, True])
def test_likelihood_without_the_product_equals_the_listed_sum(ordered):
    """Random factored distributions over a few entity values, groups of 0-2 entities, several
    branches: the dynamic programme gives what listing every outcome gives, and pruning for the
    wire keeps it."""
    rng = random.Random(7)
    tol = Tolerance(1e-3, 1e-3)
    values = [ball(x, y) for x in (1, 2) for y in (1, 2)] + [{"type": "Agent", "x": 1.0, "y": 0.5}]
    for _ in range(120):
        branches = []
        weights = [rng.random() + 0.1 for _ in range(rng.randint(1, 3))]
        for w in weights:
            items = []
            for _ in range(rng.randint(1, 4)):
                if rng.random() < 0.4:
                    items.append(rng.choice(values))
                else:
                    k = rng.randint(2, 3)
                    ps = [rng.random() + 0.05 for _ in range(k)]
                    groups = [tuple(rng.choice(values) for _ in range(rng.choice((1, 1, 1, 0, 2)))) for _ in range(k)]
                    items.append(Factor(tuple((p / sum(ps), g) for p, g in zip(ps, groups, strict=True))))
            branches.append((w / sum(weights), tuple(items)))
        dist = Distribution(tuple(branches))
        sample = dist.sample(rng)
        for recorded in (sample, [dict(e, x=e["x"] + 0.0005) if e["type"] == "Agent" else e for e in sample],
                         list(reversed(sample)), sample[:-1]):
            want = _brute(dist, recorded, ordered, tol)
            got = likelihood.state_probability(dist, recorded, ordered=ordered, tolerance=tol)
            assert got == pytest.approx(want, abs=1e-12)
            pruned = likelihood.prune(dist, recorded, ordered=ordered, tolerance=tol)
            assert likelihood.state_probability(pruned, recorded, ordered=ordered, tolerance=tol) == \
                pytest.approx(want, abs=1e-12)
            again = distribution.from_json(pruned.to_json(), partial=True)
            assert likelihood.state_probability(again, recorded, ordered=ordered, tolerance=tol) == \
                pytest.approx(want, abs=1e-12)
        assert likelihood.state_probability(dist, sample, ordered=ordered, tolerance=tol) > 0


def test_rewards_may_be_a_choice_of_pairs():
    ns = runtime.api_namespace(MINIGRID.source)
    choice = ns["choice"]
    assert read_reward((1, True), outcomes.chance_class(ns)) == ((1.0, (1.0, True)),)
    rewards = read_reward(choice({(1.0, True): 0.4, (0.0, True): 0.1, (-1.0, True): 0.5}), outcomes.chance_class(ns))
    assert likelihood.reward_probability(rewards, -1.0, True, "exact") == pytest.approx(0.5)
    assert likelihood.reward_probability(rewards, 0.3, True, "sign") == pytest.approx(0.4)
    assert likelihood.reward_probability(rewards, 1.0, False, "exact") == 0.0
    with pytest.raises(OutcomeError, match="finite number as reward"):
        read_reward(choice([(1.0, (math.inf, True))]), outcomes.chance_class(ns))


# --------------------------------------------------------------------------- clear failures


@pytest.mark.parametrize("body, message", [
    ("return choice([(0.5, [Observation(0, 0)]), (0.4, [Observation(0, 1)])])",
     "transition() returned probabilities that sum to 0.9, not 1, at state"),
    ("return choice([(1.2, [Observation(0, 0)]), (-0.2, [Observation(0, 1)])])",
     "transition() returned a probability above 1 (1.2), at state"),
    ("return choice([(-0.2, [Observation(0, 0)]), (1.2, [Observation(0, 1)])])",
     "transition() returned a negative probability (-0.2), at state"),
    ("return [vary(state[0], row={0: float('nan'), 1: 1.0})]",
     "transition() returned a probability that is not a finite number (nan), at state[0].row"),
    ("return [choice([('half', Observation(0, 0)), ('half', Observation(0, 1))])]",
     "transition() returned a probability that is not a number (str 'half'), at state[0]"),
    ("return [choice([(True, Observation(0, 0))])]", "a probability that is not a number (bool True)"),
    ("return choice([])", "transition() returned a choice with no options, at state"),
    ("return [choice([(0.5, Observation(0, 0), 'extra')])]", "option 0 is not a (probability, value) pair"),
    ("return [choice([(0.5, Observation(0, 0)), (0.5, 3)])]", "returned int 3 where a state holds entities"),
    ("return choice([(1.0, Observation(0, 0))])", "must return a list of entities, or a choice of such lists, "
                                                   "not Observation"),
    ("return [choice([(1 / 5000, Observation(0, i)) for i in range(5000)])]",
     f"transition() lists more than {MAX_OUTCOMES} outcomes for one step"),
    ("return [vary(state[0], row={r: 1 / 80 for r in range(80)}, col={c: 1 / 80 for c in range(80)})]",
     f"lists more than {MAX_OUTCOMES} outcomes"),
])
def test_a_bad_distribution_fails_cleanly_saying_which_rule(ns, body, message):
    compiled = program(ns, "def transition(state, action):\n    " + body + "\n")
    t = runtime.Transition([obs(0, 0)], "left", [obs(0, 1)], 0.0, False, "")
    predicted = predict_chance(compiled, t)
    assert predicted.distribution is None and predicted.rewards is not None
    assert predicted.transition_error["kind"] == "malformed"
    assert message in predicted.transition_error["message"], predicted.transition_error
    assert predicted.transition_error["message"].startswith("OutcomeError: transition()") or \
        predicted.transition_error["message"].startswith("TooManyOutcomes: transition()")


def test_independent_choices_are_not_counted_as_their_product(ns):
    """Twenty independent coin flips: 2**20 next states, 40 listed, read and judged at once."""
    ns = runtime.api_namespace(MINIGRID.source)
    coins = program(ns, "def transition(state, action):\n"
                        "    return [choice([(0.5, Ball(i, 0, 'blue')), (0.5, Ball(i, 1, 'blue'))])\n"
                        "            for i in range(20)]\n")
    recorded = [ball(i, i % 2) for i in range(20)]
    t = runtime.Transition([], "left", recorded, 0.0, False, "")
    predicted = predict_chance(coins, t)
    assert predicted.transition_error is None
    assert predicted.likelihood(recorded, 0.0, False, "sign") == pytest.approx(2.0 ** -20)
    dist = read_state(coins.transition([], "left"), coins.chance)
    assert dist.size == 2 ** 20 and dist.listed == 40
    with pytest.raises(TooManyOutcomes, match="1048576 outcomes, more than the 4096"):
        dist.enumerate()


def test_a_program_of_its_own_choice_class_is_not_read_as_one(ns):
    compiled = program(ns, "from dataclasses import dataclass\n@dataclass\nclass Choice:\n    options: list\n"
                           "def transition(state, action):\n    return Choice([(1.0, list(state))])\n")
    t = runtime.Transition([obs(0, 0)], "left", [obs(0, 0)], 0.0, False, "")
    failure = predict_chance(compiled, t).transition_error
    assert "must return a list of entities, or a choice of such lists, not Choice" in failure["message"]


@pytest.mark.parametrize("data, message", [
    ({"branches": [[0.6, [obs(0, 0)]], [0.6, [obs(0, 1)]]]}, "the branches: probabilities sum to 1.2"),
    ({"branches": [[1.0, [{"choice": [[0.5, [obs(0, 0)]], [0.6, [obs(0, 1)]]]}]]]},
     "a choice: probabilities sum to 1.1"),
    ({"branches": [[1.0, [{"choice": [[-0.5, [obs(0, 0)]]]}]]]}, "a probability is a number in (0, 1]"),
    ({"branches": [[1.0, [{"row": 1}]]]}, "an item of a branch is an entity or a choice"),
    ({"branches": []}, "non-empty list of branches"),
])
def test_the_parent_checks_a_workers_distribution_again(data, message):
    with pytest.raises(OutcomeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        distribution.from_json(data)


# --------------------------------------------------------------------------- fitting by likelihood


DIE = ("def transition(state, action):\n"
       "    o = state[0]\n"
       "    return [vary(o, col={0: P0, 1: P1, 2: P2})]\n")


def die_data(probabilities, n, seed):
    """`n` throws of a three-sided die from one state: the data of a known distribution."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        col = rng.choices(range(3), probabilities)[0]
        out.append(Transition([obs(0, 0)], "down", [obs(0, col)], 0.0, False, ""))
    return out


def fit_of(ns, probabilities, data):
    body = DIE.replace("P0", repr(probabilities[0])).replace("P1", repr(probabilities[1])) \
        .replace("P2", repr(probabilities[2]))
    compiled = program(ns, body)
    likelihoods = []
    for d in data:
        likelihoods.append(predict_chance(compiled, d).likelihood(d.next_state, 0.0, False, "value", ordered=True))
    return Fit(tuple(likelihoods))


def test_likelihood_fit_on_data_from_a_known_distribution(ns):
    truth = (0.5, 0.3, 0.2)
    data = die_data(truth, 300, seed=1)
    right, wrong = fit_of(ns, truth, data), fit_of(ns, (1 / 3, 1 / 3, 1 / 3), data)
    certain = fit_of(ns, (1, 0, 0), data)
    counts = Counter(d.next_state[0]["col"] for d in data)
    assert right.fits and wrong.fits and not certain.fits
    assert right.mean_log_likelihood == pytest.approx(sum(n * math.log(truth[c]) for c, n in counts.items()) / 300)
    assert right.score > wrong.score > certain.score
    # a program certain of the most frequent outcome explains that fraction, as REx always scored it
    assert certain.score == pytest.approx(counts[0] / 300) and len(certain.impossible) == 300 - counts[0]
    # the frequency test: the right probabilities pass, wrong ones are caught
    assert disagreements(data, right.likelihoods) == []
    (found,) = disagreements(data, wrong.likelihoods)
    assert found.visits.count == 300 and found.tested == 1 and found.test.method == "chi-square"
    assert found.test.p_value < 1e-6 and found.probabilities == pytest.approx((1 / 3,) * 3)


def test_the_frequency_test_needs_enough_visits_and_corrects_for_many_tests():
    # 40 states, each with 30 fair coin flips judged by the right probabilities: by chance alone
    # some single test falls below 0.01 here, and Holm's correction keeps them all
    rng = random.Random(3)
    data, probabilities = [], []
    for s in range(40):
        for _ in range(30):
            heads = rng.random() < 0.5
            data.append(Transition([obs(s, 0)], "flip", [obs(s, int(heads))], 0.0, False))
            probabilities.append(0.5)
    tests = [frequencies.frequency_test([len(o) for o in v.outcomes], [0.5] * len(v.outcomes))
             for v in group_visits(data)]
    assert min(t.p_value for t in tests) < 0.05   # some look unlikely one by one...
    assert disagreements(data, probabilities) == []   # ...but not as a family
    wrong = [0.8 if d.next_state[0]["col"] else 0.2 for d in data[:19 * 30]]
    assert disagreements(data[:19 * 30], wrong, min_visits=30)  # 30 visits each: the wrong probabilities are seen
    assert disagreements(data[:19 * 30], wrong, min_visits=31) == []  # too few visits to test


def test_statistics_against_known_values():
    for statistic, df in [(3.841458820694124, 1), (5.991464547107979, 2), (11.070497693516351, 5),
                          (124.34211340400407, 100)]:
        assert chi_square_sf(statistic, df) == pytest.approx(0.05, abs=1e-9)
    assert chi_square_sf(0.0, 3) == 1.0 and chi_square_sf(200.0, 3) < 1e-40
    assert binomial_p_value(0, 10, 0.5) == pytest.approx(2 / 1024)
    assert binomial_p_value(9, 10, 0.5) == pytest.approx(22 / 1024)
    assert binomial_p_value(5, 10, 0.5) == pytest.approx(1.0)
    assert binomial_p_value(3, 20, 0.15) == pytest.approx(1.0)   # the most probable count
    test = frequencies.frequency_test([9, 1], [0.5, 0.5])
    assert test.method == "binomial" and test.p_value == pytest.approx(22 / 1024)
    assert frequencies.frequency_test([5], [0.0]) is None           # impossible: φ1's business
    assert frequencies.frequency_test([3], [1.0]) is None           # one category: nothing to test


def test_credit_and_score():
    assert credit(1.0) == 1.0 and credit(0.0) == 0.0 and credit(likelihood.FLOOR) == 0.0
    assert credit(1 / 3) == pytest.approx(1 - math.log(3) / math.log(1 / likelihood.FLOOR))
    assert likelihood.score([1.0, 0.0, 1.0, 1.0]) == 0.75 and likelihood.score([]) == 1.0
    assert likelihood.mean_log_likelihood([1.0, 0.0]) == pytest.approx(math.log(likelihood.FLOOR) / 2)
    assert likelihood.possible(likelihood.EPSILON) and not likelihood.possible(likelihood.EPSILON / 2)


# --------------------------------------------------------------------------- the data, and prompts


def test_different_outcomes_of_one_state_and_action_are_found_from_the_records():
    step = Transition([obs(0, 0)], "down", [], 0.0, False, "m")
    data = [replace(step, next_state=[obs(1, 0)]), replace(step, next_state=[obs(0, 1)]),
            replace(step, next_state=[obs(1, 0)]), replace(step, action="left", next_state=[obs(0, 0)]),
            replace(step, action="left", next_state=[obs(0, 0)]),
            replace(step, next_state=[obs(1, 0)], mission="other")]
    (v,) = varied(data)
    assert v.action == "down" and v.count == 3 and v.outcomes == ((0, 2), (1,))
    ctx = PromptContext(MINIGRID.source, "value", lambda s: str(s))
    text = texts.nondeterminism(ctx, data, [v])
    assert "the same state and action led to different outcomes" in text and "choice() and vary()" in text
    assert 'action "down" was taken 3 times:' in text
    assert "  - 2 times: Observation(col=0, row=0) changed row: 0 -> 1; reward 0, done False" in text
    assert "  - once: Observation(col=0, row=0) changed col: 0 -> 1; reward 0, done False" in text
    assert texts.nondeterminism(ctx, data, []) == ""


def test_prompt_texts_for_improbable_transitions_and_frequencies(ns):
    ctx = PromptContext("", "value", lambda s: str(s))
    data = die_data((0.5, 0.3, 0.2), 60, seed=2)
    wrong = fit_of(ns, (0.9, 0.1, 0.0), data)
    impossible = wrong.impossible
    assert impossible and all(data[i].next_state[0]["col"] == 2 for i in impossible)
    compiled = program(ns, DIE.replace("P0", "0.9").replace("P1", "0.1").replace("P2", "0.0"))
    t = data[impossible[0]]
    predicted = predict_chance(compiled, t)
    assert predicted.likely == [(0.9, [obs(0, 0)]), (0.1, [obs(0, 1)])]
    back = ChancePrediction.from_wire(predicted.to_wire())
    assert back.likely == predicted.likely and back.likelihood(t.next_state, 0.0, False, "value", ordered=True) == 0
    text = texts.improbable(ctx, data, wrong.likelihoods, impossible + wrong.unlikely(),
                            likely={impossible[0]: predicted.likely})
    assert "Recorded transition 1: your program gives it no probability: it says this cannot happen." in text
    assert "what happened: Observation(col=0, row=0) changed col: 0 -> 2; reward 0, done False" in text
    assert "your program's outcome with probability 0.9: nothing changed" in text
    assert f"({len(impossible) - 3} more recorded transitions" in text
    found = disagreements(data, fit_of(ns, (0.2, 0.3, 0.5), data).likelihoods)
    text = texts.frequencies(ctx, data, found)
    assert "Each state and action seen at least 20 times" in text and "after correcting for the 1 tested" in text
    counts = Counter(d.next_state[0]["col"] for d in data)
    assert f"seen {counts[0]} times ({counts[0] / 60:.0%}), your program says 20.0%: Observation changed col" not in \
        text  # col 0 is "nothing changed"
    assert f"seen {counts[0]} times ({counts[0] / 60:.0%}), your program says 20.0%: nothing changed" in text


def test_every_outcome_with_its_reward(ns):
    compiled = runtime.compile_program(ns, (
        "def transition(state, action):\n"
        "    return choice([(0.5, [Observation(0, 1)]), (0.25, [Observation(0, 1)]), (0.25, [Observation(1, 1)])])\n"
        "def reward(state, action, next_state, mission):\n"
        "    if next_state[0].row == 1:\n"
        "        return choice({(1.0, True): 0.5, (0.0, True): 0.5})\n"
        "    return 0.0, False\n"))
    found = outcomes_with_rewards(compiled, [obs(0, 0)], "down", "")
    assert [(o.probability, o.next_state, o.reward, o.done) for o in found] == [
        (0.75, [obs(0, 1)], 0.0, False), (0.125, [obs(1, 1)], 1.0, True), (0.125, [obs(1, 1)], 0.0, True)]
    dist = read_state(compiled.transition([], "x"), compiled.chance)
    assert most_probable(dist, 1) == [(0.75, [obs(0, 1)])]


def test_sampling_follows_the_probabilities():
    dist = Distribution(((0.2, (Factor(((0.5, ("a",)), (0.5, ("b",)))),)), (0.8, ("c",))))
    rng = random.Random(0)
    counts = Counter(tuple(dist.sample(rng)) for _ in range(20_000))
    for outcome, p in [(("a",), 0.1), (("b",), 0.1), (("c",), 0.8)]:
        assert counts[outcome] / 20_000 == pytest.approx(p, abs=0.01)
    assert sorted(p for p, _ in dist.enumerate()) == pytest.approx([0.1, 0.1, 0.8])
    assert list(itertools.chain(*[s for _, s in dist.enumerate()])) == ["a", "b", "c"]


def test_a_rollout_draws_one_outcome_with_the_same_checks_and_probabilities():
    """`draw_state` (rollouts) draws from what `read_state` (the judge, the tree) reads: the same
    frequencies of next states, the same refusals."""
    ns = runtime.api_namespace(MINIGRID.source)
    Ball, Wall, choice, vary = ns["Ball"], ns["Wall"], ns["choice"], ns["vary"]
    chance = outcomes.chance_class(ns)
    value = choice([(0.3, [Wall(0, 0)]),
                    (0.7, [Wall(0, 0), choice([(0.5, Ball(1, 1, "blue")), (0.5, [])]),
                           vary(Ball(2, 2, "red"), x={2: 0.25, 3: 0.75})])])
    exact = Counter()
    for p, s in read_state(value, chance).enumerate():
        exact[state_key(s)] += p
    rng = random.Random(1)
    drawn = Counter(state_key(runtime.encode_state(outcomes.draw_state(value, chance, rng))) for _ in range(8000))
    assert drawn.keys() == exact.keys()
    assert all(drawn[k] / 8000 == pytest.approx(p, abs=0.02) for k, p in exact.items())
    wall = Wall(0, 0)
    assert outcomes.draw_state([wall], chance, rng)[0] is wall   # entities without choices are the program's own
    with pytest.raises(OutcomeError, match="negative probability"):
        outcomes.draw_state([choice([(-0.5, wall), (1.5, wall)])], chance, rng)
    with pytest.raises(OutcomeError, match="must return a list of entities"):
        outcomes.draw_state(choice([(1.0, wall)]), chance, rng)
    assert outcomes.draw_reward(choice({(1.0, True): 1.0}), chance, rng) == (1.0, True)
    assert outcomes.draw_reward((0, False), chance, rng) == (0.0, False)
