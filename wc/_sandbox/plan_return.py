"""Planning for return inside a program: the planners of `wc._planning.mcts` and
`wc._planning.cem` over a compiled program, as `wc._sandbox.plan` does for the goal planners.

A return planner makes thousands of program steps per decision, most of them in rollouts whose
states are played once and never compared, so there are two ways to step here:

* `expand(key, action)`, the goal planners' `ProgramModel.expand` over interned `EntityTable`
  keys, for MCTS's tree (a few dozen nodes per decision);
* `roll(state, action)` for rollouts and CEM's sequences: a state is the list of entity objects
  the program returned, kept with a private copy of each one's fields. Nothing is interned, so
  memory does not grow with the steps; after each call the inputs are compared with their copies,
  so a program that modifies a state it was given is caught and the unmodified state rebuilt (as
  φ1 would have given it). Fields that are all numbers, strings, booleans or None (what gymnasium
  observations are) are copied and compared as dicts; other entities as `EntityTable` values.

Both check what φ1 checks of a step (a list of entities, a finite reward and a bool) and hand a
continuous or multi-discrete action to the program as a list of its own (`roll` gives
`transition` and `reward` one each; `expand` one for both). The per-call time limit of rollouts
is `timer.rolling` (one clock read per call). The best sequence's predictions become canonical
state keys, as a goal plan's do.

A random program over continuous actions (one whose `transition` or `reward` returns a Choice of
the API module's) is planned with *sampled outcomes* (`Outcomes`): every step of a rollout draws
one outcome with the program's probabilities, from a stream seeded by the request's seed, and CEM
scores each sequence by its mean return over `CemSettings.draws` plays, the k-th play of every
sequence drawing from the same stream (`wc._planning.cem`); for φ2 (`hopeful`) by its best play,
whose trajectory (one of positive probability under the program) is the plan reported. The
parent reads such a plan as any return plan: it adds up the predicted rewards itself, and the
planner's mean (`value`) is only checked to be a number. `Outcomes(mode=True)` plays the most
probable outcome at every step instead (a random program's point prediction, as CWMB's accuracy
reads it): what planning "on the mode" means, measured against sampling in
`benchmarks/bench_stochastic.py`. Pure: no I/O; runs inside a sandbox worker.
"""
from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from typing import Any

from wc._core.canonical import state_key
from wc._core.contract import MalformedOutput, decode_state, field_names, is_entity, reward_pair
from wc._planning import DEFAULT_RETURN_PLANNERS, RETURN_PLANNERS, cem
from wc._planning.cem import CemSettings
from wc._planning.iw import WidthSettings
from wc._planning.mcts import MctsSettings
from wc._planning.result import ERROR
from wc._planning.returns import ReturnPlan, action_choices
from wc._planning.seeded import SeededCemSettings
from wc._sandbox import timer
from wc._sandbox.chance import mode_reward, mode_state
from wc._sandbox.entities import EntityTable, Key
from wc._sandbox.failures import classify
from wc._sandbox.outcomes import draw_reward, draw_state, read_reward, read_state
from wc._sandbox.plan import ProgramModel

_ATOMIC = frozenset({type(None), bool, int, float, str})
OUTCOME_SEED = 0x9E3779B9   # mixed into the seed of the stream a random program's outcomes are drawn from
Settings = MctsSettings | CemSettings | WidthSettings | SeededCemSettings


class _Rolled(tuple):
    """A rollout's state, (objects, copies, flat): the program's entity objects and a private
    copy of each one's fields (a dict when every field is atomic, flat when all are; else its
    `EntityTable` value). A tuple, made in C: a rollout makes one per step."""

    __slots__ = ()

    def key(self, table: EntityTable) -> Key:
        """The state's key in `table`, from the copies (the objects may have been modified since)."""
        objs, snaps, _ = self
        return tuple(sorted(table.intern(s if type(s) is not dict else (type(o), *[s[n] for n in field_names(type(o))]))
                            for o, s in zip(objs, snaps, strict=True)))


