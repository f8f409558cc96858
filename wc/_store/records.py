"""What the store returns: plain values, never ORM rows (a row outlives its session badly and
couples callers to the schema)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from wc._core.canonical import diff_states
from wc._core.values import Transition


def stored_action(action: Any) -> str:
    """A run's action as its transitions table keeps it: a name as it is, a vector (a continuous
    or multi-discrete action of a gymnasium world) as its JSON list."""
    return action if isinstance(action, str) else json.dumps(list(action))


def action_value(text: str) -> Any:
    """The action `stored_action` stored: a JSON list of numbers read back as a list, else the name."""
    if not text.startswith("["):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value):
        return value
    return text



def iso_utc(moment: datetime | None) -> str | None:
    """A stored time as ISO 8601 with its UTC offset (`…+00:00`), as docs/JSON.md promises.
    Times are stored in UTC; SQLite hands them back without a zone, PostgreSQL with one."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


@dataclass
class FitRecord:
    """A fit of a program's PARAMS, as stored (the program it made is `program_id`, fitted from
    `parent_id`): values before and after, the budget (seconds and the count of evaluations they
    make) and sample it had, what cut it short, what it left unexplained
    (`residuals`: max_error per field, rms, within, failed, costs) and `identifiability` (rank,
    undetermined groups of names, std_errors)."""

    parent_id: int
    status: str
    message: str
    initial: dict[str, float]
    fitted: dict[str, float]
    budget_seconds: float
    n_transitions: int
    sample: list[int]
    seconds: float
    evaluations: int
    residuals: dict[str, Any]
    identifiability: dict[str, Any]
    program_id: int | None = None
    budget_evaluations: int | None = None   # the count that bounds it (None: stored before fits had one)
    cut: str | None = None                  # what stopped it short: "evaluations", "time" (the wall cap) or None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ProgramRecord:
    id: int
    run_id: int | None
    environment: str
    source: str
    source_hash: str
    origin: str
    parents: list[int]
    api_module: str
    created_at: datetime
    llm_call_id: int | None = None
    n_transitions: int | None = None
    explained: int | None = None
    fit: float | None = None
    optimism_ok: int | None = None
    optimism_total: int | None = None
    score: float | None = None
    errors: dict[str, Any] | None = None
    optimism_undecided: int | None = None  # starts whose search ran out of budget (no verdict)
    contract_version: int | None = None    # None: stored before the contract was versioned
    fitted: FitRecord | None = None         # the fit that made this program from its parent (PARAMS)

    def to_json(self) -> dict[str, Any]:
        """The Program object of docs/JSON.md."""
        return dict(asdict(self), created_at=iso_utc(self.created_at))


@dataclass
class RunRecord:
    """A run row's values (what resuming and the façade need)."""

    id: int
    environment_id: int
    status: str
    config: dict[str, Any]
    seed: int
    model: str | None
    owner: str | None
    heartbeat_at: datetime | None
    checkpoint: dict[str, Any] | None
    best_program_id: int | None
    wall_seconds: float
    llm_wait_seconds: float
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    curriculum_id: int | None
    curriculum_index: int | None
    sweep_id: int | None = None
    sweep_index: int | None = None
    node: str | None = None
    dataset_id: int | None = None   # the offline dataset the run learned from (`wc fit`)


@dataclass(frozen=True, slots=True, kw_only=True)
class DataTransition(Transition):
    """One transition of an offline dataset as wc holds it: states as the environment's adapter
    encodes observations, the action as a wc action value (a name, or a list of numbers), and
    `done` the environment's own termination; `truncated` says the episode stopped here without
    one (a step limit, or the end of the recorded data), which no program predicts. The
    dataset's mission is the dataset's (`DatasetRecord.mission`), not each transition's."""

    episode: int                  # the episode's index in the dataset, from 0
    step: int                     # the step's index in its episode, from 0
    truncated: bool = False


@dataclass
class MeasureRecord:
    """What a run's program measured outside the run (`kind` "cwmb": a `wc bench cwmb` line),
    under `settings`, with the run's environment and model as the report groups them."""

    id: int
    run_id: int
    program_id: int | None
    kind: str
    settings: dict[str, Any]
    result: dict[str, Any]
    created_at: datetime
    env: str = ""               # the store's name of the run's environment
    model: str | None = None    # the run's model
    run_config: dict[str, Any] = field(default_factory=dict)


