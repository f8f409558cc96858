"""ALFWorld through TextWorld's PDDL engine: wc's shipped games, the symbolic state, a reference
world model that explains the engine exactly and plans to every goal, clear errors for bad games,
and a learning run end to end."""
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers import llm_settings, replaced

from wc import envs
from wc._api import LearnConfig, learn
from wc._core.canonical import state_key
from wc._sandbox import runtime
from wc.envs import alfworld
from wc.errors import GameError, UnknownEnvironment, WcError
from wc.testing import Reply, answer

pytestmark = pytest.mark.alfworld

FIXTURES = Path(__file__).parent / "fixtures"
MODEL = (FIXTURES / "alfworld_model.py").read_text()
SHORT = {"alfworld-pick": "pick_and_place_simple", "alfworld-light": "look_at_obj_in_light",
         "alfworld-clean": "pick_clean_then_place_in_recep", "alfworld-heat": "pick_heat_then_place_in_recep",
         "alfworld-cool": "pick_cool_then_place_in_recep", "alfworld-pick2": "pick_two_obj_and_place"}
ROOT = Path(__file__).parent.parent


def shipped(task_type=None):
    return [p for p in alfworld.shipped_games() if task_type is None or p.name.startswith(task_type)]


def compiled(adapter):
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), MODEL)
    assert program.failure is None, program.failure
    return program


@pytest.fixture(scope="module")
def adapter():
    a = envs.make("alfworld")
    yield a
    a.close()


def engine(path, **infos):
    """The game in TextWorld itself, through textworld.gym and alfworld's wrappers."""
    aw = alfworld.alfworld_modules()
    request = aw.textworld.EnvInfos(**infos)
    return aw.gym.make(aw.gym.register_games([str(path)], request, asynchronous=False, wrappers=list(aw.wrappers)))


@pytest.mark.slow
def test_short_names_select_the_shipped_games_by_task_type():
    names = {s.name: s for s in envs.list_envs() if s.domain == "alfworld"}
    assert set(names) == {"alfworld", *SHORT}
    assert len(shipped()) == 12
    for name, task_type in SHORT.items():
        games = shipped(task_type)
        assert len(games) == 2
        adapter = envs.make(name)
        try:
            assert adapter.games == sorted(games) and adapter.domain == "alfworld"
            assert adapter.reward_mode == "exact" and adapter.api.ref == "alfworld_v2"
            missions = {adapter.reset(seed)[1] for seed in range(2)}
            assert len(missions) == 2  # consecutive seeds visit both games
        finally:
            adapter.close()


@pytest.mark.parametrize("task_type", list(SHORT.values()))
def test_each_shipped_game_is_solvable_by_textworld_itself(task_type):
    for path in shipped(task_type):
        data = json.loads(path.read_text())
        assert data["solvable"] is True and data["walkthrough"]
        assert "UNKNOWN GOAL" not in data["grammar"]
        env = engine(path, won=True, admissible_commands=True, policy_commands=True)
        try:
            intro, infos = env.reset()
            assert "Your task is to: " in intro
            assert infos["policy_commands"], "the engine's planner finds no plan"
            assert not infos["won"]
            for i, command in enumerate(data["walkthrough"]):
                assert command in infos["admissible_commands"], (path.name, command)
                _, score, done, infos = env.step(command)
                last = i == len(data["walkthrough"]) - 1
                assert infos["won"] == last and done == last and score == int(last), (path.name, command)
        finally:
            env.close()


