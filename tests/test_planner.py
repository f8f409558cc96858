import warnings

from wc import envs
from wc.planning.bfs import bfs
from wc.programs import runtime

# a line world: positions 0..5, goal at 5, a pit at -1 that ends the episode without reward


def line_expand(pos, action):
    nxt = pos + (1 if action == "right" else -1)
    if nxt == 5:
        return nxt, nxt, 1.0, True
    if nxt == -1:
        return nxt, nxt, 0.0, True
    return nxt, nxt, 0.0, False


def test_bfs_finds_the_shortest_plan_with_predictions():
    result = bfs(0, 0, ["left", "right"], line_expand)
    assert result.found
    assert result.actions == ["right"] * 5
    assert [p[0] for p in result.predictions] == ["1", "2", "3", "4", "5"]
    assert result.predictions[-1][1:] == (1.0, True)


def test_bfs_respects_the_node_budget_and_depth():
    result = bfs(0, 0, ["left", "right"], line_expand, max_nodes=4)
    assert not result.found and "budget" in result.reason
    result = bfs(0, 0, ["left", "right"], line_expand, max_depth=3)
    assert not result.found and "depth" in result.reason


def test_bfs_treats_done_without_reward_as_a_dead_end():
    def expand(pos, action):
        return (pos, pos, 0.0, True) if action == "stay" else line_expand(pos, action)
    result = bfs(0, 0, ["stay", "right"], expand)
    assert result.found and result.actions == ["right"] * 5


def test_bfs_skips_edges_whose_expansion_raises():
    seen = []

    def expand(pos, action):
        if action == "left":
            raise ValueError("boom")
        return line_expand(pos, action)
    result = bfs(0, 0, ["left", "right"], expand, on_error=lambda exc, a: seen.append((type(exc), a)))
    assert result.found and result.actions == ["right"] * 5
    assert seen and seen[0] == (ValueError, "left")


def test_unreachable_goal_is_reported_not_found():
    result = bfs(0, 0, ["noop"], lambda s, a: (s, s, 0.0, False))
    assert not result.found and result.nodes == 1


def test_plans_doorkey_in_a_correct_model_and_the_plan_works_in_the_real_env(minigrid_model):
    warnings.simplefilter("ignore")
    adapter = envs.make("minigrid-doorkey")
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), minigrid_model)
    for seed in range(5):
        state, mission = adapter.reset(seed)
        result = runtime.plan(program, state, mission, list(adapter.actions))
        assert result.found, result
        for action, (key, reward, done) in zip(result.actions, result.predictions):
            step = adapter.step(action)
            assert runtime.state_key(step.state) == key
            assert step.terminated == done
        assert step.reward > 0 and step.terminated


def test_a_model_with_no_way_to_the_goal_yields_no_plan(minigrid_model):
    adapter = envs.make("minigrid-doorkey")
    pessimist = minigrid_model.replace(
        "if not _blocking(ahead):", "if not _blocking(ahead) and not any(isinstance(e, Goal) for e in ahead):")
    assert pessimist != minigrid_model
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), pessimist)
    state, mission = adapter.reset(0)
    result = runtime.plan(program, state, mission, list(adapter.actions))
    assert not result.found and result.nodes > 10
