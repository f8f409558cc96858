"""REx refinement with concurrent candidates.

Each round pulls up to K arms of the bandit at once: their LLM requests run concurrently and each
returned candidate is evaluated in a sandbox worker as soon as it arrives. The first round sends
one request (most refinements need only one); later rounds fan out to K. Refinement stops at the
first candidate that fits all data (φ1) and is optimistic (φ2), or when the call budget is spent.
A start from which a fitting candidate has no plan costs at most its optimism allowance
(`synth/optimism.py`); then it is set aside and φ2 is judged without it.

Whatever order the answers arrive in, what follows is the same: a round's candidates are
recorded (so numbered) and folded into the bandit in arm order, and "the first solved" is the
lowest-numbered solved arm. Replays and resumes therefore ask the same requests in the same order.
"""
from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wc._core.canonical import start_key
from wc._core.values import State
from wc._llm.base import ChatClient
from wc._sandbox.evaluation import Evaluation, Optimism, score
from wc._sandbox.likelihood import Fit
from wc._sandbox.param_fit import FitBudget, ParamFit
from wc._sandbox.sandbox import Sandbox
from wc._synth import chance, fitting, prompts
from wc._synth.code import NoCode, program_from_answer
from wc._synth.optimism import OptimismBudget
from wc._synth.rex import Arm, Rex
from wc.errors import LLMError, LLMFatalError
from wc.events import CandidateChecked, Event, LLMCallFailed, RefineRound, StartsSetAside

ORIGIN = {"scratch": "scratch", "transition": "repair_transition", "reward": "repair_reward",
          "optimism": "repair_optimism"}
DEFAULT_FIT = FitBudget()
REFIT_GROWTH = 1.1  # a structure whose last refit still missed is refitted again once the data grew by a tenth
FITTED = "fitted"  # the origin of a program whose PARAMS wc fitted to the data (its parent: the program fitted)


@dataclass
class Candidate:
    program_id: int
    source: str
    evaluation: Evaluation
    optimism: Optimism | None = None
    repairable: bool = True  # False for answers with no usable code: nothing to repair
    offline: bool = False    # fitting recorded data (`wc fit`): φ1 alone decides, there is no φ2
    fitted: ParamFit | None = None  # the fit of its PARAMS that made this program (what repair prompts show)

    @property
    def score(self) -> float:
        return score(self.evaluation, self.optimism)

    @property
    def solved(self) -> bool:
        """φ1 holds, and φ2 is not refuted: no start was shown to have no plan (a search that
        only ran out of budget is no evidence against the program). Offline, φ1 alone."""
        if self.offline:
            return self.evaluation.fits
        return self.evaluation.fits and self.optimism is not None and self.optimism.not_refuted


@dataclass
class Pulled:
    """An answer turned into a program and checked, not yet recorded (so not yet numbered)."""

    source: str
    origin: str
    parents: list[int]
    call_id: int | None
    evaluation: Evaluation
    optimism: Optimism | None
    repairable: bool = True
    fitted: fitting.Fitted | None = None  # `source` is this fit of the answer's program (fitted.parent_source)


@dataclass
class CallBudget:
    """LLM requests allowed for the run; every request sent counts (retries, cancelled ones). With
    `max_usd`, no request may take the run's cost past it; `stopped` says why the budget ended
    early, whatever is left."""

    limit: int
    used: int = 0
    max_usd: float | None = None
    spent_usd: float = 0.0
    stopped: str | None = None

    @property
    def remaining(self) -> int:
        return 0 if self.stopped else max(0, self.limit - self.used)

    def allows(self, estimate_usd: float | None) -> bool:
        """Whether a request of this estimated cost may be sent now."""
        if self.remaining <= 0:
            return False
        if self.max_usd is not None and estimate_usd is not None and self.spent_usd + estimate_usd > self.max_usd:
            self.stopped = (f"the next request could take the LLM cost past ${self.max_usd:.2f} "
                            f"(${self.spent_usd:.4f} spent)")
            return False
        return True


