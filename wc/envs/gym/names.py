"""Names for the environments wc knows: gymnasium's toy-text, classic-control and MuJoCo families.

Field and action names follow gymnasium's own documentation of each environment (the tables of
its docstrings, "Observation Space" and "Action Space"), in snake case. Where the documentation
gives a part only as a block (MuJoCo's contact forces `cfrc_ext`, Humanoid's `cinert`, `cvel`,
`qfrc_actuator`) its fields are numbered within the documented body or joint.

An observation layout is chosen by its length, so a layout that options change (MuJoCo's
`exclude_current_positions_from_observation=False` adds the x (and y) position in front; v4 and
v5 differ) gets names only where the documentation states that layout; any other length is
numbered (`x0, x1, ...`). Names are never guessed.

Data only: no rule of any environment is written here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Named = tuple[str, str]   # (field name, unit or "")


@dataclass(frozen=True)
class Known:
    """What wc knows about one environment class."""

    title: str
    layouts: tuple[tuple[Named, ...], ...] = ()       # observation fields, chosen by length
    actions: tuple[str, ...] = ()                     # discrete actions, in index order
    action_dims: tuple[Named, ...] = ()               # continuous action dimensions
    # a Discrete observation that encodes a tuple: (name, radix) digits, most significant first,
    # read from the unwrapped env (FrozenLake's map size is an option)
    digits: Callable[[Any], tuple[tuple[str, int], ...]] | None = None
    notes: dict[str, str] = field(default_factory=dict)   # what a field's values mean

    def layout(self, size: int) -> tuple[Named, ...] | None:
        for names in self.layouts:
            if len(names) == size:
                return names
        return None


def _u(unit: str, *names: str) -> tuple[Named, ...]:
    return tuple((n, unit) for n in names)


def _angles(*joints: str) -> tuple[Named, ...]:
    return _u("rad", *(f"{j}_angle" for j in joints))


def _spins(*joints: str) -> tuple[Named, ...]:
    return _u("rad/s", *(f"{j}_angular_velocity" for j in joints))


def _torques(*joints: str) -> tuple[Named, ...]:
    return _u("N m", *(f"{j}_torque" for j in joints))


def _block(part: str, bodies: tuple[str, ...], width: int) -> tuple[Named, ...]:
    return tuple((f"{part}_{body}_{k}", "") for body in bodies for k in range(width))


def _with_position(layout: tuple[Named, ...], *axes: str, body: str) -> tuple[tuple[Named, ...], ...]:
    """A layout, and the same with the excluded positions in front
    (`exclude_current_positions_from_observation=False`)."""
    return layout, _u("m", *(f"{body}_{a}" for a in axes)) + layout


# ---------------------------------------------------------------- toy text

COLOURS = "0 red, 1 green, 2 yellow, 3 blue"

TAXI = Known(
    "Taxi", actions=("south", "north", "east", "west", "pickup", "dropoff"),
    digits=lambda env: (("taxi_row", 5), ("taxi_col", 5), ("passenger_location", 5), ("destination", 4)),
    notes={"taxi_row": "row 0 is the top", "taxi_col": "column 0 is the left",
           "passenger_location": f"{COLOURS}, 4 in the taxi", "destination": COLOURS})
FROZEN_LAKE = Known(
    "FrozenLake", actions=("left", "down", "right", "up"),
    digits=lambda env: (("row", int(env.nrow)), ("col", int(env.ncol))),
    notes={"row": "row 0 is the top", "col": "column 0 is the left"})
CLIFF_WALKING = Known(
    "CliffWalking", actions=("up", "right", "down", "left"),
    digits=lambda env: (("row", int(env.shape[0])), ("col", int(env.shape[1]))),
    notes={"row": "row 0 is the top", "col": "column 0 is the left"})
BLACKJACK = Known(
    "Blackjack", layouts=(_u("", "player_sum", "dealer_card", "usable_ace"),), actions=("stick", "hit"),
    notes={"dealer_card": "the dealer's card showing, 1 is an ace", "usable_ace": "1 if the player holds a usable ace"})

# ---------------------------------------------------------------- classic control

CART_POLE = Known(
    "CartPole", layouts=((("cart_position", ""), ("cart_velocity", ""), ("pole_angle", "rad"),
                          ("pole_angular_velocity", "")),),
    actions=("push_left", "push_right"))
MOUNTAIN_CAR_FIELDS = (("position", "m"), ("velocity", ""))
MOUNTAIN_CAR = Known("MountainCar", layouts=(MOUNTAIN_CAR_FIELDS,),
                     actions=("accelerate_left", "no_acceleration", "accelerate_right"))
MOUNTAIN_CAR_CONTINUOUS = Known("MountainCarContinuous", layouts=(MOUNTAIN_CAR_FIELDS,),
                                action_dims=(("force", ""),))
ACROBOT = Known(
    "Acrobot", layouts=(_u("", "cos_theta1", "sin_theta1", "cos_theta2", "sin_theta2")
                        + _u("rad/s", "theta1_angular_velocity", "theta2_angular_velocity"),),
    actions=("torque_negative", "torque_zero", "torque_positive"),
    notes={"cos_theta1": "theta1 is the first joint's angle, 0 pointing down",
           "cos_theta2": "theta2 is the second joint's angle, relative to the first link"})
PENDULUM = Known(
    "Pendulum", layouts=(_u("", "cos_theta", "sin_theta") + _u("rad/s", "angular_velocity"),),
    action_dims=(("torque", "N m"),),
    notes={"cos_theta": "x = cos(theta) of the pendulum's free end", "sin_theta": "y = sin(theta)"})

# ---------------------------------------------------------------- MuJoCo (v4 and v5 layouts)

_REACHER = (_u("", "cos_arm1_angle", "cos_arm2_angle", "sin_arm1_angle", "sin_arm2_angle")
            + _u("m", "target_x", "target_y") + _spins("arm1", "arm2")
            + _u("m", "fingertip_minus_target_x", "fingertip_minus_target_y"))
REACHER = Known("Reacher", layouts=(_REACHER, _REACHER + (("fingertip_minus_target_z", "m"),)),
                action_dims=_torques("hinge1", "hinge2"))

_PUSHER_JOINTS = ("shoulder_pan", "shoulder_lift", "upper_arm_roll", "elbow_flex", "forearm_roll", "wrist_flex",
                  "wrist_roll")
PUSHER = Known(
    "Pusher", layouts=(_angles(*_PUSHER_JOINTS) + _spins(*_PUSHER_JOINTS)
                       + _u("m", "fingertip_x", "fingertip_y", "fingertip_z", "object_x", "object_y", "object_z",
                            "goal_x", "goal_y", "goal_z"),),
    action_dims=_torques(*_PUSHER_JOINTS))

INVERTED_PENDULUM = Known(
    "InvertedPendulum", layouts=((("cart_position", "m"), ("pole_angle", "rad"), ("cart_velocity", "m/s"),
                                  ("pole_angular_velocity", "rad/s")),),
    action_dims=(("cart_force", "N"),))

_IDP = ((("cart_position", "m"),) + _u("", "sin_pole1_angle", "sin_pole2_angle", "cos_pole1_angle", "cos_pole2_angle")
        + (("cart_velocity", "m/s"),) + _spins("pole1", "pole2"))
INVERTED_DOUBLE_PENDULUM = Known(
    "InvertedDoublePendulum",
    layouts=(_IDP + _u("N", "constraint_force_x"), _IDP + _u("N", "constraint_force_x", "constraint_force_y",
                                                              "constraint_force_z")),
    action_dims=(("cart_force", "N"),),
    notes={"sin_pole1_angle": "angle between the cart and the first pole",
           "sin_pole2_angle": "angle between the two poles"})

_CHEETAH_JOINTS = ("back_thigh", "back_shin", "back_foot", "front_thigh", "front_shin", "front_foot")
HALF_CHEETAH = Known(
    "HalfCheetah",
    layouts=_with_position((("tip_z", "m"), ("tip_angle", "rad")) + _angles(*_CHEETAH_JOINTS)
                           + _u("m/s", "tip_x_velocity", "tip_z_velocity") + _spins("tip", *_CHEETAH_JOINTS),
                           "x", body="tip"),
    action_dims=_torques(*_CHEETAH_JOINTS))

_HOPPER_JOINTS = ("thigh", "leg", "foot")
HOPPER = Known(
    "Hopper",
    layouts=_with_position((("torso_z", "m"), ("torso_angle", "rad")) + _angles(*_HOPPER_JOINTS)
                           + _u("m/s", "torso_x_velocity", "torso_z_velocity") + _spins("torso", *_HOPPER_JOINTS),
                           "x", body="torso"),
    action_dims=_torques(*_HOPPER_JOINTS))

SWIMMER = Known(
    "Swimmer",
    layouts=_with_position(_angles("tip", "rotor1", "rotor2") + _u("m/s", "tip_x_velocity", "tip_y_velocity")
                           + _spins("tip", "rotor1", "rotor2"), "x", "y", body="tip"),
    action_dims=_torques("rotor1", "rotor2"))

_WALKER_JOINTS = ("thigh", "leg", "foot", "left_thigh", "left_leg", "left_foot")
WALKER2D = Known(
    "Walker2d",
    layouts=_with_position((("torso_z", "m"), ("torso_angle", "rad")) + _angles(*_WALKER_JOINTS)
                           + _u("m/s", "torso_x_velocity", "torso_z_velocity") + _spins("torso", *_WALKER_JOINTS),
                           "x", body="torso"),
    action_dims=_torques(*_WALKER_JOINTS))

_TORSO = (("torso_z", "m"),) + _u("", "torso_orientation_w", "torso_orientation_x", "torso_orientation_y",
                                  "torso_orientation_z")
_TORSO_VELOCITY = (_u("m/s", "torso_x_velocity", "torso_y_velocity", "torso_z_velocity")
                   + _spins("torso_x", "torso_y", "torso_z"))
_ANT_JOINTS = ("front_left_hip", "front_left_ankle", "front_right_hip", "front_right_ankle", "back_left_hip",
               "back_left_ankle", "back_right_hip", "back_right_ankle")
_ANT_BODIES = ("torso", "front_left_leg", "aux_1", "ankle_1", "front_right_leg", "aux_2", "ankle_2", "back_leg",
               "aux_3", "ankle_3", "right_back_leg", "aux_4", "ankle_4")
_ANT = _TORSO + _angles(*_ANT_JOINTS) + _TORSO_VELOCITY + _spins(*_ANT_JOINTS)
ANT = Known(
    "Ant",
    layouts=(_with_position(_ANT, "x", "y", body="torso")                                      # v4 default
             + _with_position(_ANT + _block("cfrc_ext", _ANT_BODIES, 6), "x", "y", body="torso")   # v5 default
             + _with_position(_ANT + _block("cfrc_ext", ("world",) + _ANT_BODIES, 6), "x", "y", body="torso")),
    action_dims=_torques("back_right_hip", "back_right_ankle", "front_left_hip", "front_left_ankle",
                         "front_right_hip", "front_right_ankle", "back_left_hip", "back_left_ankle"))

_HUMANOID_JOINTS = ("abdomen_z", "abdomen_y", "abdomen_x", "right_hip_x", "right_hip_z", "right_hip_y", "right_knee",
                    "left_hip_x", "left_hip_z", "left_hip_y", "left_knee", "right_shoulder1", "right_shoulder2",
                    "right_elbow", "left_shoulder1", "left_shoulder2", "left_elbow")
_HUMANOID_BODIES = ("torso", "lwaist", "pelvis", "right_thigh", "right_shin", "right_foot", "left_thigh", "left_shin",
                    "left_foot", "right_upper_arm", "right_lower_arm", "left_upper_arm", "left_lower_arm")
_HUMANOID = _TORSO + _angles(*_HUMANOID_JOINTS) + _TORSO_VELOCITY + _spins(*_HUMANOID_JOINTS)


def _humanoid_layouts() -> tuple[tuple[Named, ...], ...]:
    v5 = (_HUMANOID + _block("cinert", _HUMANOID_BODIES, 10) + _block("cvel", _HUMANOID_BODIES, 6)
          + tuple((f"qfrc_actuator_{j}", "") for j in _HUMANOID_JOINTS) + _block("cfrc_ext", _HUMANOID_BODIES, 6))
    bodies = ("world",) + _HUMANOID_BODIES
    v4 = (_HUMANOID + _block("cinert", bodies, 10) + _block("cvel", bodies, 6)
          + tuple((f"qfrc_actuator_root_{k}", "") for k in range(6))
          + tuple((f"qfrc_actuator_{j}", "") for j in _HUMANOID_JOINTS) + _block("cfrc_ext", bodies, 6))
    return _with_position(v5, "x", "y", body="torso") + _with_position(v4, "x", "y", body="torso")


_HUMANOID_ACTIONS = _torques("abdomen_y", "abdomen_z", "abdomen_x", "right_hip_x", "right_hip_z", "right_hip_y",
                             "right_knee", "left_hip_x", "left_hip_z", "left_hip_y", "left_knee", "right_shoulder1",
                             "right_shoulder2", "right_elbow", "left_shoulder1", "left_shoulder2", "left_elbow")
HUMANOID = Known("Humanoid", layouts=_humanoid_layouts(), action_dims=_HUMANOID_ACTIONS)
HUMANOID_STANDUP = Known("HumanoidStandup", layouts=_humanoid_layouts(), action_dims=_HUMANOID_ACTIONS)

# gymnasium's own environment classes (module under gymnasium.envs) -> what wc knows of them
KNOWN: dict[str, Known] = {
    "TaxiEnv": TAXI, "FrozenLakeEnv": FROZEN_LAKE, "CliffWalkingEnv": CLIFF_WALKING, "BlackjackEnv": BLACKJACK,
    "CartPoleEnv": CART_POLE, "MountainCarEnv": MOUNTAIN_CAR, "Continuous_MountainCarEnv": MOUNTAIN_CAR_CONTINUOUS,
    "AcrobotEnv": ACROBOT, "PendulumEnv": PENDULUM,
    "ReacherEnv": REACHER, "PusherEnv": PUSHER, "InvertedPendulumEnv": INVERTED_PENDULUM,
    "InvertedDoublePendulumEnv": INVERTED_DOUBLE_PENDULUM, "HalfCheetahEnv": HALF_CHEETAH, "HopperEnv": HOPPER,
    "SwimmerEnv": SWIMMER, "Walker2dEnv": WALKER2D, "AntEnv": ANT, "HumanoidEnv": HUMANOID,
    "HumanoidStandupEnv": HUMANOID_STANDUP,
}


def known(unwrapped: Any) -> Known | None:
    """What wc knows of a made environment: only gymnasium's own classes, so that a user's class
    that happens to share a name is numbered, never misnamed."""
    cls = type(unwrapped)
    if not cls.__module__.startswith("gymnasium.envs."):
        return None
    return KNOWN.get(cls.__qualname__)