def test_state_is_json_entities_of_the_api_module(adapter, monkeypatch):
    ns = runtime.api_namespace(adapter.api.source)
    assert "from __future__" not in adapter.api.source
    path = shipped("pick_clean_then_place_in_recep")[0]
    argv = ["wc", "learn"]
    monkeypatch.setattr(sys, "argv", argv)
    state, mission = adapter.reset(adapter.order.index(path))
    assert sys.argv is argv and argv == ["wc", "learn"]  # fast-downward's translator replaces it
    assert mission == "put a clean apple in fridge"
    json.dumps(state)
    runtime.decode_state(ns, state)  # every entity has exactly its class's fields
    agent = [e for e in state if e["type"] == "Agent"]
    assert agent == [{"type": "Agent", "location": agent[0]["location"], "holding": None}]
    fridge = next(e for e in state if e["type"] == "Receptacle" and e["kind"] == "fridge")
    assert fridge["name"] == "fridge 1" and fridge["openable"] and not fridge["is_open"]
    assert "apple" in fridge["accepts"] and fridge["accepts"] == sorted(fridge["accepts"])
    apple = next(e for e in state if e["type"] == "Object" and e["kind"] == "apple")
    assert apple["cleanable"] and not apple["is_clean"]
    assert {"type": "InReceptacle", "object": apple["name"], "receptacle": "countertop 1"} in state
    # exploration draws from the engine's admissible commands
    assert "go to fridge 1" in adapter.available_actions() and "look" in adapter.available_actions()
    walkthrough = json.loads(path.read_text())["walkthrough"]
    for command in walkthrough:
        step = adapter.step(command)
    assert (step.reward, step.terminated, step.truncated) == (1.0, True, False)
    apple = next(e for e in step.state if e["type"] == "Object" and e["kind"] == "apple")
    assert apple["is_clean"]
    assert {"type": "InReceptacle", "object": apple["name"], "receptacle": "fridge 1"} in step.state
    with pytest.raises(WcError, match="episode has ended"):
        adapter.step("look")


def test_episodes_are_truncated_at_the_step_limit():
    adapter = envs.make("alfworld-pick", max_steps=3)
    try:
        state, _ = adapter.reset(0)
        steps = [adapter.step("look") for _ in range(3)]
        assert [s.truncated for s in steps] == [False, False, True]
        assert not any(s.terminated for s in steps) and state_key(steps[-1].state) == state_key(state)
        with pytest.raises(WcError, match="episode has ended"):
            adapter.step("look")
    finally:
        adapter.close()


@pytest.fixture(scope="module")
def transitions(adapter):
    """Every shipped game's walkthrough, then random episodes that mix the engine's admissible
    commands with the planner's candidates (which include commands that do nothing)."""
    generate = runtime.action_generator(adapter.action_source)
    rng = random.Random(7)
    out = []

    def record(state, action, step, mission):
        out.append(dict(state=state, action=action, next_state=step.state, reward=step.reward,
                        done=step.terminated, mission=mission))

    for seed, path in enumerate(adapter.order):
        state, mission = adapter.reset(seed)
        for action in json.loads(path.read_text())["walkthrough"]:
            step = adapter.step(action)
            record(state, action, step, mission)
            state = step.state
    episode = 0
    while len(out) < 1000:
        state, mission = adapter.reset(episode)
        episode += 1
        for _ in range(40):
            candidates = generate(state)
            pool = candidates if candidates and rng.random() < 0.5 else list(adapter.available_actions())
            action = rng.choice(pool)
            step = adapter.step(action)
            record(state, action, step, mission)
            state = step.state
            if step.terminated or step.truncated:
                break
    return out


@pytest.mark.slow
def test_reference_model_explains_1000_transitions_exactly(adapter, transitions):
    program = compiled(adapter)
    data = [runtime.Transition.from_json(t) for t in transitions]
    assert len(data) >= 1000
    outcomes = runtime.evaluate(program, data, adapter.reward_mode, call_timeout=0)
    wrong = [(t.action, o.detail) for t, o in zip(data, outcomes, strict=True)
             if (o.transition, o.reward) != ("o", "o")]
    assert not wrong, wrong[:2]
    # the data is varied: wins, every verb with an effect, and commands that do nothing
    assert sum(t.reward == 1.0 and t.done for t in data) >= 12
    effective = {t.action.split()[0] for t in data if state_key(t.state) != state_key(t.next_state)}
    assert effective >= {"go", "open", "close", "take", "move", "heat", "cool", "clean", "use"}
    noops = {t.action.split()[0] for t in data if state_key(t.state) == state_key(t.next_state)}
    assert noops >= {"heat", "cool", "clean", "move", "open", "close"}


