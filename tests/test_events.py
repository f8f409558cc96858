"""wc.events: the values a run tells its caller are frozen, slotted, one class per kind."""
import dataclasses
import inspect

import pytest

from wc import events
from wc.events import CellEnded, CellEvent, EpisodeEnded, Event, PlanSearched


def _classes() -> list[type[Event]]:
    return [c for _, c in inspect.getmembers(events, inspect.isclass)
            if issubclass(c, Event) and c is not Event and c is not CellEvent]


def test_every_event_is_a_frozen_slotted_dataclass_with_its_own_kind():
    classes = _classes()
    assert len(classes) >= 20 and set(events.__all__) >= {c.__name__ for c in classes}
    kinds = [c.kind for c in classes]
    assert len(set(kinds)) == len(kinds) and "event" not in kinds
    for cls in classes:
        assert dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__, cls
        assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]


def test_an_event_cannot_be_changed_and_says_what_it_is():
    ended = EpisodeEnded(episode=3, success=True, steps=12, total_reward=0.9, streak=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ended.steps = 13  # type: ignore[misc]
    assert ended.to_json() == {"kind": "episode_end", "episode": 3, "success": True, "steps": 12,
                               "total_reward": 0.9, "streak": 2, "plans": 0, "plans_undecided": 0,
                               "plan_seconds": 0.0, "plan_nodes": 0}
    match CellEnded(index=1, env="minigrid-empty", seed=0, run_id=4, status="finished"):
        case CellEvent(env=env, status="finished"):
            assert env == "minigrid-empty"
        case _:
            pytest.fail("a sweep cell's end matches as a CellEvent")
    match PlanSearched(found=False, explore=False, status="budget", length=0, shortened=0, nodes=9, seconds=0.1,
                       factor=1.0, program_id=2):
        case PlanSearched(found=True):
            pytest.fail("not found")
        case PlanSearched(status=status):
            assert status == "budget"
