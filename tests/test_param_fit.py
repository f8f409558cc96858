"""Programs whose constants are fitted to the data (issue 30): the PARAMS convention checked from
the source, the least-squares fit in the worker, what it reports."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from support.changed_physics import LUNAR, cartpole_transitions

from wc._core.values import Transition
from wc._sandbox import param_fit, params, runtime
from wc._sandbox.param_fit import FitBudget, ParamFit
from wc._sandbox.params import ParamsError

FIXTURES = Path(__file__).parent / "fixtures"
MODEL = (FIXTURES / "cartpole_params_model.py").read_text()

BODY = """
def transition(state, action):
    return state

def reward(state, action, next_state, mission):
    return 1.0, False
"""


@pytest.fixture(scope="module")
def lunar():
    """300 transitions of gymnasium's CartPole with lunar gravity, a heavier pole, a weaker push."""
    return cartpole_transitions(300, **LUNAR)


def compiled(adapter, source):
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), source)
    assert program.failure is None, program.failure
    return program


def explained(adapter, source, data) -> int:
    outcomes = runtime.evaluate(compiled(adapter, source), data, "value", tolerance=adapter.tolerance)
    return sum(o.transition == "o" and o.reward == "o" for o in outcomes)


# ------------------------------------------------------------------ the convention, checked


def test_a_program_without_params_declares_nothing():
    assert params.declared(BODY) is None


def test_the_declaration_is_read_with_its_bounds():
    d = params.declared(MODEL)
    assert d is not None
    assert d.values == {"gravity": 9.8, "masscart": 1.0, "masspole": 0.1, "length": 0.5, "force_mag": 10.0}
    assert d.bounds["gravity"] == (0.0, 50.0)
    assert params.Declared.from_json(d.to_json()) == d


def test_a_constant_may_be_written_as_arithmetic_of_numbers():
    """Models write an angle as `12 * 2 * math.pi / 360` (the first real-model CartPole answer did,
    and lost a call to it): arithmetic of numbers and math.pi/e/tau is read from the syntax tree."""
    d = params.declared('import math\nPARAMS = {"theta": 12 * 2 * math.pi / 360, "g": -(9.8), "k": 2 ** -3}\n' + BODY)
    assert d is not None and d.values == {"theta": 12 * 2 * math.pi / 360, "g": -9.8, "k": 0.125}
    fitted = params.rewrite('import math\nPARAMS = {"theta": 12 * 2 * math.pi / 360, "g": -(9.8), "k": 2 ** -3}\n',
                            {"theta": 0.25, "g": -1.62, "k": 0.5})
    assert fitted == 'import math\nPARAMS = {"theta": 0.25, "g": -1.62, "k": 0.5}\n'


@pytest.mark.parametrize(("source", "entry", "said"), [
    ('PARAMS = [1.0]\n', "line 1: PARAMS", "dict literal"),
    ('PARAMS = {"g": "9.8"}\n', "PARAMS['g']", "must be a number"),
    ('PARAMS = {"g": True}\n', "PARAMS['g']", "must be a number"),
    ('PARAMS = {"g": 1e999}\n', "PARAMS['g']", "finite"),
    ('PARAMS = {"g": float("nan")}\n', "PARAMS['g']", "written out"),
    ('PARAMS = {"g": 2 ** 100000}\n', "PARAMS['g']", "written out"),
    ('PARAMS = {"g": math.sqrt(2)}\n', "PARAMS['g']", "arithmetic of numbers and math.pi"),
    ('PARAMS = {"g": 1 / 0}\n', "PARAMS['g']", "written out"),
    ('PARAMS = {"g": 1.0, "g": 2.0}\n', "PARAMS['g']", "declared twice"),
    ('PARAMS = {}\ndef f():\n    return PARAMS["x"]\n', "line 3: PARAMS['x']", "not declared"),
    ('PARAMS = {1: 2.0}\n', "line 1: PARAMS key 1", "names written as strings"),
    ('PARAMS = {"g": 9.8}\nPARAM_BOUNDS = {"g": (0, 5)}\n', "PARAM_BOUNDS['g']", "excludes the initial value"),
    ('PARAMS = {"g": 9.8}\nPARAM_BOUNDS = {"h": (0, 5)}\n', "PARAM_BOUNDS['h']", "does not declare"),
    ('PARAMS = {"g": 9.8}\nPARAM_BOUNDS = {"g": (5, 0)}\n', "PARAM_BOUNDS['g']", "must be below"),
    ('PARAMS = {"g": 9.8}\nPARAM_BOUNDS = {"g": 5}\n', "PARAM_BOUNDS['g']", "a pair"),
    ('PARAM_BOUNDS = {"g": (0, 5)}\n', "line 1: PARAM_BOUNDS", "without PARAMS"),
    ('PARAMS = {"g": 9.8}\ndef f():\n    return PARAMS["x"]\n', "line 3: PARAMS['x']", "not declared"),
    ('PARAMS = {"g": 9.8}\ndef f():\n    return PARAMS.get("x", 1)\n', "line 3: PARAMS['x']", "not declared"),
    ('PARAMS = {"g": 9.8}\nG = PARAMS["g"]\n', "line 2: PARAMS", "module level"),
    ('PARAMS = {"g": 9.8}\ndef f():\n    global PARAMS\n    PARAMS = {}\n', "line 4: PARAMS", "assigned again"),
    ('PARAMS = {"g": 9.8}\nPARAMS = {"g": 1.0}\n', "line 2: PARAMS", "more than once"),
    ('PARAMS = {"g": 9.8}\ndef f():\n    PARAMS["g"] = 1.0\n', "line 3: PARAMS", "only read it"),
    ('PARAMS = {"g": 9.8}\ndef f():\n    PARAMS["g"] += 1.0\n', "line 3: PARAMS", "only read it"),
    ('PARAMS = {"g": 9.8}\ndef f():\n    PARAMS.update(g=1.0)\n', "line 3: PARAMS", "only read it"),
])
def test_each_bad_declaration_names_its_entry(source, entry, said):
    with pytest.raises(ParamsError) as err:
        params.declared(source + BODY)
    assert err.value.entry == entry
    assert said in str(err.value)
    assert err.value.failure()["kind"] == "params"


