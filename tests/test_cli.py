"""The `wc` command as users run it: a subprocess, exit codes, one-line errors, JSON output."""
import json
import subprocess
import sys

import pytest
from support.helpers import replaced, run_wc

from wc.testing import Reply, answer

pytestmark = pytest.mark.slow  # whole runs in subprocesses; the fast subset skips them


wc = run_wc  # `python -m wc ARGS` in a clean environment


def assert_one_line_error(result, *needles):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    for needle in needles:
        assert needle in lines[0]


def test_envs_list_and_show_print_the_api_module_verbatim():
    listed = wc("envs", "list")
    assert listed.returncode == 0
    for name in ("minigrid-empty", "minigrid-doorkey", "minigrid-unlock", "minigrid-fetch",
                 "minigrid-unlockpickup", "minigrid-blockedunlockpickup"):
        assert name in listed.stdout
    shown = wc("envs", "show", "minigrid-doorkey")
    from wc.envs.api import load as load_api_module
    assert shown.returncode == 0 and shown.stdout == load_api_module("minigrid", 1).source


def test_any_minigrid_id_and_module_form_work():
    assert wc("envs", "show", "MiniGrid-KeyCorridorS3R1-v0").returncode == 0
    assert wc("envs", "show", "wc.envs.variants:WC-DoorKeySprint-5x5-v0").returncode == 0


@pytest.mark.parametrize("args, env, needles", [
    (["learn", "--env", "no-such-env"], {"OPENAI_API_KEY": "x"}, ["unknown environment"]),
    (["learn", "--env", "nosuchmodule:Foo-v0"], {"OPENAI_API_KEY": "x"}, ["cannot import module"]),
    (["learn", "--env", "minigrid-doorkey"], {}, ["OPENAI_API_KEY"]),
    (["learn", "--env", "minigrid-doorkey", "--db", "bogus://nowhere"], {"OPENAI_API_KEY": "x"},
     ["cannot open database"]),
    (["envs", "show", "no-such-env"], {}, ["unknown environment"]),
    # printed as plain text: brackets in a message are not markup (once eaten, or a MarkupError traceback)
    (["learn", "--env", "[/x]"], {"OPENAI_API_KEY": "x"}, ["unknown environment '[/x]'"]),
    (["envs", "show", "worldcoder[report]"], {}, ["unknown environment 'worldcoder[report]'"]),
])
def test_bad_input_gets_one_clear_line(args, env, needles, tmp_path):
    if "--db" not in args:
        env = dict(env, WC_DB=f"sqlite:///{tmp_path / 'wc.db'}")
    assert_one_line_error(wc(*args, env=env), *needles)


def test_unknown_ids(tmp_path):
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    assert wc("db", "upgrade", "--db", db).returncode == 0
    assert_one_line_error(wc("runs", "show", "42", "--db", db), "no run with id 42")
    assert_one_line_error(wc("programs", "show", "7", "--db", db), "no program with id 7")
    assert_one_line_error(wc("programs", "list", "--run", "3", "--db", db), "no run with id 3")


@pytest.mark.parametrize("args", [["runs", "list"], ["runs", "show", "1"], ["programs", "list"],
                                  ["programs", "show", "1"], ["runs", "export-llm", "1"], ["curriculum", "list"],
                                  ["db", "current"], ["programs", "lineage", "1"], ["sweep", "list"]])
def test_reading_a_store_that_does_not_exist_creates_nothing(args, tmp_path):
    typo = tmp_path / "wc-typo.db"
    result = wc(*args, "--db", f"sqlite:///{typo}")
    assert_one_line_error(result, f"no store at {typo}")
    assert result.returncode == 4 and not typo.exists()


def test_replay_refuses_the_flags_it_would_ignore(tmp_path):
    result = wc("learn", "--env", "minigrid-doorkey", "--replay", "minigrid-doorkey", "--episodes", "3", "--seed", "2",
                "--db", f"sqlite:///{tmp_path / 'wc.db'}")
    assert_one_line_error(result, "--episodes, --seed would be ignored")
    assert result.returncode == 2 and not (tmp_path / "wc.db").exists()


