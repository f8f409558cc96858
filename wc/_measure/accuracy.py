"""The Code World Models Benchmark's accuracy of a world model on recorded transitions, in both of
its forms. Pure: predictions in, numbers out (the predictions come from a program run in the
sandbox, or in-process for trusted programs).

* **The paper's** (Dainese et al. 2024, eq. 2): the mean over transitions of
  ⅓·[next state matches] + ⅓·[reward matches] + ⅓·[done matches]. A next state matches when every
  number is within `allclose(rtol=1e-5, atol=1e-5)` of the recorded one (discrete values exactly:
  `wc._core.tolerance`); rewards and done must be equal.

* **The released code's** (nicoladainese96/code-world-models, `src/mcts/gif_mcts/simulators/
  simulator_cwm.py`: `check_transition_via_enum` scores one transition, `check_code_world_model`
  averages them with `weight_reward=True`, as `SimulatorLLMCWM.check_code_world_model` calls it
  for the benchmark, with `check_valid_actions=False`):
  - a transition whose recorded `done` is true scores ½·[reward matches] + ½·[done matches]: its
    next state is not looked at;
  - any other scores ⅓·(the fraction of the next state's numbers that match, each by itself) +
    ⅓·[reward] + ⅓·[done]; a state that is one number (Taxi's and CliffWalking's index, which wc
    decodes into fields) counts as one;
  - the mean is weighted by the inverse frequency of each transition's recorded reward value
    (`numpy.average` with weight n / count(r), normalised): every distinct reward value counts
    as much as any other, whatever its number of transitions.
  States are compared with `np.allclose(rtol=1e-5, atol=1e-5)` (`continuous_state`, every
  environment but Blackjack, CliffWalking and Taxi, which `generate_env.is_continuous_state_space`
  compares exactly).

**Rewards and done, in both forms: exactly, as the released code compares them.**
`check_transition_via_enum` (same file) takes `reward_matches = lambda x, y: x == y` unless
`continuous_reward=True`, which no caller passes (`check_code_world_model` defaults it to False and
`SimulatorLLMCWM.check_code_world_model` does not set it), and `pred_done == done`. The recorded
reward is a numpy float32 (`src/replay_buffer/replay_buffer.py`: `ReplayBuffer.rewards` is a
float32 array), and the numpy CWMB pins (`environment.yml`: numpy 1.26.4) compares a Python float
with a float32 in float64: `np.float32(0.1) == 0.1` is False there (NumPy 2's NEP 50 would compare
in float32; CWMB's results were not computed that way). So a reward matches when the program's
number equals the recorded float32 value widened to float64, which is what `EXACT` checks on wc's
data (`wc.datasets` keeps a float32 reward as the float64 it widens to). The consequence, as in
CWMB: a program that computes a continuous reward correctly in float64 (Pendulum's, from float32
observations) almost never equals the float32 record, and a correct Pendulum program scores 2/3 in
the paper's form (on CWMB's Pendulum data, 0 of 100 rewards; 89 would match if both were rounded
to float32). `reward_tol` loosens the comparison for other uses; the benchmark keeps CWMB's.

Where wc differs, and why: CWMB's data merges truncation into `done`; wc separates them
(`wc.datasets.jsonl`) and a program predicts termination only, so `done` is compared with the
recorded termination, while the released form still skips the next state of every transition
that ended its episode (terminated or truncated), as CWMB's weighting of its data does. A
program that raises on a transition loses that transition's parts (a failed `transition()` its
state, a failed `reward()` its reward and done); CWMB's code scored the whole program 0 on any
exception.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wc._core.tolerance import CWMB, EXACT, Tolerance, close, state_difference

# how both forms compare rewards (and, always exactly, done): CWMB's released code's `==` on a
# float32 record, as the module docstring explains
CWMB_REWARD = EXACT

__all__ = ["CWMB_REWARD", "Accuracy", "Predicted", "Recorded", "accuracy", "code_accuracy", "paper_accuracy"]

State = list[dict[str, Any]]


@dataclass(frozen=True)
class Recorded:
    """What the data holds after one (state, action): `done` is the environment's termination,
    `truncated` an episode stopped without one."""

    next_state: State
    reward: float
    done: bool
    truncated: bool = False

    @classmethod
    def of(cls, transition: Any) -> Recorded:
        """From anything with next_state, reward, done and truncated (a wc._store.DataTransition)."""
        return cls(transition.next_state, transition.reward, bool(transition.done),
                   bool(getattr(transition, "truncated", False)))

    @property
    def ended(self) -> bool:
        """The episode ended here (CWMB's merged `done`)."""
        return self.done or self.truncated


@dataclass(frozen=True)
class Predicted:
    """What a program predicted for one transition; None where its function failed (a failed
    `reward()` leaves both reward and done None)."""

    next_state: State | None
    reward: float | None
    done: bool | None


@dataclass(frozen=True)
class Accuracy:
    """Both forms, and the parts they are made of (unweighted fractions over all transitions)."""

    paper: float          # eq. 2 of the paper
    code: float           # the released code's variant
    transitions: int
    states: float         # next states matched whole
    rewards: float
    dones: float

    def to_json(self) -> dict[str, Any]:
        return {"accuracy_paper": self.paper, "accuracy_code": self.code, "transitions": self.transitions,
                "next_states_matched": self.states, "rewards_matched": self.rewards, "dones_matched": self.dones}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Accuracy:
        return cls(data["accuracy_paper"], data["accuracy_code"], data["transitions"], data["next_states_matched"],
                   data["rewards_matched"], data["dones_matched"])


def _check(predicted: Sequence[Predicted], recorded: Sequence[Recorded]) -> None:
    if len(predicted) != len(recorded):
        raise ValueError(f"{len(predicted)} predictions for {len(recorded)} recorded transitions")
    if not recorded:
        raise ValueError("accuracy needs at least one transition")


def _state_ok(p: Predicted, r: Recorded, tol: Tolerance) -> bool:
    return p.next_state is not None and state_difference(p.next_state, r.next_state, tol).equal


def _reward_ok(p: Predicted, r: Recorded, tol: Tolerance) -> bool:
    return p.reward is not None and close(p.reward, r.reward, tol)


def _done_ok(p: Predicted, r: Recorded) -> bool:
    return p.done is not None and p.done == r.done


def paper_accuracy(predicted: Sequence[Predicted], recorded: Sequence[Recorded], *, state_tol: Tolerance = CWMB,
                   reward_tol: Tolerance = CWMB_REWARD) -> float:
    """Eq. 2: the mean of ⅓·[state] + ⅓·[reward] + ⅓·[done] over the transitions."""
    _check(predicted, recorded)
    total = sum(_state_ok(p, r, state_tol) + _reward_ok(p, r, reward_tol) + _done_ok(p, r)
                for p, r in zip(predicted, recorded, strict=True))
    return total / (3 * len(recorded))


def _numbers(state: State) -> list[tuple[int, str, Any]]:
    """The places of a state's values: (entity index, field, value), in order, `type` left out."""
    return [(i, key, value) for i, entity in enumerate(state) for key, value in entity.items() if key != "type"]


def state_fraction(predicted: State | None, recorded: State, tol: Tolerance = CWMB, whole: bool = False) -> float:
    """The fraction of the recorded next state's values the prediction matches, each by itself
    (`whole`: the state is one value, matched whole)."""
    if predicted is None:
        return 0.0
    if whole:
        return float(state_difference(predicted, recorded, tol).equal)
    places = _numbers(recorded)
    if not places:
        return float(state_difference(predicted, recorded, tol).equal)
    hits = 0
    for i, key, value in places:
        if i < len(predicted) and isinstance(predicted[i], dict) and key in predicted[i]:
            p = predicted[i][key]
            if isinstance(p, (dict, list)) or isinstance(value, (dict, list)):
                hits += state_difference([{"v": p}], [{"v": value}], tol).equal
            else:
                hits += close(p, value, tol)
    return hits / len(places)


def code_accuracy(predicted: Sequence[Predicted], recorded: Sequence[Recorded], *, state_tol: Tolerance = CWMB,
                  reward_tol: Tolerance = CWMB_REWARD, whole_state: bool = False) -> float:
    """The released code's variant (see the module docstring). `whole_state`: the observation is
    one number (a Discrete space that wc decodes into fields), credited whole."""
    _check(predicted, recorded)
    counts = Counter(r.reward for r in recorded)
    weighted = weights = 0.0
    for p, r in zip(predicted, recorded, strict=True):
        reward_ok, done_ok = _reward_ok(p, r, reward_tol), _done_ok(p, r)
        if r.ended:
            score = 0.5 * reward_ok + 0.5 * done_ok
        else:
            score = (state_fraction(p.next_state, r.next_state, state_tol, whole_state) + reward_ok + done_ok) / 3
        weight = 1.0 / counts[r.reward]
        weighted += weight * score
        weights += weight
    return weighted / weights


def accuracy(predicted: Sequence[Predicted], recorded: Sequence[Recorded], *, state_tol: Tolerance = CWMB,
             reward_tol: Tolerance = CWMB_REWARD, whole_state: bool = False) -> Accuracy:
    """Both forms and their parts."""
    _check(predicted, recorded)
    n = len(recorded)
    pairs = list(zip(predicted, recorded, strict=True))
    return Accuracy(
        paper=paper_accuracy(predicted, recorded, state_tol=state_tol, reward_tol=reward_tol),
        code=code_accuracy(predicted, recorded, state_tol=state_tol, reward_tol=reward_tol, whole_state=whole_state),
        transitions=n,
        states=sum(_state_ok(p, r, state_tol) for p, r in pairs) / n,
        rewards=sum(_reward_ok(p, r, reward_tol) for p, r in pairs) / n,
        dones=sum(_done_ok(p, r) for p, r in pairs) / n)
