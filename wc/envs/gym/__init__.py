"""The generic domain: any gymnasium environment whose observation is a number, a vector or a
small structure of them (`Discrete`, 1-D `Box`, `MultiDiscrete`, `MultiBinary`, `Tuple`, `Dict`)
and whose actions are `Discrete`, 1-D `Box` or `MultiDiscrete`.

A state is `[Observation(...)]`, the fields in the observation vector's order (named where wc knows
the environment: `names.py`; numbered otherwise); the API module is generated from the spaces
(`source.py`); `spaces.py` reads the spaces; `adapter.py` is the adapter. Imported when such an
environment is made (the registry in wc.envs names it as "module:function" strings).
"""
from wc.envs.gym.adapter import DEFAULT_MAX_STEPS, GymAdapter, accepts, make_adapter, refusal
from wc.envs.gym.names import KNOWN, Known, known
from wc.envs.gym.source import GENERATOR_VERSION
from wc.envs.gym.spaces import ActionSpace, ActionValue, Field, ObservationLayout, action_space, observation_layout

__all__ = ["DEFAULT_MAX_STEPS", "GENERATOR_VERSION", "KNOWN", "ActionSpace", "ActionValue", "Field", "GymAdapter",
           "Known", "ObservationLayout", "accepts", "action_space", "known", "make_adapter", "observation_layout",
           "refusal"]
