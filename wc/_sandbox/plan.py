"""Planning inside a program: the planners of `wc._planning` search over interned states while
the program, a black box, says what each action does.

Per expanded state the entity objects are built once and handed to every action's
`transition` and `reward` call; after each call they are checked against the table, so a
program that modifies its input is caught (and from then on gets fresh objects for every call)
instead of corrupting the search. Entities a program returns unchanged keep their ids without
being converted again. Pure: no I/O; runs inside a sandbox worker.
"""
from __future__ import annotations

import operator
import time
from collections.abc import Callable
from typing import Any

from wc._core.canonical import state_key
from wc._core.contract import decode_state, reward_pair
from wc._planning import PLANNERS, PlanResult
from wc._planning.best import best_first
from wc._planning.result import ERROR, EXHAUSTED
from wc._planning.shortcut import shortcut
from wc._sandbox import fastcopy, timer
from wc._sandbox.entities import EntityTable, Key
from wc._sandbox.failures import classify

ActionSource = list[str] | Callable[[list[dict[str, Any]]], list[str]]
_fields = operator.attrgetter("__dict__")
# a plan longer than this share of the steps left in the episode is shortened
NEAR_HORIZON = 0.8
SHORTER_WEIGHT = 5.0  # the weighted A* that looks for a shorter plan: depth + 5 · estimate


class ProgramModel:
    """A compiled program seen by a planner: `expand(key, action) -> (key, reward, done)`."""

    def __init__(self, program: Any, mission: str, call_timeout: float) -> None:
        self.transition = program.transition
        self.reward = program.reward
        self.mission = mission
        self.call_timeout = call_timeout
        self.table = EntityTable()
        self.defensive = False  # the program modified its input once: fresh objects for every call
        self._node: Key | None = None
        self._objs: list[Any] = []
        self._templates: list[dict[str, Any]] = []
        self._known: dict[int, int] = {}
        self._copied: dict[int, Any] = {}

    def start(self, ns: dict[str, Any], state: list[dict[str, Any]]) -> Key:
        return self.table.key_of(decode_state(ns, state))

    def _prepare(self, key: Key) -> None:
        self._node = key
        self._objs = self.table.objects(key)
        self._templates = self.table.templates(key)
        self._known = {id(o): eid for o, eid in zip(self._objs, key, strict=False)}

    def _intact(self, key: Key) -> bool:
        try:
            return list(map(_fields, self._objs)) == self._templates
        except AttributeError:
            return False

    def expand(self, key: Key, action: str) -> tuple[Key, float, bool]:
        if self.defensive:
            with timer.limit(self.call_timeout):
                out = self.transition(self.table.objects(key), action)
                child = self.table.key_of(out)
                pair = reward_pair(self.reward(self.table.objects(key), action, out, self.mission))
            return child, pair[0], pair[1]
        if key != self._node:
            self._prepare(key)
        copied = self._copied
        copied.clear()
        with timer.limit(self.call_timeout):
            fastcopy.provenance = copied
            try:
                out = self.transition(list(self._objs), action)
            finally:
                fastcopy.provenance = None
            if self._intact(key):
                child = self.table.key_of(out, self._known, copied)
            else:  # it modified its input: what it returned may hold the modified objects
                self.defensive = True
                self._node = None
                child = self.table.key_of(out)
                out = self.table.objects(child)
                pair = reward_pair(self.reward(self.table.objects(key), action, out, self.mission))
                return child, pair[0], pair[1]
            pair = reward_pair(self.reward(list(self._objs), action, out, self.mission))
            if not self._intact(key):
                self.defensive = True
                self._node = None
        return child, pair[0], pair[1]


def _explore(model: ProgramModel, start: Key, actions: Any, frontier: Callable, mission: str, *, max_nodes: int,
             max_depth: int, deadline: float, on_error: Any) -> PlanResult | None:
    """The shortest plan, in the program, after which something on the start's frontier is no
    longer on it (or the goal is reached); None when the frontier is empty."""
    table = model.table
    targets = set(frontier(table.json_state(start), mission))
    if not targets:
        return None

    def expand(key: Key, action: str) -> tuple[Key, float, bool]:
        child, reward, done = model.expand(key, action)
        if reward > 0 and done:
            return child, reward, done
        if targets - set(frontier(table.json_state(child), mission)):
            return child, 1.0, True
        return child, reward, done

    result = PLANNERS["bfs"](start, actions, expand, max_nodes=max_nodes, max_depth=max_depth, deadline=deadline,
                             on_error=on_error)
    result.explore = result.found
    if not result.found:
        result.reason = "nothing left to explore is reachable: " + result.reason
    return result


