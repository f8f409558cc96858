import pytest

from wc._synth.code import NoCode, extract_code, merge, program_from_answer

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


def test_merge_output_is_pinned_imports_first_then_the_parent_order_then_new_statements():
    patch = "import math\nimport re\nprint('x')\nA = B = 2\n\ndef transition(s, a):\n    return s\n"
    assert merge(PARENT, patch) == (
        "import math\n\nimport re\n\nSPEED = 1\n\ndef helper(x):\n    return x + SPEED\n\n"
        "def transition(s, a):\n    return s\n\ndef reward(state, action, next_state, mission):\n"
        "    return 0.0, False\n\nprint('x')\n\nA = B = 2\n")
    # one statement naming two definitions replaces both, once, where the first of them stood
    assert merge("A = 1\nB = 2\nC = 3\n", "A = B = 9\n") == "A = B = 9\n\nC = 3\n"
    # a repeated statement of the patch is not added twice
    assert merge("x = 1\n", "print(1)\nprint(1)\n").count("print(1)") == 1
    assert merge("x = 1\n", "print(1)\n") == "x = 1\n\nprint(1)\n"


def test_a_whole_program_replaces_a_parent_that_does_not_load():
    broken_parent = "import os\nos.system('x')\n\n" + PARENT
    whole = "```python\ndef transition(state, action):\n    return state\n\n" \
            "def reward(state, action, next_state, mission):\n    return 1.0, True\n```"
    code = extract_code(whole)
    assert program_from_answer(whole, broken_parent, parent_loads=False) == code
    # the same answer to a parent that loads is merged: the parent's helpers stay
    merged = program_from_answer(whole, broken_parent, parent_loads=True)
    assert "def helper" in merged and "os.system" in merged and "return 1.0, True" in merged
    # half a program for a parent that does not load is still merged into it
    half = "```python\ndef reward(state, action, next_state, mission):\n    return 1.0, True\n```"
    assert "def helper" in program_from_answer(half, broken_parent, parent_loads=False)
    only_transition = "```python\ndef transition(state, action):\n    return state\n```"
    assert "def reward(state, action, next_state, mission):\n    return 0.0, False" in \
        program_from_answer(only_transition, broken_parent, parent_loads=False)


def test_defines_needs_every_name_at_top_level():
    from wc._synth.code import defines

    assert defines(PARENT, "transition", "reward") and defines(PARENT, "SPEED")
    assert not defines(PARENT, "transition", "missing") and not defines("def f():\n    def transition(): pass\n",
                                                                        "transition")
    assert defines("x: int = 1\nclass Box: pass\n", "x", "Box")


def test_no_code_says_what_was_expected():
    with pytest.raises(NoCode, match=r"^the answer contains no ```python code block$"):
        extract_code("just prose")
    assert extract_code("```python\n\n\nx = 1\n\n```") == "x = 1\n"