def test_learn_then_inspect_through_the_cli(fake_llm, tmp_path, minigrid_model):
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    server = fake_llm(lambda request, n: Reply(answer(minigrid_model)))
    env = {"OPENAI_API_KEY": "sk-cli-secret", "OPENAI_BASE_URL": server.base_url, "WC_DB": db}
    learned = wc("learn", "--env", "minigrid-doorkey", "--episodes", "4", "--solved", "2",
                 "--max-llm-calls", "3", env=env)
    assert learned.returncode == 0, learned.stderr
    assert "best program" in learned.stdout
    assert "sk-cli-secret" not in learned.stdout + learned.stderr

    shown = wc("runs", "show", "1", "--json", env={"WC_DB": db})
    data = json.loads(shown.stdout)
    for key in ("id", "env", "status", "episodes", "successes", "env_steps", "llm_calls", "prompt_tokens",
                "completion_tokens", "programs", "best_program_id", "wall_seconds", "llm_wait_seconds"):
        assert key in data
    assert data["status"] == "finished" and data["successes"] == 2 and data["llm_calls"] == 1
    assert "sk-cli-secret" not in shown.stdout

    program = wc("programs", "show", str(data["best_program_id"]), env={"WC_DB": db})
    assert program.returncode == 0 and program.stdout == minigrid_model.strip() + "\n"
    listed = wc("runs", "list", env={"WC_DB": db})
    assert "minigrid-doorkey" in listed.stdout and "finished" in listed.stdout
    with open(tmp_path / "wc.db", "rb") as fh:
        assert b"sk-cli-secret" not in fh.read()


def test_python_dash_m_wc_and_help():
    result = wc("--help")
    assert result.returncode == 0 and "learn" in result.stdout