@pytest.mark.slow
def test_candidate_actions_cover_every_command_that_changes_the_state(adapter, transitions):
    generate = runtime.action_generator(adapter.action_source)
    changed = [t for t in transitions if state_key(t["state"]) != state_key(t["next_state"])]
    assert len(changed) > 300
    missing = [t["action"] for t in changed if t["action"] not in generate(t["state"])]
    assert not missing, missing[:5]


def test_candidate_actions_survive_odd_predicted_states():
    generate = runtime.action_generator(alfworld.ACTION_SOURCE)
    odd = [None, 3, [], [1, "x"], [{"type": "Agent"}], [{"type": "Agent", "location": None, "holding": 5}],
           [{"type": "Agent", "location": "loc 1", "holding": None},
            {"type": "Receptacle", "name": "desk 1", "location": "loc 1", "openable": "yes"},
            {"type": "Receptacle", "name": None}, {"type": "Object", "name": "pen 1"},
            {"type": "InReceptacle", "object": "pen 1", "receptacle": "desk 1"},
            {"type": "InReceptacle", "object": "ghost 1", "receptacle": "desk 1"}]]
    for state in odd:
        assert isinstance(generate(state), list)
    assert generate(odd[-1]) == []  # nothing pickupable or toggleable, no other receptacle


@pytest.mark.parametrize("task_type", list(SHORT.values()))
def test_planner_solves_each_game_with_the_reference_model(adapter, task_type):
    program = compiled(adapter)
    generate = runtime.action_generator(adapter.action_source)
    for path in shipped(task_type):
        state, mission = adapter.reset(adapter.order.index(path))
        result = runtime.plan(program, state, mission, generate, max_nodes=20_000)
        assert result.found, (path.name, result.reason, result.first_error)
        assert len(result.actions) <= len(json.loads(path.read_text())["walkthrough"])
        steps = [adapter.step(action) for action in result.actions]
        assert steps[-1].terminated and steps[-1].reward == 1.0, (path.name, result.actions)
        assert not any(s.terminated for s in steps[:-1])
        # the model predicted every state on the way
        assert [state_key(s.state) for s in steps] == [p[0] for p in result.predictions]


REAL_SCENES = Path(__file__).parent / "fixtures" / "alfworld"  # six trials of the dataset, one per task type


@pytest.fixture(scope="module")
def real_scenes():
    a = envs.make("alfworld", games=str(REAL_SCENES))
    yield a
    a.close()


@pytest.mark.slow
@pytest.mark.parametrize("index", range(6))
def test_planner_solves_real_dataset_scenes_with_the_reference_model(real_scenes, index):
    """Scenes of the real dataset (dozens of receptacles, its own `put X in/on Y` grammar): the
    planner finds the plan within the default budget, and the game accepts it."""
    adapter = real_scenes
    program = compiled(adapter)
    generate = runtime.action_generator(adapter.action_source)
    state, mission = adapter.reset(index)
    receptacles = [e for e in state if e["type"] == "Receptacle"]
    objects = [e for e in state if e["type"] == "Object"]
    assert len(receptacles) >= 9 and len(objects) >= 20  # a real room: wc's own games have 4 receptacles
    focus = runtime.search_focus(adapter.action_source)  # as the sandbox worker plans
    result = runtime.plan(program, state, mission, generate, time_limit=30, focus=focus)
    assert result.found, (adapter.order[index].parent.name, result.reason, result.first_error)
    steps = [adapter.step(action) for action in result.actions]
    assert steps[-1].terminated and steps[-1].reward == 1.0, (adapter.order[index], result.actions)
    assert not any(s.terminated for s in steps[:-1])
    assert [state_key(s.state) for s in steps] == [p[0] for p in result.predictions]


@pytest.fixture(scope="module")
def observed_scenes():
    a = envs.make("alfworld", games=str(REAL_SCENES), observe="observed")
    yield a
    a.close()


