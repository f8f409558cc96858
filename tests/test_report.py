"""`wc report`: real runs in a real store, drawn as PNGs; each PNG is read back and what it drew
is held against the store's own rows."""
from __future__ import annotations

import asyncio
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from support.helpers import llm_settings, run_wc, sqlite_rows

from wc._api import LearnConfig, Settings, add_program, learn, load_replay, react
from wc._core.values import LLMCall
from wc._report.figures import COST_SIZE, DPI, EPISODES_SIZE, LINEAGE_SIZE, SWEEP_SIZE
from wc._report.report import report
from wc.testing import Reply


def _pixels(size):
    return round(size[0] * DPI), round(size[1] * DPI)


def _check_png(figure, size) -> None:
    """The file is a PNG of the size the figure says, and not blank."""
    with Image.open(figure.path) as img:
        assert img.format == "PNG"
        assert img.size == (figure.width, figure.height) == _pixels(size)
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 20, f"{figure.name} looks blank"


def _react_script(actions):
    return lambda request, n: Reply(f"Thought: go on.\nAction: {actions[n % len(actions)]}")


@pytest.mark.slow
async def test_a_report_of_worldcoder_against_react_with_a_transfer(fake_llm, db_url, tmp_path):
    # WorldCoder: the shipped real-model session, replayed; then a transfer of its model to another env
    doorkey = await learn(LearnConfig(env="minigrid-doorkey"), Settings(db=db_url),
                          replay=await load_replay("minigrid-doorkey"))
    empty = await learn(LearnConfig(env="minigrid-empty", from_program=str(doorkey.best_program_id), episodes=2,
                                    solved=2, max_llm_calls=0, workers=1), Settings(db=db_url))
    # ReAct on the same environment: one call per step, every answer a valid action
    server = fake_llm(_react_script(["left", "forward", "right"]))
    baseline = await react("minigrid-doorkey", llm_settings(server, db_url), episodes=2, max_steps=6)
    assert baseline.llm_calls == baseline.env_steps == 12

    out = tmp_path / "report"
    result = await report([doorkey.id, empty.id, baseline.id, doorkey.id], out, db=db_url)
    names = {f.name for f in result.figures}
    assert names == {"cost.png", "lineage.png", f"run-{doorkey.id}-episodes.png", f"run-{empty.id}-episodes.png",
                     f"run-{baseline.id}-episodes.png"}
    assert [r.id for r in result.runs] == [doorkey.id, empty.id, baseline.id]  # a repeated id once

    # the cost curve: each run's line ends at its totals in the store
    cost = result.figure("cost.png")
    _check_png(cost, COST_SIZE)
    for run in result.runs:
        label = f"run {run.id} · {run.env} · {'react' if run.id == baseline.id else 'worldcoder'}"
        calls, tokens = cost.get("LLM calls", label), cost.get("tokens", label)
        (n_calls, ptok, ctok), = sqlite_rows(db_url, "SELECT count(*), coalesce(sum(prompt_tokens), 0), coalesce("
                                             f"sum(completion_tokens), 0) FROM llm_calls WHERE run_id = {run.id}")
        (steps,), = sqlite_rows(db_url, f"SELECT count(*) FROM transitions WHERE run_id = {run.id}")
        assert calls.y[-1] == n_calls == run.llm_calls
        assert tokens.y[-1] == ptok + ctok == run.prompt_tokens + run.completion_tokens
        assert calls.x[-1] == tokens.x[-1] == steps == run.env_steps
        assert calls.x == sorted(calls.x) and calls.y == sorted(calls.y)
    # ReAct asks before every step: its k-th call comes after k-1 recorded steps, across both episodes
    react_calls = cost.get("LLM calls", f"run {baseline.id} · minigrid-doorkey · react")
    assert react_calls.x == [0, *range(12), 12] and react_calls.y == [*range(13), 12]
    # the replayed session's one call came after its first transitions (10 distinct at least) and
    # before its first episode ended
    first = cost.get("LLM calls", f"run {doorkey.id} · minigrid-doorkey · worldcoder")
    assert first.y == [0, 1, 1] and 10 <= first.x[1] <= doorkey.episode_list[0].steps
    assert cost.get("LLM calls", f"run {empty.id} · minigrid-empty · worldcoder").y == [0, 0]  # all by transfer

    # success and return per episode, as the episodes table holds them
    for run in result.runs:
        figure = result.figure(f"run-{run.id}-episodes.png")
        _check_png(figure, EPISODES_SIZE)
        rows = sqlite_rows(db_url, f'SELECT "index", success, total_reward FROM episodes WHERE run_id = {run.id} '
                                   'ORDER BY "index"')
        assert figure.get("success", "won").x == [float(i) for i, won, _ in rows if won]
        assert figure.get("success", "lost").x == [float(i) for i, won, _ in rows if not won]
        assert figure.get("return", "return").y == pytest.approx([r for _, _, r in rows])
        rate = figure.get("success", "success rate so far").y
        assert rate[-1] == pytest.approx(sum(won for _, won, _ in rows) / len(rows))

    # the lineage: every program of these runs and every parent edge; the transfer drawn as such
    lineage = result.figure("lineage.png")
    _check_png(lineage, LINEAGE_SIZE)
    programs = {pid: (env, score) for pid, env, score in sqlite_rows(
        db_url, "SELECT p.id, e.name, p.score FROM programs p JOIN environments e ON e.id = p.environment_id")}
    assert {n.id: (n.env, n.score) for n in lineage.nodes} == programs
    edges = sqlite_rows(db_url, "SELECT parent_id, child_id FROM program_parents")
    assert {(e.parent, e.child, e.transfer) for e in lineage.edges} == {
        (p, c, programs[p][0] != programs[c][0]) for p, c in edges}
    assert any(e.transfer for e in lineage.edges)  # doorkey's model, transferred to empty
    assert {e.kind for e in lineage.edges if e.transfer} == {"transferred across environments"}
    assert "transferred across environments" in lineage.legend
    assert {n.id for n in lineage.nodes if n.is_model} == {doorkey.best_program_id, empty.best_program_id} - {None}
    for e in lineage.edges:  # generations run left to right
        assert next(n.position[0] for n in lineage.nodes if n.id == e.parent) < \
               next(n.position[0] for n in lineage.nodes if n.id == e.child)

    # index.md links every PNG and holds the run table
    index = result.index.read_text()
    for name in names:
        assert f"]({name})" in index and (out / name).is_file()
    tokens = baseline.prompt_tokens + baseline.completion_tokens
    assert (f"| {baseline.id} | minigrid-doorkey | react | finished | 2 | {baseline.successes} | 12 | 12 | "
            f"{tokens:,} |") in index
    assert f"| {doorkey.id} | minigrid-doorkey | worldcoder | finished | 11 | 11 | 126 | 1 | 3,695 |" in index


