"""MiniGrid world, API module version 2: version 1 and the mission's progress (BabyAI levels).

A state is a list of entities, instances of the classes below. Positions are grid cells:
x grows to the right (east), y grows downward (south), (0, 0) is the top-left cell. A cell
with no entity in the list is empty floor.

Agent.direction is an int: 0 = facing +x (east), 1 = facing +y (south),
2 = facing -x (west), 3 = facing -y (north).

An entity the agent carries is not on the grid: it is the value of Agent.carrying, with
x and y set to None. Box.contains is the entity inside a box, or None.

In BabyAI levels a state also holds one Progress entity (x and y None): how far the mission
has got, which the grid alone may not show. Its parts are the mission's clauses in the order
the mission text names them, the text split at ", then ", " after you " and " and ".
Progress.done[i] is True once the environment counts parts[i] as done. Descriptions such as
"on your left" or "in front of you" in a mission are relative to where the agent stood and
faced when the episode began: Progress.start_x, start_y and start_direction.

Actions are the strings in ACTIONS.

A world model defines two functions:

    transition(state, action) -> next_state
        next_state is a new list of entities; do not modify `state` itself.
    reward(state, action, next_state, mission) -> (reward, done)
        mission is the episode's goal in English, e.g. "get to the green goal square".
        done is True when the episode ends by its own rules (not by a step limit).
        Rewards are compared by sign only (positive, or not), because the environment's
        positive rewards also depend on the time taken, which the state does not hold.
"""
from dataclasses import dataclass
from typing import List, Optional

ACTIONS = ["left", "right", "forward", "pickup", "drop", "toggle", "done"]


@dataclass
class Entity:
    x: Optional[int]
    y: Optional[int]


@dataclass
class Wall(Entity):
    pass


@dataclass
class Goal(Entity):
    pass


@dataclass
class Lava(Entity):
    pass


@dataclass
class Floor(Entity):
    color: str


@dataclass
class Door(Entity):
    color: str
    is_open: bool
    is_locked: bool


@dataclass
class Key(Entity):
    color: str


@dataclass
class Ball(Entity):
    color: str


@dataclass
class Box(Entity):
    color: str
    contains: Optional[Entity] = None


@dataclass
class Agent(Entity):
    direction: int
    carrying: Optional[Entity] = None


@dataclass
class Progress(Entity):
    mission: str
    parts: List[str]
    done: List[bool]
    start_x: int
    start_y: int
    start_direction: int


def get_agent(state):
    """The Agent entity of a state."""
    for entity in state:
        if isinstance(entity, Agent):
            return entity
    return None


def entities_at(state, x, y):
    """Entities whose position is (x, y)."""
    return [e for e in state if e.x == x and e.y == y]