def test_the_observed_mode_shows_only_what_the_agent_has_seen(observed_scenes, real_scenes):
    """Every receptacle from the start, objects once their receptacle is seen, one Unexplored
    entity per receptacle not seen into; the full mode of the same game holds everything."""
    full, mission = real_scenes.reset(0)
    state, same = observed_scenes.reset(0)
    assert same == mission and not [e for e in full if e["type"] == "Unexplored"]
    receptacles = [e for e in full if e["type"] == "Receptacle"]
    assert [e for e in state if e["type"] == "Receptacle"] == receptacles
    runtime.decode_state(runtime.api_namespace(observed_scenes.api.source), state)
    unexplored = {e["receptacle"] for e in state if e["type"] == "Unexplored"}
    assert len(unexplored) == len(receptacles)  # the agent starts where nothing is seen
    assert not [e for e in state if e["type"] in ("Object", "InReceptacle")]
    # go to a receptacle that is not openable and holds something: its contents appear
    inside = {}
    for e in full:
        if e["type"] == "InReceptacle":
            inside.setdefault(e["receptacle"], set()).add(e["object"])
    target = next(r for r in receptacles if not r["openable"] and inside.get(r["name"]))
    step = observed_scenes.step("go to " + target["name"])
    seen = {e["object"] for e in step.state if e["type"] == "InReceptacle" and e["receptacle"] == target["name"]}
    assert seen == inside[target["name"]]
    assert {e["name"] for e in step.state if e["type"] == "Object"} == seen
    assert {"type": "Unexplored", "receptacle": target["name"]} not in step.state
    # an openable one is seen into only once it is open, and stays seen after it is closed
    closed = next(r for r in receptacles if r["openable"] and not r["is_open"])
    step = observed_scenes.step("go to " + closed["name"])
    assert {"type": "Unexplored", "receptacle": closed["name"]} in step.state
    observed_scenes.step("open " + closed["name"])
    step = observed_scenes.step("close " + closed["name"])
    assert {"type": "Unexplored", "receptacle": closed["name"]} not in step.state
    assert seen <= {e["name"] for e in step.state if e["type"] == "Object"}  # remembered


def test_in_the_observed_mode_programs_are_not_held_to_what_they_could_not_see(observed_scenes):
    """The reference model explains observed transitions exactly; objects first seen in a next
    state are not compared (imagined ones neither), but the Unexplored entities are."""
    program = compiled(observed_scenes)
    compare = runtime.comparison(observed_scenes.action_source)
    state, mission = observed_scenes.reset(1)
    rng = random.Random(3)
    data = []
    for _ in range(40):
        action = rng.choice(observed_scenes.available_actions())
        step = observed_scenes.step(action)
        data.append(dict(state=state, action=action, next_state=step.state, reward=step.reward,
                         done=step.terminated, mission=mission))
        state = step.state
        if step.terminated or step.truncated:
            break
    transitions = [runtime.Transition.from_json(t) for t in data]
    def objects(entities):
        return {e["name"] for e in entities if e["type"] == "Object"}

    revealing = [t for t in transitions if objects(t.next_state) - objects(t.state)]
    assert revealing, "no step of the walk revealed anything"
    outcomes = runtime.evaluate(program, transitions, observed_scenes.reward_mode, call_timeout=0, compare=compare)
    assert all(o.transition == "o" and o.reward == "o" for o in outcomes), [o.detail for o in outcomes][:2]
    # without the comparison, the revealed objects would count against it
    plain = runtime.evaluate(program, [runtime.Transition.from_json(t) for t in data], "exact", call_timeout=0)
    assert sum(o.transition != "o" for o in plain) >= len(revealing)
    # a model that imagines an object in what it explores is not wrong for it ...
    last = "    return [e for e in state if not (isinstance(e, Unexplored) and e.receptacle in seen)]"
    imagining = replaced(MODEL, last,
                         "    out = [e for e in state if not (isinstance(e, Unexplored) and e.receptacle in seen)]\n"
                         "    if any(isinstance(e, Unexplored) and e.receptacle in seen for e in state):\n"
                         "        out.append(Object('imagined 1', 'imagined', *[True] * 5, *[False] * 4))\n"
                         "    return out")
    dreamer = runtime.compile_program(runtime.api_namespace(observed_scenes.api.source), imagining)
    assert all(o.transition == "o" for o in runtime.evaluate(dreamer, transitions, "exact", call_timeout=0,
                                                             compare=compare))
    # ... but one that never sees into anything is
    blind = replaced(MODEL, "if not (isinstance(e, Unexplored) and e.receptacle in seen)", "if True")
    blind_program = runtime.compile_program(runtime.api_namespace(observed_scenes.api.source), blind)
    wrong = [o for o in runtime.evaluate(blind_program, transitions, "exact", call_timeout=0, compare=compare)
             if o.transition == "w"]
    assert len(wrong) >= len(revealing)
    assert "expected_state" in wrong[0].detail