@dataclass
class DatasetRecord:
    """An offline dataset in the store: where it came from and what it holds."""

    id: int
    environment: str          # the store's name of the environment
    env_id: str               # the gymnasium id it was encoded for
    api_module: str           # the API module its states are encoded in (name_vN)
    name: str
    format: str               # "jsonl" or "minari"
    location: str             # the file's path, or the Minari dataset id
    content_hash: str
    data_env_id: str | None   # the environment the data says it was recorded on
    mission: str
    status: str               # "complete", or "importing" while (or where) an import did not finish
    n_transitions: int
    n_episodes: int
    n_done: int
    n_truncated: int
    meta: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["created_at"], out["finished_at"] = iso_utc(self.created_at), iso_utc(self.finished_at)
        return out


@dataclass
class EpisodeRecord:
    id: int
    index: int
    seed: int | None
    mission: str
    steps: int
    total_reward: float
    success: bool
    finished: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitionRecord(Transition):
    """A transition as a run recorded it: the transition, and where and when in the run."""

    id: int
    episode_id: int
    step: int
    truncated: bool
    state_hash: str
    next_state_hash: str


@dataclass
class LLMCallRecord:
    id: int
    purpose: str
    model: str
    messages: list[Any]
    request_hash: str
    sample: int
    attempt: int
    answer: str | None
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    status: str
    error: str | None
    cost_usd: float | None
    started_at: datetime


@dataclass
class EpisodeSummary:
    index: int
    seed: int | None
    mission: str
    steps: int
    total_reward: float
    success: bool
    finished: bool = True
    plans: int = 0              # searches the agent ran in the episode
    plans_undecided: int = 0    # of which stopped by their budget
    plan_seconds: float = 0.0
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass
class UnsolvableStartRecord:
    """A start believed unsolvable: the program that fitted every transition and found no plan
    from it (a complete search), after its optimism requests and an episode played exploring;
    `reopened_at` once new data contradicted that program."""
    episode: int | None      # the index of the first episode that began there
    state_hash: str
    mission: str
    program_id: int
    believed_at: datetime | None
    reopened_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(asdict(self), believed_at=iso_utc(self.believed_at), reopened_at=iso_utc(self.reopened_at))


@dataclass
class LLMCallSummary:
    id: int
    started_at: datetime
    purpose: str
    status: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_s: float


@dataclass
class CallAtStep:
    """An LLM call placed on a run's env-step axis: `env_step` transitions were recorded before
    it started (`exact` False when they carry no times, schema < 0006: estimated from episode
    times)."""
    id: int
    started_at: datetime
    env_step: int
    prompt_tokens: int
    completion_tokens: int
    status: str
    exact: bool = True


@dataclass
class RunSummary:
    id: int
    env: str
    status: str
    model: str | None  # None: the run was allowed no LLM call and asked none
    seed: int
    created_at: datetime
    finished_at: datetime | None
    episodes: int
    successes: int
    env_steps: int
    llm_calls: int
    llm_calls_failed: int
    prompt_tokens: int
    completion_tokens: int
    programs: int
    best_program_id: int | None
    wall_seconds: float
    llm_wait_seconds: float
    error: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    episode_list: list[EpisodeSummary] = field(default_factory=list)
    cost_usd: float | None = None
    steps_to_first_success: int | None = None
    curriculum_id: int | None = None
    curriculum_index: int | None = None
    sweep_id: int | None = None
    sweep_index: int | None = None
    llm_call_list: list[LLMCallSummary] = field(default_factory=list)
    failure: str | None = None  # why this process's run failed: "llm" (unavailable, refused) or "internal"
    node: str | None = None     # the machine that ran it last: a Ray node id, else the host name
    unsolvable: int = 0         # starts believed unsolvable now (not reopened)
    unsolvable_list: list[UnsolvableStartRecord] = field(default_factory=list)  # with reopened ones
    fit_list: list[FitRecord] = field(default_factory=list)  # fits of PARAMS that made its programs, in order

    def to_json(self, *, details: bool = True) -> dict[str, Any]:
        """The Run object of docs/JSON.md; `details` adds its episodes and LLM calls (a listing of
        many runs leaves them out, as the store does)."""
        data = asdict(self)
        del data["episode_list"], data["llm_call_list"], data["unsolvable_list"], data["fit_list"]
        data["created_at"] = iso_utc(self.created_at)
        data["finished_at"] = iso_utc(self.finished_at)
        if details:
            data["episode_list"] = [dict(asdict(e), started_at=iso_utc(e.started_at),
                                         finished_at=iso_utc(e.finished_at)) for e in self.episode_list]
            data["llm_call_list"] = [dict(asdict(c), started_at=iso_utc(c.started_at)) for c in self.llm_call_list]
            data["unsolvable_list"] = [u.to_json() for u in self.unsolvable_list]
            data["fit_list"] = [f.to_json() for f in self.fit_list]
        return data


