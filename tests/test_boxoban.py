"""Real Sokoban collections: Boxoban's `; N` files and plain XSB collections load as they are, a
level the bounded solver cannot decide is "unknown" (never an error), a malformed one is an error
that names it; and a Boxoban medium level is planned through the sandbox with the reference
model, the program a black box and Sokoban's trusted hint pruning dead positions."""
from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest
from support.helpers import run_wc

from wc import envs
from wc._api import add_program, sokoban_levels
from wc._sandbox import runtime
from wc._sandbox.sandbox import Sandbox
from wc.envs.sokoban import LevelError, SokobanEnv, level_entities, load_levels, read_xsb
from wc.envs.sokoban.adapter import HINT_SOURCE
from wc.envs.sokoban.hints import estimator

FIXTURES = Path(__file__).parent / "fixtures"
BOXOBAN = FIXTURES / "boxoban" / "medium-train-000-first10.txt"  # Apache-2.0, LICENSE beside it
COLLECTION = FIXTURES / "collection.xsb"
MISSION = "push every box onto a target"


@pytest.fixture(scope="module")
def sokoban_model() -> str:
    return (FIXTURES / "sokoban_model.py").read_text()


def test_a_boxoban_file_loads_as_it_is_and_episode_i_plays_level_i():
    levels = load_levels(BOXOBAN)
    assert [lv.title for lv in levels] == [str(i) for i in range(10)]
    assert all(len(lv.boxes) == len(lv.targets) == 4 for lv in levels)
    assert levels[0].player == (4, 8) and levels[0].boxes == {(5, 5), (7, 5), (6, 7), (7, 7)}
    adapter = envs.make("sokoban", levels=str(BOXOBAN))
    # the short name's own step limit (60, for its small levels) does not apply to a file
    assert adapter.max_steps == 120
    assert adapter.env.unwrapped.solvability == [None] * 10  # files are not checked unless asked
    for seed in (0, 3, 9, 10, 23):
        assert adapter.reset(seed)[0] == level_entities(levels[seed % 10])
    assert adapter.game_name(13) == "level 3 (3)"
    adapter.close()


def test_a_plain_xsb_collection_loads():
    levels = load_levels(COLLECTION)
    assert [lv.title for lv in levels] == ["Two rooms", "Started", "One push"]
    two, started, one = levels
    assert len(two.boxes) == 2 and two.player == (2, 3) and (7, 5) not in two.walls  # `_` is floor
    assert started.player in started.targets and len(started.boxes & started.targets) == 1
    assert one.boxes == {(3, 2)} and one.targets == {(2, 2)}
    env = SokobanEnv(str(COLLECTION), check_solvable=True)
    assert [v.verdict for v in env.solvability] == ["solvable"] * 3
    assert [v.moves for v in env.solvability][1:] == [11, 1]


def test_a_level_the_solver_cannot_decide_is_unknown_not_an_error(tmp_path):
    env = SokobanEnv(str(BOXOBAN), check_solvable=True, solver_budget=3_000)
    verdicts = [v.verdict for v in env.solvability]
    assert "unknown" in verdicts and "unsolvable" not in verdicts
    assert env.solvability[0].describe() == "unknown: no solution within the solver's budget of 3000 states"
    env.reset(seed=0)  # and it is played all the same
    listed = sokoban_levels(str(BOXOBAN), check=True, budget=3_000)
    assert [lv.solvability.verdict for lv in listed] == verdicts
    assert (listed[0].boxes, listed[0].width, listed[0].height) == (4, 10, 10)
    shown = run_wc("envs", "levels", str(BOXOBAN), "--check", "--budget", "3000")
    assert shown.returncode == 0, shown.stderr
    assert "unknown: no solution within the solver's budget of 3000 states" in shown.stdout
    assert f"10 levels: {verdicts.count('solvable')} solvable, 0 unsolvable, {verdicts.count('unknown')} unknown" \
        in shown.stdout
    as_json = json.loads(run_wc("envs", "levels", str(COLLECTION), "--json").stdout)
    assert [lv["title"] for lv in as_json] == ["Two rooms", "Started", "One push"]


@pytest.mark.parametrize("change, message", [
    (lambda rows: rows.replace("#.$  .####", "#.$$ .####"), "5 boxes but 4 targets"),
    (lambda rows: rows.replace("#.$  .####", "#.$ %.####"), "unexpected character '%'"),
    (lambda rows: rows.replace("#  #######\n# ####", "   #######\n# ####"), "walls do not enclose the player"),
])
def test_a_malformed_level_is_an_error_that_names_it(tmp_path, change, message):
    text = BOXOBAN.read_text()
    start = text.index("; 1\n")
    end = text.index("; 2\n")
    bad = tmp_path / "bad-boxoban.txt"
    bad.write_text(text[:start] + change(text[start:end]) + text[end:])
    assert bad.read_text() != text
    with pytest.raises(LevelError, match=message) as info:
        load_levels(bad)
    assert f"level 2 (1) of {bad}" in str(info.value)
    with pytest.raises(LevelError, match=message):
        envs.make("sokoban", levels=str(bad))
    failed = run_wc("envs", "levels", str(bad))
    assert failed.returncode == 2 and f"level 2 (1) of {bad}" in failed.stderr and message in failed.stderr


