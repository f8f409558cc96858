"""wc._core.tolerance: CWMB's allclose for numbers, exactness for everything discrete, and the places a
prediction is wrong."""
import math

import pytest

from wc._core.tolerance import CWMB, EXACT, Tolerance, close, difference, error, state_difference
from wc.errors import InvalidInput


def test_atol_governs_small_values_and_rtol_large_ones():
    tol = Tolerance(rtol=1e-5, atol=1e-5)
    assert close(0.0, 1e-5, tol) and close(1e-5, 0.0, tol)
    assert not close(0.0, 1.01e-5, tol)
    # 1000 allows 1e-5 + 1e-2
    assert close(1000.01, 1000.0, tol)
    assert not close(1000.011, 1000.0, tol)
    only_atol = Tolerance(rtol=0.0, atol=0.1)
    assert close(1000.09, 1000.0, only_atol) and not close(1000.11, 1000.0, only_atol)
    only_rtol = Tolerance(rtol=0.1, atol=0.0)
    assert close(1099.0, 1000.0, only_rtol) and not close(1101.0, 1000.0, only_rtol) and not close(1e-9, 0.0, only_rtol)


def test_the_recorded_value_is_the_reference():
    tol = Tolerance(rtol=0.5, atol=0.0)
    assert close(1.0, 2.0, tol)        # |1 - 2| <= 0.5 * |2|
    assert not close(2.0, 1.0, tol)    # |2 - 1| >  0.5 * |1|


def test_ints_are_exact_whatever_the_tolerance():
    loose = Tolerance(rtol=1.0, atol=10.0)
    assert close(3, 3, loose) and not close(3, 4, loose)
    assert close(1, 1.0, loose) and close(1.0, 1, loose)
    assert not close(1.000001, 1, loose) and not close(1, 1.5, loose)
    assert close(10**400, 10**400) and not close(10**400, 10**400 + 1)
    assert not close(10**400, math.inf)


def test_bools_only_match_bools():
    assert close(True, True) and close(False, False)
    assert not close(True, False)
    assert not close(True, 1) and not close(1, True) and not close(False, 0.0)


def test_nan_inf_and_negative_zero():
    nan, inf = math.nan, math.inf
    assert close(nan, nan) and not close(nan, 0.0) and not close(0.0, nan)
    assert close(inf, inf) and close(-inf, -inf)
    assert not close(inf, -inf) and not close(inf, 1e308) and not close(1e308, inf)
    assert close(-0.0, 0.0, EXACT) and close(0.0, -0.0, EXACT)
    assert error(nan, nan) == 0.0 and error(nan, 1.0) == math.inf and error(inf, -inf) == math.inf
    assert error(-0.0, 0.0) == 0.0
    assert error(10**400, 1.0) == math.inf


def test_exact_tolerance_requires_equal_floats():
    assert close(0.1, 0.1, EXACT)
    assert not close(0.1, math.nextafter(0.1, 1.0), EXACT)
    assert EXACT.describe() == "numbers must be equal"
    assert "1e-05" in CWMB.describe()


def test_strings_and_none_are_exact():
    assert close("a", "a") and not close("a", "b")
    assert close(None, None) and not close(None, 0) and not close(0.0, None)
    assert not close("1", 1)


@pytest.mark.parametrize("bad", [-1e-9, math.nan, math.inf, -math.inf, True, "0.1", None])
def test_a_bad_tolerance_is_a_clear_error(bad):
    for field in ("rtol", "atol"):
        with pytest.raises(InvalidInput, match=f"tolerance {field} must be a"):
            Tolerance(**{field: bad})


def test_a_tolerance_of_zero_and_ints_are_valid():
    assert Tolerance(rtol=0, atol=1) == Tolerance(rtol=0.0, atol=1.0)


def test_state_difference_finds_each_field_out_of_tolerance_and_the_largest_error():
    recorded = [{"type": "Observation", "x": 1.0, "v": -0.5, "n": 3, "flag": True}]
    same = state_difference([dict(recorded[0], x=1.0 + 5e-6)], recorded)
    assert same.equal and same.errors == ()
    assert same.max_path == "state[0].x" and same.max_error == pytest.approx(5e-6)
    wrong = state_difference([{"type": "Observation", "x": 1.1, "v": -0.5, "n": 4, "flag": False}], recorded)
    assert not wrong.equal
    assert [e.path for e in wrong.errors] == ["state[0].x", "state[0].n", "state[0].flag"]
    assert wrong.errors[0].predicted == 1.1 and wrong.errors[0].recorded == 1.0
    assert wrong.errors[0].error == pytest.approx(0.1)
    assert wrong.max_path == "state[0].flag" and wrong.max_error == math.inf   # not comparable numbers
    assert wrong.errors[2].to_json()["error"] is None


def test_structure_must_match():
    recorded = [{"type": "Observation", "x": 1.0}]
    assert not state_difference([], recorded).equal
    assert state_difference([], recorded).errors[0].path == "len(state)"
    extra = state_difference(recorded + [{"type": "Observation", "x": 2.0}], recorded)
    assert [e.path for e in extra.errors] == ["len(state)"]
    renamed = state_difference([{"type": "Observation", "y": 1.0}], recorded)
    assert renamed.errors[0].path == "state[0].keys()"
    assert renamed.errors[0].predicted == ["type", "y"]
    other_class = state_difference([{"type": "Agent", "x": 1.0}], recorded)
    assert [e.path for e in other_class.errors] == ["state[0].type"]
    assert not difference([1.0], 1.0).equal and not difference({"a": 1}, [1]).equal


def test_nested_lists_compare_item_by_item():
    recorded = {"type": "Observation", "xs": [[0.0, 1.0], [2.0, math.nan]]}
    assert difference({"type": "Observation", "xs": [[1e-6, 1.0], [2.0, math.nan]]}, recorded).equal
    wrong = difference({"type": "Observation", "xs": [[0.0, 1.0], [2.5, math.nan]]}, recorded, path="e")
    assert [e.path for e in wrong.errors] == ["e.xs[1][0]"]
    short = difference({"type": "Observation", "xs": [[0.0], [2.0, math.nan]]}, recorded, path="e")
    assert [e.path for e in short.errors] == ["len(e.xs[0])"]


def test_rewards_compare_as_numbers():
    assert difference(-1.0000001, -1.0, path="reward").equal
    assert not difference(-1.1, -1.0, path="reward").equal
    assert difference(1, 1.0).max_error == 0.0