class Recorder:
    """What refinement needs from the store, as callbacks (keeps synth free of SQL)."""

    async def program(self, source: str, origin: str, parents: list[int], llm_call_id: int | None) -> int:
        raise NotImplementedError

    async def scores(self, candidate: Candidate) -> None:
        raise NotImplementedError

    async def fit(self, program_id: int, parent_id: int, fitted: fitting.Fitted) -> None:
        """`program_id` is `parent_id` with its PARAMS fitted to the data (`fitted`)."""
        raise NotImplementedError

    def event(self, event: Event) -> None:
        """Tell the run's caller (wc.events); by default, no one."""


@dataclass
class RefineResult:
    best: Candidate | None
    solved: bool
    calls: int
    candidates: list[Candidate] = field(default_factory=list)
    set_aside: int = 0  # starts that used up their optimism allowance in this refinement


class Refiner:
    def __init__(self, *, llm: ChatClient, sandbox: Sandbox, ctx: prompts.PromptContext, recorder: Recorder,
                 budget: CallBudget, concurrency: int = 4, c: float = 5.0, seed: int = 0,
                 max_shown: int = 12, offline: bool = False, fit_budget: FitBudget | None = DEFAULT_FIT) -> None:
        self.llm = llm
        self.sandbox = sandbox
        self.ctx = ctx
        self.recorder = recorder
        self.budget = budget
        self.concurrency = max(1, concurrency)
        self.c = c
        self.seed = seed  # refinement n draws its arms from (seed, n): a resumed run asks the same
        self.max_shown = max_shown
        self.offline = offline  # recorded data only (`wc fit`): a candidate is solved when φ1 holds
        self.fit_budget = fit_budget  # a program's PARAMS are fitted within it before φ1 (None: not fitted)
        # the refit pacing: a structure (fitting.structure_key) -> (transitions at its last refit, whether that
        # refit fitted them all); in the agent's checkpoint (`refit_pacing`), so a resumed run refits when the
        # uninterrupted one would
        self._refits: dict[str, tuple[int, bool]] = {}

    async def assess(self, program_id: int, source: str, starts: list[tuple[State, str]],
                     fitted: ParamFit | None = None) -> Candidate:
        """φ1 on all data; φ2 from every start once φ1 holds. Scores are written to the store. A
        program with PARAMS that no longer fits is fitted again first, from its own values, with no
        LLM call: when the values change, the candidate is that new version (fitted from it).
        `fitted`: the fit that made the program, kept (what its prompts show) unless it is refitted."""
        evaluation, optimism = await self._check(source, starts)
        cand = Candidate(program_id, source, evaluation, optimism, offline=self.offline, fitted=fitted)
        await self.recorder.scores(cand)
        if self.fit_budget and not evaluation.fits and evaluation.load_failure is None and self._refit_due(source):
            refit = await fitting.fit_program(self.sandbox, source, self.fit_budget)
            if isinstance(refit, fitting.Fitted):
                cand.fitted = refit.fit
                if refit.changed:
                    pid = await self.recorder.program(refit.source, FITTED, [program_id], None)
                    await self.recorder.fit(pid, program_id, refit)
                    evaluation, optimism = await self._check(refit.source, starts)
                    cand = Candidate(pid, refit.source, evaluation, optimism, offline=self.offline,
                                     fitted=refit.fit)
                    await self.recorder.scores(cand)
            self._refitted(source, cand.evaluation.fits)
        return cand

    def _refit_due(self, source: str) -> bool:
        """Whether a program that stopped fitting is refitted now: always when its structure's last
        refit fitted every transition (new data, new values), else once the data has grown by
        REFIT_GROWTH since (a structure that no values fit is not refitted, as a new version,
        after every step)."""
        n = len(self.sandbox.transitions)
        key = fitting.structure_key(source)
        if key is None or n == 0:
            return False
        last, fitted_all = self._refits.get(key, (0, True))
        return fitted_all or n > REFIT_GROWTH * last

    def _refitted(self, source: str, fits: bool) -> None:
        key = fitting.structure_key(source)
        if key is not None:
            self._refits[key] = (len(self.sandbox.transitions), fits)

    def refit_pacing(self) -> dict[str, list[Any]]:
        """The refit pacing as plain data, for the agent's checkpoint."""
        return {key: [n, fits] for key, (n, fits) in sorted(self._refits.items())}

    def restore_refit_pacing(self, data: Any) -> None:
        """Put back `refit_pacing`'s data (a checkpoint written before it held none: none)."""
        self._refits = {str(key): (int(n), bool(fits)) for key, (n, fits) in (data or {}).items()}

    async def _check(self, source: str, starts: list[tuple[State, str]]) -> tuple[Evaluation, Optimism | None]:
        evaluation = await self.sandbox.evaluate(source)
        optimism = await self.sandbox.optimism(source, starts) if evaluation.fits and starts else None
        return evaluation, optimism

    async def refine(self, current: Candidate | None, starts: list[tuple[State, str]],
                     others: Sequence[Candidate] = (), optimism: OptimismBudget | None = None,
                     number: int = 0) -> RefineResult:
        """REx from `current` (and `others`, e.g. programs transferred from other runs, whose
        repairs compete too), always beside writing from scratch.

        With `optimism`, a start from which a candidate that fits every transition has no plan
        (a complete search) may hold the refinement open only for its allowance of requests: a
        round sends no more than the smallest allowance left among such starts, and a start
        whose allowance is used up is set aside (it stops counting against φ2, here and until
        new data reopens it). `number` counts the run's refinements: it seeds the arms drawn."""
        rng = random.Random(f"{self.seed}:refine:{number}")
        rex = Rex(c=self.c)
        candidates: dict[int, Candidate] = {}
        for cand in ([current] if current is not None else []) + list(others):
            self._add_arms(rex, cand)
            candidates[cand.program_id] = cand
        calls_at_start = self.budget.used
        solved: Candidate | None = None
        round_no = 0
        set_aside = 0
        while solved is None:
            room = self.budget.remaining
            if room <= 0:
                break
            k = min(room, 1 if round_no == 0 else self.concurrency)
            if optimism is not None:
                k, starts, dropped, solved = self._bound_by_optimism(k, candidates, starts, optimism)
                set_aside += dropped
                if solved is not None:
                    break
            arms = rex.choose(k, rng)
            self.recorder.event(RefineRound(round=round_no, arms=tuple((a.program_id, a.kind) for a in arms)))
            solved = await self._round(rex, arms, candidates, starts)
            round_no += 1
        best = solved or self._best(candidates.values())
        return RefineResult(best, solved is not None, self.budget.used - calls_at_start, list(candidates.values()),
                            set_aside)

    def _bound_by_optimism(self, k: int, candidates: dict[int, Candidate], starts: list[tuple[State, str]],
                           optimism: OptimismBudget) -> tuple[int, list[tuple[State, str]], int, Candidate | None]:
        """Starts from which a fitting candidate has no plan bound the round to their smallest
        allowance left, and spend it; those whose allowance is used up are set aside first. The
        round's size, the starts still counted, how many were set aside, and a candidate that
        solves without them (then no round is asked)."""
        keys = [start_key(state, mission) for state, mission in starts]
        blocking = sorted({i for c in candidates.values() if c.evaluation.fits and c.optimism is not None
                           for i in c.optimism.exhausted()})
        used_up = {i for i in blocking if not optimism.counts(keys[i])}
        if used_up:  # these starts no longer count: a candidate may now be good enough
            starts = [s for i, s in enumerate(starts) if i not in used_up]
            for cand in candidates.values():
                if cand.optimism is not None:
                    cand.optimism = cand.optimism.without(used_up)
            self.recorder.event(StartsSetAside(starts=len(used_up)))
            now_solved = [c for c in candidates.values() if c.solved]
            if now_solved:
                return k, starts, len(used_up), max(now_solved, key=lambda c: (c.score, -c.program_id))
            keys = [k_ for i, k_ in enumerate(keys) if i not in used_up]
            blocking = [i - sum(1 for u in used_up if u < i) for i in blocking if i not in used_up]
        if blocking:  # what this round asks for is, in effect, a plan from these starts
            allowances = [optimism.left(keys[i]) for i in blocking]
            k = min([k] + [a for a in allowances if a is not None])
            for i in blocking:
                optimism.spend(keys[i], k)
        return k, starts, len(used_up), None

    async def _round(self, rex: Rex, arms: list[Arm], candidates: dict[int, Candidate],
                     starts: list[tuple[State, str]]) -> Candidate | None:
        """Pull the arms at once; record and fold in their candidates in arm order, whatever order
        the answers arrive in; the first that solves (the rest are cancelled), or None."""
        tasks = [asyncio.create_task(self._pull(arm, candidates, starts, sample=arms[:i].count(arm)))
                 for i, arm in enumerate(arms)]
        try:
            for task in tasks:
                pulled = await task
                if pulled is None:
                    continue
                found = await self._record(pulled)
                candidates[found.program_id] = found
                if found.solved:
                    return found
                self._add_arms(rex, found)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return None

    @staticmethod
    def _best(candidates) -> Candidate | None:
        ranked = sorted(candidates, key=lambda c: (c.score, c.program_id), reverse=True)
        return ranked[0] if ranked else None

    def _add_arms(self, rex: Rex, cand: Candidate) -> None:
        ev = cand.evaluation
        h = cand.score
        if not cand.repairable:
            return
        if ev.load_failure is not None:
            rex.add(cand.program_id, "transition", h)
            return
        if ev.failing("transition"):
            rex.add(cand.program_id, "transition", h)
        if ev.failing("reward"):
            rex.add(cand.program_id, "reward", h)
        if ev.disagreements and not ev.failing("transition") and not ev.failing("reward"):
            rex.add(cand.program_id, "transition", h)  # its probabilities (`prompts.frequencies`)
        if ev.fits and cand.optimism is not None and cand.optimism.refuted:
            rex.add(cand.program_id, "optimism", h)

    def _messages(self, arm: Arm, parent: Candidate | None, starts, sample: int) -> list[dict[str, str]]:
        data = self.sandbox.transitions
        params = fitting.describe(parent.fitted, self.ctx.tolerance) if parent and parent.fitted is not None else ""
        if arm.kind == "scratch" or parent is None:
            choose = prompts.choose_informative_numeric if self.ctx.numeric else prompts.choose_informative
            varied = chance.nondeterminism(self.ctx, data, self.sandbox.varied()) if self.ctx.chance else ""
            return prompts.scratch(self.ctx, data, choose(data, self.max_shown), varied)
        if arm.kind == "optimism":
            plans = parent.optimism.plans if parent.optimism is not None else []
            failed = [(s, p) for s, p in zip(starts, plans, strict=False) if not p.found and not p.undecided]
            if failed:
                (state, mission), plan = failed[sample % len(failed)]
                return prompts.optimism(self.ctx, parent.source, state, mission, plan, len(data), params)
        ev = parent.evaluation
        failing = ev.failing(arm.kind if arm.kind != "optimism" else "transition")
        params = fitting.describe(parent.fitted, self.ctx.tolerance) if parent.fitted is not None else ""
        if not failing and ev.load_failure is None and ev.disagreements:  # possible, but at the wrong rates
            return prompts.frequencies(self.ctx, parent.source, self._chance(ev), params=params)
        if not failing:  # nothing to show but the error that stops it loading (e.g. before any data)
            return prompts.repair_load(self.ctx, parent.source, ev.load_failure or {
                "kind": "unknown", "message": "the program could not be checked"}, params)
        with_detail = [i for i in failing if i in ev.failures] or failing
        # the newest failure first (a continuous world: the largest error first); concurrent samples of
        # one arm see different counterexamples
        order = sorted(with_detail, reverse=True)
        if self.ctx.numeric:
            order.sort(key=lambda i: -((ev.failures.get(i, {}).get("difference") or {}).get("max_error") or 0.0))
        index = order[sample % len(order)]
        detail = ev.failures.get(index) or ev.load_failure and {
            "transition_error": ev.load_failure, "reward_error": ev.load_failure} or {}
        passing = (prompts.choose_spread(data, ev.passing(), 3, []) if self.ctx.numeric
                   else prompts.choose_passing(data, ev.passing(), index))
        return prompts.repair(self.ctx, parent.source, data, passing, index, detail, arm.kind, self._chance(ev),
                              params=params)

    def _chance(self, ev: Evaluation) -> str:
        """What a random world's data says against a program, for its repair: the transitions it
        calls impossible or very unlikely and the frequencies it does not explain (a random
        program), or that the same state and action led to different outcomes (a deterministic
        one). Empty where the API module has no chance helpers, so other worlds' prompts are as
        they were."""
        if not self.ctx.chance:
            return ""
        data = self.sandbox.transitions
        if not ev.random:
            return chance.nondeterminism(self.ctx, data, ev.varied) if not ev.fits else ""
        assert ev.likelihoods is not None
        fit = Fit(ev.likelihoods)
        likely = {i: d["likely"] for i, d in ev.failures.items() if d.get("likely")}
        texts = [chance.improbable(self.ctx, data, ev.likelihoods, fit.impossible + fit.unlikely(), likely=likely),
                 chance.frequencies(self.ctx, data, ev.disagreements), chance.WHAT_CHANCE_IS_FOR]
        return "\n\n".join(t for t in texts if t)

    async def _pull(self, arm: Arm, candidates: dict[int, Candidate], starts, sample: int) -> Pulled | None:
        """Ask for one candidate and check it; recording it is left to the round, in arm order."""
        parent = candidates.get(arm.program_id) if arm.program_id is not None else None
        messages = self._messages(arm, parent, starts, sample)
        try:
            completion = await self.llm.complete(messages, purpose=ORIGIN[arm.kind], sample=sample)
        except LLMFatalError:
            raise
        except LLMError as exc:
            self.recorder.event(LLMCallFailed(error=str(exc)))
            return None
        call_id = completion.call.meta.get("id")
        parents = [parent.program_id] if parent is not None else []
        try:
            source = program_from_answer(completion.text, parent.source if parent else None,
                                         parent_loads=parent is None or parent.evaluation.load_failure is None)
        except (NoCode, SyntaxError) as exc:
            # recorded as a failing program so the answer stays inspectable in the lineage
            failure = {"kind": "syntax" if isinstance(exc, SyntaxError) else "no_code", "message": str(exc)}
            return Pulled(_unparsable(completion.text, exc), ORIGIN[arm.kind], parents, call_id,
                          Evaluation.failed(len(self.sandbox.transitions), failure), None, repairable=False)
        fitted = await fitting.fit_program(self.sandbox, source, self.fit_budget) if self.fit_budget else None
        if isinstance(fitted, fitting.Unfittable):  # a bad declaration or a diverging fit: fails cleanly
            return Pulled(source, ORIGIN[arm.kind], parents, call_id,
                          Evaluation.failed(len(self.sandbox.transitions), fitted.failure), None)
        if fitted is not None and fitted.changed:
            source = fitted.source  # REx scores the candidate after fitting
        evaluation, optimism = await self._check(source, starts)
        if fitted is not None:
            self._refitted(source, evaluation.fits)
        return Pulled(source, ORIGIN[arm.kind], parents, call_id, evaluation, optimism, fitted=fitted)

    async def _record(self, pulled: Pulled) -> Candidate:
        fitted = pulled.fitted
        if fitted is not None and fitted.changed:  # the answer's program, then its fitted version
            answer = await self.recorder.program(fitted.parent_source, pulled.origin, pulled.parents, pulled.call_id)
            pid = await self.recorder.program(pulled.source, FITTED, [answer], None)
            await self.recorder.fit(pid, answer, fitted)
        else:
            pid = await self.recorder.program(pulled.source, pulled.origin, pulled.parents, pulled.call_id)
        cand = Candidate(pid, pulled.source, pulled.evaluation, pulled.optimism, repairable=pulled.repairable,
                         offline=self.offline, fitted=fitted.fit if fitted is not None else None)
        await self.recorder.scores(cand)
        load = cand.evaluation.load_failure  # an answer without usable code has fit 0 and this failure
        self.recorder.event(CandidateChecked(program_id=pid, fit=cand.evaluation.fit, solved=cand.solved,
                                             optimism=None if cand.optimism is None else cand.optimism.describe(),
                                             failure=load["kind"] if load else None))
        return cand


def _unparsable(answer: str, exc: Exception) -> str:
    """A program text for an answer with no usable code: comments only, so it loads as missing."""
    quoted = "\n".join("# " + line for line in (answer or "").splitlines()[:200])
    return f"# wc: the answer had no usable code ({type(exc).__name__}: {exc})\n{quoted}\n"

