"""MiniGrid world, API module version 3: version 1 and the helpers for random transitions.

A state is a list of entities, instances of the classes below. Positions are grid cells:
x grows to the right (east), y grows downward (south), (0, 0) is the top-left cell. A cell
with no entity in the list is empty floor.

Agent.direction is an int: 0 = facing +x (east), 1 = facing +y (south),
2 = facing -x (west), 3 = facing -y (north).

An entity the agent carries is not on the grid: it is the value of Agent.carrying, with
x and y set to None. Box.contains is the entity inside a box, or None.

Actions are the strings in ACTIONS.

A world model defines two functions:

    transition(state, action) -> next_state
        next_state is a new list of entities; do not modify `state` itself.
    reward(state, action, next_state, mission) -> (reward, done)
        mission is the episode's goal in English, e.g. "get to the green goal square".
        done is True when the episode ends by its own rules (not by a step limit).
        Rewards are compared by sign only (positive, or not), because the environment's
        positive rewards also depend on the time taken, which the state does not hold.

Chance. When what an action does is random, transition() returns the possible next states
with their probabilities instead of one next state, built with choice() and vary() below, and
reward() is called with each possible next state in turn (it may also return a choice of
(reward, done) pairs). Every Choice in a state is drawn independently of the others: give
independent parts (entities that move at random, fields that vary on their own) as separate
choices and wc combines them, rather than listing every combination. In each choice the
probabilities are numbers in [0, 1] that sum to 1 (within 1e-6), and one transition may list
at most 4096 options in all its choices together. A transition that is not random returns one
next state, as usual. Programs are judged by the probability they give to what was recorded:
every recorded transition must be possible, and more probability for what happened is a
better fit.
"""
from dataclasses import dataclass, replace
from typing import Optional

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


def get_agent(state):
    """The Agent entity of a state."""
    for entity in state:
        if isinstance(entity, Agent):
            return entity
    return None


def entities_at(state, x, y):
    """Entities whose position is (x, y)."""
    return [e for e in state if e.x == x and e.y == y]


@dataclass
class Choice:
    options: list  # [(probability, value), ...]


def choice(options):
    """One of several values, at random: a dict {value: probability}, or a list of
    (probability, value) pairs. A value may be anything a state holds (a number, a string,
    an entity, a list of entities) or a whole next state. In a state, a Choice of entities
    stands for one entity, and a Choice of lists of entities for that many (none included)."""
    if isinstance(options, dict):
        return Choice([(p, value) for value, p in options.items()])
    return Choice(list(options))


def vary(entity, **fields):
    """A copy of `entity` whose named fields are random, each independently of the others:
    vary(ball, x={2: 0.5, 3: 0.5}) is the ball at x = 2 or x = 3, with probability 0.5 each."""
    return replace(entity, **{name: choice(options) for name, options in fields.items()})
