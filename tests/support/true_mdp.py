"""The optimum of gymnasium's toy-text environments from their own rules, independently of any
world model: finite-horizon value iteration on `env.unwrapped.P` (FrozenLake, Taxi, CliffWalking),
and for Blackjack-v1 (which has no `P`) dynamic programming over the actual hands, scored with
gymnasium's own blackjack functions. For tests (pinned figures) and benchmarks/bench_stochastic.py."""
from __future__ import annotations

import functools
from collections import Counter


def finite_horizon_values(P: dict, horizon: int) -> list[list[float]]:
    """values[h][s]: the most expected return from state s with h steps left, by backward
    induction on the MDP `P` (P[s][a] = [(probability, next state, reward, terminated), ...])."""
    states = sorted(P)
    values = [[0.0] * len(states)]
    for _ in range(horizon):
        previous = values[-1]
        current = []
        for s in states:
            best = -float("inf")
            for outcomes in P[s].values():
                q = sum(p * (r + (0.0 if done else previous[s2])) for p, s2, r, done in outcomes)
                best = max(best, q)
            current.append(best)
        values.append(current)
    return values


def optimum(env, horizon: int) -> float:
    """The optimal expected return of `env` (a toy-text environment with `P`) within `horizon`
    steps, over its distribution of initial states."""
    unwrapped = env.unwrapped
    values = finite_horizon_values(unwrapped.P, horizon)[horizon]
    start = unwrapped.initial_state_distrib
    return float(sum(p * values[s] for s, p in enumerate(start) if p > 0))


def blackjack_optimum() -> tuple[float, dict]:
    """Blackjack-v1's optimal expected return (natural=False, sab=False) over its deal, and the
    optimal value of each (player hand, dealer's card shown), by dynamic programming over the
    hands themselves with gymnasium's deck, sum_hand, is_bust, score and cmp."""
    from gymnasium.envs.toy_text import blackjack as bj

    cards = {card: n / len(bj.deck) for card, n in Counter(bj.deck).items()}

    @functools.cache
    def dealer(hand: tuple[int, ...]) -> dict[int, float]:
        """The dealer's final score (0 for a bust) from `hand`, drawing while under 17."""
        if bj.sum_hand(list(hand)) >= 17:
            return {bj.score(list(hand)): 1.0}
        out: Counter = Counter()
        for card, p in cards.items():
            for final, q in dealer(tuple(sorted(hand + (card,)))).items():
                out[final] += p * q
        return dict(out)

    @functools.cache
    def stick(hand: tuple[int, ...], shown: int) -> float:
        mine = bj.score(list(hand))
        total = 0.0
        for hidden, p in cards.items():
            for final, q in dealer(tuple(sorted((shown, hidden)))).items():
                total += p * q * bj.cmp(mine, final)
        return total

    @functools.cache
    def value(hand: tuple[int, ...], shown: int) -> float:
        hit = 0.0
        for card, p in cards.items():
            more = tuple(sorted(hand + (card,)))
            hit += p * (-1.0 if bj.is_bust(list(more)) else value(more, shown))
        return max(stick(hand, shown), hit)

    table = {}
    total = 0.0
    for a, pa in cards.items():
        for b, pb in cards.items():
            for shown, pd in cards.items():
                hand = tuple(sorted((a, b)))
                table[(hand, shown)] = value(hand, shown)
                total += pa * pb * pd * table[(hand, shown)]
    return total, table


def blackjack_policy_value(hit_probability) -> float:
    """The exact expected return of a policy in Blackjack-v1 over its deal:
    `hit_probability(player_sum, dealer_card, usable_ace)` is the probability that it hits (0 or 1
    for a deterministic policy, 0.5 for random play), evaluated over the hands themselves."""
    from gymnasium.envs.toy_text import blackjack as bj

    cards = {card: n / len(bj.deck) for card, n in Counter(bj.deck).items()}

    @functools.cache
    def dealer(hand: tuple[int, ...]) -> dict[int, float]:
        if bj.sum_hand(list(hand)) >= 17:
            return {bj.score(list(hand)): 1.0}
        out: Counter = Counter()
        for card, p in cards.items():
            for final, q in dealer(tuple(sorted(hand + (card,)))).items():
                out[final] += p * q
        return dict(out)

    @functools.cache
    def value(hand: tuple[int, ...], shown: int) -> float:
        hit = hit_probability(bj.sum_hand(list(hand)), shown, bj.usable_ace(list(hand)))
        stick = 0.0
        if hit < 1:
            mine = bj.score(list(hand))
            for hidden, p in cards.items():
                for final, q in dealer(tuple(sorted((shown, hidden)))).items():
                    stick += p * q * bj.cmp(mine, final)
        more = 0.0
        if hit > 0:
            for card, p in cards.items():
                bigger = tuple(sorted(hand + (card,)))
                more += p * (-1.0 if bj.is_bust(list(bigger)) else value(bigger, shown))
        return hit * more + (1 - hit) * stick

    return sum(pa * pb * pd * value(tuple(sorted((a, b))), shown)
               for a, pa in cards.items() for b, pb in cards.items() for shown, pd in cards.items())
