"""Scripted policies that read privileged object poses and command end-effector deltas.

`ScriptedExpert` is the arena's reference: approach, descend, grasp, lift, and for the other task
families push or carry-and-release. Its parameters degrade it in ways a voter can see: noise, a lower
speed, pauses, or going for the wrong cube. All randomness comes from the episode seed.
"""

from __future__ import annotations

import numpy as np

from policy_host.geometry import exp_rotation, grasp_yaw, log_rotation, yaw_of_quat
from policy_host.scene_plans import fixture_plan, scene_plan
from policy_host.waypoints import CLOSED, GRASP_OFFSET, HOVER, OPEN, Waypoint
from schemas.policy import ActionSpace, Observation, PolicyMetadata
from schemas.task import TaskFamily, TaskSpec

PUSH_BACKOFF = 0.065  # m behind the cube where a push starts
PUSH_OVERSHOOT = 0.16  # m past the cube's start where a push aims
STALL_STEP = 0.002  # m: a hand that moved less than this since the last control step has stopped
STALL_REACH = 2.0  # a stopped hand within this many tolerances of a waypoint has reached it (as near as it gets)


class ScriptedExpert:
    """Privileged scripted policy. Parameters (all optional, from the registry entry):

    speed: m per control step (default 0.06); noise: std of translation noise, m/step;
    pause_prob: chance per step to freeze (hesitation); wrong_object_prob: chance per episode to go for
    another cube; latency_s: simulated inference latency; chunk_length: actions per inference.
    """

    def __init__(self, speed: float = 0.06, noise: float = 0.0, pause_prob: float = 0.0,
                 wrong_object_prob: float = 0.0, latency_s: float = 0.0, chunk_length: int = 1) -> None:
        self.speed, self.noise, self.pause_prob = speed, noise, pause_prob
        self.wrong_object_prob = wrong_object_prob
        self._meta = PolicyMetadata(action_space=ActionSpace.EE_DELTA, chunk_length=chunk_length,
                                    latency_s=latency_s, privileged=True, deterministic=True)
        self.reset(0)

    @property
    def metadata(self) -> PolicyMetadata:
        return self._meta

    def reset(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng([seed, 0x5C1A])
        self.plan: list[Waypoint] | None = None
        self.task: TaskSpec | None = None
        self.index = 0
        self.reached_at: float | None = None
        self.last_ee: np.ndarray | None = None  # the measured hand position at the last step (stall detection)
        self.swap = self.rng.random() < self.wrong_object_prob

    def infer(self, obs: Observation) -> np.ndarray:
        if self.plan is None or obs["privileged/task"] != self.task:  # a compound task moved to its next part
            self.task, self.index, self.reached_at = obs["privileged/task"], 0, None
            self.plan = self._make_plan(obs)
        if not self.plan:  # nothing it understands: hold still, gripper open
            return np.zeros((self._meta.chunk_length, 7))
        self._advance(obs)
        target = self.plan[self.index]
        pos, mat = obs["privileged/ee_target_pos"].copy(), obs["privileged/ee_target_mat"].copy()
        chunk = []
        for _ in range(self._meta.chunk_length):  # later actions plan from where earlier ones lead
            action = self._action(obs, target, pos, mat)
            pos, mat = pos + action[:3], exp_rotation(action[3:6]) @ mat
            chunk.append(action)
        return np.array(chunk)

    # ---- planning -------------------------------------------------------------------------------------

    def _make_plan(self, obs: Observation) -> list[Waypoint]:
        task: TaskSpec = obs["privileged/task"]
        objects: dict[str, np.ndarray] = obs["privileged/objects"]
        cubes = [c for c in objects if c != "bowl"]
        if task.family is TaskFamily.NONE:
            return []
        if task.object not in objects:  # a task on a fixture itself (the kettle): policy_host.scene_plans
            return scene_plan(obs, task)
        colour = task.object
        if self.swap:
            others = [c for c in cubes if c not in (task.object, task.target)]
            colour = others[int(self.rng.integers(len(others)))] if others else colour
        cube = objects[colour]
        if task.family is TaskFamily.PUSH:
            return self._push_plan(obs, cube, task.direction or "left")
        plan = self._hold_plan(obs, cube) if self._holding(obs, cube) else self._pick_plan(obs, cube)
        fixtures: dict[str, np.ndarray] = obs.get("privileged/fixtures", {})
        if task.family is TaskFamily.PLACE and task.target in objects:
            plan += self._place_plan(obs, objects[task.target], task.target)
        elif task.family is TaskFamily.PLACE and task.target in fixtures:
            plan += fixture_plan(fixtures[task.target], grasp_yaw(yaw_of_quat(cube[3:])))
        return plan

    def _pick_plan(self, obs: Observation, cube: np.ndarray) -> list[Waypoint]:
        pos, yaw = cube[:3], grasp_yaw(yaw_of_quat(cube[3:]))
        grasp = pos + [0, 0, GRASP_OFFSET]
        above = grasp + [0, 0, HOVER]
        return [
            Waypoint(pos=above, yaw=yaw, gripper=OPEN, tolerance=0.02),
            Waypoint(pos=grasp, yaw=yaw, gripper=OPEN, tolerance=0.008),
            Waypoint(pos=grasp, yaw=yaw, gripper=CLOSED, dwell_s=0.4),
            Waypoint(pos=grasp + [0, 0, 0.15], yaw=yaw, gripper=CLOSED, tolerance=0.02),
        ]

    def _holding(self, obs: Observation, cube: np.ndarray) -> bool:
        """Whether the hand already holds `cube` (an episode that continues from a grasp)."""
        grasp = obs["privileged/ee_pos"] - [0, 0, GRASP_OFFSET]
        closed = float(obs["observation/gripper_position"][0]) > 0.3
        return closed and float(np.linalg.norm(cube[:3] - grasp)) < 0.03

    def _hold_plan(self, obs: Observation, cube: np.ndarray) -> list[Waypoint]:
        pos = obs["privileged/ee_pos"].copy()
        return [Waypoint(pos=pos, yaw=grasp_yaw(yaw_of_quat(cube[3:])), gripper=CLOSED, tolerance=0.02)]

    def _place_plan(self, obs: Observation, target: np.ndarray, name: str) -> list[Waypoint]:
        half = obs["privileged/cube_half"]
        cube_z = target[2] + (half + 0.03 if name == "bowl" else 2 * half + 0.008)
        release_z = cube_z + GRASP_OFFSET
        yaw = 0.0 if name == "bowl" else grasp_yaw(yaw_of_quat(target[3:]))
        over = np.array([target[0], target[1], release_z + 0.1])
        down = np.array([target[0], target[1], release_z])
        return [
            Waypoint(pos=over, yaw=yaw, gripper=CLOSED, tolerance=0.015),
            Waypoint(pos=down, yaw=yaw, gripper=CLOSED, tolerance=0.01),
            Waypoint(pos=down, yaw=yaw, gripper=OPEN, dwell_s=0.3),
            Waypoint(pos=over, yaw=yaw, gripper=OPEN),
        ]

    def _push_plan(self, obs: Observation, cube: np.ndarray, direction: str) -> list[Waypoint]:
        u = {"left": (0, 1), "right": (0, -1), "forward": (1, 0), "back": (-1, 0)}[direction]
        u3 = np.array([u[0], u[1], 0.0])
        low = obs["privileged/table_top"] + obs["privileged/cube_half"] + 0.05  # fingertips at mid-cube
        start = cube[:3] - PUSH_BACKOFF * u3
        start[2] = low
        goal = cube[:3] + PUSH_OVERSHOOT * u3
        goal[2] = low
        yaw = np.pi / 2 if u[0] == 0 else 0.0  # the hand's wide side faces the cube
        return [
            Waypoint(pos=start + [0, 0, HOVER], yaw=yaw, gripper=CLOSED, tolerance=0.02),
            Waypoint(pos=start, yaw=yaw, gripper=CLOSED, tolerance=0.01),
            Waypoint(pos=goal, yaw=yaw, gripper=CLOSED),
        ]

    # ---- execution ------------------------------------------------------------------------------------

    def _advance(self, obs: Observation) -> None:
        """Move past every waypoint that is reached and has been held for its dwell time. A waypoint at the edge
        of the arm's reach (a bin's far corner for the WidowX) counts as reached once it has been commanded there
        and the hand has stopped within STALL_REACH tolerances of it: the arm gets no nearer, and waiting there only
        lets a held cube slip."""
        assert self.plan is not None
        now, ee = float(obs["privileged/time"]), obs["privileged/ee_pos"]
        stopped = self.last_ee is not None and float(np.linalg.norm(ee - self.last_ee)) < STALL_STEP
        self.last_ee = ee.copy()
        while self.index < len(self.plan) - 1:
            target = self.plan[self.index]
            if self.reached_at is None:
                dist = float(np.linalg.norm(ee - target.pos))
                asked = float(np.linalg.norm(obs["privileged/ee_target_pos"] - target.pos)) < target.tolerance
                if dist >= target.tolerance and not (stopped and asked and dist < STALL_REACH * target.tolerance):
                    return
                self.reached_at = now
            if now - self.reached_at < target.dwell_s:
                return
            self.index += 1
            self.reached_at = None

    def _action(self, obs: Observation, target: Waypoint, pos: np.ndarray, mat: np.ndarray) -> np.ndarray:
        """One end-effector step from the commanded pose (`pos`, `mat`) toward `target`."""
        if self.pause_prob and self.rng.random() < self.pause_prob:
            return np.concatenate([np.zeros(6), [float(obs["observation/gripper_position"][0] > 0.5)]])
        delta = target.pos - pos
        dist = float(np.linalg.norm(delta))
        speed = self.speed if target.speed is None else min(self.speed, target.speed)
        if dist > speed:
            delta *= speed / dist
        if self.noise:
            delta = delta + self.rng.normal(0.0, self.noise, 3)
        rot = log_rotation(target.orientation() @ mat.T)
        return np.concatenate([delta, rot, [target.gripper]])


class ZeroPolicy:
    """Holds the home pose with the gripper open: the floor of the ladder."""

    def __init__(self, latency_s: float = 0.0) -> None:
        self._meta = PolicyMetadata(action_space=ActionSpace.JOINT_VELOCITY, latency_s=latency_s, deterministic=True)

    @property
    def metadata(self) -> PolicyMetadata:
        return self._meta

    def reset(self, seed: int = 0) -> None:
        return None

    def infer(self, obs: Observation) -> np.ndarray:
        return np.zeros((1, 8))


class RandomPolicy:
    """Uniformly random end-effector deltas and gripper commands, seeded per episode."""

    def __init__(self, scale: float = 0.05, chunk_length: int = 1, latency_s: float = 0.0) -> None:
        self.scale = scale
        self._meta = PolicyMetadata(action_space=ActionSpace.EE_DELTA, chunk_length=chunk_length,
                                    latency_s=latency_s, deterministic=True)
        self.reset(0)

    @property
    def metadata(self) -> PolicyMetadata:
        return self._meta

    def reset(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng([seed, 0xDA7A])

    def infer(self, obs: Observation) -> np.ndarray:
        n = self._meta.chunk_length
        move = self.rng.uniform(-self.scale, self.scale, (n, 3))
        rot = self.rng.uniform(-0.1, 0.1, (n, 3))
        grip = (self.rng.random((n, 1)) < 0.5).astype(np.float64)
        return np.hstack([move, rot, grip])
