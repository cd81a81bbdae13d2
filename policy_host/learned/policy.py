"""The learned VLA as an arena policy: two camera images, proprioception and the instruction in, an
end-effector action chunk out (ee_delta, gripper last). Registry kind "learned"."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import torch

from policy_host.learned.backbone import Backbone
from policy_host.learned.model import GRIPPER_INDEX, HeadConfig, VLAHead
from policy_host.learned.samples import CAMERA_KEYS, proprio_of
from policy_host.learned.text import shared_encoder
from schemas.errors import ValidationError
from schemas.policy import ActionSpace, CameraSpec, Observation, PolicyMetadata

CHECKPOINTS = Path(__file__).with_name("checkpoints")
_load_lock = threading.Lock()
_heads: dict[Path, VLAHead] = {}
DEFAULT_ROBOT = "franka"  # checkpoints written before config.json named a robot were all trained on the Franka


def resolve(checkpoint: str | Path) -> Path:
    """A checkpoint folder: as given, or by name under policy_host/learned/checkpoints/."""
    path = Path(checkpoint)
    if not path.is_absolute() and not path.exists():
        path = CHECKPOINTS / path
    if not (path / "model.safetensors").is_file():
        raise ValidationError("checkpoint", f"no model.safetensors in {path}")
    return path


def trained_robot(checkpoint: str | Path) -> str:
    """The robot a checkpoint was trained on (config.json's "robot"): the only one it drives."""
    config = json.loads((resolve(checkpoint) / "config.json").read_text())
    return str(config.get("robot", DEFAULT_ROBOT))


def load_head(checkpoint: str | Path) -> VLAHead:
    """The trained head (cached per process: episodes share it, read-only)."""
    from safetensors.torch import load_file

    path = resolve(checkpoint).resolve()
    with _load_lock:
        head = _heads.get(path)
        if head is None:
            cfg = HeadConfig(**json.loads((path / "config.json").read_text())["head"])
            head = VLAHead(cfg)
            head.load_state_dict(load_file(path / "model.safetensors"), strict=True)
            head.eval()
            _heads[path] = head
    return head


class LearnedPolicy:
    """params: checkpoint (folder or name), robot (the one it will drive: refused unless the checkpoint was trained
    on it; default the checkpoint's own), action_horizon (actions executed per chunk), latency_s."""

    def __init__(self, checkpoint: str, action_horizon: int = 2, latency_s: float = 0.0,
                 robot: str | None = None) -> None:
        self.robot = trained_robot(checkpoint)
        if robot is not None and robot != self.robot:
            raise ValidationError("robot", f"checkpoint {Path(checkpoint).name} was trained on {self.robot!r} "
                                  f"and drives only it, not {robot!r}")
        self.head = load_head(checkpoint)
        self.backbone = Backbone.shared()
        self.text = shared_encoder()
        cfg = self.head.cfg
        if not 1 <= action_horizon <= cfg.chunk:
            raise ValidationError("action_horizon", f"must be between 1 and the chunk length {cfg.chunk}")
        size = cfg.image_size
        self._meta = PolicyMetadata(action_space=ActionSpace.EE_DELTA, chunk_length=cfg.chunk,
                                    action_horizon=action_horizon, latency_s=latency_s, deterministic=True,
                                    cameras=tuple(CameraSpec(key=k, width=size, height=size) for k in CAMERA_KEYS))

    @property
    def metadata(self) -> PolicyMetadata:
        return self._meta

    def reset(self, seed: int = 0) -> None:
        """Stateless between steps and deterministic: nothing to reset."""

    @torch.no_grad()
    def infer(self, obs: Observation) -> np.ndarray:
        images = np.stack([obs[k] for k in CAMERA_KEYS])
        fmaps = self.backbone.features_tensor(images)
        text = torch.from_numpy(self.text.encode(str(obs["prompt"])))[None]
        state = proprio_of(obs)
        if len(state) != self.head.cfg.proprio:
            raise ValidationError("observation/joint_position", f"{len(state) - 7} arm joints, but this checkpoint "
                                  f"was trained on the {self.robot} ({self.head.cfg.proprio - 7})")
        proprio = torch.from_numpy(state)[None]
        pred, _ = self.head([fmaps[i:i + 1] for i in range(len(CAMERA_KEYS))], proprio, text)
        actions = self.head.denormalise(pred)[0].numpy().astype(np.float64)
        actions[:, GRIPPER_INDEX] = (pred[0, :, GRIPPER_INDEX].numpy() > 0.0).astype(np.float64)
        return actions
