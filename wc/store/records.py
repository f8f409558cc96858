"""What the store returns: plain values, never ORM rows (a row outlives its session badly and
couples callers to the schema)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


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

    def to_json(self) -> dict[str, Any]:
        """The Program object of docs/JSON.md."""
        return dict(asdict(self), created_at=_iso(self.created_at))


@dataclass
class RunRecord:
    """A run row's values (what resuming and the façade need)."""

    id: int
    environment_id: int
    status: str
    config: dict[str, Any]
    seed: int
    model: str
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


@dataclass
class TransitionRecord:
    id: int
    episode_id: int
    step: int
    state: list[Any]
    action: str
    next_state: list[Any]
    reward: float
    done: bool
    truncated: bool
    mission: str
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
        return dict(asdict(self), believed_at=_iso(self.believed_at), reopened_at=_iso(self.reopened_at))


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
    model: str
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

    def to_json(self, *, details: bool = True) -> dict[str, Any]:
        """The Run object of docs/JSON.md; `details` adds its episodes and LLM calls (a listing of
        many runs leaves them out, as the store does)."""
        data = asdict(self)
        del data["episode_list"], data["llm_call_list"], data["unsolvable_list"]
        data["created_at"] = _iso(self.created_at)
        data["finished_at"] = _iso(self.finished_at)
        if details:
            data["episode_list"] = [dict(asdict(e), started_at=_iso(e.started_at), finished_at=_iso(e.finished_at))
                                    for e in self.episode_list]
            data["llm_call_list"] = [dict(asdict(c), started_at=_iso(c.started_at)) for c in self.llm_call_list]
            data["unsolvable_list"] = [u.to_json() for u in self.unsolvable_list]
        return data


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
        return dict(asdict(self), created_at=_iso(self.created_at))


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
        data = dict(asdict(self), created_at=_iso(self.created_at), run_ids=self.run_ids)
        del data["cells"]
        return data