@pytest.mark.slow
async def test_a_sweep_report_shows_mean_and_spread_over_seeds(db_url, tmp_path, minigrid_model):
    from wc._run.runner import learn as run_cell
    from wc._store import Store

    envs, seeds = ["minigrid-empty", "minigrid-doorkey"], [0, 1]
    store = await Store.open(db_url)
    try:
        sweep_id = await store.sweeps.create(envs, seeds, {"episodes": 3})
    finally:
        await store.close()
    programs = {env: await add_program(env, minigrid_model, db_url) for env in envs}

    async def cell(i: int, env: str, j: int, seed: int) -> None:
        # one cell loses some episodes to a step limit too short for DoorKey, so the seeds differ
        short = env == "minigrid-doorkey" and seed == 1
        config = LearnConfig(env=env, from_program=str(programs[env]), episodes=3, solved=None, max_llm_calls=0,
                             seed=seed, workers=1, max_steps=5 if short else None)
        await run_cell(config, Settings(db=db_url), sweep_id=sweep_id, sweep_index=i * len(seeds) + j)
    await asyncio.gather(*(cell(i, env, j, seed) for i, env in enumerate(envs) for j, seed in enumerate(seeds)))

    out = tmp_path / "sweep-report"
    import wc

    result = await wc.aio.report([], str(out), sweep_id=sweep_id, db=db_url)  # the public form
    assert result.sweep is not None and len(result.runs) == 4
    figure = result.figure(f"sweep-{sweep_id}.png")
    _check_png(figure, SWEEP_SIZE)
    for env in envs:
        wins = {}  # run -> successes by episode, straight from the tables
        for run_id, _index, success in sqlite_rows(
                db_url, f"SELECT r.id, e.\"index\", e.success FROM episodes e JOIN runs r ON r.id = e.run_id "
                        f"JOIN environments v ON v.id = r.environment_id WHERE r.sweep_id = {sweep_id} "
                        f"AND v.name = '{env}' ORDER BY r.id, e.\"index\""):
            wins.setdefault(run_id, []).append(float(success))
        assert len(wins) == 2
        by_episode = list(zip(*wins.values(), strict=True))
        mean = [statistics.fmean(v) for v in by_episode]
        std = [statistics.pstdev(v) for v in by_episode]
        line = figure.get("success", f"{env} (2 seeds)")
        band = figure.get("success", f"{env} ±std")
        assert line.x == [0.0, 1.0, 2.0] and line.y == pytest.approx(mean)
        assert band.y == pytest.approx([max(0, m - s) for m, s in zip(mean, std, strict=True)])
        assert band.y2 == pytest.approx([min(1, m + s) for m, s in zip(mean, std, strict=True)])
        so_far = [[sum(w[:i + 1]) for i in range(3)] for w in wins.values()]
        spread = figure.get("episodes won", f"{env} min–max")
        assert spread.y == [min(s[i] for s in so_far) for i in range(3)]
        assert spread.y2 == [max(s[i] for s in so_far) for i in range(3)]
    assert figure.get("success", "minigrid-doorkey ±std").y2 != figure.get("success", "minigrid-doorkey ±std").y
    index = result.index.read_text()
    assert f"## Sweep {sweep_id}" in index and f"](sweep-{sweep_id}.png)" in index
    assert "| minigrid-empty | 2/2 | 3.0 ± 0.0 |" in index


