"""One connection to `arena policy-server`: its own policy instance, and the answer to each request.

Rollouts: the policy is reset with seed 0 when the connection opens. openpi has no reset message, so a
client that keeps one connection across rollouts (openpi's DROID client does) gets its policy reset
(seed 0) whenever the prompt changes; in RoboArena's dialect the `reset` endpoint resets it (with the
request's `seed`, default 0), and so does a new `session_id` on an infer request.

Replies: openpi `{"actions": (n, dim), "server_timing": {"infer_ms": ...}}`; RoboArena `{"actions": (n, dim)}`
cut to the policy's action horizon (RoboArena executes every action it receives). An ee_delta policy's steps
are sent as cartesian_position targets from the request's pose (policy_host/cartesian.py).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from policy_host.cartesian import POSE_KEY, deltas_to_targets
from policy_host.server_request import ForwardKinematics, RequestError, to_observation
from policy_host.wire import RESET_REPLY, WireProtocol, pack, unpack
from schemas.policy import ActionSpace, Policy


class Session:
    """A connection's policy and the rollout it is in; `answer(frame)` gives the frame to send back."""

    def __init__(self, policy: Policy, protocol: WireProtocol, kinematics: ForwardKinematics | None,
                 arm_joints: int = 7) -> None:
        self.policy, self.protocol, self.kinematics, self.arm_joints = policy, protocol, kinematics, arm_joints
        self.meta = policy.metadata
        self.prompt: str | None = None  # the current rollout's prompt (None: none seen since the last reset)
        self.session: str | None = None  # RoboArena's session id, when the client sends one
        self.policy.reset(seed=0)

    def answer(self, frame: bytes | str) -> bytes | str:
        if isinstance(frame, str):
            raise RequestError("expected a binary msgpack frame, got text")
        request = unpack(frame)
        if not isinstance(request, dict):
            raise RequestError(f"expected a map, got {type(request).__name__}")
        if self.protocol == "roboarena":
            endpoint = request.pop("endpoint", None)
            if endpoint == "reset":
                self._reset(_seed(request.get("seed", 0)))
                self.session = _session_key(request.get("session_id"))
                return RESET_REPLY
            if endpoint != "infer":
                raise RequestError(f"unknown endpoint {endpoint!r}; expected 'infer' or 'reset'")
        return self._infer(request)

    def _reset(self, seed: int) -> None:
        self.policy.reset(seed=seed)
        self.prompt = None

    def _new_rollout(self, request: dict[str, Any]) -> None:
        """Reset when the prompt or the session id differs from the current rollout's."""
        prompt, session = str(request.get("prompt", "")), _session_key(request.get("session_id"))
        if (self.prompt is not None and prompt != self.prompt) or (
                session is not None and self.session is not None and session != self.session):
            self._reset(0)
        self.prompt = prompt
        self.session = session if session is not None else self.session

    def _infer(self, request: dict[str, Any]) -> bytes:
        self._new_rollout(request)
        ee_delta = self.meta.action_space is ActionSpace.EE_DELTA
        obs = to_observation(request, self.meta.cameras, kinematics=self.kinematics, needs_pose=ee_delta,
                             arm_joints=self.arm_joints)
        t0 = time.perf_counter()
        actions = np.asarray(self.policy.infer(obs))
        infer_ms = (time.perf_counter() - t0) * 1000
        if ee_delta:
            if actions.ndim != 2 or actions.shape[1] != ActionSpace.EE_DELTA.dim:
                raise ValueError(f"the policy returned actions of shape {actions.shape}; expected (n, 7) ee_delta")
            actions = deltas_to_targets(actions, obs[POSE_KEY])
        if self.protocol == "roboarena":  # RoboArena executes every action it gets: send the horizon only
            return pack({"actions": actions[: self.meta.horizon] if actions.ndim == 2 else actions})
        return pack({"actions": actions, "server_timing": {"infer_ms": infer_ms}})


def _seed(value: object) -> int:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu" or arr.size != 1:
        raise RequestError(f"seed must be an integer, got {value!r}")
    return int(arr.reshape(-1)[0])


def _session_key(value: object) -> str | None:
    """A comparable form of a session id (a string, or an array as RoboArena's clients send)."""
    if value is None:
        return None
    return repr(np.asarray(value).tolist()) if isinstance(value, np.ndarray) else repr(value)