def test_unbounded_sides_are_none():
    d = params.declared('PARAMS = {"g": 9.8}\nPARAM_BOUNDS = {"g": (0, None)}\n' + BODY)
    assert d is not None and d.bounds["g"] == (0.0, math.inf)
    assert d.to_json()["bounds"] == {"g": [0.0, None]}


def test_rewrite_changes_the_values_and_nothing_else():
    fitted = params.rewrite(MODEL, {"gravity": 1.62, "masscart": 1.0, "masspole": 0.3, "length": 0.5,
                                    "force_mag": 6.000000000000001})
    assert '"gravity": 1.62,' in fitted and '"force_mag": 6.000000000000001}' in fitted
    assert fitted.replace("1.62", "9.8").replace("0.3,", "0.1,").replace("6.000000000000001", "10.0") == MODEL
    again = params.declared(fitted)
    assert again is not None and again.values["force_mag"] == 6.000000000000001
    with pytest.raises(ParamsError, match="no fitted value"):
        params.rewrite(MODEL, {"gravity": 1.0})
    assert params.changed({"a": 1.0, "b": 2.0}, {"a": 1.0, "b": 3.0}) == [("b", 2.0, 3.0)]


# ------------------------------------------------------------------ the fit


@pytest.fixture(scope="module")
def lunar_fit(lunar):
    """The textbook program fitted to the lunar data once (what the next two tests read)."""
    adapter, data = lunar
    declared = params.declared(MODEL)
    assert declared is not None
    reply = param_fit.fit(compiled(adapter, MODEL), data, declared, evaluations=1000, seconds=60)
    return ParamFit.from_wire(reply, declared, len(data))


def test_wrong_constants_are_fitted_back_to_predictions_within_tolerance(lunar, lunar_fit):
    adapter, data = lunar
    fit = lunar_fit
    assert explained(adapter, MODEL, data) == 0  # the textbook constants miss every step
    assert fit.status == "converged", fit.message
    assert fit.within == len(data) and fit.failed == 0
    assert max(fit.max_error.values()) < 1e-6
    assert fit.values["gravity"] == pytest.approx(LUNAR["gravity"], rel=1e-5)
    assert fit.values["length"] == pytest.approx(0.5, rel=1e-5)
    # judge predictions, not values: the masses and the force are fitted only up to a common scale
    assert fit.values["masspole"] / fit.values["masscart"] == pytest.approx(LUNAR["masspole"] / 1.0, rel=1e-4)
    assert explained(adapter, params.rewrite(MODEL, fit.values), data) == len(data)


def test_a_pair_the_data_cannot_tell_apart_is_reported(lunar_fit):
    """Masses and force scaled together predict the same motion: one direction of the Jacobian is
    flat, and its parameters are reported as undetermined; gravity and length are determined."""
    fit = lunar_fit
    assert fit.rank == 4
    assert fit.undetermined == [["masscart", "masspole", "force_mag"]]
    assert fit.std_errors["masscart"] is None and fit.std_errors["force_mag"] is None
    assert fit.std_errors["gravity"] is not None and fit.std_errors["gravity"] < 1e-3