async def test_calls_are_placed_at_the_step_they_followed(store):
    """The store's query behind the cost curve, on SQLite and PostgreSQL; transitions without a
    time (recorded before schema 0006) fall back to episode times."""
    from wc.envs.api import load as load_api_module

    api = load_api_module("minigrid", 1)
    env_id = await store.environments.ensure("minigrid-doorkey", "MiniGrid-DoorKey-5x5-v0", "minigrid", api)
    run_id = await store.runs.create(env_id, config={}, seed=0, model="m")
    episode = await store.runs.start_episode(run_id, 0, 0, "get to the goal")
    step = 0

    async def steps(n: int) -> None:
        nonlocal step
        for _ in range(n):
            await store.runs.add_transition(run_id=run_id, episode_id=episode, step=step, state=[], action="left",
                                            next_state=[], reward=0.0, done=False, truncated=False, mission="m")
            step += 1

    async def call(tokens: int) -> None:
        await store.calls.add(run_id, LLMCall("scratch", "m", [{"role": "user", "content": "x"}], answer="y",
                                              prompt_tokens=tokens, completion_tokens=1))
    await call(5)
    await steps(2)
    await call(7)
    await call(9)
    await steps(3)
    placed = await store.calls.at_steps(run_id)
    assert [(c.env_step, c.prompt_tokens, c.exact) for c in placed] == [(0, 5, True), (2, 7, True), (2, 9, True)]
    assert await store.calls.at_steps(run_id + 1) == []


async def test_without_transition_times_calls_are_placed_by_episode_times(db_url):
    from wc._store import Store

    store = await Store.open(db_url)
    try:
        from wc.envs.api import load as load_api_module

        api = load_api_module("minigrid", 1)
        env_id = await store.environments.ensure("minigrid-doorkey", "MiniGrid-DoorKey-5x5-v0", "minigrid", api)
        run_id = await store.runs.create(env_id, config={}, seed=0, model="m")
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for index in range(2):
            episode = await store.runs.start_episode(run_id, index, index, "m")
            for t in range(10):
                await store.runs.add_transition(run_id=run_id, episode_id=episode, step=t, state=[], action="left",
                                                next_state=[], reward=0.0, done=False, truncated=False, mission="m")
            await store.runs.finish_episode(episode, steps=10, total_reward=0.0, success=False, terminated=False,
                                            truncated=True)
        for minutes in (5, 15, 30):  # half way through episode 0, half way through 1, after both
            await store.calls.add(run_id, LLMCall("scratch", "m", [], answer="y",
                                                  started_at=start + timedelta(minutes=minutes)))
    finally:
        await store.close()
    import sqlite3

    con = sqlite3.connect(db_url.split("///", 1)[1])
    with con:
        con.execute("UPDATE transitions SET recorded_at = NULL")
        for index in range(2):  # episode i ran from minute 10·i to 10·i + 10
            con.execute("UPDATE episodes SET started_at = ?, finished_at = ? WHERE \"index\" = ?",
                        (f"2026-01-01 00:{10 * index:02d}:00.000000", f"2026-01-01 00:{10 * index + 10:02d}:00.000000",
                         index))
    con.close()
    store = await Store.open(db_url)
    try:
        placed = await store.calls.at_steps(run_id)
    finally:
        await store.close()
    assert [(c.env_step, c.exact) for c in placed] == [(5, False), (15, False), (20, False)]


