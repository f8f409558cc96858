"""A dataset into the store, marked as imported: the environment and its API module recorded as
a run records them, the dataset's row (source, format, location, content hash, counts) and its
transitions. Importing the same data for the same environment and API module again returns the
dataset already there."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from wc._store.records import DatasetRecord
from wc.datasets.source import DatasetSource

__all__ = ["import_dataset", "vocabulary"]


def vocabulary(adapter: Any) -> list[str]:
    """Every string an encoded state or action of the adapter's environment can hold."""
    names = ["type", "Observation", *(f.name for f in adapter.layout.fields)]
    if adapter.action_space.kind == "discrete":
        names += list(adapter.action_space.names)
    return names


async def import_dataset(store: Any, adapter: Any, source: DatasetSource, *, name: str | None = None,
                         batch: int | None = None) -> DatasetRecord:
    """Import `source` (read for `adapter`) into `store` (an open store, or a database URL: None
    for the default store, which is created if need be); the dataset already there when the same
    data was imported for the same environment and API module before. DatasetError where the
    data is bad (nothing of it is kept)."""
    if store is None or isinstance(store, str):
        from wc._store import open_store

        opened = await open_store(store)
        try:
            return await import_dataset(opened, adapter, source, name=name, batch=batch)
        finally:
            await opened.close()
    from wc.envs import record_environment

    environment_id = await record_environment(store, adapter)
    api_module_id = await store.environments.ensure_api_module(adapter.api)
    found = await store.datasets.find(environment_id, api_module_id, source.content_hash)
    if found is not None:
        return found
    label = name or (Path(source.location).name if source.format == "jsonl" else source.location)
    options = {"batch": batch} if batch else {}
    return await store.datasets.add(
        environment_id=environment_id, api_module_id=api_module_id, name=label, format=source.format,
        location=source.location, content_hash=source.content_hash, mission=adapter.mission,
        transitions=source.transitions(), data_env_id=source.data_env_id, meta=dict(source.meta),
        vocabulary=vocabulary(adapter), **options)