def test_bounds_are_respected(lunar):
    adapter, data = lunar
    source = MODEL.replace('"gravity": (0.0, 50.0)', '"gravity": (5.0, 50.0)')
    declared = params.declared(source)
    assert declared is not None
    reply = param_fit.fit(compiled(adapter, source), data[:100], declared, evaluations=1000, seconds=60)
    fit = ParamFit.from_wire(reply, declared, 100)
    assert fit.values["gravity"] == pytest.approx(5.0)  # the true 1.62 is out of bounds: the fit stops at 5
    assert fit.within < 100 and fit.max_error["pole_angular_velocity"] > 1e-3
    for name, (low, high) in declared.bounds.items():
        assert low <= fit.values[name] <= high


def test_the_count_of_evaluations_ends_a_fit_and_says_so(lunar):
    """A fit that has not converged stops at its count of evaluations, with the best values so far
    (fewer than the converged fit needs; the wall-time cap, far away, plays no part)."""
    adapter, data = lunar
    declared = params.declared(MODEL)
    assert declared is not None
    reply = param_fit.fit(compiled(adapter, MODEL), data, declared, evaluations=12, seconds=600)
    fit = ParamFit.from_wire(reply, declared, len(data))
    assert fit.status == "budget" and fit.cut == "evaluations" and "12 evaluations were used up" in fit.message
    assert fit.evaluations == 12
    assert fit.cost_final is not None and fit.cost_initial is not None and fit.cost_final < fit.cost_initial


def test_a_fit_cut_by_its_count_gives_the_same_values_however_slow_the_program_runs(lunar):
    """Determinism: the same program made several times slower (a busy loop that changes no
    number) is fitted to the same values, bit for bit, with the same count; the budget's seconds
    decide a count, not a deadline. No timing is asserted."""
    adapter, data = lunar
    slow = MODEL.replace("    obs = state[0]\n", "    obs = state[0]\n    for _ in range(3000):\n        pass\n", 1)
    assert slow != MODEL
    declared = params.declared(MODEL)
    assert declared is not None
    sample = data[:60]
    budget = FitBudget(seconds=0.1, transitions=60)
    count = budget.evaluations(len(sample))
    assert count == 16  # 0.1 s at the nominal 10,000 calls a second, over 60 transitions
    fast = param_fit.fit(compiled(adapter, MODEL), sample, declared, evaluations=count, seconds=600)
    slowed = param_fit.fit(compiled(adapter, slow), sample, declared, evaluations=count, seconds=600)
    assert fast["cut"] == slowed["cut"] == "evaluations"
    assert fast["values"] == slowed["values"] and fast["evaluations"] == slowed["evaluations"] == count
    assert fast["values"] != declared.values


def test_a_diverging_fit_is_said_so():
    """The recorded cart moves back 1000 m; a square root of PARAMS cannot: the fit runs the
    parameter below zero, where every call fails."""
    adapter, data = cartpole_transitions(50)
    data = [Transition(t.state, t.action, [dict(t.state[0], cart_position=t.state[0]["cart_position"] - 1000)],
                       1.0, False, t.mission) for t in data]
    source = ('import math\nPARAMS = {"k": 4.0}\n\ndef transition(state, action):\n    o = state[0]\n'
              '    return [replace(o, cart_position=o.cart_position + math.sqrt(PARAMS["k"]))]\n'
              + BODY.split("\n\n")[1])
    declared = params.declared(source)
    assert declared is not None
    reply = param_fit.fit(compiled(adapter, source), data, declared, evaluations=500, seconds=60)
    fit = ParamFit.from_wire(reply, declared, 50)
    assert fit.status == "diverged"
    assert "diverged" in fit.message and "fail on 50" in fit.message


def test_a_forged_reply_is_refused():
    declared = params.declared(MODEL)
    assert declared is not None
    good = {"status": "converged", "values": dict(declared.values)}
    assert ParamFit.from_wire(good, declared, 1).values == declared.values
    for bad in ({**good, "values": {"gravity": 1.0}}, {**good, "values": {**declared.values, "gravity": math.nan}},
                {**good, "values": {**declared.values, "gravity": 99.0}}, {**good, "status": "great"},
                {**good, "undetermined": [["nobody"]]}, {**good, "rank": 9}, [1]):
        with pytest.raises(ValueError):
            ParamFit.from_wire(bad, declared, 1)