@pytest.mark.slow
async def test_the_command_and_its_errors(fake_llm, tmp_path):
    db = f"sqlite:///{tmp_path / 'wc.db'}"
    server = fake_llm(_react_script(["forward"]))
    env = {"WC_DB": db, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url}
    made = await asyncio.to_thread(run_wc, "baseline", "react", "--env", "minigrid-empty", "--episodes", "1",
                                   "--max-steps", "3", env=env)
    assert made.returncode == 0, made.stderr
    out = tmp_path / "out" / "nested"
    done = await asyncio.to_thread(run_wc, "report", "1", "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert f"{out / 'index.md'} links them" in done.stdout and "1300×500" in done.stdout
    assert "No lineage figure" in done.stdout  # ReAct writes no programs
    assert sorted(p.name for p in out.iterdir()) == ["cost.png", "index.md", "run-1-episodes.png"]
    with Image.open(out / "cost.png") as img:
        assert img.size == _pixels(COST_SIZE)

    missing = await asyncio.to_thread(run_wc, "report", "1", "7", "--out", str(tmp_path / "x"), env=env)
    assert missing.returncode == 3 and "error: no run with id 7; `wc runs list` shows the runs" in missing.stderr
    assert "Traceback" not in missing.stderr and not (tmp_path / "x").exists()
    afile = tmp_path / "a-file"
    afile.write_text("")
    bad = await asyncio.to_thread(run_wc, "report", "1", "--out", str(afile / "sub"), env=env)
    assert bad.returncode == 2 and f"error: cannot write the report to {afile / 'sub'}: Not a directory" in bad.stderr
    assert "Traceback" not in bad.stderr


async def test_bad_input_is_a_clear_error_and_an_empty_run_is_drawn(db_url, tmp_path):
    from wc._store import Store
    from wc.envs.api import load as load_api_module
    from wc.errors import InvalidInput, NotFound

    store = await Store.open(db_url)
    try:
        env_id = await store.environments.ensure("minigrid-empty", "MiniGrid-Empty-5x5-v0", "minigrid",
                                                 load_api_module("minigrid", 1))
        run_id = await store.runs.create(env_id, config={}, seed=0, model="m")
    finally:
        await store.close()
    with pytest.raises(NotFound, match="no sweep with id 4"):
        await report([run_id], tmp_path / "x", sweep_id=4, db=db_url)
    with pytest.raises(NotFound, match="no run with id 9"):
        await report([run_id, 9], tmp_path / "x", db=db_url)
    assert not (tmp_path / "x").exists()  # the runs are looked up before anything is written
    with pytest.raises(InvalidInput, match="name at least one run"):
        await report([], tmp_path / "x", db=db_url)
    afile = tmp_path / "a-file"
    afile.write_text("")
    with pytest.raises(InvalidInput, match=f"cannot write the report to {afile}: File exists"):
        await report([run_id], afile, db=db_url)
    # a run that has not played yet: empty figures, not an error
    result = await report([run_id], tmp_path / "empty", db=db_url)
    assert result.figure("cost.png").get("LLM calls", f"run {run_id} · minigrid-empty · worldcoder").y == [0, 0]
    _check_png(result.figure(f"run-{run_id}-episodes.png"), EPISODES_SIZE)


def test_lineage_edges_are_labelled_by_kind():
    """A transfer within one environment is not a refinement, and repairs say what they repaired
    (issue 25: the picture called every edge 'refined from')."""
    import networkx as nx

    from wc._report.figures import lineage_figure

    graph = nx.DiGraph()
    for pid, env, origin in [(1, "doorkey", "scratch"), (2, "doorkey", "repair_transition"),
                             (3, "doorkey", "repair_reward"), (4, "doorkey", "repair_optimism"),
                             (5, "doorkey", "transfer"), (6, "unlock", "transfer")]:
        graph.add_node(pid, env=env, origin=origin, score=0.5, is_model=False)
    graph.add_edges_from([(1, 2), (2, 3), (3, 4), (4, 5), (4, 6)])
    _, figure = lineage_figure(graph)
    assert {(e.parent, e.child): (e.kind, e.transfer) for e in figure.edges} == {
        (1, 2): ("repaired (transition)", False), (2, 3): ("repaired (reward)", False),
        (3, 4): ("repaired (optimism)", False), (4, 5): ("transferred (same environment)", False),
        (4, 6): ("transferred across environments", True)}
    assert figure.legend[:5] == ["repaired (transition)", "repaired (reward)", "repaired (optimism)",
                                 "transferred (same environment)", "transferred across environments"]
    assert not any("refined" in label for label in figure.legend)
    only_repairs = nx.DiGraph(graph.subgraph([1, 2]))
    assert lineage_figure(only_repairs)[1].legend[0] == "repaired (transition)"  # absent kinds stay out
    assert "transferred" not in " ".join(lineage_figure(only_repairs)[1].legend)
