"""ALFWorld (text household tasks), API module version 1.

A state is a list of entities, instances of the classes below: one Agent, the Receptacles
(furniture and appliances the agent can go to), the Objects (things that can be in or on
receptacles or in the agent's hand) and one InReceptacle entity for each object that is
in or on a receptacle. The order of entities in a state does not matter.

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


def receptacles_of(state, obj):
    """Names of the receptacles the object called `obj` is in or on."""
    return [e.receptacle for e in state if isinstance(e, InReceptacle) and e.object == obj]