def test_the_sample_spreads_over_the_data():
    assert FitBudget(transitions=5).sample(3) == [0, 1, 2]
    assert FitBudget(transitions=5).sample(101) == [0, 25, 50, 75, 100]
    with pytest.raises(ValueError):
        FitBudget(seconds=0)
    assert FitBudget(seconds=10).evaluations(500) == 200 and FitBudget(seconds=0.001).evaluations(500) == 2
    assert FitBudget(seconds=10).wall_seconds == 30


async def test_the_fit_runs_in_the_programs_worker(lunar):
    """Through the sandbox: the worker fits, the parent reads values, then judges the rewritten
    program the normal way; the worker's own program keeps its declared values."""
    from wc._sandbox.sandbox import Sandbox

    adapter, data = lunar
    declared = params.declared(MODEL)
    assert declared is not None
    async with Sandbox(adapter.api, adapter.actions, "value", workers=1) as sandbox:
        for t in data[:150]:
            sandbox.add(t)
        assert (await sandbox.evaluate(MODEL)).fit == 0.0
        fit = await sandbox.fit(MODEL, declared, FitBudget(seconds=30, transitions=100))
        assert fit.status == "converged" and fit.sample == 100 and fit.within == 100
        # a worker of its own, forked after numpy and scipy were imported in the template
        assert sandbox.forks == 2 and sandbox._template is not None and sandbox._template.fit_preloaded
        assert (await sandbox.evaluate(MODEL + "\n")).fit == 0.0
        assert (await sandbox.evaluate(params.rewrite(MODEL, fit.values))).fit == 1.0


def test_groups_sharing_a_name_are_one():
    assert param_fit._merged([["a", "b"], ["c"], ["b", "d"]], ["a", "b", "c", "d"]) == [["c"], ["a", "b", "d"]]


def test_what_the_prompt_says_of_a_fit():
    from wc._synth.fitting import describe

    good = ParamFit("converged", {"g": 1.62}, {"g": 9.8}, sample=10, within=10, max_error={"x": 1e-9})
    text = describe(good)
    assert 'the best values are {"g": 1.62}' in text and "every sampled transition is predicted within" in text
    bad = ParamFit("converged", {"g": 1.62}, {"g": 9.8}, sample=10, within=3, max_error={"x": 0.5, "v": 0.01},
                   undetermined=[["a", "b"]])
    text = describe(bad)
    assert "the best values still miss by up to 0.5 in x, 0.01 in v; 3 of 10" in text
    assert "only in combination: a, b." in text


def test_data_without_numbers_is_not_fitted(lunar):
    adapter, data = lunar
    words = [Transition([{"type": "Observation", "word": "a"}], t.action, [{"type": "Observation", "word": "b"}],
                        1.0, False, t.mission) for t in data[:5]]
    declared = params.declared('PARAMS = {"g": 1.0}\n' + BODY)
    assert declared is not None
    program = runtime.compile_program(runtime.api_namespace(adapter.api.source), 'PARAMS = {"g": 1.0}\n' + BODY)
    reply = param_fit.fit(program, words, declared, evaluations=10, seconds=60, with_reward=False)
    assert reply["status"] == "failed" and "no number" in reply["message"]


def test_a_structure_that_no_values_fit_is_not_refitted_after_every_step(lunar):
    """A program that stopped fitting is refitted at once when its structure's last fit explained
    everything (new data, new values); one whose last refit still missed waits until the data has
    grown by a tenth."""
    from wc._sandbox.sandbox import Sandbox
    from wc._synth.prompts import PromptContext
    from wc._synth.refine import CallBudget, Recorder, Refiner

    adapter, data = lunar
    sandbox = Sandbox(adapter.api, adapter.actions, "value")  # data only: no worker is started
    refiner = Refiner(llm=None, sandbox=sandbox, ctx=PromptContext(adapter.api.source, "value", str),  # type: ignore[arg-type]
                      recorder=Recorder(), budget=CallBudget(1))
    assert not refiner._refit_due(MODEL)  # no data
    for t in data[:10]:
        sandbox.add(t)
    assert refiner._refit_due(MODEL)
    refiner._refitted(params.rewrite(MODEL, {**params.declared(MODEL).values, "gravity": 1.0}), fits=True)
    sandbox.add(data[10])
    assert refiner._refit_due(MODEL)  # the same structure fitted everything last time
    refiner._refitted(MODEL, fits=False)
    sandbox.add(data[11])
    assert not refiner._refit_due(MODEL) and not refiner._refit_due(params.rewrite(MODEL, {
        **params.declared(MODEL).values, "length": 2.0}))
    for t in data[12:14]:
        sandbox.add(t)
    assert refiner._refit_due(MODEL)  # 14 > 1.1 × 11
    assert not refiner._refit_due(BODY)  # no PARAMS: nothing to refit


