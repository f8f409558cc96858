"""The documented Python API: `import wc` entry points, plain and async, and the README's script."""
from __future__ import annotations

import asyncio
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from support.helpers import child_env

import wc
from wc.errors import InvalidInput, NotFound, StoreError

ROOT = Path(__file__).parent.parent
ENTRY_POINTS = ["learn", "resume", "curriculum", "evaluate", "sweep", "lineage", "load_recording"]


def test_every_entry_point_is_exported_documented_and_has_both_forms():
    for name in ENTRY_POINTS + ["Store"]:
        assert name in wc.__all__
        plain, coro = getattr(wc, name), getattr(wc.aio, name)
        assert plain.__doc__ and coro.__doc__
    for name in ENTRY_POINTS:
        plain, coro = getattr(wc, name), getattr(wc.aio, name)
        assert inspect.iscoroutinefunction(coro) and not inspect.iscoroutinefunction(plain)
        assert inspect.signature(plain) == inspect.signature(coro)
    # submodules named like entry points do not hide them once imported
    for module in ("wc._run.curriculum", "wc._run.evaluate", "wc._run.resume", "wc._report.lineage", "wc._run.sweep"):
        importlib.import_module(module)
    assert callable(wc.evaluate) and inspect.isfunction(wc.curriculum) and inspect.isfunction(wc.sweep)


def test_import_wc_stays_light():
    heavy = "('gymnasium', 'openai', 'sqlalchemy', 'networkx')"
    code = f"import sys, wc; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), check=True)
    assert done.stdout.strip() == "[]"


def test_learn_query_and_evaluate_in_plain_python(tmp_path):
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    with pytest.raises(StoreError, match="no store at"):
        wc.Store(db).runs()  # queries never create a store
    run = wc.learn("minigrid-doorkey", replay=wc.load_recording("minigrid-doorkey"), db=db)
    assert run.successes >= 10 and run.llm_calls == 1 and len(run.episode_list) == run.episodes
    with wc.Store(db) as store:
        assert [r.id for r in store.runs()] == [run.id]
        assert store.run(run.id).env_steps == run.env_steps
        assert [p.id for p in store.programs(env="minigrid-doorkey")] == [run.best_program_id]
        graph = store.lineage(run.best_program_id)
        with pytest.raises(NotFound):
            store.program(999)
    assert isinstance(graph, nx.DiGraph) and set(wc.lineage(run.best_program_id, db=db)) == set(graph)
    report = wc.evaluate("minigrid-doorkey", from_program=run.best_program_id, episodes=2, db=db)
    assert report.table() == [("all", 2, 2)]
    # a sweep of two seeds from the learned program: no LLM needed
    swept = wc.sweep(["minigrid-doorkey"], "3-4", db=db, from_program=str(run.best_program_id), max_llm_calls=0,
                     episodes=2, solved=2, workers=1)
    with wc.Store(db) as store:
        assert store.sweep(swept.id).status == "finished" and [c.seed for c in swept.cells] == [3, 4]
        assert [store.run(r).successes for r in swept.run_ids] == [2, 2]
    with pytest.raises(InvalidInput, match="unknown setting episods"):
        wc.learn("minigrid-doorkey", episods=3, db=db)


async def test_the_async_forms_and_the_plain_ones_inside_a_running_loop(tmp_path):
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    run = await wc.aio.learn("minigrid-doorkey", replay=await wc.aio.load_recording("minigrid-doorkey"), db=db)
    async with wc.aio.Store(db) as store:
        assert [r.id for r in await store.runs()] == [run.id]
        assert store.url == db
    graph = await wc.aio.lineage(run.best_program_id, db=db)
    # a notebook: the plain form called while an event loop runs
    assert set(await asyncio.to_thread(lambda: set(wc.lineage(run.best_program_id, db=db)))) == set(graph)
    assert set(wc.lineage(run.best_program_id, db=db)) == set(graph)


def test_the_readme_script_runs_as_written(tmp_path):
    readme = (ROOT / "README.md").read_text()
    script = re.search(r"<!-- python-api-example -->\n```python\n(.*?)```", readme, re.S).group(1)
    assert len(script.strip().splitlines()) <= 10
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env=child_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"run 1: \d+/\d+ won, 1 LLM call, program \d+\n", done.stdout), done.stdout
    from PIL import Image

    with Image.open(tmp_path / "curve.png") as image:
        assert image.size[0] >= 400 and image.size[1] >= 300
    assert (tmp_path / "demo.db").is_file()
