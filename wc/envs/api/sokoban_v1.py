"""Sokoban world, API module version 1.

A state is a list of entities, instances of the classes below. Positions are grid cells:
x grows to the right, y grows downward, (0, 0) is the top-left cell. A cell with no entity
in the list is empty floor (or lies outside the walls).

Entities may share a cell: a Box or the Player with a Target, the Player or a Box with a Marker.
A Marker is a floor cell marked with a letter (Marker.letter); a letter marks exactly two cells.
Some levels have no markers.

Prompts also draw each state as a text picture: # Wall, @ Player, $ Box, . Target,
* Box on a Target, + Player on a Target, a lowercase letter a Marker with that letter, the
uppercase letter the Player on such a Marker. The entity list is the state; the picture is a
view of it (a Box on a Marker is drawn as $).

Actions are the strings in ACTIONS.

A world model defines two functions:

    transition(state, action) -> next_state
        next_state is a new list of entities; do not modify `state` itself.
    reward(state, action, next_state, mission) -> (reward, done)
        mission is the episode's goal in English: "push every box onto a target".
        reward is a number; it must equal the environment's reward exactly (to 1e-6).
        done is True when the episode ends by its own rules (not by a step limit).
"""
from dataclasses import dataclass

ACTIONS = ["up", "down", "left", "right"]


@dataclass
class Entity:
    x: int
    y: int


@dataclass
class Wall(Entity):
    pass


@dataclass
class Target(Entity):
    pass


@dataclass
class Box(Entity):
    pass


@dataclass
class Marker(Entity):
    letter: str


@dataclass
class Player(Entity):
    pass


def get_player(state):
    """The Player entity of a state."""
    for entity in state:
        if isinstance(entity, Player):
            return entity
    return None


def entities_at(state, x, y):
    """Entities whose position is (x, y)."""
    return [e for e in state if e.x == x and e.y == y]