def play(adapter, program, index, max_steps=50):
    """An episode as the agent plays it: plan, follow the plan while the world does what the
    program predicted, plan again when it does not (something came into sight)."""
    generate = runtime.action_generator(adapter.action_source)
    hints = dict(focus=runtime.search_focus(adapter.action_source),
                 frontier=runtime.search_frontier(adapter.action_source))
    state, mission = adapter.reset(index)
    steps, explored = 0, 0
    while steps < max_steps:
        result = runtime.plan(program, state, mission, generate, time_limit=30, **hints)
        assert result.found, (adapter.order[index].parent.name, result.reason, result.first_error)
        explored += result.explore
        for action, (key, _, _) in zip(result.actions, result.predictions, strict=True):
            step = adapter.step(action)
            steps += 1
            state = step.state
            if step.terminated:
                return steps, explored
            if state_key(state) != key:
                break
    raise AssertionError(f"{adapter.order[index]} not won in {max_steps} steps")


@pytest.mark.slow
def test_planner_solves_real_scenes_it_must_explore_with_the_reference_model(observed_scenes):
    """The observed mode: the goal is out of sight at the start, so plans explore first, and
    every real scene is won within the step limit."""
    program = compiled(observed_scenes)
    for index in range(len(observed_scenes.order)):
        steps, explored = play(observed_scenes, program, index)
        assert explored >= 1 and steps <= 50


# --------------------------------------------------------------------------- bad input


def game_copy(tmp_path, name="game.tw-pddl", task_type="pick_and_place_simple", **changes):
    data = json.loads(shipped(task_type)[0].read_text())
    data.update(changes)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path, data


def test_bad_game_files_are_clear_errors(tmp_path):
    missing = tmp_path / "nowhere.tw-pddl"
    with pytest.raises(GameError, match="no game file .*nowhere.tw-pddl"):
        envs.make("alfworld", games=str(missing))
    junk = tmp_path / "junk.tw-pddl"
    junk.write_text("{not json")
    with pytest.raises(GameError, match="junk.tw-pddl is not a .tw-pddl game"):
        envs.make("alfworld", games=str(junk))
    path, _ = game_copy(tmp_path, "nogrammar.tw-pddl", grammar=None)
    with pytest.raises(GameError, match="nogrammar.tw-pddl .*has no grammar"):
        envs.make("alfworld", games=str(path))

    _, good = game_copy(tmp_path)
    problem = good["pddl_problem"]
    cases = {
        "unbalanced": (replaced(problem, "(:init", "(:init (", 1),
                       r"malformed PDDL problem: line \d+: '\(' is never closed"),
        "undeclared": (replaced(problem, "    BedType - rtype\n", ""), "uses BedType, which :objects does not declare"),
        "predicate": (replaced(problem, "(pickupable ", "(pickable ", 1), "predicate 'pickable'"),
        "arity": (replaced(problem, "(atLocation agent1 ", "(atLocation ", 1), "has 1 arguments; atLocation takes 2"),
        "nogoal": (problem.split("(:goal")[0] + ")", "has no :goal section"),
    }
    for name, (text, message) in cases.items():
        path, _ = game_copy(tmp_path, f"{name}.tw-pddl", pddl_problem=text)
        with pytest.raises(GameError, match=message) as info:
            envs.make("alfworld", games=str(path))
        assert str(path) in str(info.value)


