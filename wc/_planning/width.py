"""Best-first width search (BFWS; Lipovetzky & Geffner): novelty first, then reward progress.

States are factored: a key is a tuple of atoms (interned entity values). A generated state's
novelty w is 1 when it makes some atom true for the first time, 2 when it makes some pair of
atoms true together for the first time, 3 otherwise. States are expanded in order of (w, more
reward progress first, shallower first), so the search behaves like IW(1), then IW(2), and
then, because nothing is pruned, like a complete best-first search: an empty queue means the
reachable space within the depth limit was enumerated.

Novelty is counted per *progress level*: steps whose reward is above the usual step reward
(a box onto a target) raise the level, steps below it lower it, so a state that makes progress
is novel again (BFWS's goal-count partition, with the program's own reward as the goal count).
Pairs are formed only with atoms that have changed somewhere in the search (walls never do),
which keeps w=2 cheap on states of many entities.
"""
from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from wc._planning.result import (
    BUDGET,
    EXHAUSTED,
    FOUND,
    Actions,
    BudgetSpent,
    Expand,
    Expansions,
    OnError,
    PlanResult,
    unwind,
)


def bfws(start: Hashable, actions: Actions, expand: Expand, *, max_nodes: int = 100_000, max_depth: int = 100,
         deadline: float | None = None, on_error: OnError | None = None,
         atoms: Callable[[Any], Sequence[Any]] | None = None) -> PlanResult:
    """Search for an action sequence whose last step has reward > 0 and done. `atoms(key)` are
    the orderable atoms of a state (default: the key itself, a tuple of ints)."""
    started = time.monotonic()
    atoms_of: Callable[[Any], Sequence[Any]] = atoms or (lambda key: key)
    root_atoms = set(atoms_of(start))
    static = set(root_atoms)             # atoms of the start never seen to change
    seen1: set = {(0, a) for a in root_atoms}
    seen2: set = set()
    # key -> (parent key, action, reward, done, depth, level): one dict, so a key is hashed twice
    parents: dict[Hashable, tuple[Any, ...] | None] = {start: None}
    heap: list = [(1, 0, 0, 0, start)]
    base: float | None = None            # the usual reward of a step
    calls = Expansions(expand, max_nodes, deadline, on_error)
    seq = deepest = 0
    cut = False

    def result(status, reason, found=False, path=((), ())) -> PlanResult:
        return PlanResult(found, list(path[0]), list(path[1]), nodes=calls.nodes, reason=reason, status=status,
                          states=len(parents), depth=deepest, seconds=time.monotonic() - started, planner="bfws")

    def novelty(level: int, new: list, child_atoms: Iterable) -> int:
        w = 3
        for a in new:
            if (level, a) not in seen1:
                seen1.add((level, a))
                w = 1
        dynamic = [b for b in child_atoms if b not in static]
        for a in new:
            for b in dynamic:
                if a != b:
                    pair = (level, a, b) if a < b else (level, b, a)
                    if pair not in seen2:
                        seen2.add(pair)
                        if w > 2:
                            w = 2
        return w

    while heap:
        _w, level, depth, _, key = heapq.heappop(heap)
        level = -level
        record = parents[key]
        if record is not None and record[4] != depth:
            continue  # a shorter way here was found after this entry was queued
        if depth >= max_depth:
            cut = True
            continue
        deepest = max(deepest, depth)
        children = []
        try:
            for action, child, reward, done in calls.of(key, actions):
                if reward > 0 and done:
                    path = unwind(parents, key)
                    return result(FOUND, "", True, (path[0] + [action], path[1] + [(child, float(reward), True)]))
                if done or child == key:
                    continue  # a dead end, or an action that changes nothing
                children.append((action, child, float(reward)))
        except BudgetSpent as spent:
            return result(BUDGET, str(spent))
        if base is None and children:
            base = Counter(r for _, _, r in children).most_common(1)[0][0]
        if not children:
            continue
        parent_atoms = set(atoms_of(key))
        for action, child, reward in children:
            child_depth = depth + 1
            if child in parents:
                known = parents[child]
                if known is None or known[4] <= child_depth:
                    continue
            assert base is not None
            child_level = level + (1 if reward > base + 1e-9 else -1 if reward < base - 1e-9 else 0)
            parents[child] = (key, action, reward, False, child_depth, child_level)
            child_atoms = atoms_of(child)
            new = [a for a in child_atoms if a not in parent_atoms]
            if new or len(child_atoms) != len(parent_atoms):
                static.difference_update(parent_atoms.difference(child_atoms))
            if child_level != level:  # a new level: every atom is new there
                new = list(child_atoms)
            seq += 1
            heapq.heappush(heap, (novelty(child_level, new, child_atoms), -child_level, child_depth, seq, child))
    if cut:
        return result(EXHAUSTED, f"no plan within {max_depth} steps: every state reachable in them searched "
                                 f"({len(parents)} states)")
    return result(EXHAUSTED, f"no plan: every reachable state searched ({len(parents)} states)")
