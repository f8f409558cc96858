"""The sandbox: untrusted programs run in worker processes, one program per worker, and the
parent judges what they answer.

Walls, outermost first:

* the OS jail (`wc._sandbox.jail`: bubblewrap with its own filesystem view, namespaces and an
  unprivileged user; refused to run without it unless WC_SANDBOX=python says otherwise);
* one process per program, forked from a clean template (`wc._sandbox.worker`): nothing a
  program does (patched classes, finalizers, a lie planted in wc's own code) survives into
  another program's worker; where wc runs as root, each worker has a user id of its own;
* OS resource limits (address space, CPU time, no file writes, no new processes, few
  descriptors) and a wall-clock limit per call, enforced from outside: a worker whose call runs
  past its limit is killed, whatever the program catches;
* verdicts in the parent (`wc._sandbox.verdict`): a worker returns predictions, plans and
  problems as JSON of bounded size, and the parent compares the predictions with the recorded
  data; a reply that is too large, malformed or out of turn fails that program cleanly;
* the Python layer (`wc._sandbox.guard`, `wc._sandbox.modules`), the inner wall.

Workers start with an empty environment: no API key, no database URL, no handle to the store.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from wc._core.canonical import start_key, state_key
from wc._core.tolerance import CWMB, Tolerance
from wc._core.values import ApiModule, State, Transition
from wc._planning import PlanBudget
from wc._planning.result import ERROR, PlanResult
from wc._planning.returns import ReturnPlan, action_choices
from wc._sandbox import jail as jails
from wc._sandbox import runtime, verdict
from wc._sandbox.evaluation import Evaluation, Optimism
from wc._sandbox.frequencies import VisitCounter, Visits, tested
from wc._sandbox.param_fit import FitBudget, ParamFit
from wc._sandbox.params import Declared
from wc._sandbox.processes import UID_BASE, UID_SPAN, ProgramProcess, TemplateProcess, WorkerFailed
from wc._sandbox.return_goal import ReturnGoal, by_mean, goal_budget, judged, predicted_return, with_goal_plan

PREDICT_CHUNK = 20_000   # transitions per prediction request (a reply stays far below frames.MAX_REPLY)
VERDICTS_KEPT = 64       # programs whose verdicts so far are kept
VARIED_KEPT = 8          # (state, action)s with different outcomes, or disagreeing frequencies, an evaluation keeps


@dataclass(frozen=True)
class SandboxLimits:
    memory_mb: int = 1024
    cpu_seconds: int = 3600
    call_timeout: float = 2.0
    evaluate_timeout: float = 120.0
    plan: PlanBudget = PlanBudget()
    jail: str = "jail"            # "jail": refuse to run without the OS jail; "python": run without it (unsafe)
    python_layer: bool = True     # False only to test the OS jail on its own
    grace: float = 1.0            # seconds a call may run past call_timeout before its worker is killed
    live_workers: int = 0         # program workers kept alive (0: twice the pool's size, at least 4)


def program_key(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


@dataclass
class _Verdicts:
    """φ1 so far for one program: a status per transition and the newest failures' details."""

    transition: list[str] = field(default_factory=list)
    reward: list[str] = field(default_factory=list)
    failures: dict[int, dict[str, Any]] = field(default_factory=dict)
    load_failure: dict[str, Any] | None = None
    loaded: bool = False  # the program has been loaded once (so load_failure is known)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one evaluation of a program at a time
    likelihoods: list[float] = field(default_factory=list)
    random: bool = False  # some transition was answered with a distribution

    def add(self, index: int, outcome: verdict.Outcome, likelihood: float | None = None) -> None:
        """One transition's verdict; `likelihood` for a random answer (a deterministic one's is 1 or 0)."""
        self.transition.append(outcome.transition)
        self.reward.append(outcome.reward)
        self.likelihoods.append(float(outcome.transition == outcome.reward == "o") if likelihood is None
                                else likelihood)
        self.random = self.random or likelihood is not None
        if outcome.detail:
            self.failures[index] = outcome.detail
            while len(self.failures) > verdict.MAX_FAILURE_DETAILS:
                del self.failures[min(self.failures)]

    def evaluation(self) -> Evaluation:
        return Evaluation("".join(self.transition), "".join(self.reward), dict(self.failures), self.load_failure,
                          tuple(self.likelihoods) if self.random else None)


