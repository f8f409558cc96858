"""The ORM classes the store writes with, each mapped onto its Core table of `tables.py` (the one
description of the schema). Reading needs only the tables: `reading.py` queries them without
importing the ORM."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import DeclarativeBase, Mapped

from wc._store import tables
from wc._store.tables import utcnow

__all__ = ["ApiModuleRow", "Base", "Curriculum", "DatasetRow", "Environment", "Episode", "LLMCallRow", "MeasureRow",
           "ProgramParent", "ProgramRow", "Run", "Sweep", "TransitionRow", "UnsolvableStart", "utcnow"]


class Base(DeclarativeBase):
    metadata = tables.metadata


class ApiModuleRow(Base):
    __table__ = tables.api_modules
    id: Mapped[int]
    name: Mapped[str]
    version: Mapped[int]
    source: Mapped[str]


class Environment(Base):
    __table__ = tables.environments
    id: Mapped[int]
    name: Mapped[str]
    env_id: Mapped[str]
    domain: Mapped[str]
    api_module_id: Mapped[int]
    reward_mode: Mapped[str | None]
    created_at: Mapped[datetime]


class Curriculum(Base):
    __table__ = tables.curricula
    id: Mapped[int]
    envs: Mapped[list[Any]]
    config: Mapped[dict[str, Any]]
    status: Mapped[str]
    created_at: Mapped[datetime]


class Sweep(Base):
    __table__ = tables.sweeps
    id: Mapped[int]
    envs: Mapped[list[Any]]
    seeds: Mapped[list[Any]]
    config: Mapped[dict[str, Any]]
    engine: Mapped[str]
    status: Mapped[str]
    created_at: Mapped[datetime]


class Run(Base):
    __table__ = tables.runs
    id: Mapped[int]
    environment_id: Mapped[int]
    curriculum_id: Mapped[int | None]
    curriculum_index: Mapped[int | None]
    sweep_id: Mapped[int | None]
    sweep_index: Mapped[int | None]
    owner: Mapped[str | None]
    node: Mapped[str | None]
    heartbeat_at: Mapped[datetime | None]
    checkpoint: Mapped[dict[str, Any] | None]
    status: Mapped[str]
    config: Mapped[dict[str, Any]]
    seed: Mapped[int]
    model: Mapped[str | None]
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    best_program_id: Mapped[int | None]
    wall_seconds: Mapped[float]
    llm_wait_seconds: Mapped[float]
    error: Mapped[str | None]
    dataset_id: Mapped[int | None]


class DatasetRow(Base):
    __table__ = tables.datasets
    id: Mapped[int]
    environment_id: Mapped[int]
    api_module_id: Mapped[int]
    name: Mapped[str]
    format: Mapped[str]
    location: Mapped[str]
    content_hash: Mapped[str]
    data_env_id: Mapped[str | None]
    mission: Mapped[str]
    status: Mapped[str]
    n_transitions: Mapped[int]
    n_episodes: Mapped[int]
    n_done: Mapped[int]
    n_truncated: Mapped[int]
    meta: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class MeasureRow(Base):
    __table__ = tables.measures
    id: Mapped[int]
    run_id: Mapped[int]
    program_id: Mapped[int | None]
    kind: Mapped[str]
    settings: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class Episode(Base):
    __table__ = tables.episodes
    id: Mapped[int]
    run_id: Mapped[int]
    index: Mapped[int]
    seed: Mapped[int | None]
    mission: Mapped[str]
    steps: Mapped[int]
    total_reward: Mapped[float]
    success: Mapped[bool]
    terminated: Mapped[bool]
    truncated: Mapped[bool]
    finished: Mapped[bool]
    plans: Mapped[int | None]
    plans_undecided: Mapped[int | None]
    plan_seconds: Mapped[float | None]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class TransitionRow(Base):
    __table__ = tables.transitions
    id: Mapped[int]
    run_id: Mapped[int]
    episode_id: Mapped[int]
    step: Mapped[int]
    state: Mapped[list[Any]]
    action: Mapped[str]
    next_state: Mapped[list[Any]]
    reward: Mapped[float]
    done: Mapped[bool]
    truncated: Mapped[bool]
    mission: Mapped[str]
    state_hash: Mapped[str]
    next_state_hash: Mapped[str]
    recorded_at: Mapped[datetime | None]
    action_source: Mapped[str | None]
    predicted_hash: Mapped[str | None]
    predicted_state: Mapped[list[Any] | None]


class UnsolvableStart(Base):
    __table__ = tables.unsolvable_starts
    id: Mapped[int]
    run_id: Mapped[int]
    episode_id: Mapped[int | None]
    state_hash: Mapped[str]
    mission: Mapped[str]
    program_id: Mapped[int]
    believed_at: Mapped[datetime]
    reopened_at: Mapped[datetime | None]


class LLMCallRow(Base):
    __table__ = tables.llm_calls
    id: Mapped[int]
    run_id: Mapped[int | None]
    purpose: Mapped[str]
    model: Mapped[str]
    messages: Mapped[list[Any]]
    request_hash: Mapped[str]
    sample: Mapped[int]
    attempt: Mapped[int]
    answer: Mapped[str | None]
    prompt_tokens: Mapped[int]
    completion_tokens: Mapped[int]
    latency_s: Mapped[float]
    status: Mapped[str]
    cost_usd: Mapped[float | None]
    error: Mapped[str | None]
    finish_reason: Mapped[str | None]
    started_at: Mapped[datetime]


class ProgramRow(Base):
    __table__ = tables.programs
    id: Mapped[int]
    run_id: Mapped[int | None]
    environment_id: Mapped[int]
    api_module_id: Mapped[int]
    source: Mapped[str]
    source_hash: Mapped[str]
    origin: Mapped[str]
    llm_call_id: Mapped[int | None]
    created_at: Mapped[datetime]
    n_transitions: Mapped[int | None]
    explained: Mapped[int | None]
    fit: Mapped[float | None]
    optimism_ok: Mapped[int | None]
    optimism_total: Mapped[int | None]
    optimism_undecided: Mapped[int | None]
    score: Mapped[float | None]
    errors: Mapped[dict[str, Any] | None]
    contract_version: Mapped[int | None]


class ProgramFit(Base):
    __table__ = tables.program_fits
    program_id: Mapped[int]
    parent_id: Mapped[int]


class ProgramParent(Base):
    __table__ = tables.program_parents
    child_id: Mapped[int]
    parent_id: Mapped[int]
