"""ALFWorld (text household tasks), API module version 2.

A state is a list of entities, instances of the classes below: one Agent, the Receptacles
(furniture and appliances the agent can go to), the Objects (things that can be in or on
receptacles or in the agent's hand), one InReceptacle entity for each object that is in or
on a receptacle, and, in the observed mode (below), one Unexplored entity for each receptacle
the agent has not seen into yet. The order of entities in a state does not matter.

Names are as the game writes them: "apple 1", "fridge 1", "sinkbasin 1". A kind is the name
without its number ("apple", "fridge", "sinkbasin", "desklamp"); missions name kinds.

Places are locations like "loc 3". Each receptacle stands at one location (several may share
one); the agent stands at one location, at the start possibly one where there is no receptacle.

Actions are text commands, with names as above:
    go to {receptacle}
    open {receptacle}
    close {receptacle}
    take {object} from {receptacle}
    move {object} to {receptacle}
    heat {object} with {receptacle}
    cool {object} with {receptacle}
    clean {object} with {receptacle}
    use {object}
    examine {receptacle or object}
    look
    inventory
    help
e.g. "take apple 1 from countertop 2", "move apple 1 to fridge 1", "use desklamp 1".

Observation modes. A game is played in one of two modes:
    full      the state holds every object and what it is in or on, from the first step (the
              paper's symbolic facts).
    observed  the state holds what the agent has seen. Every Receptacle is listed from the start
              (the room's description names them all), but an Object, and its InReceptacle,
              appear only once the agent has seen the receptacle it is in or on, or holds it.
              A receptacle is seen when the agent stands at its location while it is visible
              (not openable, or open); until then the state holds an Unexplored entity for it.
              Once seen, a receptacle's contents stay known (they change only by the agent's
              own actions), and its Unexplored entity is gone for good.
In the observed mode a world model predicts which Unexplored entities go away, but it cannot
know what a receptacle it has never seen holds: objects that first appear in the next state
are not compared with its prediction (it may imagine some, or none). In the full mode there
are no Unexplored entities.

A world model defines two functions:

    transition(state, action) -> next_state
        next_state is a new list of entities; do not modify `state` itself.
    reward(state, action, next_state, mission) -> (reward, done)
        mission is the task in English, e.g. "put a clean apple in fridge".
        reward is 1.0 and done is True when next_state completes the mission;
        otherwise reward is 0.0 and done is False. Rewards must match exactly.
"""
from dataclasses import dataclass
from typing import List, Optional


@dataclass
class Agent:
    location: str               # the location the agent stands at, e.g. "loc 3"
    holding: Optional[str]      # name of the object in the agent's hand, or None


@dataclass
class Receptacle:
    name: str                   # e.g. "fridge 1"
    kind: str                   # e.g. "fridge"
    location: str               # where it stands, e.g. "loc 2"
    openable: bool              # it has a door or lid
    is_open: bool
    accepts: List[str]          # kinds of object it can hold (sorted)


@dataclass
class Object:
    name: str                   # e.g. "apple 1"
    kind: str                   # e.g. "apple"
    pickupable: bool
    cleanable: bool
    heatable: bool
    coolable: bool
    toggleable: bool            # it has a switch (lamps)
    is_clean: bool
    is_hot: bool
    is_cool: bool
    is_toggled: bool            # its switch has been used


@dataclass
class InReceptacle:
    object: str                 # name of an Object
    receptacle: str             # name of the Receptacle it is in or on


@dataclass
class Unexplored:
    receptacle: str             # observed mode: name of a Receptacle whose contents are not seen yet


def get_agent(state):
    """The Agent entity of a state."""
    for entity in state:
        if isinstance(entity, Agent):
            return entity
    return None


def get_entity(state, name):
    """The Receptacle or Object called `name`, or None."""
    for entity in state:
        if isinstance(entity, (Receptacle, Object)) and entity.name == name:
            return entity
    return None


def receptacles_at(state, location):
    """Receptacles standing at `location`."""
    return [e for e in state if isinstance(e, Receptacle) and e.location == location]


def contents(state, receptacle):
    """Names of the objects in or on the receptacle called `receptacle`."""
    return [e.object for e in state if isinstance(e, InReceptacle) and e.receptacle == receptacle]


def unexplored(state):
    """Names of the receptacles not seen yet (observed mode; always empty in the full mode)."""
    return [e.receptacle for e in state if isinstance(e, Unexplored)]


def receptacles_of(state, obj):
    """Names of the receptacles the object called `obj` is in or on."""
    return [e.receptacle for e in state if isinstance(e, InReceptacle) and e.object == obj]