class Outcomes:
    """How a random program's steps meet its outcomes (module docstring): `transition` and
    `reward` wrap the program's functions so that each returns one outcome, drawn (or, with
    `mode`, the most probable one); every distribution is checked as φ1 checks it (an
    `OutcomeError` names the rule broken).

    Draws are stratified random numbers (Latin hypercube per step). Until the first `redraw` (width-based search)
    each choice takes the next number of a stream seeded by `seed`. After `redraw(k, plays)`, the
    k-th of a sequence's `plays` plays, the i-th choice met at its step t draws (π(k) + v) /
    plays, where v (uniform in [0, 1)) and π (a permutation of the plays) are drawn once per
    (t, i) for each sequence (its first play, k = 0, draws them afresh): at each choice
    the plays share out the unit interval (an outcome of probability at least 1/plays is met by
    at least one play of every sequence; 4 independent draws miss a one-in-four fall a third of
    the time), and a play's luck at one step says nothing of its luck at the next."""

    def __init__(self, program: Any, seed: int, *, mode: bool = False) -> None:
        self.program = program
        self.chance = program.chance
        self.mode = mode
        self.stream = random.Random((seed ^ OUTCOME_SEED) * 1_000_003)
        self._strata: dict[tuple[int, int, int], tuple[float, list[int]]] = {}
        self._play: tuple[int, int] | None = None   # (k, plays) of the play under way
        self._t = self._i = 0

    def redraw(self, k: int, plays: int) -> None:
        if k == 0:  # a new sequence: new luck (luck shared by every sequence is luck a search learns to dodge)
            self._strata.clear()
        self._play, self._t = (k, plays), -1

    def random(self) -> float:
        """The next number a choice is drawn with (the class docstring)."""
        if self._play is None:
            return self.stream.random()
        k, plays = self._play
        at = (self._t, self._i, plays)
        self._i += 1
        stratum = self._strata.get(at)
        if stratum is None:
            order = list(range(plays))
            self.stream.shuffle(order)
            stratum = self._strata[at] = (self.stream.random(), order)
        v, order = stratum
        return (order[k] + v) / plays

    def transition(self, state: list[Any], action: Any) -> list[Any]:
        value = self.program.transition(state, action)
        self._t, self._i = self._t + 1, 0
        if self.mode:
            return decode_state(self.program.namespace, mode_state(read_state(value, self.chance)))
        return draw_state(value, self.chance, self)  # type: ignore[arg-type]  # what it uses of a Random

    def reward(self, state: list[Any], action: Any, next_state: list[Any], mission: str) -> tuple[float, bool]:
        value = self.program.reward(state, action, next_state, mission)
        if self.mode:
            return mode_reward(read_reward(value, self.chance))
        return draw_reward(value, self.chance, self)  # type: ignore[arg-type]