class Sandbox:
    """Run programs against the recorded data and plan in them, in worker processes."""

    def __init__(self, api: ApiModule, actions: tuple[str, ...] | list[str], reward_mode: str,
                 workers: int = 2, limits: SandboxLimits | None = None, action_source: str | None = None,
                 tolerance: Tolerance | None = None) -> None:
        self.api = api
        self.actions = tuple(actions)
        self.action_source = action_source
        self.reward_mode = reward_mode
        # states judged within a tolerance (continuous worlds: workers send predicted states), else
        # by digest; rewards in "value" mode within the same tolerance
        self.tolerance = tolerance if tolerance is not None or reward_mode != "value" else CWMB
        self.limits = limits or SandboxLimits()
        # φ2 in a world scored by its return (set by the runner): a plan reaching a target, not a goal
        self.return_goal: ReturnGoal | None = None
        self.jail = jails.select(self.limits.jail)  # SandboxError at once without a jail under the default policy
        self.size = max(1, workers)
        self.transitions: list[Transition] = []
        self._expected: list[str] = []  # digest of each transition's next state (the part a program is held to)
        self._index: dict[tuple, int] = {}
        # the domain's trusted hooks, run here too: what part of a next state counts, which actions exist
        self._compare = runtime.comparison(action_source)
        self._fixed_actions = None if runtime.action_generator(action_source) else self.actions
        self._template: TemplateProcess | None = None
        self._workers: OrderedDict[str, list[ProgramProcess]] = OrderedDict()
        self._slots: asyncio.Semaphore | None = None
        self._verdicts: OrderedDict[str, _Verdicts] = OrderedDict()
        self._fatal: dict[str, dict[str, Any]] = {}  # programs whose worker had to be killed, and why
        self._visits = VisitCounter()   # what followed each (state, action, mission), as often as recorded
        self._random: set[str] = set()  # programs that answered a transition with a distribution: planned over chance
        self._uid = 0
        self.restarts = 0   # times the template had to be started again
        self.forks = 0      # program workers started

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def start(self) -> None:
        self._slots = asyncio.Semaphore(self.size)
        await self._start_template()

    async def _start_template(self) -> None:
        limits = self.limits
        template = TemplateProcess(self.jail, {"memory_mb": limits.memory_mb, "cpu_seconds": limits.cpu_seconds})
        await template.start({"api_source": self.api.source, "actions": list(self.actions),
                              "action_source": self.action_source, "call_timeout": limits.call_timeout,
                              "guarded": limits.python_layer, "full_states": self.tolerance is not None,
                              "tolerance": None if self.tolerance is None else [self.tolerance.rtol,
                                                                                self.tolerance.atol]})
        self._template = template

    async def close(self) -> None:
        for workers in self._workers.values():
            for w in workers:
                w.close()
        self._workers.clear()
        if self._template is not None:
            await self._template.kill()
            self._template = None

    # ---------------------------------------------------------------- data

    def add(self, t: Transition) -> int:
        """Add a transition unless an identical one is there; returns its distinct index."""
        # an action is a name, or a list of numbers (continuous and multi-discrete actions)
        key = (state_key(t.state), t.action if isinstance(t.action, str) else json.dumps(t.action),
               state_key(t.next_state), float(t.reward), bool(t.done), t.mission)
        index = self._index.get(key)
        if index is None:
            index = len(self.transitions)
            self._index[key] = index
            self.transitions.append(Transition(t.state, t.action, t.next_state, float(t.reward), bool(t.done),
                                               t.mission))
            expected = key[2] if self._compare is None else runtime.compare_key(t.state, t.next_state,
                                                                                 self._compare)
            self._expected.append(verdict.digest(expected))
        self._visits.add((key[0], key[1], key[5]), t.action, index)
        return index

    def varied(self) -> list[Visits]:
        """The (state, action, mission)s recorded with different outcomes (the most visited few): the
        world is random."""
        return self._visits.varied(VARIED_KEPT)

    def is_random(self, source: str) -> bool:
        """Whether the program answered some recorded transition with a distribution."""
        return program_key(source) in self._random

    # ---------------------------------------------------------------- workers

    async def _worker(self, key: str, source: str | None) -> ProgramProcess:
        """An idle worker of this program, or a new one forked for it."""
        for w in self._workers.get(key, []):
            if w.alive and not w.lock.locked():
                self._workers.move_to_end(key)
                return w
        await self._live_template()
        assert self._template is not None
        await self._template.sync(self.transitions)
        self._uid += 1
        uid = UID_BASE + self._uid % UID_SPAN if self.jail.worker_drops_privileges else None
        worker = ProgramProcess(self._template, key, call_timeout=self.limits.call_timeout, grace=self.limits.grace)
        await worker.start(uid)
        self.forks += 1
        if source is not None:
            loaded = await worker.call({"op": "load", "source": source}, self.transitions,
                                       self.limits.call_timeout + self.limits.grace + 30)
            worker.load_failure = verdict.failure_from_wire(loaded["failure"]) if loaded.get("failure") else None
        self._workers.setdefault(key, []).append(worker)
        self._workers.move_to_end(key)
        await self._evict()
        return worker

    async def _live_template(self) -> None:
        """The template, started again if it died (its workers with it)."""
        if self._template is None or not self._template.alive:
            if self._template is not None:
                await self._template.kill()
            self.restarts += 1
            self._workers.clear()
            await self._start_template()

    async def _evict(self) -> None:
        """Keep at most `live_workers` workers: the idle ones of the programs used longest ago go."""
        keep = self.limits.live_workers or max(4, 2 * self.size)
        live = [w for ws in self._workers.values() for w in ws]
        for w in sorted(live, key=lambda w: w.last_used)[:max(0, len(live) - keep)]:
            if not w.lock.locked():
                await w.kill()
        for key in [k for k, ws in self._workers.items() if not any(w.alive for w in ws)]:
            del self._workers[key]

    async def _request(self, key: str, source: str | None, message: dict[str, Any], timeout: float) -> tuple[
            Any, ProgramProcess]:
        assert self._slots is not None, "Sandbox.start() was not called"
        async with self._slots:
            worker = await self._worker(key, source)
            async with worker.lock:
                return await worker.call(message, self.transitions, timeout), worker

    # ---------------------------------------------------------------- requests

    async def evaluate(self, source: str) -> Evaluation:
        """φ1 on every distinct transition recorded so far, judged here from the program's
        predictions."""
        key = program_key(source)
        verdicts = self._verdicts.pop(key, None) or _Verdicts()
        self._verdicts[key] = verdicts
        while len(self._verdicts) > VERDICTS_KEPT:
            self._verdicts.popitem(last=False)
        async with verdicts.lock:  # a second evaluation of the same program waits, then reads the verdicts
            n = len(self.transitions)
            if key in self._fatal:
                return Evaluation.failed(n, self._fatal[key])
            try:
                while len(verdicts.transition) < n or not verdicts.loaded:
                    start = len(verdicts.transition)
                    stop = min(n, start + self._chunk())
                    reply, worker = await self._request(key, source, {"op": "predict", "start": start, "stop": stop},
                                                        self.limits.evaluate_timeout + 0.01 * (stop - start))
                    verdicts.load_failure, verdicts.loaded = worker.load_failure, True
                    predictions = verdict.predictions_from_wire(reply, stop - start)
                    for i, p in enumerate(predictions, start):
                        self._judge(verdicts, i, p)
            except (WorkerFailed, verdict.Malformed) as exc:
                failure = self._fatal[key] = _failure(exc)
                self._verdicts.pop(key, None)
                await self._drop(key)
                return Evaluation.failed(n, failure)
            return self._evaluation(key, verdicts)

    def _judge(self, verdicts: _Verdicts, i: int, p: verdict.Prediction) -> None:
        """φ1 on transition i, here in the parent: by digest (or within the tolerance), or, for a
        random answer, by likelihood."""
        t = self.transitions[i]
        tolerance = self.tolerance or CWMB
        if p.chance is not None:
            outcome, likelihood = verdict.judge_chance(p.chance, t.next_state, t.reward, t.done, self.reward_mode,
                                                       ordered=self.tolerance is not None, tolerance=tolerance)
            verdicts.add(i, outcome, likelihood)
            return
        outcome = verdict.judge(p, self._expected[i], t.reward, t.done, self.reward_mode,
                                next_state=t.next_state, tolerance=tolerance)
        if outcome.transition == "w" and self._compare is not None:  # the part it was held to
            outcome.detail["expected_state"] = self._compare(t.state, t.next_state)
        verdicts.add(i, outcome)

    def _evaluation(self, key: str, verdicts: _Verdicts) -> Evaluation:
        """The verdicts so far, with what prompts of a random world read: the frequency tests of a
        random program (where a (state, action) was recorded at least MIN_VISITS times), and the
        (state, action)s recorded with different outcomes."""
        evaluation = verdicts.evaluation()
        evaluation.varied = self._visits.varied(VARIED_KEPT)
        if evaluation.likelihoods is not None:
            self._random.add(key)
            evaluation.disagreements = tested(self._visits.frequent(), evaluation.likelihoods)[:VARIED_KEPT]
        return evaluation

    async def predictions(self, source: str) -> list[verdict.Prediction] | None:
        """The program's predictions on every distinct transition, states in full where they are
        judged within a tolerance, a random answer with its most probable next state (what CWMB's
        accuracy is measured on: `wc._measure.program.predicted`); None when its worker fails or
        answers out of form."""
        key = program_key(source)
        out: list[verdict.Prediction] = []
        n = len(self.transitions)
        try:
            while len(out) < n:
                start = len(out)
                stop = min(n, start + self._chunk())
                msg = {"op": "predict", "start": start, "stop": stop, "point": True}
                reply, _ = await self._request(key, source, msg, self.limits.evaluate_timeout + 0.01 * (stop - start))
                out += verdict.predictions_from_wire(reply, stop - start)
        except (WorkerFailed, verdict.Malformed) as exc:
            self._fatal[key] = _failure(exc)
            await self._drop(key)
            return None
        return out

    def _chunk(self) -> int:
        """Transitions per prediction request: fewer where predicted states travel in full, so
        that a reply stays well below frames.MAX_REPLY."""
        if self.tolerance is None or not self.transitions:
            return PREDICT_CHUNK
        size = len(json.dumps(self.transitions[-1].next_state)) + 64
        return max(50, min(PREDICT_CHUNK, (4 << 20) // size))

    async def plan_return(self, source: str, state: State, mission: str, action_space: Any, *, planner: str,
                          time_limit: float, max_steps: int = 10_000_000, seed: int = 0,
                          init: list[Any] | None = None, horizon: int | None = None,
                          hopeful: bool = False) -> ReturnPlan:
        """A plan for the most return the program predicts from `state` (MCTS or CEM in its
        worker), read back as no more than actions of `action_space` and their predictions. A
        program that answers with distributions (as judged here, or from `state` as the worker
        finds) is planned over chance instead, over discrete actions with `horizon`, the steps
        left, given (`wc._sandbox.plan_chance`: the expected return over them; `hopeful`, for φ2:
        a trajectory of positive probability with the most return), over continuous ones by CEM
        with sampled outcomes (`wc._sandbox.plan_return`: the mean return of each sequence over a
        few plays; `hopeful`: its best play), and read back the same way."""
        from wc._sandbox.plan_return import settings_for

        kind = action_choices(action_space)[0]
        settings = settings_for(planner, kind)  # ValueError: caught by the caller
        key = program_key(source)
        failure = self._fatal.get(key)
        # over chance where the program answered with distributions (the worker also finds out for
        # itself, before any transition is judged: a transferred program)
        chance = kind == "discrete" and bool(horizon)
        if failure is None:
            msg = {"op": "plan_return", "starts": [{"state": state, "mission": mission, "init": init}],
                   "action_space": _space_json(action_space), "planner": planner, "max_steps": max_steps,
                   "time_limit": time_limit, "seed": seed}
            if chance:
                msg.update(chance=key in self._random, horizon=horizon, hopeful=hopeful)
            elif kind == "continuous":  # sampled outcomes where the program is random
                msg.update(chance=key in self._random, hopeful=hopeful)
            try:
                # an exact plan over chance may take as long again to trace its path
                timeout = time_limit * (2 if chance else 1) + self.limits.call_timeout + 30
                results, _ = await self._request(key, source, msg, timeout)
                if not isinstance(results, list) or len(results) != 1:
                    raise verdict.Malformed("a return plan per start")
                max_len = getattr(settings, "horizon", None) or getattr(settings, "max_depth", None) or 10_000
                if chance:
                    max_len = max(max_len, int(horizon or 0))
                return verdict.return_plan_from_wire(results[0], action_space, max_len=max_len)
            except (WorkerFailed, verdict.Malformed) as exc:
                failure = self._fatal[key] = _failure(exc)
                await self._drop(key)
        return ReturnPlan(status="error", reason=failure["message"], first_error=failure, planner=planner)

    async def plan_many(self, source: str, starts: list[tuple[State, str]],
                        budget: PlanBudget | None = None) -> list[PlanResult]:
        """Plan from each start; the starts are shared out among workers of the program, which
        plan at once."""
        budget = budget or self.limits.plan
        chunks = [starts[i::self.size] for i in range(min(self.size, len(starts)))]
        done = await asyncio.gather(*(self._plan_chunk(source, chunk, budget) for chunk in chunks))
        results: list[PlanResult | None] = [None] * len(starts)
        for i, chunk_results in enumerate(done):
            results[i::len(chunks)] = chunk_results
        return results  # type: ignore[return-value]

    async def _plan_chunk(self, source: str, starts: list[tuple[State, str]], budget: PlanBudget) -> list[PlanResult]:
        key = program_key(source)
        failure = self._fatal.get(key)
        if failure is None:
            msg = {"op": "plan", "starts": [{"state": s, "mission": m} for s, m in starts], "planner": budget.planner,
                   "max_nodes": budget.max_nodes, "max_depth": budget.max_depth, "time_limit": budget.seconds,
                   "horizon": budget.horizon}
            if key in self._random:  # planned over chance: the probability of reaching the goal, maximised
                msg["chance"] = True
            # a plan found near its horizon may take up to 1.5 times the search's own time to shorten
            timeout = len(starts) * (budget.seconds * (2.5 if budget.horizon else 1) + self.limits.call_timeout) + 30
            try:
                results, _ = await self._request(key, source, msg, timeout)
                if not isinstance(results, list) or len(results) != len(starts):
                    raise verdict.Malformed("a plan per start")
                return [verdict.plan_from_wire(r, actions=self._fixed_actions, max_depth=budget.max_depth)
                        for r in results]
            except (WorkerFailed, verdict.Malformed) as exc:
                failure = self._fatal[key] = _failure(exc)
                await self._drop(key)
        return [PlanResult(False, reason=failure["message"], first_error=failure, status=ERROR) for _ in starts]

    async def plan(self, source: str, state: State, mission: str, budget: PlanBudget | None = None) -> PlanResult:
        return (await self.plan_many(source, [(state, mission)], budget))[0]

    async def optimism(self, source: str, starts: list[tuple[State, str]]) -> Optimism:
        """φ2 from each start: a plan to the goal, or in a return world (`return_goal`) a plan
        whose predicted return reaches the target (wc._sandbox.return_goal)."""
        goal = self.return_goal
        if goal is None:
            return Optimism(await self.plan_many(source, starts))
        goal.best_step = max((t.reward for t in self.transitions if not t.done), default=None)
        verdicts = []
        for state, mission in starts:
            plan = await self.plan_return(source, state, mission, goal.action_space, planner=goal.planner,
                                          time_limit=goal.seconds, seed=goal.seed, horizon=goal.episode_steps,
                                          hopeful=True)
            verdict_ = judged(plan, goal)
            if verdict_.status not in ("found", "exhausted"):
                verdicts.append(verdict_)
                continue
            value = predicted_return(plan, goal.episode_steps, goal.best_step)
            if verdict_.status == "exhausted" and action_choices(goal.action_space)[0] == "discrete":
                budget = goal_budget(self.limits.plan, goal.episode_steps)
                goal_plan = await self.plan(source, state, mission, budget)
                verdict_ = with_goal_plan(verdict_, goal_plan, goal)
                if goal_plan.found:
                    value = max(value, sum(r for _, r, _ in goal_plan.predictions))
            mean, judged_starts = goal.predicted.add(program_key(source), start_key(state, mission), value)
            verdicts.append(by_mean(verdict_, value, mean, judged_starts, goal))
        return Optimism(verdicts)

    async def fit(self, source: str, declared: Declared, budget: FitBudget | None = None) -> ParamFit:
        """Fit the program's declared PARAMS to a sample of the recorded transitions, in its worker
        (`wc._sandbox.param_fit`); the reply is read back as data (`ParamFit.from_wire`). A worker
        that fails or answers out of form gives a fit of status "failed" (the values as declared)."""
        budget = budget or FitBudget()
        key = program_key(source)
        sample = budget.sample(len(self.transitions))
        failure = self._fatal.get(key)
        if failure is None and sample:
            # a worker of its own, forked after numpy and scipy are in the template: its import is
            # not inside the fit's heartbeat, and the PARAMS it changes are never another request's
            await self._preload_fit()
            fit_key = key + ":fit"
            msg = {"op": "fit", "params": declared.to_json(), "evaluations": budget.evaluations(len(sample)),
                   "seconds": budget.wall_seconds, "sample": sample, "reward": self.reward_mode == "value"}
            # one evaluation may run past the wall cap (each call within its limit), then the report's own
            timeout = budget.wall_seconds + 2 * len(sample) * self.limits.call_timeout + 30
            try:
                reply, _ = await self._request(fit_key, source, msg, timeout)
                return ParamFit.from_wire(reply, declared, len(sample))
            except ValueError as exc:
                failure = {"kind": "malformed", "message": f"the worker's fit was malformed ({exc})"}
            except WorkerFailed as exc:
                failure = _failure(exc)
                await self._drop(fit_key)
        message = failure["message"] if failure else "there is no recorded transition to fit to"
        return ParamFit("failed", dict(declared.values), dict(declared.values), message=message, sample=len(sample))

    async def _preload_fit(self) -> None:
        """Once per template: numpy and scipy imported there, for every worker forked after."""
        await self._live_template()
        assert self._template is not None
        if not self._template.fit_preloaded:
            await self._template.send({"op": "preload"})
            self._template.fit_preloaded = True

    async def check(self, source: str) -> list[str]:
        """What the program does against the contract on the recorded transitions (problems)."""
        key = program_key(source)
        try:
            found, _ = await self._request(key, source, {"op": "check"},
                                           self.limits.evaluate_timeout + 0.05 * len(self.transitions))
            return verdict.problems_from_wire(found)
        except (WorkerFailed, verdict.Malformed) as exc:
            await self._drop(key)
            return [f"the check could not finish: {exc}"]

    async def _drop(self, key: str) -> None:
        for w in self._workers.pop(key, []):
            if not w.lock.locked():
                await w.kill()

    async def probe(self) -> dict[str, Any]:
        """What a program inside a worker would find (uid, namespaces, files, limits, layers),
        asked of a live worker and checked from outside: the report `wc doctor` prints."""
        facts, worker = await self._request("probe", None, {"op": "probe"}, timeout=30)
        facts = dict(facts)
        assert self._template is not None and self._template.proc is not None
        outer = self._template.proc.pid
        inner = jails.descendants(outer)
        facts["namespaces"] = jails.namespaces_of(inner[-1] if inner else outer)
        facts["jail"] = self.jail.describe()
        facts["jail_active"] = self.jail.active
        facts["policy"] = self.limits.jail
        facts["visible_paths"] = list(self.jail.visible)
        facts["own_user_per_program"] = self.jail.worker_drops_privileges
        await self._drop("probe")
        return facts


def _space_json(action_space: Any) -> dict[str, Any]:
    """An action space as the worker reads it (any object or mapping with kind, names, low, high, nvec)."""
    get = action_space.get if isinstance(action_space, dict) else (lambda name: getattr(action_space, name, None))
    out = {"kind": get("kind")}
    for name in ("names", "low", "high", "nvec"):
        value = get(name)
        if value is not None:
            out[name] = list(value)
    return out


def _failure(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, WorkerFailed):
        return dict(exc.failure)
    return {"kind": "malformed", "message": f"the worker's reply was malformed ({exc})"}


__all__ = ["Sandbox", "SandboxLimits", "program_key"]
