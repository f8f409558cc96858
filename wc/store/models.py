"""SQLAlchemy models of the knowledge store. The schema is owned by the alembic migrations in
`migrations/`; a change here needs a new migration beside the old ones."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class ApiModuleRow(Base):
    __tablename__ = "api_modules"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)


class Environment(Base):
    __tablename__ = "environments"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    env_id: Mapped[str] = mapped_column(String(300))
    domain: Mapped[str] = mapped_column(String(50))
    api_module_id: Mapped[int] = mapped_column(ForeignKey("api_modules.id"))
    reward_mode: Mapped[str | None] = mapped_column(String(10), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Curriculum(Base):
    __tablename__ = "curricula"
    id: Mapped[int] = mapped_column(primary_key=True)
    envs: Mapped[list[Any]] = mapped_column(JSON)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="running")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Sweep(Base):
    """A grid of runs, (environment, seed) each, started together and compared over seeds."""
    __tablename__ = "sweeps"
    id: Mapped[int] = mapped_column(primary_key=True)
    envs: Mapped[list[Any]] = mapped_column(JSON)
    seeds: Mapped[list[Any]] = mapped_column(JSON)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    engine: Mapped[str] = mapped_column(String(20), default="local")
    status: Mapped[str] = mapped_column(String(20), default="running")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("uq_runs_sweep_cell", "sweep_id", "sweep_index", unique=True),)  # one run per cell
    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id"), index=True)
    curriculum_id: Mapped[int | None] = mapped_column(ForeignKey("curricula.id"), index=True, nullable=True)
    curriculum_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sweep_id: Mapped[int | None] = mapped_column(ForeignKey("sweeps.id"), index=True, nullable=True)
    sweep_index: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the cell: env index × seeds + seed index
    owner: Mapped[str | None] = mapped_column(String(300), nullable=True)
    node: Mapped[str | None] = mapped_column(String(300), nullable=True)  # the machine (Ray node id, host) that ran it
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="running")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    best_program_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    wall_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    llm_wait_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Episode(Base):
    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("run_id", "index"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mission: Mapped[str] = mapped_column(Text)
    steps: Mapped[int] = mapped_column(Integer, default=0)
    total_reward: Mapped[float] = mapped_column(Float, default=0.0)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    terminated: Mapped[bool] = mapped_column(Boolean, default=False)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    plans: Mapped[int | None] = mapped_column(Integer, nullable=True, default=0)
    plans_undecided: Mapped[int | None] = mapped_column(Integer, nullable=True, default=0)
    plan_seconds: Mapped[float | None] = mapped_column(Float, nullable=True, default=0.0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TransitionRow(Base):
    __tablename__ = "transitions"
    __table_args__ = (UniqueConstraint("episode_id", "step"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    state: Mapped[list[Any]] = mapped_column(JSON)
    action: Mapped[str] = mapped_column(String(500))
    next_state: Mapped[list[Any]] = mapped_column(JSON)
    reward: Mapped[float] = mapped_column(Float)
    done: Mapped[bool] = mapped_column(Boolean)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    mission: Mapped[str] = mapped_column(Text)
    state_hash: Mapped[str] = mapped_column(String(40))
    next_state_hash: Mapped[str] = mapped_column(String(40))
    # None for transitions recorded before schema 0006
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, default=utcnow)


class LLMCallRow(Base):
    __tablename__ = "llm_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), index=True, nullable=True)
    purpose: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(200))
    messages: Mapped[list[Any]] = mapped_column(JSON)
    request_hash: Mapped[str] = mapped_column(String(64), index=True)
    sample: Mapped[int] = mapped_column(Integer, default=0)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_s: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(30))
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finish_reason: Mapped[str | None] = mapped_column(String(30), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProgramRow(Base):
    __tablename__ = "programs"
    # one row per source within a run, also when concurrent candidates return the same program
    __table_args__ = (Index("ix_programs_run_hash", "run_id", "source_hash", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), index=True, nullable=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id"), index=True)
    api_module_id: Mapped[int] = mapped_column(ForeignKey("api_modules.id"))
    source: Mapped[str] = mapped_column(Text)
    source_hash: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(30))
    llm_call_id: Mapped[int | None] = mapped_column(ForeignKey("llm_calls.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    n_transitions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    explained: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fit: Mapped[float | None] = mapped_column(Float, nullable=True)
    optimism_ok: Mapped[int | None] = mapped_column(Integer, nullable=True)
    optimism_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    optimism_undecided: Mapped[int | None] = mapped_column(Integer, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    errors: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    contract_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ProgramParent(Base):
    __tablename__ = "program_parents"
    child_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True, index=True)
