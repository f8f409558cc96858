"""Fitted constants in the loop (issue 30): `wc fit` and `wc learn` with scripted LLM answers and a
real SQLite store. A program with PARAMS and wrong values fits all the data after one LLM call;
the fitted version is stored with its lineage edge and the fit; `wc programs show` prints the
values and `wc programs diff` the values that changed; a transferred program is refitted to a new
world with no LLM call."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.changed_physics import LUNAR, write_jsonl
from support.helpers import keys_of
from support.helpers import llm_settings as settings
from typer.testing import CliRunner

from wc._api import LearnConfig, learn
from wc._run.fit import FitConfig, fit
from wc._store import Store
from wc.cli.main import app
from wc.errors import InvalidInput
from wc.testing import Reply, answer

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
FIXTURES = Path(__file__).parent / "fixtures"
MODEL = (FIXTURES / "cartpole_params_model.py").read_text()  # gymnasium's textbook constants
BODY_WITH_PARAMS = 'PARAMS = {"g": 1.0}\n\ndef transition(state, action):\n    return state\n'


@pytest.fixture(scope="module")
def lunar_moon():
    """40 transitions of the lunar cart-pole, with its adapter."""
    from support.changed_physics import cartpole_transitions

    return cartpole_transitions(40, **LUNAR)


async def test_wrong_values_fit_all_data_after_one_llm_call(fake_llm, db_url, tmp_path):
    requests = []

    def script(request, n):
        requests.append(request)
        return Reply(answer(MODEL))
    server = fake_llm(script)
    data = write_jsonl(tmp_path / "lunar.jsonl", 100, **LUNAR)
    result = await fit(FitConfig(env="CartPole-v1", data=str(data), max_llm_calls=4), settings(server, db_url))
    assert result.fits and result.explained == result.transitions == 100
    assert result.run.llm_calls == 1 and len(requests) == 1
    store = await Store.open(db_url)
    try:
        programs = await store.programs.find(run_id=result.run.id)
        answered, fitted = programs
        assert answered.origin == "scratch" and answered.source == MODEL and answered.fitted is None
        assert fitted.id == result.program_id and fitted.origin == "fitted" and fitted.parents == [answered.id]
        f = fitted.fitted
        assert f is not None and f.parent_id == answered.id and f.status == "converged"
        assert f.initial["gravity"] == 9.8 and f.fitted["gravity"] == pytest.approx(LUNAR["gravity"], rel=1e-5)
        assert f.budget_seconds == 10 and f.n_transitions == 100 and f.sample == list(range(100))
        assert f.budget_evaluations == 1000 and f.cut is None  # 10 s at 10,000 calls a second over 100
        assert f.residuals["within"] == 100
        assert f.identifiability["undetermined"] == [["masscart", "masspole", "force_mag"]]
        graph = await store.programs.lineage(fitted.id)
        assert (answered.id, fitted.id) in graph.edges
    finally:
        await store.close()
    db = ["--db", db_url.replace("+aiosqlite", "")]
    shown = CliRunner().invoke(app, ["programs", "show", str(fitted.id), *db], env={"WC_DB": None})
    assert shown.exit_code == 0, shown.output
    assert f"fitted from program {answered.id}: converged" in shown.stderr
    assert "(budget 10 s = 1000 evaluations)" in shown.stderr
    assert "gravity" in shown.stderr and "1.62" in shown.stderr and "undetermined" in shown.stderr
    diff = CliRunner().invoke(app, ["programs", "diff", str(answered.id), str(fitted.id), *db], env={"WC_DB": None})
    assert diff.exit_code == 0, diff.output
    assert "differ only in their PARAMS values" in diff.stderr
    assert diff.stdout.startswith("gravity: 9.8 -> 1.62") and "def transition" not in diff.stdout
    # the run lists its fits: program, parent, values, misses left, time, whether cut short
    run = ["runs", "show", str(result.run.id), *db]
    listed = CliRunner().invoke(app, run, env={"WC_DB": None, "COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "fits of PARAMS" in listed.stdout and "gravity=1.62" in listed.stdout and "100/100 within" in listed.stdout
    row = [cell.strip() for cell in next(line for line in listed.stdout.splitlines() if "gravity=1.62" in line)
           .split("│")]
    assert row[1:4] == [str(fitted.id), str(answered.id), "converged"] and row[-2] == "no", row
    shown_json = json.loads(CliRunner().invoke(app, [*run, "--json"], env={"WC_DB": None}).stdout)
    [listed_fit] = shown_json["fit_list"]
    assert set(listed_fit) == keys_of("Program fit") and set(shown_json) == keys_of("Run", details=True)
    assert listed_fit["program_id"] == fitted.id and listed_fit["parent_id"] == answered.id
    assert listed_fit["cut"] is None and listed_fit["budget_evaluations"] == 1000
    assert listed_fit["fitted"]["gravity"] == pytest.approx(LUNAR["gravity"], rel=1e-5)


async def test_a_fit_without_fitting_params_keeps_the_answer_as_written(fake_llm, db_url, tmp_path):
    """`wc fit --no-fit-params` (the issue's comparison without fitting): the same answer, not
    fitted, misses the lunar data; the prompt carries no PARAMS convention; a stored fit config
    without the field reads as not fitting (stored before PARAMS existed)."""
    requests = []

    def script(request, n):
        requests.append(request)
        return Reply(answer(MODEL))
    server = fake_llm(script)
    data = write_jsonl(tmp_path / "lunar.jsonl", 60, **LUNAR)
    result = await fit(FitConfig(env="CartPole-v1", data=str(data), max_llm_calls=1, fit_params=False),
                       settings(server, db_url))
    assert not result.fits and result.run.llm_calls == 1 and result.explained < 60
    assert "PARAMS" not in json.dumps(requests[0]["messages"])
    assert result.run.config["fit_params"] is False
    assert FitConfig.from_json({"env": "CartPole-v1", "data": "cwmb"}).fit_budget is None
    with pytest.raises(InvalidInput):
        FitConfig(env="CartPole-v1", data="cwmb", fit_seconds=0.0)


async def test_a_bad_declaration_fails_the_program_cleanly_and_is_shown_to_the_llm(fake_llm, db_url, tmp_path):
    bad = MODEL.replace('"gravity": (0.0, 50.0)', '"gravity": (0.0, 5.0)')
    requests = []

    def script(request, n):
        requests.append(request)
        return Reply(answer(bad if n == 0 else MODEL))
    server = fake_llm(script)
    data = write_jsonl(tmp_path / "lunar.jsonl", 60, **LUNAR)
    result = await fit(FitConfig(env="CartPole-v1", data=str(data), max_llm_calls=4, concurrency=1),
                       settings(server, db_url))
    assert result.fits and result.run.llm_calls == 2
    repair = requests[1]["messages"][-1]["content"]
    assert "PARAM_BOUNDS['gravity']: (0.0, 5.0) excludes the initial value PARAMS['gravity'] = 9.8" in repair
    store = await Store.open(db_url)
    try:
        first = (await store.programs.find(run_id=result.run.id))[0]
        assert first.errors == {"load": {"kind": "params", "message": "PARAM_BOUNDS['gravity']: (0.0, 5.0) excludes "
                                         "the initial value PARAMS['gravity'] = 9.8"}}
    finally:
        await store.close()


@pytest.mark.slow
async def test_a_transferred_program_is_refitted_to_a_new_world_without_an_llm_call(fake_llm, db_url):
    """Fitted on CartPole, then learning on the moon from it with no LLM call allowed: the new
    data refits its values (from the ones it had) and it fits again."""
    server = fake_llm(lambda request, n: Reply(answer(MODEL)))
    cfg = dict(episodes=1, max_steps=12, min_transitions=10, plan_seconds=0.5)
    first = await learn(LearnConfig(env="CartPole-v1", max_llm_calls=2, **cfg), settings(server, db_url))
    assert first.status == "finished" and first.llm_calls == 1
    moon = await learn(LearnConfig(env="support.lunar_cartpole:LunarCartPole-v0",
                                   from_program=first.best_program_id, max_llm_calls=0, **cfg),
                       settings(server, db_url))
    assert moon.status == "finished" and moon.llm_calls == 0
    store = await Store.open(db_url)
    try:
        best = await store.programs.get(moon.best_program_id)
        assert best.origin == "fitted" and best.fitted is not None and best.llm_call_id is None
        assert best.fitted.fitted["gravity"] == pytest.approx(LUNAR["gravity"], rel=1e-4)
        assert best.explained == best.n_transitions == 12
        # back along "fitted from" to the transferred program, each fit starting from its parent's values
        node = best
        while node.origin == "fitted":
            parent = await store.programs.get(node.parents[0])
            assert node.fitted is not None and node.fitted.parent_id == parent.id
            assert node.fitted.initial == (parent.fitted.fitted if parent.fitted else node.fitted.initial)
            node = parent
        assert node.origin == "transfer" and node.parents == [first.best_program_id]
    finally:
        await store.close()


async def test_a_structure_no_values_can_fit_is_told_so(fake_llm, db_url, tmp_path):
    """The first answer drops the pole's pull on the cart: fitting cannot remove the misses, and
    the repair request shows the fitted values and says the best values still miss."""
    wrong = MODEL.replace("cart_velocity=obs.cart_velocity + TAU * cart_acc",
                          "cart_velocity=obs.cart_velocity + TAU * temp")
    assert wrong != MODEL
    requests = []

    def script(request, n):
        requests.append(request)
        return Reply(answer(wrong if n == 0 else MODEL))
    server = fake_llm(script)
    data = write_jsonl(tmp_path / "lunar.jsonl", 60, **LUNAR)
    result = await fit(FitConfig(env="CartPole-v1", data=str(data), max_llm_calls=4, concurrency=1),
                       settings(server, db_url))
    assert result.fits and result.run.llm_calls == 2
    repair = requests[1]["messages"][-1]["content"]
    assert "wc fitted PARAMS to 60 recorded transitions by least squares: the best values are {\"gravity\": " in repair
    assert "No values of PARAMS fit the data with this structure: the best values still miss by up to " in repair
    assert " in cart_velocity" in repair and "Change the equations" in repair
    assert "only in combination: masscart, masspole, force_mag. Their" in repair
    assert "TAU * temp" in repair  # the program shown is the fitted version of the answer


@pytest.mark.slow
async def test_learning_on_the_moon_takes_one_llm_call(fake_llm, db_url):
    """`wc learn` in a changed-physics cart-pole: the answer holds the textbook constants, the fit
    gives the moon's, and every later step is predicted without another call. The prompt states
    the PARAMS convention (the API module's version 3)."""
    requests = []

    def script(request, n):
        requests.append(request)
        return Reply(answer(MODEL))
    server = fake_llm(script)
    run = await learn(LearnConfig(env="support.lunar_cartpole:LunarCartPole-v0", max_llm_calls=3, episodes=1,
                                  max_steps=15, min_transitions=10, plan_seconds=0.5), settings(server, db_url))
    assert run.status == "finished" and run.llm_calls == 1 and len(requests) == 1
    system = requests[0]["messages"][0]["content"]
    assert "Constants. A world model may declare its numeric constants" in system
    assert "wc fits their values to the data" in system
    store = await Store.open(db_url)
    try:
        best = await store.programs.get(run.best_program_id)
        assert best.origin == "fitted" and best.explained == best.n_transitions == 15
    finally:
        await store.close()


def test_version_3_adds_the_convention_and_keeps_version_2():
    import hashlib

    from wc._core.contract import PARAMS_DOC
    from wc.envs import make
    from wc.envs.gym import source

    adapter = make("CartPole-v1")
    try:
        args = (adapter.env_id, "CartPole", adapter.layout.fields, adapter.action_space, adapter.tolerance)
        two = source.generate(*args, version=2)  # byte for byte what version 2 gave before version 3
        assert hashlib.sha256(two.encode()).hexdigest() == \
            "5703776b01121beb236a7564e0f8b9239f81870dc12b89fce4dcc3f331496b57"
        three = source.generate(*args, version=3)
        assert PARAMS_DOC in three and PARAMS_DOC not in two
        assert three.replace("\n\n" + PARAMS_DOC, "") == two
    finally:
        adapter.close()


def test_a_run_stored_before_fitting_keeps_its_api_module_and_fits_nothing():
    from wc._run.runner import prepare
    from wc.envs import make
    from wc.envs.gym.source import GENERATOR_VERSION

    old = LearnConfig.from_json({"env": "CartPole-v1", "planner": "mcts", "optimism_requests": 1})
    assert not old.fit_params and old.fit_budget is None
    assert LearnConfig(env="CartPole-v1").fit_budget is not None
    adapter = make("CartPole-v1")
    try:
        assert adapter.api.version == GENERATOR_VERSION == 3 and "PARAMS" in adapter.api.source
        prepare(old, adapter)
        assert adapter.api.version == 2 and "PARAMS" not in adapter.api.source
    finally:
        adapter.close()
    from wc.errors import InvalidInput

    with pytest.raises(InvalidInput, match="time budget"):
        LearnConfig(env="CartPole-v1", fit_seconds=0)


@pytest.mark.slow
def test_the_fit_options_are_stored_with_the_run(tmp_path):
    """`wc learn --no-fit-params --fit-seconds 3 --fit-transitions 50` is stored in the run's
    configuration; a budget out of range is one line."""
    from support.helpers import sqlite_rows

    db = tmp_path / "wc.db"
    done = CliRunner().invoke(app, ["learn", "--env", "CartPole-v1", "--no-fit-params", "--fit-seconds", "3",
                                    "--fit-transitions", "50", "--max-llm-calls", "0", "--episodes", "1",
                                    "--max-steps", "2", "--db", f"sqlite:///{db}"], env={"WC_DB": None})
    assert done.exit_code == 0, done.output
    (config,), = sqlite_rows(f"sqlite:///{db}", "SELECT config FROM runs")
    stored = json.loads(config)
    assert stored["fit_params"] is False and stored["fit_seconds"] == 3 and stored["fit_transitions"] == 50
    bad = CliRunner().invoke(app, ["learn", "--env", "CartPole-v1", "--fit-seconds", "0"], env={"WC_DB": None})
    assert bad.exit_code == 2 and "--fit-seconds" in bad.output


async def test_a_fit_is_stored_with_its_edge_on_either_database(store):
    """The fitted program, its edge "fitted from" and the fit's values, budget, sample, residuals
    and identifiability, written and read back on SQLite and PostgreSQL; a second record keeps the first."""
    from wc._store import FitRecord
    from wc.envs.api import load

    api = load("minigrid", 1)
    env_id = await store.environments.ensure("minigrid-doorkey", "MiniGrid-DoorKey-5x5-v0", "minigrid", api)
    api_id = await store.environments.ensure_api_module(api)
    run_id = await store.runs.create(env_id, config={"env": "minigrid-doorkey"}, seed=0, model="m")
    common = dict(run_id=run_id, environment_id=env_id, api_module_id=api_id)
    parent = await store.programs.add(source='PARAMS = {"g": 9.8}\n', origin="scratch", parents=[], **common)
    child = await store.programs.add(source='PARAMS = {"g": 1.62}\n', origin="fitted", parents=[], **common)
    record = FitRecord(parent_id=parent, status="converged", message="ok", initial={"g": 9.8}, fitted={"g": 1.62},
                       budget_seconds=10.0, n_transitions=3, sample=[0, 2], seconds=0.5, evaluations=7,
                       residuals={"max_error": {"x": 1e-9}, "within": 2}, identifiability={
                           "rank": 1, "undetermined": [], "std_errors": {"g": 1e-7}}, budget_evaluations=300,
                       cut="evaluations")
    await store.programs.add_fit(child, record)
    await store.programs.add_fit(child, FitRecord(**{**record.to_json(), "status": "budget"}))
    got = await store.programs.get(child)
    assert got.parents == [parent] and got.fitted is not None
    assert got.fitted == FitRecord(**{**record.to_json(), "program_id": child})
    assert (await store.programs.get(parent)).fitted is None
    graph = await store.programs.lineage(parent)
    assert list(graph.edges) == [(parent, child)] and graph.nodes[child]["origin"] == "fitted"
    assert got.to_json()["fitted"]["fitted"] == {"g": 1.62}


def test_the_refit_pacing_survives_a_checkpoint(lunar_moon):
    """The agent's checkpoint holds the refit pacing: a learner restored from it (through JSON, as
    the store keeps it) decides when to refit without an LLM call exactly as the one that wrote it."""
    from wc._agent.learner import Learner
    from wc._sandbox.params import declared, rewrite
    from wc._sandbox.sandbox import Sandbox
    from wc._synth.prompts import PromptContext
    from wc._synth.refine import CallBudget, Recorder, Refiner

    adapter, data = lunar_moon
    wrong = rewrite(MODEL, {**declared(MODEL).values, "gravity": 3.0})

    def learner(sandbox):
        refiner = Refiner(llm=None, sandbox=sandbox, ctx=PromptContext(adapter.api.source, "value", str),  # type: ignore[arg-type]
                          recorder=Recorder(), budget=CallBudget(0))
        return Learner(config=LearnConfig(env="CartPole-v1"), adapter=adapter, store=None, sandbox=sandbox,  # type: ignore[arg-type]
                       refiner=refiner, recorder=None, budget=CallBudget(0), run_id=0)  # type: ignore[arg-type]
    first = learner(Sandbox(adapter.api, adapter.actions, "value"))
    for t in data[:20]:
        first.sandbox.add(t)
    first.refiner._refitted(wrong, fits=False)  # a structure no values fit, last refitted at 20 transitions
    first.refiner._refitted(BODY_WITH_PARAMS, fits=True)
    saved = json.loads(json.dumps(first.checkpoint()))
    assert saved["refits"] and len(saved["refits"]) == 2
    again = learner(Sandbox(adapter.api, adapter.actions, "value"))
    for t in data[:20]:
        again.sandbox.add(t)
    again.restore_checkpoint(saved)
    assert again.refiner.refit_pacing() == first.refiner.refit_pacing()
    decisions = []
    for t in data[20:30]:
        for each in (first, again):
            each.sandbox.add(t)
        decisions.append([(each.refiner._refit_due(MODEL), each.refiner._refit_due(BODY_WITH_PARAMS))
                          for each in (first, again)])
    assert all(a == b for a, b in decisions)
    assert [a[0] for a, _ in decisions] == [False, False, True, True, True, True, True, True, True, True]  # > 22
    fresh = learner(Sandbox(adapter.api, adapter.actions, "value"))
    fresh.restore_checkpoint({})  # a checkpoint written before the pacing was kept: none
    assert fresh.refiner.refit_pacing() == {}


@pytest.mark.slow
async def test_a_refit_without_an_llm_call_is_in_the_checkpoint_a_resume_reads(fake_llm, db_url, tmp_path):
    """Learning on the moon from a structure no values fit, with no LLM call allowed: each refit
    is paced, and written to the run's checkpoint when it happens (no refinement saves it then).
    Stopped when episode 1 begins and resumed: the resumed run refits a structure only once the
    data has grown past the pacing the checkpoint held, as the uninterrupted run would."""
    from wc._api import resume
    from wc.events import EpisodeStarted

    wrong = MODEL.replace("cart_velocity=obs.cart_velocity + TAU * cart_acc",
                          "cart_velocity=obs.cart_velocity + TAU * temp")
    server = fake_llm(lambda request, n: Reply(answer(wrong)))
    data = write_jsonl(tmp_path / "lunar.jsonl", 30, **LUNAR)
    start = await fit(FitConfig(env="CartPole-v1", data=str(data), max_llm_calls=1), settings(server, db_url))
    assert not start.fits

    def stop(event):
        if isinstance(event, EpisodeStarted) and event.episode == 1:
            raise RuntimeError("stopped here")
    cfg = LearnConfig(env="support.lunar_cartpole:LunarCartPole-v0", from_program=start.program_id,
                      max_llm_calls=0, episodes=2, max_steps=12, min_transitions=5, plan_seconds=0.2)
    stopped = await learn(cfg, settings(server, db_url), on_event=stop)
    assert stopped.status == "failed" and "stopped here" in stopped.error
    store = await Store.open(db_url)
    try:
        before = (await store.runs.get(stopped.id)).checkpoint
        fits_before = [p.fitted for p in await store.programs.find(run_id=stopped.id) if p.fitted is not None]
    finally:
        await store.close()
    assert fits_before and before["refits"]  # the refits were saved though no refinement ran
    [(key, (last, fitted_all))] = before["refits"].items()
    assert not fitted_all and last == max(f.n_transitions for f in fits_before)
    resumed = await resume(stopped.id, settings(server, db_url))
    assert resumed.status == "finished" and resumed.llm_calls == 0
    store = await Store.open(db_url)
    try:
        after = (await store.runs.get(stopped.id)).checkpoint
        refits = sorted(p.fitted.n_transitions for p in await store.programs.find(run_id=stopped.id)
                        if p.fitted is not None)
    finally:
        await store.close()
    # the last refit before the stop, and none again until the data grew by a tenth: without the pacing
    # the resumed run refitted at once, on the data the last refit had already missed
    assert [n for n in refits if last <= n <= 1.1 * last] == [last]
    assert max(refits) > 1.1 * last  # the pacing went on: a later refit did run
    assert set(after["refits"]) == {key}