@dataclass
class StepRecord:
    """One step of an episode as the store holds it, for watching the episode."""

    step: int
    action: str
    action_source: str | None     # "plan", "explore" (random), "llm" (ReAct); None: recorded before schema 0008
    reward: float
    done: bool
    truncated: bool
    state: list[Any]
    next_state: list[Any]
    predicted_hash: str | None    # the program's predicted next state (planned steps), as a hash
    predicted_state: list[Any] | None  # … and as a state, where it differs from next_state
    next_state_hash: str = ""
    recorded_at: datetime | None = None

    @property
    def prediction(self) -> str | None:
        """"held" (the program foresaw the next state), "failed", or None (no prediction)."""
        if self.predicted_hash is None:
            return None
        return "held" if self.predicted_hash == self.next_state_hash else "failed"

    def to_json(self) -> dict[str, Any]:
        """The Step object of docs/JSON.md."""
        return {"step": self.step, "action": self.action, "action_source": self.action_source,
                "reward": self.reward, "done": self.done, "truncated": self.truncated,
                "changes": diff_states(self.state, self.next_state), "prediction": self.prediction,
                "predicted_changes": (diff_states(self.next_state, self.predicted_state)
                                      if self.predicted_state is not None else None),
                "state": self.state, "next_state": self.next_state, "predicted_state": self.predicted_state,
                "recorded_at": iso_utc(self.recorded_at)}


@dataclass
class EpisodeTrace:
    """An episode step by step, with what its run needs to replay it (environment, options)."""

    run_id: int
    env: str
    config: dict[str, Any]
    episode: EpisodeSummary
    steps: list[StepRecord]

    def to_json(self) -> dict[str, Any]:
        """The Episode trace object of docs/JSON.md."""
        e = self.episode
        return {"run_id": self.run_id, "env": self.env,
                "episode": dict(asdict(e), started_at=iso_utc(e.started_at), finished_at=iso_utc(e.finished_at)),
                "steps": [s.to_json() for s in self.steps]}


@dataclass
class CurriculumSummary:
    id: int
    envs: list[str]
    status: str
    created_at: datetime
    config: dict[str, Any]
    run_ids: list[int]

    def to_json(self) -> dict[str, Any]:
        """The Curriculum object of docs/JSON.md."""
        return dict(asdict(self), created_at=iso_utc(self.created_at))


@dataclass
class SweepCell:
    """One (environment, seed) of a sweep, and the run that plays it once started."""
    index: int
    env: str
    seed: int
    run_id: int | None


@dataclass
class SweepSummary:
    id: int
    envs: list[str]
    seeds: list[int]
    engine: str
    status: str
    created_at: datetime
    config: dict[str, Any]
    cells: list[SweepCell]

    @property
    def run_ids(self) -> list[int]:
        return [c.run_id for c in self.cells if c.run_id is not None]

    def to_json(self) -> dict[str, Any]:
        """The Sweep object of docs/JSON.md without its details (`wc sweep list`)."""
        data = dict(asdict(self), created_at=iso_utc(self.created_at), run_ids=self.run_ids)
        del data["cells"]
        return data
