"""`wc bench cwmb`: an environment fitted from CWMB's shipped data with scripted answers, its
accuracy in both forms on that data and its normalized return with CWMB's planner (a few short
episodes: a check of the wiring, not CWMB's measure), beside the published rows."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from support.helpers import keys_of, replaced, sqlite_rows
from typer.testing import CliRunner

from wc.cli.main import app
from wc.testing import Reply, answer

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
FIXTURES = Path(__file__).parent / "fixtures"
CARTPOLE = (FIXTURES / "cartpole_model.py").read_text()


def invoke(server, tmp_path, *args: str):
    env = {"WC_DB": None, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url, "WC_MODEL": "test-model"}
    return CliRunner().invoke(app, ["bench", "cwmb", *args, "--db", f"sqlite:///{tmp_path / 'wc.db'}"], env=env)


def test_the_correct_program_scores_full_accuracy_and_a_normalized_return(fake_llm, tmp_path):
    requests = []

    def script(request, n):
        requests.append(request)
        return Reply(answer(CARTPOLE))
    server = fake_llm(script)
    done = invoke(server, tmp_path, "--envs", "CartPole-v1", "--episodes", "1", "--max-steps", "40", "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    line, = result["envs"]
    assert set(result) == keys_of("Benchmark") and set(line) == keys_of("Benchmark environment")
    assert (line["env"], line["group"], line["fits"], line["llm_calls"]) == ("CartPole-v1", "discrete", True, 1)
    assert line["accuracy_paper"] == 1.0 and line["accuracy_code"] == 1.0 and line["error"] is None
    returns = line["returns"]
    assert returns["planner"] == "mcts-cwmb" and len(returns["R_program"]["returns"]) == 1
    assert line["normalized_return"] is not None and line["normalized_return"] > 0.5
    # what the table reports besides: tokens, wall time, the planner's time per action
    assert line["tokens"] == line["prompt_tokens"] + line["completion_tokens"] > 0 and line["wall_seconds"] > 0
    assert line["planner_seconds_per_action"] > 0 and line["measure_seconds"] > 0
    assert line["planner_seconds_per_action"] == pytest.approx(
        returns["R_program"]["decide_seconds"] / sum(returns["R_program"]["steps"]))
    assert line["accuracy"]["rewards_matched"] == 1.0
    assert result["table_accuracy"] == "accuracy_paper" and result["means"]["discrete"]["accuracy_paper"] == 1.0
    assert [p["llm_calls"] for p in result["published"]] == [10, 10, 50]
    assert "<documentation>" in requests[0]["messages"][0]["content"]  # CWMB gives the docs

    # the stored run set in `wc report --bench`: its table beside the published rows, and its figure
    shown = CliRunner().invoke(app, ["report", "--bench", "--out", str(tmp_path / "report"), "--db",
                                     f"sqlite:///{tmp_path / 'wc.db'}"], env={"WC_DB": None})
    assert shown.exit_code == 0, shown.output
    index = (tmp_path / "report" / "index.md").read_text()
    assert "## CWMB benchmark 1" in index and "test-model, ≤ 10 LLM calls per environment" in index
    assert "| GIF-MCTS, GPT-4-Turbo | 10 | 0.91 / 0.81 | 0.40 / 0.26 |" in index
    assert (f"| CartPole-v1 | discrete | {line['run_id']} | 1 | {line['tokens']:,} | 1.000 | 1.000 | "
            f"{line['normalized_return']:.2f} |") in index
    assert f"| **wc, test-model** | 10 | 1.00 (code's form 1.00) / {line['normalized_return']:.2f} (1 envs) | - |" \
        in index
    assert (tmp_path / "report" / "cwmb-1.png").stat().st_size > 0 and "cwmb-1.png" in shown.output


def test_a_wrong_program_scores_less_and_the_table_stands_beside_the_published_rows(fake_llm, tmp_path):
    wrong = replaced(CARTPOLE, "FORCE = 10.0", "FORCE = 12.0", 1)
    server = fake_llm(lambda request, n: Reply(answer(wrong)))
    data = FIXTURES / "cwmb" / "CartPole-v1.jsonl"
    done = invoke(server, tmp_path, "--envs", "CartPole-v1", "--data", str(data), "--max-llm-calls", "1",
                  "--episodes", "1", "--max-steps", "3")
    assert done.exit_code == 0, done.output
    assert "GIF-MCTS, GPT-4-Turbo" in done.stdout and "wc, test-model (this run)" in done.stdout
    assert "accuracy in the paper's form" in done.stdout
    assert " no " in done.stdout  # it does not fit
    assert " 0.667 " in done.stdout  # every next state wrong, every reward and done right: ⅔ in eq. 2


@pytest.mark.parametrize("args, said", [
    (["--envs", "NoSuch-v0"], "NoSuch-v0"),
    (["--data", "x.jsonl"], "--envs"),
    (["--envs", "CartPole-v1,Taxi-v3", "--data", "x.jsonl"], "--envs"),
    (["--envs", "CartPole-v1", "--data", "missing.jsonl"], "missing.jsonl"),
])
def test_bad_input_is_one_line(fake_llm, tmp_path, args, said):
    done = invoke(fake_llm(None), tmp_path, *args)
    assert done.exit_code == 2, done.output
    lines = [line for line in done.output.splitlines() if line.strip() and not line.startswith("run ")]
    assert lines[-1].startswith("error:") and said in lines[-1], done.output


def test_a_benchmark_run_again_reuses_its_fits(fake_llm, tmp_path):
    """Resumable as sweeps are: the same settings find their fit in the store and ask no LLM again."""
    server = fake_llm(lambda request, n: Reply(answer(CARTPOLE)))
    args = ("--envs", "CartPole-v1", "--episodes", "1", "--max-steps", "3", "--json")
    first = json.loads(invoke(server, tmp_path, *args).stdout)["envs"][0]
    silent = fake_llm(None)  # any request now fails
    again = invoke(silent, tmp_path, *args)
    assert again.exit_code == 0, again.output
    line = json.loads(again.stdout)["envs"][0]
    assert (line["run_id"], line["program_id"], line["llm_calls"], line["fits"]) == (
        first["run_id"], first["program_id"], 1, True)
    assert line["accuracy_paper"] == first["accuracy_paper"] == 1.0
    # the measure too is the stored one: nothing was planned again (the same times, to the digit)
    assert line["returns"] == first["returns"] and line["measure_seconds"] == first["measure_seconds"] > 0
    rows = sqlite_rows(f"sqlite:///{tmp_path / 'wc.db'}", "SELECT run_id, kind, settings FROM measures")
    assert rows == [(first["run_id"], "cwmb", '{"episodes": 1, "max_steps": 3, "seed": 0, "random_episodes": 10}')]
    other = json.loads(invoke(silent, tmp_path, "--envs", "CartPole-v1", "--episodes", "2", "--max-steps", "3",
                              "--json").stdout)["envs"][0]  # other episodes: measured anew, the fit reused
    assert other["run_id"] == first["run_id"] and len(other["returns"]["R_program"]["returns"]) == 2
    fresh = json.loads(invoke(fake_llm(lambda request, n: Reply(answer(CARTPOLE))), tmp_path, *args,
                              "--fresh").stdout)["envs"][0]
    assert fresh["run_id"] != first["run_id"] and fresh["fits"]


async def test_a_fit_the_benchmark_left_failed_is_resumed(fake_llm, db_url):
    from support.helpers import llm_settings

    from wc._run.bench import bench
    from wc._run.fit import FitConfig, fit

    def stop(event):
        if event.kind == "candidate":
            raise RuntimeError("stopped here")
    wrong = replaced(CARTPOLE, "FORCE = 10.0", "FORCE = 12.0", 1)
    server = fake_llm(lambda request, n: Reply(answer(wrong)))
    config = FitConfig(env="CartPole-v1", data="cwmb", max_llm_calls=10, describe="docs")
    failed = await fit(config, llm_settings(server, db_url), on_event=stop)
    assert failed.run.status == "failed"
    server = fake_llm(lambda request, n: Reply(answer(CARTPOLE)))
    result = await bench(["CartPole-v1"], llm_settings(server, db_url), episodes=1, max_steps=3)
    line = result.envs[0]
    assert line.fit is not None and line.fit.run.id == failed.run.id and line.fit.fits
    assert line.accuracy is not None and line.accuracy.paper == 1.0


def test_a_ray_benchmark_needs_postgresql_and_a_cluster_that_answers(fake_llm, tmp_path):
    """As `wc sweep --engine ray`: a store every node reaches, and a cluster at the address, both
    said in one line before anything is fitted."""
    from test_sweep import _free_port

    done = invoke(fake_llm(None), tmp_path, "--envs", "CartPole-v1", "--engine", "ray")
    assert done.exit_code == 2 and "a Ray benchmark needs a store every node reaches: PostgreSQL" in done.output
    done = invoke(fake_llm(None), tmp_path, "--envs", "CartPole-v1", "--engine", "slurm")
    assert done.exit_code == 2 and "unknown engine 'slurm'" in done.output
    nowhere = CliRunner().invoke(app, ["bench", "cwmb", "--envs", "CartPole-v1", "--engine", "ray", "--address",
                                       f"127.0.0.1:{_free_port()}", "--db", "postgresql+asyncpg://wc@127.0.0.1/none"],
                                 env={"WC_DB": None, "OPENAI_API_KEY": "sk-test"})
    assert nowhere.exit_code == 2 and "no Ray cluster answers at 127.0.0.1:" in nowhere.output, nowhere.output
    assert not (tmp_path / "wc.db").exists() or sqlite_rows(f"sqlite:///{tmp_path / 'wc.db'}",
                                                            "SELECT count(*) FROM runs") == [(0,)]


@pytest.mark.slow
@pytest.mark.postgres
def test_a_ray_benchmark_on_a_two_node_cluster_with_postgresql(fake_llm, postgres):
    """Two environments as two Ray tasks on a real two-node cluster (one CPU each): each fitted and
    measured on its node (the fit's run records the node), the lines read back from PostgreSQL."""
    import asyncio

    from support.helpers import run_wc
    from test_sweep import RayCluster

    from wc._store import Store

    taxi = (FIXTURES / "taxi_model.py").read_text()
    server = fake_llm(lambda request, n: Reply(answer(taxi if "Taxi" in json.dumps(request) else CARTPOLE),
                                               delay=0.5))
    url = postgres.new_database()
    env = {"WC_DB": url, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test", "WC_MODEL": "test-model"}
    with RayCluster() as cluster:
        nodes = cluster.nodes()
        done = run_wc("bench", "cwmb", "--envs", "CartPole-v1,Taxi-v3", "--episodes", "1", "--max-steps", "3",
                      "--engine", "ray", "--address", cluster.address, "--json", env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [(e["env"], e["fits"], e["error"]) for e in result["envs"]] == [("CartPole-v1", True, None),
                                                                          ("Taxi-v3", True, None)]
    assert all(e["accuracy_paper"] == 1.0 and e["returns"] is not None for e in result["envs"])

    async def read():
        store = await Store.open(url, create=False)
        try:
            return ([await store.runs.summary(e["run_id"]) for e in result["envs"]],
                    await store.measures.all("cwmb"))
        finally:
            await store.close()
    runs, measures = asyncio.run(read())
    used = {r.node for r in runs}
    assert used <= set(nodes) and len(used) == 2, (used, nodes)  # one CPU each: both nodes played
    assert sorted(m.run_id for m in measures) == sorted(r.id for r in runs)


def test_stored_lines_are_grouped_into_run_sets_the_latest_line_per_environment():
    """`wc report --bench` groups the stored lines by what makes them comparable; an environment
    measured twice in one set shows its latest line; lines stand in CWMB's order; the figure draws
    exactly the numbers of the lines and the published rows, "n/a" as no bar."""
    from datetime import UTC, datetime

    from wc._report.cwmb import bench_sets
    from wc._report.figures import cwmb_figure
    from wc._store import MeasureRecord
    from wc.datasets.cwmb import ENVS, PUBLISHED

    def measure(i, env, group, paper, ret, episodes=10, calls=10):
        line = {"env": env, "group": group, "run_id": i, "accuracy_paper": paper, "accuracy_code": paper / 2,
                "normalized_return": ret, "returns": None, "tokens": 100, "llm_calls": 1}
        return MeasureRecord(i, i, i, "cwmb", {"episodes": episodes, "max_steps": None, "seed": 0}, line,
                             datetime.now(UTC), env, "m", {"max_llm_calls": calls, "describe": "docs", "seed": 0})
    records = [measure(1, "Pendulum-v1", "continuous", 0.6, None), measure(2, "CartPole-v1", "discrete", 0.5, 0.2),
               measure(3, "CartPole-v1", "discrete", 1.0, 0.8), measure(4, "Taxi-v3", "discrete", 0.9, 0.7),
               measure(5, "Taxi-v3", "discrete", 0.1, 0.1, episodes=2)]
    first, second = bench_sets(records, [e.name for e in ENVS])
    assert [line["run_id"] for line in first.lines] == [4, 3, 1]  # Taxi, CartPole, Pendulum: CWMB's order
    assert [line["run_id"] for line in second.lines] == [5] and second.episodes == 2
    means = first.means()
    assert means["discrete"] == {"envs": 2, "accuracy_paper": pytest.approx(0.95),
                                 "accuracy_code": pytest.approx(0.475), "normalized_return": pytest.approx(0.75)}
    assert means["continuous"]["normalized_return"] is None  # n/a is not a zero
    _, figure = cwmb_figure(first, PUBLISHED, 1)
    assert figure.get("environments", "accuracy (paper, eq. 2)").y == [0.9, 1.0, 0.6]
    assert figure.get("environments", "normalized return").y == [0.7, 0.8]  # Pendulum's n/a draws no bar
    assert figure.get("means", "wc, m").y == [pytest.approx(0.95), pytest.approx(0.75), pytest.approx(0.6)]
    assert figure.get("means", "GIF-MCTS, GPT-4-Turbo").y == [0.91, 0.81, 0.40, 0.26]


def test_with_and_without_fitting_params_are_two_lines_each_reused_and_accuracy_alone(fake_llm, tmp_path):
    """Issue 30's comparison: `--no-fit-params` and `--fit-params` fit apart (the choice is part of
    the fit's stored configuration), each found again on its own; `--episodes 0` measures the
    accuracy only and says the return was not measured."""
    server = fake_llm(lambda request, n: Reply(answer(CARTPOLE)))
    data = str(FIXTURES / "cwmb" / "CartPole-v1.jsonl")
    args = ("--envs", "CartPole-v1", "--data", data, "--episodes", "0", "--json")
    without = json.loads(invoke(server, tmp_path, *args, "--no-fit-params").stdout)
    with_ = json.loads(invoke(server, tmp_path, *args).stdout)
    assert (without["fit_params"], with_["fit_params"]) == (False, True)
    a, b = without["envs"][0], with_["envs"][0]
    assert a["run_id"] != b["run_id"] and (a["fit_params"], b["fit_params"]) == (False, True)
    for result, line in ((without, a), (with_, b)):
        assert line["accuracy_paper"] == line["accuracy_code"] == 1.0 and line["error"] is None
        assert (line["return_measured"], line["normalized_return"], line["returns"]) == (False, None, None)
        assert (result["returns_measured"], result["random_episodes"], result["episodes"]) == (False, 0, 0)
    configs = dict(sqlite_rows(f"sqlite:///{tmp_path / 'wc.db'}", "SELECT id, config FROM runs"))
    assert (json.loads(configs[a["run_id"]])["fit_params"], json.loads(configs[b["run_id"]])["fit_params"]) == (
        False, True)
    silent = fake_llm(None)  # both found again, no request
    for flag, line in (("--no-fit-params", a), ("--fit-params", b)):
        again = json.loads(invoke(silent, tmp_path, *args, flag).stdout)["envs"][0]
        assert (again["run_id"], again["program_id"], again["fit_params"]) == (line["run_id"], line["program_id"],
                                                                               line["fit_params"])
    table = invoke(silent, tmp_path, *args[:-1], "--no-fit-params")
    assert table.exit_code == 0, table.output
    assert "not measured" in table.stdout and "PARAMS not fitted" in " ".join(table.stdout.split())
    # `wc report --bench`: two run sets, told apart
    shown = CliRunner().invoke(app, ["report", "--bench", "--out", str(tmp_path / "report"), "--db",
                                     f"sqlite:///{tmp_path / 'wc.db'}"], env={"WC_DB": None})
    assert shown.exit_code == 0, shown.output
    index = (tmp_path / "report" / "index.md").read_text()
    assert "PARAMS not fitted, seed 0, return not measured" in index and "PARAMS fitted, seed 0" in index
    assert "| not measured |" in index


async def test_negative_episodes_and_a_bad_fit_budget_are_refused_before_any_fit():
    from wc._run.bench import bench
    from wc.errors import InvalidInput

    with pytest.raises(InvalidInput, match="--episodes cannot be negative"):
        await bench(["CartPole-v1"], episodes=-1)
    with pytest.raises(InvalidInput, match="fit"):
        await bench(["CartPole-v1"], fit_seconds=0)


MUJOCO = pytest.mark.skipif(importlib.util.find_spec("mujoco") is None,
                            reason="MuJoCo is not installed (pip install 'worldcoder[cwmb-mujoco]')")
STILL = (FIXTURES / "halfcheetah_still_model.py").read_text()


@MUJOCO
def test_a_mujoco_environment_on_a_slice_of_its_cwmb_data(fake_llm, tmp_path, monkeypatch):
    """HalfCheetah-v4 end to end, accuracy only: the documentation gymnasium keeps on v5 in the
    prompt (said so), CWMB's continuous group, and a program that only gets `done` right scoring ⅓
    in the paper's form."""
    monkeypatch.chdir(tmp_path)  # MuJoCo writes a log file into the working directory
    requests = []

    def script(request, n):
        requests.append(request)
        return Reply(answer(STILL))
    data = FIXTURES / "cwmb" / "HalfCheetah-v4.jsonl"
    done = invoke(fake_llm(script), tmp_path, "--envs", "HalfCheetah-v4", "--data", str(data), "--max-llm-calls", "1",
                  "--episodes", "0", "--json")
    assert done.exit_code == 0, done.output
    line, = json.loads(done.stdout)["envs"]
    assert (line["env_id"], line["group"], line["fits"], line["error"]) == ("HalfCheetah-v4", "continuous", False, None)
    assert line["accuracy"]["transitions"] == 12 and line["accuracy"]["dones_matched"] == 1.0
    assert line["accuracy_paper"] == pytest.approx(1 / 3) and line["accuracy_code"] >= 1 / 3
    assert line["return_measured"] is False
    prompt = requests[0]["messages"][0]["content"]
    assert "<documentation>" in prompt and "documents HalfCheetah-v4 only under HalfCheetah-v5" in prompt
    assert "Version History" not in prompt


@MUJOCO
@pytest.mark.slow
def test_a_mujoco_return_with_cwmbs_cem_cut_to_short_episodes(fake_llm, tmp_path, monkeypatch):
    """The three returns on HalfCheetah-v4, episodes of 1 step (CEM's horizon cut to it: 20,000
    model steps a plan, live in the replica and in the program): a check of the wiring, not
    CWMB's measure."""
    monkeypatch.chdir(tmp_path)
    done = invoke(fake_llm(lambda request, n: Reply(answer(STILL))), tmp_path, "--envs", "HalfCheetah-v4", "--data",
                  str(FIXTURES / "cwmb" / "HalfCheetah-v4.jsonl"), "--max-llm-calls", "1", "--episodes", "1",
                  "--max-steps", "1", "--json")
    assert done.exit_code == 0, done.output
    line, = json.loads(done.stdout)["envs"]
    returns = line["returns"]
    assert line["return_measured"] is True and returns["planner"] == "cem-cwmb"  # its horizon cut to the episode
    assert returns["R_program"]["steps"] == returns["R_true"]["steps"] == [1]
    assert len(returns["R_random"]["steps"]) == 10  # CWMB's 10 random episodes, whatever --episodes
    assert returns["R_true"]["mean"] > returns["R_random"]["mean"]  # the live model plans a better first step