def plan(program: Any, state: list[dict[str, Any]], mission: str, actions: ActionSource, *, planner: str = "bfws",
         max_nodes: int = 100_000, max_depth: int = 250, time_limit: float = 10.0,
         call_timeout: float = 2.0, focus: Callable | None = None, frontier: Callable | None = None,
         estimator: Callable | None = None, horizon: int | None = None) -> PlanResult:
    """Search the program for a plan from `state` to reward > 0 and done. `actions` is a list,
    or a trusted function from a JSON state to the actions worth trying there; `focus(state,
    mission, actions)`, a domain's trusted hint, narrows them for a first search. When that
    search enumerates everything without a plan, a second one with every action decides.

    `frontier(state, mission)`, a trusted hint for partly observed worlds, names what is left to
    explore while what the mission needs is out of sight. While it names something, the
    shortest plan that explores one of those is returned (`explore=True`), or the goal if that
    comes first: the optimistic reading, that the goal is out of sight rather than out of reach.
    With nothing to explore, the goal searches decide as without a frontier.

    `estimator(state, mission)`, another trusted hint, guides a first search (see `guided`).

    `horizon`: the steps left in the episode. A plan found longer than NEAR_HORIZON of them is
    shortened, since a step limit would otherwise cut it: with an estimator, by a weighted A* on
    the estimate that prunes what cannot finish within the horizon (up to the search's node
    budget and time again); then, if it is still that long, by a shortcut pass over its own
    states (`planning.shortcut`; up to half of them more)."""
    if program.failure is not None:
        return PlanResult(False, reason="the program does not load", first_error=program.failure, status=ERROR)
    started = time.monotonic()
    model = ProgramModel(program, mission, call_timeout)
    errors: list[dict[str, Any]] = []

    def on_error(exc: BaseException, action: str) -> None:
        if not errors:
            errors.append(classify(exc, program.source))

    try:
        with timer.installed():
            start = model.start(program.namespace, state)
            table = model.table
            choose = (lambda key: actions(table.json_state(key))) if callable(actions) else list(actions)
            search = PLANNERS[planner]
            estimate = estimate_of(estimator, state, mission, table)
            if estimate is not None:
                search = guided(search, estimate)
            deadline = started + time_limit
            goal = choose
            if focus is not None:
                def focused(key):
                    listed = actions(table.json_state(key)) if callable(actions) else list(actions)
                    return focus(table.json_state(key), mission, listed)
                goal = focused
            # exploring first, while the hint says what the mission needs is out of sight
            stages: list[tuple[str, Any]] = [("explore", choose)] if frontier is not None else []
            stages.append(("goal", goal))
            if focus is not None:
                stages.append(("goal", choose))
            spent = 0
            result = None
            for kind, chooser in stages:
                left = max(1, max_nodes - spent)
                if kind == "explore":
                    assert frontier is not None
                    found = _explore(model, start, chooser, frontier, mission, max_nodes=left,
                                     max_depth=max_depth, deadline=deadline, on_error=on_error)
                    if found is None:
                        continue  # nothing left to explore
                else:
                    found = search(start, chooser, model.expand, max_nodes=left, max_depth=max_depth,
                                   deadline=deadline, on_error=on_error)
                spent += found.nodes
                result = found
                if result.found or result.status != "exhausted":
                    break
            assert result is not None
            result.nodes = spent
            if result.found and not result.explore and horizon is not None \
                    and len(result.actions) > NEAR_HORIZON * horizon:
                _shorten(result, model, start, choose, estimate, horizon, max_nodes=max_nodes, seconds=time_limit,
                         on_error=on_error)
    except timer.CallTimeout as exc:
        result = PlanResult(False, reason="a call of the program timed out during planning", status=ERROR)
        errors.append(classify(exc, program.source))
    except Exception as exc:  # noqa: BLE001 - e.g. the start state does not decode
        result = PlanResult(False, reason="the program cannot be planned in", status=ERROR)
        errors.append(classify(exc, program.source))
    if result.found:  # canonical keys along the path, to compare with what the environment will show
        result.predictions = [(state_key(model.table.json_state(k)), r, d) for k, r, d in result.predictions]
    else:
        result.predictions = []
    if errors:
        result.first_error = errors[0]
    result.seconds = time.monotonic() - started
    return result


def _shorten(result: PlanResult, model: ProgramModel, start: Key, actions: Any, estimate: Callable | None,
             horizon: int, *, max_nodes: int, seconds: float, on_error: Any) -> None:
    """A found plan too long for the steps left, made shorter in place (see `plan`)."""
    before, nodes = len(result.actions), 0
    if estimate is not None:
        shorter = best_first(start, actions, model.expand, max_nodes=max_nodes, max_depth=horizon,
                             deadline=time.monotonic() + seconds, on_error=on_error, estimate=estimate,
                             weight=SHORTER_WEIGHT, bound=horizon)
        nodes += shorter.nodes
        if shorter.found and len(shorter.actions) < len(result.actions):
            result.actions, result.predictions = shorter.actions, shorter.predictions
    if len(result.actions) > NEAR_HORIZON * horizon:
        cut = shortcut(start, actions, model.expand, result.actions, result.predictions, max_nodes=max_nodes // 2,
                       deadline=time.monotonic() + seconds / 2, on_error=on_error)
        nodes += cut.nodes
        result.actions, result.predictions = cut.actions, cut.predictions
    result.shortened = before - len(result.actions)
    result.nodes += nodes


def estimate_of(estimator: Callable | None, state: list[dict[str, Any]], mission: str,
                table: EntityTable) -> Callable[[Key], Any] | None:
    """A domain's trusted estimate for the states of one search, by key (`estimator(start
    state, mission)` returns `estimate(state) -> float | None`, None for a dead state, or itself
    None: no hint here). The program stays a black box: the hint only reads the JSON states the
    program's own transitions produced."""
    if estimator is None:
        return None
    try:
        estimate = estimator(state, mission)
    except Exception:  # noqa: BLE001 - a hint that cannot read this start gives no guidance
        estimate = None
    if estimate is None:
        return None
    return lambda key: estimate(table.json_state(key))


def guided(search: Callable[..., PlanResult], estimate: Callable[[Key], Any]) -> Callable[..., PlanResult]:
    """`search`, preceded by a best-first search on a domain's trusted estimate (`estimate_of`).
    A hint prunes, so when the guided search runs out of states without a plan, `search` decides
    with what budget is left: a hint never turns into a verdict against the program."""

    def run(start: Key, actions: Any, expand: Any, *, max_nodes: int, **kw: Any) -> PlanResult:
        first = best_first(start, actions, expand, max_nodes=max_nodes, estimate=estimate, **kw)
        if first.status != EXHAUSTED:
            return first
        second = search(start, actions, expand, max_nodes=max(1, max_nodes - first.nodes), **kw)
        second.nodes += first.nodes
        return second

    return run