class ReturnModel:
    """A compiled program seen by the return planners: `expand` over interned keys (the tree,
    the replay) and `roll` over the program's own objects (rollouts); see the module docstring.
    `outcomes`: a random program's steps, one outcome each (`Outcomes`)."""

    def __init__(self, program: Any, mission: str, call_timeout: float, outcomes: Outcomes | None = None) -> None:
        self.keyed = ProgramModel(outcomes or program, mission, call_timeout)
        self.table: EntityTable = self.keyed.table
        self.transition = (outcomes or program).transition
        self.reward = (outcomes or program).reward
        self.mission = mission
        self.pace = timer.rolling(call_timeout)
        self._fields: dict[type, int] = {}
        self.roll = self._roller()

    def start(self, ns: dict[str, Any], state: list[dict[str, Any]]) -> Key:
        return self.keyed.start(ns, state)

    def expand(self, key: Key, action: Any) -> tuple[Key, float, bool]:
        step: Any = self.keyed.expand
        try:
            child, reward, done = step(key, _given(action))
        finally:
            self.pace.rearm()  # the call's own `timer.limit` disarmed the rollouts' timer
        if reward - reward != 0.0:
            raise MalformedOutput(f"reward() must return a finite number, not {reward}")
        return child, reward, done

    def _roller(self) -> Callable[[Any, Any], tuple[_Rolled, float, bool]]:
        """`roll(state, action)`, a closure over what it uses (it runs for most of a search)."""
        transition, reward, mission, fields = self.transition, self.reward, self.mission, self._fields
        pace, every, monotonic = self.pace, self.pace.every, time.monotonic
        atomic, copy, table = _ATOMIC.issuperset, dict.copy, self.table

        def roll(state: Any, action: Any) -> tuple[_Rolled, float, bool]:
            if type(state) is _Rolled:
                objs, snaps, flat = state
            else:  # a key of the table (the start, a node of the tree)
                objs, snaps, flat = self._keyed(state)
            vector = type(action) is not str
            if monotonic() - pace.armed > every:
                pace.rearm()
            try:
                out = transition(list(objs), list(action) if vector else action)
                if type(out) is not list:
                    out = _as_list(out)
                out_snaps: list[Any] = []
                out_flat = True
                for obj in out:  # a private copy of each entity's fields
                    n = fields.get(type(obj))
                    if n is None:
                        n = self._entity_fields(obj)
                    d = getattr(obj, "__dict__", None)
                    if d is not None and len(d) == n and atomic(map(type, d.values())):
                        out_snaps.append(copy(d))
                    else:  # nested values, slots or attributes beyond the fields: the validated, deep form
                        out_flat = False
                        out_snaps.append(table.value_of(obj))
                if not (flat and [o.__dict__ for o in objs] == snaps) and not self._intact(objs, snaps, flat):
                    objs = self._rebuilt(objs, snaps)
                pair = reward(objs, list(action) if vector else action, list(out), mission)
                if not (out_flat and [o.__dict__ for o in out] == out_snaps) and \
                        not self._intact(out, out_snaps, out_flat):
                    out = self._rebuilt(out, out_snaps)
            except BaseException:  # a rollout may try another action from this state: leave it as it was
                if type(state) is _Rolled and not self._intact(state[0], snaps, flat):
                    state[0][:] = self._rebuilt(state[0], snaps)
                raise
            try:
                r, done = pair
            except (TypeError, ValueError):
                r = done = None
            if type(r) is not float or type(done) is not bool:
                r, done = reward_pair(pair)
            if r - r != 0.0:
                raise MalformedOutput(f"reward() must return a finite number, not {r}")
            return _Rolled((out, out_snaps, out_flat)), r, done

        return roll

    def features(self, state: Any) -> list[Any]:
        """The values of a state's fields, flat, entity by entity (width-based search's atoms)."""
        snaps = state[1] if type(state) is _Rolled else self._keyed(state)[1]
        out: list[Any] = []
        for snap in snaps:
            _flatten(snap.values() if type(snap) is dict else snap, out)
        return out

    def _keyed(self, key: Key) -> tuple[list[Any], list[Any], bool]:
        """Fresh objects for a state of the table, with copies of their fields."""
        objs = self.table.objects(key)
        snaps: list[Any] = [dict(t) for t in self.table.templates(key)]
        if all(_ATOMIC.issuperset(map(type, s.values())) for s in snaps):
            return objs, snaps, True
        return objs, [self.table.value_of(o) for o in objs], False

    def _entity_fields(self, obj: Any) -> int:
        if not is_entity(obj):
            raise MalformedOutput(f"a state holds entity objects, not {type(obj).__name__}")
        n = self._fields[type(obj)] = len(field_names(type(obj)))
        return n

    def _intact(self, objs: list[Any], snaps: list[Any], flat: bool) -> bool:
        try:
            if flat:
                return [o.__dict__ for o in objs] == snaps
            value_of = self.table.value_of
            return all((o.__dict__ == s) if type(s) is dict else (value_of(o) == s)
                       for o, s in zip(objs, snaps, strict=True))
        except (AttributeError, MalformedOutput):
            return False

    def _rebuilt(self, objs: list[Any], snaps: list[Any]) -> list[Any]:
        """Fresh objects with the fields of `snaps` (the program modified what it was given),
        built as φ1 builds a state: by each class's constructor."""
        return [_build(snap if type(snap) is not dict else (type(obj), *[snap[n] for n in field_names(type(obj))]))
                for obj, snap in zip(objs, snaps, strict=True)]


def _flatten(values: Any, out: list[Any]) -> None:
    for v in values:
        if isinstance(v, tuple):  # a nested entity or a list, as EntityTable keeps them
            _flatten(v, out)
        else:
            out.append(v)


def _build(value: tuple) -> Any:
    """An entity object from its `EntityTable` value (a tuple that starts with its class)."""
    return value[0](*[_field(v) for v in value[1:]])


def _field(v: Any) -> Any:
    if type(v) is tuple:  # a nested entity
        return _build(v)
    if isinstance(v, tuple):  # a list, as EntityTable keeps it
        return [_field(x) for x in v]
    return v


def _as_list(out: Any) -> list[Any]:
    if not isinstance(out, (list, tuple)):
        raise MalformedOutput(f"transition() must return a list of entities, not {type(out).__name__}")
    return list(out)


def _given(action: Any) -> Any:
    """An action as the program gets it: a name as it is, a vector as a list of its own."""
    return list(action) if type(action) is tuple or type(action) is list else action


# --------------------------------------------------------------------------- the planner


def settings_for(planner: str | Settings, kind: str) -> Settings:
    """The planner's settings: a name of `RETURN_PLANNERS`, or "auto" (MCTS for discrete
    actions, CEM for continuous ones), or settings given as they are."""
    if isinstance(planner, str):
        if planner == "auto":
            planner = DEFAULT_RETURN_PLANNERS["continuous" if kind == "continuous" else "discrete"]
        if planner not in RETURN_PLANNERS:
            raise ValueError(f"unknown return planner {planner!r} (known: auto, {', '.join(RETURN_PLANNERS)})")
        settings = RETURN_PLANNERS[planner]
    else:
        settings = planner
    if (settings.kind == "continuous") != (kind == "continuous"):
        raise ValueError(f"{settings.algorithm} plans over {settings.kind} actions; these are {kind}")
    return settings


