from wc.canonical import canonical_state, diff_states, state_hash, state_key

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
