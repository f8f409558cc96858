"""`wc bench cwmb`: an environment fitted from CWMB's shipped data with scripted answers, its
accuracy in both forms on that data and its normalized return with CWMB's planner (a few short
episodes: a check of the wiring, not CWMB's measure), beside the published rows."""
from __future__ import annotations

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
    assert rows == [(first["run_id"], "cwmb", '{"episodes": 1, "max_steps": 3, "seed": 0}')]
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