# --------------------------------------------------------------------------- the entry point


def plan_return(program: Any, state: list[dict[str, Any]], mission: str, action_space: Any, *,
                planner: str | Settings = "auto", max_steps: int = 10_000_000, time_limit: float = 10.0,
                call_timeout: float = 2.0, rng_seed: int = 0, init: list[list[float]] | None = None,
                outcomes: str | None = None, hopeful: bool = False) -> ReturnPlan:
    """Plan from `state` for the most return the program predicts: MCTS over a discrete (or
    small multi-discrete) action space, CEM over a continuous one, or the named planner (see
    `settings_for`). `init`, CEM only, warm-starts it with the previous plan's actions after the
    one played. `outcomes`, for a random program: "sample" (the expected return over sampled
    outcomes; `hopeful`, for φ2: the best play of each sequence) or "mode" (the most probable
    outcome at every step); see the module docstring. The same seed, state and program give the
    same plan (unless the time limit cuts it). Bad arguments (planner, settings, action space,
    warm start) raise ValueError; anything the program does is in the result: status "error"
    with `first_error` when it cannot be planned in."""
    kind, actions, box = action_choices(action_space)
    settings = settings_for(planner, kind)
    if isinstance(settings, CemSettings):
        assert box is not None
        cem.check(len(box[0]), horizon=settings.horizon, samples=settings.samples, elites=settings.elites,
                  keep=settings.keep, init=init)
    if isinstance(settings, SeededCemSettings):
        assert box is not None
        refine = settings.cem
        cem.check(len(box[0]), horizon=refine.horizon, samples=refine.samples, elites=refine.elites,
                  keep=refine.keep, init=init)
    if outcomes not in (None, "sample", "mode"):
        raise ValueError(f"outcomes are sampled or the mode, not {outcomes!r}")
    name = next((n for n, s in RETURN_PLANNERS.items() if s == settings), settings.algorithm)
    if outcomes is not None:
        name = f"chance-{name}" if outcomes == "sample" else f"mode-{name}"
    if program.failure is not None:
        return ReturnPlan(status=ERROR, reason="the program does not load", first_error=program.failure,
                          planner=name)
    started = time.monotonic()
    drawn = None if outcomes is None else Outcomes(program, rng_seed, mode=outcomes == "mode")
    model = ReturnModel(program, mission, call_timeout, drawn)
    sampled: dict[str, Any] = {} if drawn is None or drawn.mode else dict(redraw=drawn.redraw, optimistic=hopeful)
    errors: list[dict[str, Any]] = []

    def on_error(exc: BaseException, action: Any) -> None:
        if not errors:
            errors.append(classify(exc, program.source))

    budget = dict(rng=random.Random(rng_seed), deadline=started + time_limit, max_steps=max_steps,
                  on_error=on_error)
    try:
        with timer.installed(), model.pace:
            start = model.start(program.namespace, state)
            if isinstance(settings, MctsSettings):
                result = settings.search(start, actions, model.expand, rollout_step=model.roll, **budget)
            elif isinstance(settings, WidthSettings):
                warm = list(itertools.takewhile(actions.__contains__, [
                    tuple(a) if kind == "multidiscrete" else a for a in init or ()]))  # an action of this space
                result = settings.search(start, actions, model.roll, features=model.features, init=warm, **budget)
            elif isinstance(settings, SeededCemSettings):
                assert box is not None
                result = settings.search(start, model.roll, low=box[0], high=box[1], init=init,
                                         features=model.features, **sampled, **budget)
            else:
                assert box is not None
                result = settings.search(start, model.roll, low=box[0], high=box[1], init=init,
                                         **sampled, **budget)
            if result.status == "found":  # canonical keys along the plan, to compare with what the environment shows
                table = model.table
                result.predictions = [(state_key(table.json_state(k if type(k) is not _Rolled else k.key(table))),
                                       r, d) for k, r, d in result.predictions]
    except timer.CallTimeout as exc:
        result = ReturnPlan(status=ERROR, reason="a call of the program timed out during planning")
        errors.append(classify(exc, program.source))
    except Exception as exc:  # noqa: BLE001 - e.g. the start state does not decode
        result = ReturnPlan(status=ERROR, reason="the program cannot be planned in")
        errors.append(classify(exc, program.source))
    if result.status != "found":
        result.predictions = []
    if kind == "multidiscrete" and result.action is not None:  # joint actions as JSON has them
        result.action, result.actions = list(result.action), [list(a) for a in result.actions]
    if errors:
        result.first_error = errors[0]
    result.planner = name
    result.seconds = time.monotonic() - started
    return result