def test_unsolvable_games_are_clear_errors(tmp_path):
    path, _ = game_copy(tmp_path, "marked.tw-pddl", solvable=False)
    with pytest.raises(GameError, match="marked.tw-pddl is marked unsolvable"):
        envs.make("alfworld", games=str(path))
    # the bed cannot hold a cellphone any more: no plan reaches the goal
    _, good = game_copy(tmp_path)
    problem = replaced(good["pddl_problem"], "(canContain BedType CellPhoneType)", "")
    assert problem != good["pddl_problem"]
    path, _ = game_copy(tmp_path, "stuck.tw-pddl", pddl_problem=problem, solvable=None, walkthrough=None)
    with pytest.raises(GameError, match="stuck.tw-pddl: the goal cannot be reached"):
        envs.make("alfworld", games=str(path))
    # holding the cellphone while it lies on the bed: reachable when deletes are ignored, so only
    # the planner's search shows there is no plan
    cell = re.search(r"(CellPhone_bar_\S+) - object", problem).group(1)
    bed = re.search(r"(Bed_bar_\S+) - receptacle", problem).group(1)
    goal = f"(:goal (and (holds agent1 {cell}) (inReceptacle {cell} {bed})))\n)"
    impossible = good["pddl_problem"].split("(:goal")[0] + goal
    path, _ = game_copy(tmp_path, "impossible.tw-pddl", pddl_problem=impossible, solvable=None)
    with pytest.raises(GameError, match="impossible.tw-pddl: the PDDL planner finds no plan"):
        envs.make("alfworld", games=str(path))
    # a game of one's own without the flag is checked by the engine's planner, then played
    path, _ = game_copy(tmp_path, "mine.tw-pddl", solvable=None, walkthrough=None)
    adapter = envs.make("alfworld", games=str(path))
    try:
        assert adapter.reset(5)[1] == "put a cellphone in bed"
    finally:
        adapter.close()


def test_games_from_folders_and_dataset_splits_follow_alfworlds_loader(tmp_path, monkeypatch):
    split = tmp_path / "data" / "json_2.1.1" / "valid_seen"

    def trial(folder, source, task_type, **changes):
        trial_dir = split / folder / "trial_T2019_000"
        trial_dir.mkdir(parents=True)
        data = json.loads(source.read_text())
        data.update(changes)
        (trial_dir / "game.tw-pddl").write_text(json.dumps(data))
        (trial_dir / "traj_data.json").write_text(json.dumps({"task_type": task_type}))
        return trial_dir / "game.tw-pddl"

    other, heat = shipped("pick_heat_then_place_in_recep")
    assert "Potato" in heat.name and "Mug" in other.name
    kept = trial("pick_heat_then_place_in_recep-Potato-None-DiningTable-1", heat, "pick_heat_then_place_in_recep")
    trial("pick_heat_then_place_in_recep-Mug-None-CoffeeMachine-2", other, "pick_heat_then_place_in_recep",
          solvable=False)
    trial("pick_heat_then_place_in_recep-PotatoSliced-None-DiningTable-3", heat, "pick_heat_then_place_in_recep")
    trial("pick_and_place_with_movable_recep-Mug-Bowl-Cabinet-4", heat, "pick_and_place_with_movable_recep")
    trial("pick_and_place_simple-CellPhone-None-Bed-5", shipped("pick_and_place_simple")[0], "pick_and_place_simple")

    monkeypatch.delenv("ALFWORLD_DATA", raising=False)
    with pytest.raises(GameError, match="ALFWORLD_DATA"):
        envs.make("alfworld-heat", games="valid_seen")
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path / "data"))
    adapter = envs.make("alfworld-heat", games="valid_seen")
    try:
        assert adapter.games == [kept]
        assert adapter.reset(0)[1] == "put a hot potato in diningtable"
    finally:
        adapter.close()
    everything = envs.make("alfworld", games="valid_seen")
    assert len(everything.games) == 2 and kept in everything.games
    with pytest.raises(GameError, match="no split .*valid_unseen.*splits there: valid_seen"):
        envs.make("alfworld", games="valid_unseen")
    with pytest.raises(GameError, match="no solvable game of look_at_obj_in_light"):
        envs.make("alfworld-light", games="valid_seen")
    # a plain folder of games, recursively
    folder = tmp_path / "mine" / "deeper"
    folder.mkdir(parents=True)
    for path in shipped("pick_two_obj_and_place"):
        shutil.copy(path, folder / path.name)
    assert len(envs.make("alfworld-pick2", games=str(tmp_path / "mine")).games) == 2
    with pytest.raises(GameError, match="no playable .tw-pddl game of pick_and_place_simple under"):
        envs.make("alfworld-pick", games=str(tmp_path / "mine"))
    with pytest.raises(UnknownEnvironment, match="takes the options games, max_steps and observe, not level"):
        envs.make("alfworld", level=3)


