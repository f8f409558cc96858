"""`wc fit`: a program synthesised and refined from recorded transitions alone (CWMB's CartPole
data, scripted LLM answers, a real SQLite store): it fits, takes no environment step, records
its dataset (lineage shows it), and `wc learn --from-program` continues from it online."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.helpers import keys_of, replaced, run_wc
from support.helpers import llm_settings as settings
from typer.testing import CliRunner

from wc._api import LearnConfig, learn
from wc._run.fit import FitConfig, fit
from wc._store import Store
from wc.cli.main import app
from wc.testing import Reply, answer

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
FIXTURES = Path(__file__).parent / "fixtures"
CARTPOLE = (FIXTURES / "cartpole_model.py").read_text()
WRONG = replaced(CARTPOLE, "FORCE = 10.0", "FORCE = 12.0", 1)  # the cart's velocity comes out wrong


async def test_a_correct_program_fits_cwmb_data_without_an_env_step(fake_llm, db_url):
    requests = []

    def script(request, n):
        requests.append(request)
        return Reply(answer(CARTPOLE))
    server = fake_llm(script)
    result = await fit(FitConfig(env="CartPole-v1", data="cwmb", max_llm_calls=4), settings(server, db_url))
    assert result.fits and result.run.status == "finished"
    assert result.explained == result.transitions > 100
    assert result.run.llm_calls == 1 and result.run.env_steps == 0 and result.run.episodes == 0
    assert result.run.best_program_id == result.program_id
    assert result.dataset.format == "jsonl" and result.dataset.data_env_id == "CartPole-v1"
    system = requests[0]["messages"][0]["content"]
    assert "<documentation>" not in system  # data only unless asked
    store = await Store.open(db_url)
    try:
        assert (await store.runs.get(result.run.id)).dataset_id == result.dataset.id
        assert (await store.datasets.of_program(result.program_id)).id == result.dataset.id
        graph = await store.programs.lineage(result.program_id)
        assert graph.nodes[result.program_id]["dataset"] == result.dataset.id
    finally:
        await store.close()
    again = await fit(FitConfig(env="CartPole-v1", data="cwmb", max_llm_calls=4), settings(server, db_url))
    assert again.dataset.id == result.dataset.id  # imported once


async def test_a_wrong_program_is_repaired_from_the_differences_shown(fake_llm, db_url):
    def script(request, n):
        user = request["messages"][-1]["content"]
        return Reply(answer(CARTPOLE if "outside the tolerance" in user else WRONG))
    server = fake_llm(script)
    result = await fit(FitConfig(env="CartPole-v1", data="cwmb", max_llm_calls=6, concurrency=1),
                       settings(server, db_url))
    assert result.fits and result.run.llm_calls == 2 and result.run.programs == 2
    store = await Store.open(db_url)
    try:
        program = await store.programs.get(result.program_id)
        assert program.origin == "repair_transition" and len(program.parents) == 1
    finally:
        await store.close()


async def test_docs_put_the_environments_documentation_in_the_request(fake_llm, db_url):
    requests = []

    def script(request, n):
        requests.append(request)
        return Reply(answer(CARTPOLE))
    server = fake_llm(script)
    result = await fit(FitConfig(env="CartPole-v1", data=str(FIXTURES / "cwmb" / "CartPole-v1.jsonl"),
                                 describe="docs"), settings(server, db_url))
    assert result.fits
    system = requests[0]["messages"][0]["content"]
    assert "<documentation>" in system and "## Observation Space" in system and "## Episode End" in system
    assert "Version History" not in system and "## Arguments" not in system


async def test_learn_continues_online_from_a_fitted_program(fake_llm, db_url):
    server = fake_llm(lambda request, n: Reply(answer(CARTPOLE)))
    fitted = await fit(FitConfig(env="CartPole-v1", data=str(FIXTURES / "cwmb" / "CartPole-v1.jsonl")),
                       settings(server, db_url))
    online = await learn(LearnConfig(env="CartPole-v1", from_program=fitted.program_id, max_llm_calls=0, episodes=1,
                                     max_steps=5), settings(server, db_url))
    assert online.status == "finished" and online.env_steps == 5
    store = await Store.open(db_url)
    try:
        programs = await store.programs.find(run_id=online.id)
        assert programs[0].origin == "transfer" and programs[0].parents == [fitted.program_id]
        assert (await store.runs.get(online.id)).dataset_id is None
    finally:
        await store.close()


@pytest.mark.parametrize("args, said", [
    (["--env", "CartPole-v1", "--data", "missing.jsonl"], "missing.jsonl"),
    (["--env", "NoSuchEnv-v9", "--data", "cwmb"], "NoSuchEnv-v9"),
    (["--env", "CartPole-v1", "--data", str(FIXTURES / "cwmb" / "Pendulum-v1.jsonl")], "line 1"),
    (["--env", "CartPole-v1", "--data", "cwmb", "--describe", "pictures"], "--describe"),
])
def test_bad_input_is_one_line(tmp_path, args, said):
    done = CliRunner().invoke(app, ["fit", *args, "--db", f"sqlite:///{tmp_path / 'wc.db'}", "--max-llm-calls", "0"],
                              env={"WC_DB": None, "OPENAI_API_KEY": None})
    assert done.exit_code == 2, done.output
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and said in lines[0], done.output


def test_a_fit_from_the_command_line_prints_its_result_as_json(fake_llm, tmp_path):
    """The whole command as a user runs it, in a process of its own: --json on stdout, the
    progress on stderr."""
    server = fake_llm(lambda request, n: Reply(answer(CARTPOLE)))
    done = run_wc("fit", "--env", "CartPole-v1", "--data", str(FIXTURES / "cwmb" / "CartPole-v1.jsonl"), "--json",
                  "--db", f"sqlite:///{tmp_path / 'wc.db'}",
                  env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url, "WC_MODEL": "test-model"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["fits"] and result["run"]["env_steps"] == 0 and result["dataset"]["format"] == "jsonl"
    assert set(result) == keys_of("Fit") and set(result["dataset"]) == keys_of("Dataset")
    assert set(result["run"]) == keys_of("Run", details=True)
    shown = CliRunner().invoke(app, ["programs", "lineage", str(result["program_id"]), "--db",
                                     f"sqlite:///{tmp_path / 'wc.db'}"], env={"WC_DB": None})
    assert "data: dataset 1 (CartPole-v1.jsonl)" in shown.stdout, shown.output
    assert "dataset 1: CartPole-v1.jsonl" in done.stderr and "fits every transition" in done.stderr


async def test_an_interrupted_fit_resumes_from_the_programs_it_stored(fake_llm, db_url):
    from wc._run.fit import resume

    def stop(event):
        if event.kind == "candidate":
            raise RuntimeError("stopped here")  # a failure wc did not foresee: the run is kept, resumable
    server = fake_llm(lambda request, n: Reply(answer(WRONG)))
    failed = await fit(FitConfig(env="CartPole-v1", data=str(FIXTURES / "cwmb" / "CartPole-v1.jsonl"),
                                 max_llm_calls=4, concurrency=1), settings(server, db_url), on_event=stop)
    assert failed.run.status == "failed" and failed.run.failure == "internal" and failed.run.programs == 1

    def script(request, n):
        return Reply(answer(CARTPOLE if "outside the tolerance" in request["messages"][-1]["content"] else WRONG))
    server = fake_llm(script)
    summary = await resume(failed.run.id, settings(server, db_url))
    # the first call counts against the budget: REx went on from the stored program with 3 left (the same
    # wrong answer to a scratch request is the same program)
    assert summary.status == "finished" and 2 <= summary.llm_calls <= 4 and summary.programs == 2
    assert summary.env_steps == 0 and summary.config["agent"] == "fit"
    store = await Store.open(db_url)
    try:
        best = await store.programs.get(summary.best_program_id)
        assert best.fit == 1.0 and best.origin == "repair_transition"
    finally:
        await store.close()


async def test_a_minari_dataset_made_here_is_fitted(fake_llm, db_url, tmp_path, monkeypatch):
    from test_datasets import minari_dataset

    minari_dataset(tmp_path, episodes=2)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    server = fake_llm(lambda request, n: Reply(answer(CARTPOLE)))
    result = await fit(FitConfig(env="CartPole-v1", data="minari:cartpole/random-v0"), settings(server, db_url))
    assert result.fits and result.dataset.format == "minari" and result.dataset.location == "cartpole/random-v0"


async def test_learn_puts_the_documentation_in_the_prompt_when_asked(fake_llm, db_url):
    requests = []

    def script(request, n):
        requests.append(request)
        return Reply(answer(CARTPOLE))
    server = fake_llm(script)
    summary = await learn(LearnConfig(env="CartPole-v1", describe="docs", episodes=1, max_steps=12, min_transitions=5,
                                      max_llm_calls=1), settings(server, db_url))
    assert summary.status == "finished" and requests
    system = requests[0]["messages"][0]["content"]
    assert "<documentation>" in system and "## Action Space" in system and "Version History" not in system


async def test_eval_plays_a_program_fitted_to_cwmbs_taxi_data(fake_llm, db_url):
    from wc._api import evaluate

    server = fake_llm(lambda request, n: Reply(answer((FIXTURES / "taxi_model.py").read_text())))
    fitted = await fit(FitConfig(env="Taxi-v3", data=str(FIXTURES / "cwmb" / "Taxi-v3.jsonl")),
                       settings(server, db_url))
    assert fitted.fits and fitted.run.env == "Taxi-v4"  # CWMB's Taxi-v3 is made by gymnasium's Taxi-v4
    report = await evaluate("Taxi-v4", settings(server, db_url), from_program=fitted.program_id, episodes=2)
    # both games end by the drop-off (Taxi's limit is 200 steps), without an LLM call; a game from a far start
    # is optimal below the threshold of 8 (a mean over episodes), so it is not counted won
    assert all(g.steps < 200 for g in report.games) and any(g.won for g in report.games)
    assert report.run.llm_calls == 0


async def test_a_fit_and_its_dataset_are_stored_under_the_environments_arguments(fake_llm, db_url):
    """A variant made with gymnasium arguments (Pendulum with another g) is its own environment:
    its fit and its imported data are stored under `Pendulum-v1(g=9.81)`, as a learning run's
    are, never beside the default Pendulum's."""
    from wc import envs

    server = fake_llm(None)
    data = str(FIXTURES / "cwmb" / "Pendulum-v1.jsonl")
    variant = {"env_kwargs": {"g": 9.81}}
    result = await fit(FitConfig(env="Pendulum-v1", data=data, env_options=variant, max_llm_calls=0),
                       settings(server, db_url))
    assert result.run.env == "Pendulum-v1(g=9.81)" and result.dataset.environment == "Pendulum-v1(g=9.81)"
    plain = await fit(FitConfig(env="Pendulum-v1", data=data, max_llm_calls=0), settings(server, db_url))
    assert plain.run.env == plain.dataset.environment == "Pendulum-v1" and plain.dataset.id != result.dataset.id
    adapter = envs.make("Pendulum-v1", env_kwargs={"g": 9.81})
    store = await Store.open(db_url)
    try:
        assert await envs.record_environment(store, adapter) == (await store.runs.get(result.run.id)).environment_id
    finally:
        await store.close()
        adapter.close()


async def test_a_cost_limit_without_a_price_is_refused_before_the_fit_is_stored(fake_llm, db_url, monkeypatch):
    """As `wc learn` refuses it: a limit that cannot be kept is a configuration error, and no run is stored."""
    from wc.errors import ConfigError

    server = fake_llm(lambda request, n: Reply(answer(CARTPOLE)))
    config = FitConfig(env="CartPole-v1", data="cwmb", max_llm_calls=2, max_cost_usd=0.05)
    with pytest.raises(ConfigError, match="needs a price for 'test-model'"):
        await fit(config, settings(server, db_url))
    store = await Store.open(db_url)
    try:
        assert await store.runs.summaries() == [] and not server.requests
    finally:
        await store.close()
    monkeypatch.setenv("WC_PRICES", '{"test-model": [2.5, 10.0]}')
    result = await fit(config, settings(server, db_url))
    assert result.fits and result.run.cost_usd is not None and result.run.cost_usd <= 0.05
