import pytest

from wc.synth.code import NoCode, extract_code, merge, program_from_answer

PARENT = '''import math

SPEED = 1

def helper(x):
    return x + SPEED

def transition(state, action):
    return helper(state)

def reward(state, action, next_state, mission):
    return 0.0, False
'''


def test_extracts_python_blocks_in_order_and_ignores_other_languages():
    answer = "Thinking...\n```python\ndef a():\n    return 1\n```\nand\n```bash\nrm -rf /\n```\n```py\nB = 2\n```\n"
    assert extract_code(answer) == "def a():\n    return 1\n\nB = 2\n"


def test_untagged_fence_counts_as_python():
    assert extract_code("```\nX = 1\n```") == "X = 1\n"


def test_no_code_raises():
    with pytest.raises(NoCode):
        extract_code("I think the agent moves forward.")
    with pytest.raises(NoCode):
        extract_code("")


def test_truncated_answer_keeps_the_open_block():
    assert extract_code("Sure:\n```python\ndef transition(s, a):\n    return s\n") == \
        "def transition(s, a):\n    return s\n"


def test_merge_replaces_same_named_definitions_and_keeps_the_rest():
    patch = "def transition(state, action):\n    return helper(helper(state))\n"
    merged = merge(PARENT, patch)
    assert "return helper(helper(state))" in merged
    assert "return helper(state)\n" not in merged
    assert "def helper(x)" in merged and "def reward(" in merged and "SPEED = 1" in merged
    assert merged.index("def helper") < merged.index("def transition") < merged.index("def reward")
    compile(merged, "<merged>", "exec")


def test_merge_adds_new_names_imports_and_replaces_constants():
    patch = "import itertools\nSPEED = 2\n\ndef extra():\n    return 3\n"
    merged = merge(PARENT, patch)
    assert "SPEED = 2" in merged and "SPEED = 1" not in merged
    assert "import itertools" in merged and "def extra" in merged
    assert merged.count("import math") == 1


def test_merge_keeps_decorators_with_their_definition():
    patch = "@staticmethod\ndef helper(x):\n    return x\n"
    merged = merge(PARENT, patch)
    assert "@staticmethod\ndef helper(x):\n    return x" in merged


def test_program_from_answer_merges_into_the_parent_or_stands_alone():
    answer = "```python\ndef reward(state, action, next_state, mission):\n    return 1.0, True\n```"
    assert "return 1.0, True" in program_from_answer(answer, PARENT)
    assert "def helper" in program_from_answer(answer, PARENT)
    assert "def helper" not in program_from_answer(answer, None)
    with pytest.raises(SyntaxError):
        program_from_answer("```python\ndef broken(:\n```", PARENT)
