from wc._core.canonical import canonical_state, diff_states, state_hash, state_key

A = {"type": "Agent", "x": 1, "y": 2, "direction": 0, "carrying": None}
K = {"type": "Key", "x": 3, "y": 1, "color": "yellow"}


def test_order_of_entities_and_fields_does_not_matter():
    shuffled = [{"color": "yellow", "y": 1, "x": 3, "type": "Key"}, dict(reversed(list(A.items())))]
    assert state_key([A, K]) == state_key(shuffled)
    assert state_hash([A, K]) == state_hash(shuffled)


def test_values_are_normalised():
    assert state_key([dict(A, x=1.0)]) == state_key([A])
    assert state_key([dict(A, x=1.5)]) != state_key([A])


def test_different_states_differ_and_duplicates_count():
    assert state_key([A, K]) != state_key([A])
    assert state_key([K, K]) != state_key([K])


def test_nested_entities_are_canonical():
    carried = dict(A, carrying={"y": None, "x": None, "type": "Key", "color": "red"})
    again = dict(A, carrying={"type": "Key", "color": "red", "x": None, "y": None})
    assert state_key([carried]) == state_key([again])
    assert canonical_state([carried])[0]["carrying"] == {"color": "red", "type": "Key", "x": None, "y": None}


def test_diff_describes_changes_appearances_and_disappearances():
    moved = dict(A, x=2)
    assert diff_states([A, K], [A, K]) == []
    assert diff_states([A, K], [moved, K]) == ["Agent(carrying=None, direction=0, x=1, y=2) changed x: 1 -> 2"]
    lines = diff_states([A, K], [dict(A, carrying=dict(K, x=None, y=None))])
    assert any("carrying" in line and "Key" in line for line in lines)
    assert any(line.startswith("Key(") and line.endswith("disappeared") for line in lines)
    assert diff_states([A], [A, K])[0].endswith("appeared")


def test_the_key_and_hash_are_pinned_because_the_store_keeps_them():
    """Stored transitions are matched by these strings across versions: the format may not drift."""
    state = [K, dict(A, x=0.1 + 0.2, path=[1.0, (2, 3)])]
    assert state_key(state) == ('[{"carrying":null,"direction":0,"path":[1,[2,3]],"type":"Agent","x":0.3,"y":2},'
                                '{"color":"yellow","type":"Key","x":3,"y":1}]')
    assert state_key([A, K]) == state_key([K, A])
    assert state_hash([A, K]) == "7220778ebda926b47344b8c0c4574a8ba9a89169"
    assert state_key([dict(A, x=1 / 3)]) == state_key([dict(A, x=0.333333333)])
    assert state_key([dict(A, x=1 / 3)]) != state_key([dict(A, x=0.33333333)])  # nine decimals, not eight
    assert state_key([]) == "[]"


def test_canonical_order_is_by_compact_sorted_text():
    b = {"type": "Box", "x": 10}
    a = {"x": 9, "type": "Box"}  # the same type: ordered by the whole entity's sorted text
    assert canonical_state([b, K, a, A]) == [
        {"carrying": None, "direction": 0, "type": "Agent", "x": 1, "y": 2},
        {"color": "yellow", "type": "Key", "x": 3, "y": 1},
        {"type": "Box", "x": 10},
        {"type": "Box", "x": 9},
    ]
    assert list(canonical_state([b])[0]) == ["type", "x"]


def test_values_that_are_not_json_data_are_refused_by_name():
    import pytest

    with pytest.raises(TypeError, match="value of type set is not JSON data"):
        state_key([{"type": "Agent", "seen": {1, 2}}])


def test_a_diff_lists_every_change_of_a_matched_entity_then_what_went_and_came():
    door = {"type": "Door", "x": 1, "y": 1, "open": False}
    before = [A, K, door, {"type": "Ball"}]
    after = [dict(A, x=2, y=3, carrying=dict(K, x=None, y=None)), dict(door, open=True), {"type": "Box", "x": 0}]
    assert diff_states(before, after) == [
        "Agent(carrying=None, direction=0, x=1, y=2) changed carrying: None -> Key(color='yellow', x=None, y=None), "
        "x: 1 -> 2, y: 2 -> 3",
        "Door(open=False, x=1, y=1) changed open: False -> True",
        "Key(color='yellow', x=3, y=1) disappeared",
        "Ball() disappeared",
        "Box(x=0) appeared",
    ]
    assert diff_states([{"x": 1}], [{"x": 2}]) == ["?(x=1) changed x: 1 -> 2"]
    # a field that only one side has is a change too
    assert diff_states([{"type": "T", "a": 1}], [{"type": "T", "b": 1}]) == \
        ["T(a=1) changed a: 1 -> None, b: None -> 1"]
    assert diff_states([{"type": "T", "v": {"k": 1}}], [{"type": "T", "v": {"k": 2}}]) == \
        ["T(v={'k': 1}) changed v: {'k': 1} -> {'k': 2}"]