def test_a_slow_program_is_stopped_within_an_evaluation(lunar):
    """The wall-time cap is checked before every transition, not only between evaluations: a
    program too slow to be evaluated once within it is not fitted (and is then judged as written)."""
    adapter, data = lunar
    slow = MODEL.replace("    obs = state[0]\n", "    obs = state[0]\n    for _ in range(100000):\n        pass\n", 1)
    declared = params.declared(slow)
    assert declared is not None
    reply = param_fit.fit(compiled(adapter, slow), data, declared, evaluations=1000, seconds=0.05)
    assert reply["status"] == "failed" and "wall-time cap" in reply["message"]
    assert reply["values"] == declared.values


def test_every_request_that_shows_a_program_shows_its_fit():
    """Repair, optimism (goal and return worlds) and load-repair requests show a fitted program's
    values and what they still miss in the same words, right after the program; without a fit,
    the requests are as they were."""
    from wc._planning.result import PlanResult
    from wc._synth import prompts
    from wc._synth.fitting import describe

    fit = ParamFit("converged", {"g": 1.62}, {"g": 9.8}, sample=10, within=3, max_error={"x": 0.5})
    said = describe(fit)
    program = 'PARAMS = {"g": 1.62}\n' + BODY
    block = f"```python\n{program.strip()}\n```\n\n{said}\n\n"
    t = Transition([{"type": "Cart", "x": 0.0}], 0, [{"type": "Cart", "x": 1.0}], 1.0, False, "")
    plan = PlanResult(False, reason="no plan", status="exhausted")
    for numeric in (False, True):
        ctx = prompts.PromptContext("", "value" if numeric else "sign", str)
        asked = {
            "repair": prompts.repair(ctx, program, [t], [], 0, {"predicted_reward": [0.0, False]}, "reward",
                                     params=said),
            "optimism": prompts.optimism(ctx, program, t.state, "", plan, 1, said),
            "load": prompts.repair_load(ctx, program, {"kind": "params", "message": "m"}, said),
        }
        for kind, messages in asked.items():
            text = messages[-1]["content"]
            assert text.startswith("The current world model:\n" + block), (kind, text)
            assert "the best values still miss by up to 0.5 in x" in text
            bare = {"repair": prompts.repair(ctx, program, [t], [], 0, {"predicted_reward": [0.0, False]}, "reward"),
                    "optimism": prompts.optimism(ctx, program, t.state, "", plan, 1),
                    "load": prompts.repair_load(ctx, program, {"kind": "params", "message": "m"})}[kind]
            assert "wc fitted" not in bare[-1]["content"] and bare[-1]["content"] == text.replace(said + "\n\n", "")


def test_a_stored_fit_reads_back_as_the_fit_the_prompts_showed():
    """A resumed run's refiner gets each program's stored fit back: its prompts say what the
    uninterrupted run's said."""
    from wc._run.resume import fit_of
    from wc._store import FitRecord
    from wc._synth.fitting import describe

    fit = ParamFit("budget", {"g": 1.62, "m": 2.0}, {"g": 9.8, "m": 1.0}, sample=10, within=3,
                   max_error={"x": 0.5, "v": 0.01}, failed=1, rank=1, undetermined=[["g", "m"]],
                   std_errors={"g": None, "m": None}, cut="evaluations", cost_initial=4.0, cost_final=1.0)
    record = FitRecord(parent_id=1, status=fit.status, message=fit.message, initial=fit.initial, fitted=fit.values,
                       budget_seconds=10, n_transitions=12, sample=list(range(10)), seconds=0.1, evaluations=5,
                       residuals={"max_error": fit.max_error, "rms": fit.rms, "within": fit.within,
                                  "sample": fit.sample, "failed": fit.failed, "cost_initial": fit.cost_initial,
                                  "cost_final": fit.cost_final},
                       identifiability={"rank": 1, "undetermined": fit.undetermined, "std_errors": fit.std_errors},
                       budget_evaluations=1000, cut="evaluations")
    back = fit_of(record)
    assert back is not None and describe(back) == describe(fit) and back.cut == "evaluations"
    assert fit_of(None) is None


def test_an_empty_declaration_is_a_program_without_parameters():
    # a real-model answer wrote `PARAMS = {}` for a world without constants: nothing to fit, not a failure
    assert params.declared("PARAMS = {}\n" + BODY) is None
    assert params.declared("PARAMS = {}\nPARAM_BOUNDS = {}\n" + BODY) is None