def test_the_hint_marks_dead_positions_and_estimates_pushes():
    def estimate_of(picture: str, then: str | None = None):
        level = read_xsb(picture)[0]
        estimate = estimator(level_entities(level), MISSION)
        if then is None:
            return estimate(level_entities(level))
        cells = {(x, y): ch for y, row in enumerate(then.splitlines()) for x, ch in enumerate(row)}
        boxes = frozenset(c for c, ch in cells.items() if ch in "$*")
        player = next(c for c, ch in cells.items() if ch in "@+")
        return estimate(level_entities(dataclasses.replace(level, boxes=boxes, player=player)))

    room = "#######\n#     #\n# @$ .#\n#     #\n#######"
    assert estimate_of(room) == 2.0                               # two pushes right
    assert estimate_of(room, "#######\n#$    #\n# @   #\n#    .#\n#######") is None   # a corner
    assert estimate_of(room, "#######\n#  $  #\n# @   #\n#    .#\n#######") is None   # a wall without targets
    assert estimate_of(room, "#######\n#     #\n# @  *#\n#     #\n#######") == 0.0
    # apart, two boxes can be pushed home; side by side between dead rows, neither moves again
    pair = "#########\n#       #\n# @$ $..#\n#       #\n#########"
    assert estimate_of(pair) == 5.0                               # matched to distinct targets: 3 + 2
    assert estimate_of(pair, "#########\n#       #\n#  @$$..#\n#       #\n#########") is None
    # odd states a wrong program predicts are read, not trusted
    assert estimator([{"type": "Wall"}, 3], MISSION) is None


async def test_a_boxoban_level_is_planned_through_the_sandbox(sokoban_model):
    adapter = envs.make("sokoban", levels=str(BOXOBAN))
    assert adapter.action_source == HINT_SOURCE
    state, mission = adapter.reset(0)
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1,
                       action_source=adapter.action_source) as sandbox:
        result = await sandbox.plan(sokoban_model, state, mission)  # the default budget
    assert result.found, result.reason
    assert result.planner == "best-first" and result.nodes < 20_000
    assert len(result.actions) <= adapter.max_steps
    for action in result.actions:
        step = adapter.step(action)
    assert step.terminated and step.reward == pytest.approx(10.9)
    # the same program and node budget without the hint: width-based search does not get there
    async with Sandbox(adapter.api, adapter.actions, adapter.reward_mode, workers=1) as blind:
        from wc._planning import PlanBudget
        unguided = await blind.plan(sokoban_model, state, mission, PlanBudget(max_nodes=20_000))
    assert not unguided.found and unguided.undecided and unguided.planner == "bfws"
    adapter.close()


def test_a_hint_that_prunes_everything_never_decides_against_the_program(sokoban_model):
    adapter = envs.make("sokoban", levels=str(COLLECTION))
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), sokoban_model)
    state, mission = adapter.reset(2)
    everything_dead = lambda start, mission: (lambda current: None)  # noqa: E731
    result = runtime.plan(program, state, mission, list(adapter.actions), estimator=everything_dead)
    assert result.found and result.actions == ["left"] and result.planner == "bfws"
    # a hint that fails on the start gives no guidance, and no error
    def broken(start, mission):
        raise KeyError("x")
    result = runtime.plan(program, state, mission, list(adapter.actions), estimator=broken)
    assert result.found and result.first_error is None
    # the hint's own best-first search, on a level of two rooms
    state, mission = adapter.reset(0)
    result = runtime.plan(program, state, mission, list(adapter.actions),
                          estimator=runtime.search_estimator(HINT_SOURCE))
    assert result.found and result.planner == "best-first"
    adapter.close()


async def test_wc_eval_plays_a_level_file(tmp_path, sokoban_model):
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    pid = await add_program("sokoban", sokoban_model, db, levels=str(BOXOBAN))
    done = await asyncio.to_thread(run_wc, "eval", "--env", "sokoban", "--levels", str(BOXOBAN), "--episodes", "3",
                                   "--from-program", str(pid), "--json", env={"WC_DB": db})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [g["game"] for g in report["games"]] == ["level 0 (0)", "level 1 (1)", "level 2 (2)"]
    assert report["won_without_llm"] == 3 and report["run"]["llm_calls"] == 0


@pytest.mark.parametrize("name, seeds", [("sokoban-teleport", range(5)), ("sokoban-3box", range(3))])
def test_the_hint_guides_the_other_sokoban_worlds_too(name, seeds, sokoban_model):
    # gates take the player across: the hint's floor follows them, so no live square is pruned
    adapter = envs.make(name)
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), sokoban_model)
    for seed in seeds:
        state, mission = adapter.reset(seed)
        result = runtime.plan(program, state, mission, list(adapter.actions),
                              estimator=runtime.search_estimator(adapter.action_source))
        assert result.found and result.planner == "best-first", (name, seed, result.reason)
        for action in result.actions:
            step = adapter.step(action)
        assert step.terminated and step.reward > 10
    adapter.close()
