"""Training samples of the learned VLA (a plain container, saved as .npz) and the observation layout
the policy reads. Built from demos by api/lab/features.py; read by train.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_CHUNK = 8  # labels kept per sample: the expert's actions from this step on
CAMERA_KEYS = ("observation/exterior_image_1_left", "observation/wrist_image_left")


def proprio_size(arm_joints: int) -> int:
    """Length of proprio_of's vector for a robot with this many arm joints."""
    return arm_joints + 6 + 1


def proprio_of(obs: dict) -> np.ndarray:
    """joint positions (the robot's arm joints: 7 on the Franka, 6 on the UR5e and WidowX), cartesian position (6),
    gripper (1) as float32."""
    return np.concatenate([obs["observation/joint_position"], obs["observation/cartesian_position"],
                           obs["observation/gripper_position"]]).astype(np.float32)


@dataclass
class Samples:
    feats: np.ndarray  # (N, cameras, 96, h, w) float16
    proprio: np.ndarray  # (N, arm joints + 7) float32
    texts: list[str]  # instruction per sample
    actions: np.ndarray  # (N, MAX_CHUNK, 7) float32: the expert's actions from this step on
    aux: np.ndarray  # (N, 6) float32
    episode: np.ndarray  # (N,) int32
    family: list[str]

    def save(self, path: Path) -> None:
        np.savez(path, feats=self.feats, proprio=self.proprio, texts=np.array(self.texts), actions=self.actions,
                 aux=self.aux, episode=self.episode, family=np.array(self.family))

    @classmethod
    def load(cls, path: Path) -> Samples:
        z = np.load(path)
        return cls(z["feats"], z["proprio"], list(z["texts"]), z["actions"], z["aux"], z["episode"], list(z["family"]))

    @classmethod
    def concat(cls, parts: list[Samples]) -> Samples:
        return cls(np.concatenate([p.feats for p in parts]), np.concatenate([p.proprio for p in parts]),
                   [t for p in parts for t in p.texts], np.concatenate([p.actions for p in parts]),
                   np.concatenate([p.aux for p in parts]), np.concatenate([p.episode for p in parts]),
                   [f for p in parts for f in p.family])

    def __len__(self) -> int:
        return len(self.proprio)
