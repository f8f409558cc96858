"""Evaluation values: fit, optimism and REx's score, on hand-made results."""
from __future__ import annotations

from wc._planning.result import PlanResult
from wc._sandbox.evaluation import Evaluation, Optimism, score


def found() -> PlanResult:
    return PlanResult(True, ["go"], status="found")


def exhausted() -> PlanResult:
    return PlanResult(False, status="exhausted")


def budget() -> PlanResult:
    return PlanResult(False, status="budget")


def broken() -> PlanResult:
    return PlanResult(False, status="error")


def test_fit_counts_transitions_both_functions_explain():
    e = Evaluation("oowoe", "oeooo")
    assert e.n == 5 and e.explained == 2 and e.fit == 2 / 5 and not e.fits
    assert e.failing("transition") == [2, 4] and e.failing("reward") == [1]
    assert e.passing() == [0, 3]
    perfect = Evaluation("ooo", "ooo")
    assert perfect.fits and perfect.fit == 1.0 and perfect.explained == 3 and perfect.passing() == [0, 1, 2]
    assert perfect.failing("transition") == [] and perfect.failing("reward") == []


def test_no_data_fits_and_a_program_that_does_not_load_never_does():
    empty = Evaluation("", "")
    assert empty.fit == 1.0 and empty.fits and empty.n == 0
    unloadable = Evaluation("", "", load_failure={"kind": "syntax"})
    assert unloadable.fit == 0.0 and not unloadable.fits
    spoiled = Evaluation("oo", "oo", load_failure={"kind": "syntax"})
    assert spoiled.fit == 0.0 and not spoiled.fits  # whatever its marks say


def test_failed_marks_everything_an_error_and_keeps_one_detail():
    failure = {"kind": "timeout", "message": "too slow"}
    e = Evaluation.failed(4, failure)
    assert (e.transition, e.reward) == ("eeee", "eeee")
    assert list(e.failures) == [3]  # one example, the last, for the repair prompt
    assert e.failures[3] == {"transition_error": failure, "reward_error": failure}
    assert e.load_failure is failure and e.fit == 0.0
    assert e.error_counts() == {"timeout": 2}
    none = Evaluation.failed(0, failure)
    assert none.failures == {} and none.n == 0 and not none.fits


def test_error_counts_by_kind_over_both_functions():
    e = Evaluation("eeo", "oee", failures={
        0: {"transition_error": {"kind": "exception"}},
        1: {"transition_error": {"kind": "timeout"}, "reward_error": {"kind": "exception"}},
        2: {"reward_error": {"kind": "exception"}, "other": {"kind": "ignored"}},
    })
    assert e.error_counts() == {"exception": 3, "timeout": 1}
    assert Evaluation("oo", "oo").error_counts() == {}


def test_optimism_tells_refuted_from_undecided():
    o = Optimism([found(), exhausted(), budget(), broken(), found()])
    assert (o.ok, o.refuted, o.undecided) == (2, 2, 1)
    assert not o.satisfied and not o.not_refuted
    assert o.describe() == "2/5 (1 undecided)"
    only_budget = Optimism([found(), budget()])
    assert only_budget.not_refuted and not only_budget.satisfied and only_budget.refuted == 0
    assert only_budget.describe() == "1/2 (1 undecided)"
    all_found = Optimism([found(), found()])
    assert all_found.satisfied and all_found.not_refuted and all_found.describe() == "2/2"
    nothing = Optimism([])
    assert nothing.satisfied and nothing.not_refuted and nothing.describe() == "0/0"


def test_score_counts_only_decided_starts():
    e = Evaluation("oooow", "ooooo")  # 4 of 5 explained
    assert score(e, None) == e.fit == 0.8
    assert score(e, Optimism([])) == 0.8
    # a found plan adds a satisfied constraint, an exhausted one a failed constraint, budget nothing
    assert score(e, Optimism([found()])) == 5 / 6
    assert score(e, Optimism([exhausted()])) == 4 / 6
    assert score(e, Optimism([budget()])) == 4 / 5
    assert score(e, Optimism([found(), exhausted(), budget()])) == 5 / 7
    assert score(Evaluation("", ""), Optimism([budget()])) == 1.0  # nothing decided at all
    assert score(Evaluation("", ""), Optimism([exhausted()])) == 0.0


def test_failed_with_one_transition_keeps_its_detail():
    failure = {"kind": "exception", "message": "boom"}
    one = Evaluation.failed(1, failure)
    assert list(one.failures) == [0] and one.error_counts() == {"exception": 2}


def test_a_budget_scales_nodes_and_seconds_together():
    from wc._planning.budget import PlanBudget

    b = PlanBudget(planner="bfs", max_nodes=1000, max_depth=50, seconds=4.0)
    assert b.scaled(2.5) == PlanBudget(planner="bfs", max_nodes=2500, max_depth=50, seconds=10.0)
    assert b.scaled(0.5) == PlanBudget(planner="bfs", max_nodes=500, max_depth=50, seconds=2.0)
    assert b.scaled(0.0001).max_nodes == 1 and b.scaled(0.0001).seconds == 4.0 * 0.0001
    assert PlanBudget().scaled(1.0) == PlanBudget()