def run_python(code, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ALFWORLD_DATA"}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


def test_without_the_extra_the_error_names_the_install_command(tmp_path):
    code = (
        "import sys\n"
        "sys.modules['alfworld'] = None  # as if the extra were not installed\n"
        "from wc import envs\n"
        "from wc.errors import UnknownEnvironment\n"
        "assert any(s.name == 'alfworld-heat' for s in envs.list_envs())\n"
        "try:\n"
        "    envs.make('alfworld-heat')\n"
        "except UnknownEnvironment as exc:\n"
        "    print(exc)\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pip install 'worldcoder[alfworld]'" in result.stdout


@pytest.mark.slow
def test_playing_leaves_no_alfworld_cache_or_environment_behind(tmp_path):
    code = (
        "import os\n"
        "from wc import envs\n"
        "adapter = envs.make('alfworld-pick')\n"
        "adapter.reset(0)\n"
        "adapter.step('look')\n"
        "print('ALFWORLD_DATA' in os.environ)\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    assert not (tmp_path / ".cache").exists()


@pytest.mark.slow
def test_shipped_games_are_what_the_generator_builds(tmp_path):
    from wc.envs.alfworld.games import generate

    written = generate.main(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in shipped())
    for path in written:
        assert json.loads(path.read_text()) == json.loads((Path(alfworld.__file__).parent / "games"
                                                           / path.name).read_text()), \
            f"{path.name} differs from what `python -m wc.envs.alfworld.games.generate` builds now"


# --------------------------------------------------------------------------- learning


@pytest.mark.slow
async def test_learns_clean_tasks_end_to_end_and_records_them(fake_llm, db_url):
    wrong = replaced(MODEL, "agent.location = r.location", "agent.location = r.name")
    assert wrong != MODEL
    server = fake_llm(lambda request, n: Reply(answer(wrong if n == 0 else MODEL)))
    config = LearnConfig(env="alfworld-clean", episodes=6, max_llm_calls=6, concurrency=2, solved=3, seed=0)
    settings = llm_settings(server, db_url)
    summary = await learn(config, settings)
    assert summary.status == "finished"
    assert summary.successes >= 3 and all(e.success for e in summary.episode_list[-3:])
    assert summary.llm_calls == len(server.requests) <= 6

    con = sqlite3.connect(db_url.split("///", 1)[1])
    try:
        rows = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        assert rows("select name, domain from environments") == [("alfworld-clean", "alfworld")]
        assert rows("select name, version from api_modules") == [("alfworld", 2)]
        [(n,)] = rows("select count(*) from transitions")
        assert n == summary.env_steps
        missions = {m for (m,) in rows("select distinct mission from transitions")}
        assert missions == {"put a clean apple in fridge", "clean some mug and put it in cabinet"}
        state, action, reward, done = rows("select state, action, reward, done from transitions "
                                           "where reward > 0 order by id limit 1")[0]
        assert {e["type"] for e in json.loads(state)} == {"Agent", "Receptacle", "Object", "InReceptacle"}
        assert action.startswith("move ") and done
        programs = rows("select id, source, fit from programs order by id")
        assert programs[0][1].strip() == wrong.strip() and programs[0][2] < 1.0
        [(best,)] = rows(f"select best_program_id from runs where id = {summary.id}")
        assert best == summary.best_program_id
        [(source, fit)] = rows(f"select source, fit from programs where id = {best}")
        assert "agent.location = r.location" in source and fit == 1.0
        first_prompt = json.loads(rows("select messages from llm_calls order by id limit 1")[0][0])
        assert "class InReceptacle" in first_prompt[0]["content"]  # the API module the LLM read
    finally:
        con.close()
