"""The knowledge store's schema as SQLAlchemy Core tables: the one description of it, which the
ORM classes of `models.py` map (for writing) and `reading.py` queries (for reading without the
ORM, which a read-only command need not import). The schema is owned by the alembic migrations
in `migrations/`; a change here needs a new migration beside the old ones (tests/test_store.py
holds the two against each other)."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


metadata = MetaData()


def _id() -> Column:
    return Column("id", Integer, primary_key=True)


def _created() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow)


api_modules = Table(
    "api_modules", metadata, _id(),
    Column("name", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("source", Text, nullable=False),
    UniqueConstraint("name", "version"),
)

environments = Table(
    "environments", metadata, _id(),
    Column("name", String(300), nullable=False, unique=True),
    Column("env_id", String(300), nullable=False),
    Column("domain", String(50), nullable=False),
    Column("api_module_id", Integer, ForeignKey("api_modules.id"), nullable=False),
    Column("reward_mode", String(10), nullable=True),
    _created(),
)

curricula = Table(
    "curricula", metadata, _id(),
    Column("envs", JSON, nullable=False),
    Column("config", JSON, nullable=False, default=dict),
    Column("status", String(20), nullable=False, default="running"),
    _created(),
)

# a grid of runs, (environment, seed) each, started together and compared over seeds
sweeps = Table(
    "sweeps", metadata, _id(),
    Column("envs", JSON, nullable=False),
    Column("seeds", JSON, nullable=False),
    Column("config", JSON, nullable=False, default=dict),
    Column("engine", String(20), nullable=False, default="local"),
    Column("status", String(20), nullable=False, default="running"),
    _created(),
)

# an offline dataset imported into the store (JSONL, Minari): where it came from, a hash of its
# content, and its transitions in `dataset_transitions` (recorded data, not the steps of a run).
# `status` is "importing" until every transition is in, then "complete"; an import that died
# half-way is replaced by the next import of the same data.
datasets = Table(
    "datasets", metadata, _id(),
    Column("environment_id", Integer, ForeignKey("environments.id"), nullable=False, index=True),
    Column("api_module_id", Integer, ForeignKey("api_modules.id"), nullable=False),  # how states are encoded
    Column("name", String(300), nullable=False),
    Column("format", String(20), nullable=False),      # "jsonl" or "minari"
    Column("location", Text, nullable=False),          # the file's path, or the Minari dataset id
    Column("content_hash", String(64), nullable=False, index=True),  # sha256 of the data read
    Column("data_env_id", String(300), nullable=True),  # the environment the data says it was recorded on
    Column("mission", Text, nullable=False),
    Column("status", String(20), nullable=False, default="importing"),
    Column("n_transitions", Integer, nullable=False, default=0),
    Column("n_episodes", Integer, nullable=False, default=0),
    Column("n_done", Integer, nullable=False, default=0),
    Column("n_truncated", Integer, nullable=False, default=0),
    Column("meta", JSON, nullable=False, default=dict),
    _created(),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

dataset_transitions = Table(
    "dataset_transitions", metadata, _id(),
    Column("dataset_id", Integer, ForeignKey("datasets.id"), nullable=False),
    Column("episode", Integer, nullable=False),
    Column("step", Integer, nullable=False),
    Column("state", JSON, nullable=False),
    Column("action", JSON, nullable=False),             # a name, or a list of numbers
    Column("next_state", JSON, nullable=False),
    Column("reward", Float, nullable=False),
    Column("done", Boolean, nullable=False),            # terminated by the environment's own rules
    Column("truncated", Boolean, nullable=False),
    UniqueConstraint("dataset_id", "episode", "step"),  # also the index by dataset
)

runs = Table(
    "runs", metadata, _id(),
    Column("environment_id", Integer, ForeignKey("environments.id"), nullable=False, index=True),
    Column("curriculum_id", Integer, ForeignKey("curricula.id"), nullable=True, index=True),
    Column("curriculum_index", Integer, nullable=True),
    Column("sweep_id", Integer, ForeignKey("sweeps.id"), nullable=True, index=True),
    Column("sweep_index", Integer, nullable=True),  # the cell: env index × seeds + seed index
    Column("owner", String(300), nullable=True),
    Column("node", String(300), nullable=True),  # the machine (Ray node id, host) that ran it
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Column("checkpoint", JSON, nullable=True),
    Column("status", String(20), nullable=False, default="running"),
    Column("config", JSON, nullable=False, default=dict),
    Column("seed", Integer, nullable=False, default=0),
    Column("model", String(200), nullable=True),  # None: a run allowed no LLM call asked no model
    _created(),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("best_program_id", Integer, nullable=True),
    Column("wall_seconds", Float, nullable=False, default=0.0),
    Column("llm_wait_seconds", Float, nullable=False, default=0.0),
    Column("error", Text, nullable=True),
    # the offline dataset a run learned from (`wc fit`), where its programs' data came from; None
    # for runs that act in their environment (and runs before schema 0010)
    Column("dataset_id", Integer, ForeignKey("datasets.id"), nullable=True, index=True),
    Index("uq_runs_sweep_cell", "sweep_id", "sweep_index", unique=True),  # one run per cell
)

episodes = Table(
    "episodes", metadata, _id(),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, index=True),
    Column("index", Integer, nullable=False),
    Column("seed", Integer, nullable=True),
    Column("mission", Text, nullable=False),
    Column("steps", Integer, nullable=False, default=0),
    Column("total_reward", Float, nullable=False, default=0.0),
    Column("success", Boolean, nullable=False, default=False),
    Column("terminated", Boolean, nullable=False, default=False),
    Column("truncated", Boolean, nullable=False, default=False),
    Column("finished", Boolean, nullable=False, default=False),
    Column("plans", Integer, nullable=True, default=0),
    Column("plans_undecided", Integer, nullable=True, default=0),
    Column("plan_seconds", Float, nullable=True, default=0.0),
    Column("started_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("run_id", "index"),
)

transitions = Table(
    "transitions", metadata, _id(),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, index=True),
    Column("episode_id", Integer, ForeignKey("episodes.id"), nullable=False, index=True),
    Column("step", Integer, nullable=False),
    Column("state", JSON, nullable=False),
    Column("action", String(500), nullable=False),
    Column("next_state", JSON, nullable=False),
    Column("reward", Float, nullable=False),
    Column("done", Boolean, nullable=False),
    Column("truncated", Boolean, nullable=False, default=False),
    Column("mission", Text, nullable=False),
    Column("state_hash", String(40), nullable=False),
    Column("next_state_hash", String(40), nullable=False),
    # None for transitions recorded before schema 0006
    Column("recorded_at", DateTime(timezone=True), nullable=True, default=utcnow),
    # where the action came from: "plan", "explore" (random), "llm" (ReAct); None before schema 0008
    Column("action_source", String(10), nullable=True),
    # a planned step: the hash of the program's predicted next state (as next_state_hash), and
    # that state itself where it differs from the recorded one (None where the program was right)
    Column("predicted_hash", String(40), nullable=True),
    Column("predicted_state", JSON(none_as_null=True), nullable=True),  # SQL NULL, not JSON null, when none
    UniqueConstraint("episode_id", "step"),
)

# what a run's program measured outside the run: `wc bench cwmb`'s line of an environment (kind
# "cwmb": accuracy in both forms, the returns), kept so that a benchmark run again reuses it and
# `wc report` draws the benchmark's table
measures = Table(
    "measures", metadata, _id(),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, index=True),
    Column("program_id", Integer, ForeignKey("programs.id"), nullable=True),
    Column("kind", String(20), nullable=False),
    Column("settings", JSON, nullable=False, default=dict),  # what the measure depends on besides the program
    Column("result", JSON, nullable=False, default=dict),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
)

# starts believed unsolvable: a program that fitted every transition found no plan from them in a
# complete search, after their optimism requests and an episode played exploring; reopened (the row
# kept, with when) once new data contradicted the program
unsolvable_starts = Table(
    "unsolvable_starts", metadata, _id(),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, index=True),
    Column("episode_id", Integer, ForeignKey("episodes.id"), nullable=True),  # the first episode from it
    Column("state_hash", String(40), nullable=False),
    Column("mission", Text, nullable=False),
    Column("program_id", Integer, ForeignKey("programs.id"), nullable=False),
    Column("believed_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("reopened_at", DateTime(timezone=True), nullable=True),
)

llm_calls = Table(
    "llm_calls", metadata, _id(),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=True, index=True),
    Column("purpose", String(50), nullable=False),
    Column("model", String(200), nullable=False),
    Column("messages", JSON, nullable=False),
    Column("request_hash", String(64), nullable=False, index=True),
    Column("sample", Integer, nullable=False, default=0),
    Column("attempt", Integer, nullable=False, default=1),
    Column("answer", Text, nullable=True),
    Column("prompt_tokens", Integer, nullable=False, default=0),
    Column("completion_tokens", Integer, nullable=False, default=0),
    Column("latency_s", Float, nullable=False, default=0.0),
    Column("status", String(30), nullable=False),
    Column("cost_usd", Float, nullable=True),
    Column("error", Text, nullable=True),
    Column("finish_reason", String(30), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False, default=utcnow),
)

programs = Table(
    "programs", metadata, _id(),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=True, index=True),
    Column("environment_id", Integer, ForeignKey("environments.id"), nullable=False, index=True),
    Column("api_module_id", Integer, ForeignKey("api_modules.id"), nullable=False),
    Column("source", Text, nullable=False),
    Column("source_hash", String(64), nullable=False),
    Column("origin", String(30), nullable=False),
    Column("llm_call_id", Integer, ForeignKey("llm_calls.id"), nullable=True),
    _created(),
    Column("n_transitions", Integer, nullable=True),
    Column("explained", Integer, nullable=True),
    Column("fit", Float, nullable=True),
    Column("optimism_ok", Integer, nullable=True),
    Column("optimism_total", Integer, nullable=True),
    Column("optimism_undecided", Integer, nullable=True),
    Column("score", Float, nullable=True),
    Column("errors", JSON, nullable=True),
    Column("contract_version", Integer, nullable=True),
    # one row per source within a run, also when concurrent candidates return the same program
    Index("ix_programs_run_hash", "run_id", "source_hash", unique=True),
)

# a program whose PARAMS were fitted to the data (its lineage edge "fitted from" is parent_id, also
# in program_parents): values before and after, the fit's budget and sample (indices into the
# run's distinct transitions, n_transitions of them then), residuals and the undetermined parameters
program_fits = Table(
    "program_fits", metadata,
    Column("program_id", Integer, ForeignKey("programs.id"), primary_key=True),
    Column("parent_id", Integer, ForeignKey("programs.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("message", Text, nullable=False),
    Column("initial", JSON, nullable=False),
    Column("fitted", JSON, nullable=False),
    Column("budget_seconds", Float, nullable=False),
    Column("n_transitions", Integer, nullable=False),
    Column("sample", JSON, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("evaluations", Integer, nullable=False),
    Column("residuals", JSON, nullable=False),
    Column("identifiability", JSON, nullable=False),
    # since 0013: the count of evaluations that bounds the fit (what decides its values), and what cut
    # it short: "evaluations", "time" (the wall-time cap: machine-dependent), or None (it converged)
    Column("budget_evaluations", Integer, nullable=True),
    Column("cut", String(20), nullable=True),
    _created(),
)

program_parents = Table(
    "program_parents", metadata,
    Column("child_id", Integer, ForeignKey("programs.id"), primary_key=True),
    Column("parent_id", Integer, ForeignKey("programs.id"), primary_key=True, index=True),
)