def test_curriculum_lineage_diff_export_and_compare_through_the_cli(fake_llm, tmp_path, minigrid_model):
    import networkx as nx

    db = f"sqlite:///{tmp_path / 'wc.db'}"
    wrong = replaced(minigrid_model, "(agent.direction - 1) % 4", "(agent.direction + 1) % 4")

    def script(request, n):
        user = request["messages"][-1]["content"]
        if "It does not explain" in user:
            return Reply(answer(minigrid_model))
        return Reply(answer(wrong))

    server = fake_llm(script)
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url, "WC_DB": db}
    ran = wc("curriculum", "--envs", "minigrid-empty,minigrid-doorkey", "--episodes", "5", "--solved", "2",
             "--max-llm-calls", "4", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "minigrid-empty" in ran.stdout and "finished" in ran.stdout
    listed = wc("curriculum", "list", env={"WC_DB": db})
    assert "minigrid-empty -> minigrid-doorkey" in listed.stdout

    runs = json.loads(wc("runs", "compare", "1", "2", "--json", env={"WC_DB": db}).stdout)
    assert [r["env"] for r in runs] == ["minigrid-empty", "minigrid-doorkey"]
    assert all(r["steps_to_first_success"] for r in runs)
    final = runs[1]
    programs = wc("programs", "list", "--run", "2", env={"WC_DB": db})
    assert "transfer" in programs.stdout

    graph = nx.node_link_graph(json.loads(wc("programs", "lineage", "1", "--format", "json", env={"WC_DB": db}).stdout),
                               edges="edges")
    assert graph.number_of_nodes() >= 3
    assert any(graph.nodes[n]["origin"] == "transfer" and graph.nodes[n]["env"] == "minigrid-doorkey"
               for n in graph.nodes)
    dot = wc("programs", "lineage", "1", "--format", "dot", env={"WC_DB": db}).stdout
    assert dot.startswith("digraph lineage {") and "->" in dot
    graphml = wc("programs", "lineage", "1", "--format", "graphml", env={"WC_DB": db}).stdout
    assert nx.parse_graphml(graphml).number_of_nodes() == graph.number_of_nodes()
    tree = wc("programs", "lineage", "1", env={"WC_DB": db})
    assert tree.returncode == 0 and "★" in tree.stdout and "transfer" in tree.stdout
    assert_one_line_error(wc("programs", "lineage", "1", "--format", "svg", env={"WC_DB": db}), "unknown format")

    diff = wc("programs", "diff", "1", "2", env={"WC_DB": db}).stdout
    assert diff.startswith("--- program 1") and "(agent.direction - 1) % 4" in diff

    exported = wc("programs", "export", str(final["best_program_id"]), env={"WC_DB": db}).stdout
    script_file = tmp_path / "model.py"
    script_file.write_text(exported + "\nprint(transition([Agent(1, 1, 0, None)], 'left'))\n")
    result = subprocess.run([sys.executable, str(script_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "direction=3" in result.stdout


def test_envs_show_prints_each_domains_api_module():
    from wc.envs.api import load as load_api_module

    for env, (name, version) in {"sokoban-teleport": ("sokoban", 1), "alfworld-pick": ("alfworld", 2)}.items():
        shown = wc("envs", "show", env)
        assert shown.returncode == 0 and shown.stdout == load_api_module(name, version).source


def test_doctor_checks_the_store_the_llm_and_the_extras(fake_llm, tmp_path):
    server = fake_llm(lambda r, n: Reply("OK"))
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    env = {"WC_DB": db, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url, "WC_MODEL": "the-model"}
    before = json.loads(wc("doctor", "--json", env=env).stdout)
    checks = {c["name"]: c for c in before["checks"]}
    assert checks["store"]["ok"] is None and "no store yet" in checks["store"]["detail"]
    assert not (tmp_path / "wc.db").exists()  # the doctor does not create one
    assert checks["LLM"]["ok"] and "the-model" in checks["LLM"]["detail"]
    [request] = server.requests
    assert request["model"] == "the-model" and request["max_tokens"] == 1  # one token, not a whole answer
    assert checks["ALFWorld extra"]["ok"] and checks["bubblewrap"]["ok"]
    assert wc("db", "upgrade", env=env).returncode == 0
    after = {c["name"]: c for c in json.loads(wc("doctor", "--json", env=env).stdout)["checks"]}
    assert after["store"]["ok"] and "schema" in after["store"]["detail"]
    ready = wc("doctor", env=env)
    assert ready.returncode == 0, ready.stderr
    down = wc("doctor", "--json", env=dict(env, OPENAI_BASE_URL="http://127.0.0.1:9/v1"))
    broken = {c["name"]: c for c in json.loads(down.stdout)["checks"]}
    assert broken["LLM"]["ok"] is False and "127.0.0.1:9" in broken["LLM"]["detail"] and broken["LLM"]["fix"]
    assert down.returncode == 5 and json.loads(down.stdout)["exit_code"] == 5  # a run needs the LLM
    no_key = wc("doctor", env={k: v for k, v in env.items() if k != "OPENAI_API_KEY"})
    assert no_key.returncode == 5 and "not ready for a run: LLM (exit 5)" in no_key.stderr
    # --db: the store named there, not WC_DB's; one that cannot be opened comes first (exit 4)
    other = wc("doctor", "--json", "--db", "postgresql+asyncpg://wc@127.0.0.1:9/wc", env=env)
    assert other.returncode == 4, other.stderr
    assert {c["name"]: c for c in json.loads(other.stdout)["checks"]}["store"]["ok"] is False
    # without bubblewrap on the PATH: the sandbox's walls are down (exit 6); the rest works
    import os

    jailless = wc("doctor", "--json", env=dict(env, PATH=os.path.dirname(sys.executable)))
    report = json.loads(jailless.stdout)
    assert {c["name"]: c["ok"] for c in report["checks"]}["bubblewrap"] is False
    assert jailless.returncode == 6 and report["exit_code"] == 6


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    """A good store, a corrupt file, a store from a newer wc, and malformed recordings."""
    import sqlite3

    d = tmp_path_factory.mktemp("bad")
    assert wc("db", "upgrade", "--db", f"sqlite:///{d / 'good.db'}").returncode == 0
    (d / "corrupt.db").write_text("this is not a SQLite file")
    (d / "newer.db").write_bytes((d / "good.db").read_bytes())
    con = sqlite3.connect(d / "newer.db")
    con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    con.commit()
    con.close()
    (d / "not-json.json").write_text("{not json")
    (d / "other.json").write_text('{"format": "something else"}')
    (d / "no-model.json").write_text('{"format": "wc-llm-recording", "env": "minigrid-doorkey", "config": {}, '
                                     '"calls": []}')
    (d / "bad-config.json").write_text('{"format": "wc-llm-recording", "env": "minigrid-doorkey", "model": "m", '
                                       '"config": {"env": "minigrid-doorkey", "episodes": "many"}, "calls": []}')
    return d


BAD = [  # arguments (with {d} the folder above), exit code, what the one line says
    (["runs", "list", "--db", "sqlite:///{d}/corrupt.db"], 4, "file is not a database"),
    (["learn", "--env", "minigrid-doorkey", "--db", "sqlite:///{d}/corrupt.db"], 4, "file is not a database"),
    (["runs", "list", "--db", "sqlite:///{d}/newer.db"], 4, "newer than this wc understands"),
    (["learn", "--env", "minigrid-doorkey", "--db", "sqlite:///{d}/newer.db"], 4, "newer than this wc"),
    (["learn", "--env", "minigrid-doorkey", "--db", "sqlite:///file:{d}/good.db?mode=ro&uri=true"], 4,
     "attempt to write a readonly database"),
    (["runs", "list", "--db", "postgresql://wc:hunter2@127.0.0.1:9/wc"], 4, "cannot open database"),
    (["runs", "list", "--db", "nosuchdriver://x"], 4, "cannot open database"),
    (["learn", "--env", "minigrid-doorkey", "--replay", "{d}/not-json.json"], 2, "cannot read recording"),
    (["learn", "--env", "minigrid-doorkey", "--replay", "{d}/other.json"], 2, "not a wc LLM recording"),
    (["learn", "--env", "minigrid-doorkey", "--replay", "{d}/no-model.json"], 2, "'model' is missing"),
    (["learn", "--env", "minigrid-doorkey", "--replay", "{d}/bad-config.json"], 2, "'episodes' cannot be 'many'"),
    (["learn", "--env", "minigrid-doorkey", "--replay", "{d}/missing.json"], 3, "no recording"),
    (["runs", "show", "abc", "--db", "sqlite:///{d}/good.db"], 2, "Invalid value for 'run'"),
    (["learn", "--env", "minigrid-doorkey", "--episodes", "0"], 2, "--episodes"),
    (["learn", "--env", "minigrid-doorkey", "--no-such-flag"], 2, "No such option"),
    (["learn", "--env", "minigrid-doorkey", "--games", "/nope"], 2, "takes no options"),
    (["learn", "--env", "minigrid-doorkey", "--planner", "astar"], 2, "unknown planner"),
    (["resume", "7", "--db", "sqlite:///{d}/good.db"], 3, "no run with id 7"),
    (["programs", "lineage", "9", "--db", "sqlite:///{d}/good.db"], 3, "no program with id 9"),
    (["programs", "diff", "1", "2", "--db", "sqlite:///{d}/good.db"], 3, "no program with id 1"),
    (["curriculum", "show", "3", "--db", "sqlite:///{d}/good.db"], 3, "no curriculum with id 3"),
    (["envs", "show", "no-such-env"], 2, "unknown environment"),
]


def test_a_read_only_store_can_be_read(bad_inputs):
    listed = wc("runs", "list", "--db", f"sqlite:///file:{bad_inputs}/good.db?mode=ro&uri=true")
    assert listed.returncode == 0, listed.stderr


@pytest.mark.parametrize("args, code, needle", BAD, ids=[" ".join(a[:3]) + f" {i}" for i, (a, _, _) in enumerate(BAD)])
def test_every_command_given_bad_input_says_so_in_one_line(bad_inputs, args, code, needle, tmp_path):
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
           "WC_DB": f"sqlite:///{tmp_path / 'wc.db'}"}
    result = wc(*[a.format(d=bad_inputs) for a in args], env=env)
    assert_one_line_error(result, needle)
    assert result.returncode == code, result.stderr
    assert "hunter2" not in result.stderr


def _stop_with_sigterm(args: list[str], env: dict, when: str, timeout: float = 120,
                       sigint_ignored: bool = False) -> tuple[int, str]:
    """Start `python -m wc ARGS`, send SIGTERM once `when` appears on its stderr (as SLURM, `timeout`
    and `kill` stop a job); its exit code and stderr. `sigint_ignored`: started as a shell starts a
    job in the background (`wc learn ... &` in a script, nohup in one), with SIGINT ignored."""
    import signal
    import time

    from support.helpers import child_env

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    proc = subprocess.Popen([sys.executable, "-m", "wc", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=child_env(env), preexec_fn=ignore_sigint if sigint_ignored else None)
    seen = []
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if when in line or time.monotonic() > deadline:
            break
    assert any(when in line for line in seen), "".join(seen)
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=60)
    return proc.returncode, "".join(seen) + rest


@pytest.mark.parametrize("sigint_ignored", [False, True])
def test_sigterm_stops_a_run_as_ctrl_c_does(fake_llm, tmp_path, minigrid_model, sigint_ignored):
    """SLURM's stop: the run is marked interrupted with its time so far, and the resume hint shown;
    also for a run a shell started in the background, whose SIGINT it ignores."""
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    server = fake_llm(lambda request, n: Reply(answer(minigrid_model), delay=20))  # still thinking when stopped
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url, "WC_DB": db}
    code, err = _stop_with_sigterm(["learn", "--env", "minigrid-doorkey", "--max-llm-calls", "2"], env, "refining",
                                   sigint_ignored=sigint_ignored)
    assert code == 143, err
    assert "terminated (SIGTERM)" in err and "`wc resume 1`" in err and "Traceback" not in err
    run = json.loads(wc("runs", "show", "1", "--json", env={"WC_DB": db}).stdout)
    assert run["status"] == "interrupted" and run["error"] == "interrupted"
    assert run["wall_seconds"] > 0 and run["env_steps"] >= 10


def test_an_evaluation_stopped_by_sigterm_keeps_its_wall_time(tmp_path, minigrid_model):
    import asyncio

    from wc._api import add_program

    db = f"sqlite:///{tmp_path / 'wc.db'}"
    program = asyncio.run(add_program("minigrid-doorkey", minigrid_model, db))
    code, err = _stop_with_sigterm(["eval", "--env", "minigrid-doorkey", "--from-program", str(program),
                                    "--episodes", "200"], {"WC_DB": db}, "episode 1:")
    assert code == 143 and "`wc resume 1`" in err, err
    run = json.loads(wc("runs", "show", "1", "--json", env={"WC_DB": db}).stdout)
    assert run["status"] == "interrupted" and run["wall_seconds"] > 0 and run["episodes"] >= 2
    assert run["model"] is None  # allowed no LLM call, the evaluation asked no model
