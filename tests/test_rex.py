import random
from collections import Counter

from wc._synth.rex import Rex


def test_scratch_arm_always_exists():
    rex = Rex()
    assert [(a.program_id, a.kind) for a in rex.arms.values()] == [(None, "scratch")]
    assert rex.choose(3, random.Random(0))[0].kind == "scratch"


def test_choose_pulls_k_arms_and_counts_each_pull():
    rex = Rex()
    for pid in range(5):
        rex.add(pid, "transition", 0.5)
    chosen = rex.choose(3, random.Random(1))
    assert len(chosen) == 3
    assert sum(a.n for a in rex.arms.values()) == 3


def test_one_good_arm_can_be_pulled_several_times_in_a_round():
    rex = Rex(c=5.0)
    rex.add(1, "transition", 0.95)
    picks = rex.choose(4, random.Random(0))
    assert len(picks) == 4
    assert rex.arms[(1, "transition")].n == sum(1 for a in picks if a.program_id == 1) >= 2


def test_higher_heuristic_wins_more_often():
    rex = Rex(c=5.0)
    rex.add(1, "transition", 0.9)
    rex.add(2, "transition", 0.1)
    rng = random.Random(0)
    wins = Counter(max(rex.arms.values(), key=lambda a: rex.sample(a, rng)).program_id for _ in range(2000))
    assert wins[1] > wins[2] * 3
    assert wins[1] > wins[None]


def test_pulling_an_arm_lowers_its_chances():
    rng = random.Random(0)
    rex = Rex(c=5.0)
    arm = rex.add(1, "transition", 0.8)
    before = sum(rex.sample(arm, rng) for _ in range(3000)) / 3000
    for _ in range(10):
        rex.pulled(arm)
    after = sum(rex.sample(arm, rng) for _ in range(3000)) / 3000
    assert arm.n == 10
    # Beta(1 + C·h, 1 + C·(1−h) + n) has mean (1 + C·h) / (2 + C + n)
    assert abs(before - 5.0 / 7.0) < 0.02
    assert abs(after - 5.0 / 17.0) < 0.02


def test_c_controls_exploitation():
    rng = random.Random(0)
    greedy, flat = Rex(c=50.0), Rex(c=0.0)
    for rex in (greedy, flat):
        rex.add(1, "reward", 1.0)
        rex.add(2, "reward", 0.0)
    g = Counter(max(greedy.arms.values(), key=lambda a: greedy.sample(a, rng)).program_id for _ in range(1000))
    f = Counter(max(flat.arms.values(), key=lambda a: flat.sample(a, rng)).program_id for _ in range(1000))
    assert g[1] > 900
    assert 200 < f[1] < 500  # three arms, uniform draws


def test_add_updates_h_and_state_round_trips():
    rex = Rex(c=3.0)
    rex.add(7, "optimism", 0.2)
    arm = rex.add(7, "optimism", 0.6)
    rex.pulled(arm)
    clone = Rex.from_json(rex.to_json())
    assert clone.c == 3.0
    assert clone.arms[(7, "optimism")].h == 0.6 and clone.arms[(7, "optimism")].n == 1
    rex.remove_program(7)
    assert (7, "optimism") not in rex.arms


def test_adding_again_keeps_the_pull_count_and_the_scratch_arm_is_one_arm():
    rex = Rex()
    arm = rex.add(3, "reward", 0.2)
    rex.pulled(arm)
    again = rex.add(3, "reward", 0.7)
    assert again is arm and (arm.h, arm.n) == (0.7, 1) and len(rex.arms) == 2
    assert rex.add(3, "transition", 0.4) is not arm and len(rex.arms) == 3
    # a restored bandit has its scratch arm once, under the key the bandit itself uses
    restored = Rex.from_json(rex.to_json())
    assert list(restored.arms) == list(rex.arms) == [(None, "scratch"), (3, "reward"), (3, "transition")]
    assert [(a.program_id, a.kind, a.h, a.n) for a in restored.arms.values()] == \
        [(None, "scratch", 0.0, 0), (3, "reward", 0.7, 1), (3, "transition", 0.4, 0)]
    assert all(key == a.key for key, a in restored.arms.items())
    Rex.__post_init__(restored)
    assert len(restored.arms) == 3  # setting up again adds no second scratch arm


def test_choose_takes_the_highest_draw_and_ties_go_to_the_earlier_arm():
    class Fixed(Rex):
        def sample(self, arm, rng):
            return {None: 0.5, 1: 0.9, 2: 0.9, 3: 0.1}[arm.program_id]

    rex = Fixed()
    for pid in (1, 2, 3):
        rex.add(pid, "transition", 0.5)
    assert [a.program_id for a in rex.choose(2, random.Random(0))] == [1, 1]
    assert rex.arms[(1, "transition")].n == 2 and rex.arms[(2, "transition")].n == 0
