"""The trained part of the policy: a FiLM-conditioned spatial-softmax head over frozen MobileNetV2
feature maps, predicting an action chunk (ACT-style) plus auxiliary object positions.

Per camera: MobileNetV2 stages 0-13 (frozen, ImageNet) give a 96-channel stride-16 map; a 1x1 conv
reduces it, FiLM (scale and shift from the instruction embedding) selects what the instruction is about,
and a spatial softmax turns each channel into an expected image point (x, y). The points of both
cameras, a pooled feature vector, the proprioception and the instruction go through an MLP that outputs
`chunk` end-effector actions (7 each) and, as auxiliary targets during training, where the instruction's
object and destination are relative to the end effector.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

BACKBONE_STAGES = 14  # MobileNetV2 features[0:14] -> 96 channels at stride 16
BACKBONE_CHANNELS = 96
ACTION_DIM = 7  # ee_delta: dx dy dz rx ry rz gripper
GRIPPER_INDEX = 6
PROPRIO_DIM = 7 + 6 + 1  # the Franka's: joint positions (7), cartesian position (xyz + euler), gripper
AUX_DIM = 6  # object - ee (3), destination - ee (3)


@dataclass(frozen=True)
class HeadConfig:
    cameras: int = 2
    image_size: int = 160
    reduced: int = 64  # channels after the 1x1 conv
    keypoints: int = 32
    text_dim: int = 384
    hidden: int = 512
    chunk: int = 4
    dropout: float = 0.1
    proprio: int = PROPRIO_DIM  # arm joints + 6 + 1 of the robot trained on (older configs: the Franka's 14)

    def to_dict(self) -> dict:
        return asdict(self)


class SpatialSoftmax(nn.Module):
    """Per channel, the softmax-weighted mean image coordinate in [-1, 1] (Levine et al. 2016)."""

    def __init__(self) -> None:
        super().__init__()
        self.temperature = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        ys = torch.linspace(-1.0, 1.0, h, device=x.device)
        xs = torch.linspace(-1.0, 1.0, w, device=x.device)
        weights = torch.softmax(x.reshape(n, c, h * w) / self.temperature, dim=-1).reshape(n, c, h, w)
        ex = (weights.sum(2) * xs).sum(-1)
        ey = (weights.sum(3) * ys).sum(-1)
        return torch.stack([ex, ey], dim=-1).reshape(n, 2 * c)


class CameraHead(nn.Module):
    def __init__(self, cfg: HeadConfig) -> None:
        super().__init__()
        self.reduce = nn.Sequential(nn.Conv2d(BACKBONE_CHANNELS, cfg.reduced, 1), nn.GroupNorm(8, cfg.reduced))
        self.film = nn.Linear(cfg.text_dim, 2 * cfg.reduced)
        self.points = nn.Conv2d(cfg.reduced, cfg.keypoints, 1)
        self.softmax = SpatialSoftmax()

    def forward(self, fmap: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        x = self.reduce(fmap)
        gamma, beta = self.film(text).chunk(2, dim=-1)
        x = torch.relu(x * (1 + gamma[:, :, None, None]) + beta[:, :, None, None])
        return torch.cat([self.softmax(self.points(x)), x.mean((2, 3))], dim=-1)


class VLAHead(nn.Module):
    """(feature maps per camera, proprio, text embedding) -> (actions (N, chunk, 7), aux (N, 6))."""

    proprio_mean: torch.Tensor
    proprio_std: torch.Tensor
    action_mean: torch.Tensor
    action_std: torch.Tensor

    def __init__(self, cfg: HeadConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.cameras = nn.ModuleList(CameraHead(cfg) for _ in range(cfg.cameras))
        per_camera = 2 * cfg.keypoints + cfg.reduced
        self.text = nn.Linear(cfg.text_dim, 64)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.cameras * per_camera + cfg.proprio + 64, cfg.hidden), nn.LayerNorm(cfg.hidden), nn.GELU(),
            nn.Dropout(cfg.dropout), nn.Linear(cfg.hidden, cfg.hidden), nn.GELU(),
        )
        self.actions = nn.Linear(cfg.hidden, cfg.chunk * ACTION_DIM)
        self.aux = nn.Linear(cfg.hidden, AUX_DIM)
        # normalisation statistics, fitted on the training data and saved with the weights
        self.register_buffer("proprio_mean", torch.zeros(cfg.proprio))
        self.register_buffer("proprio_std", torch.ones(cfg.proprio))
        self.register_buffer("action_mean", torch.zeros(ACTION_DIM))
        self.register_buffer("action_std", torch.ones(ACTION_DIM))

    def forward(self, fmaps: list[torch.Tensor], proprio: torch.Tensor,
                text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = [head(f, text) for head, f in zip(self.cameras, fmaps, strict=True)]
        p = (proprio - self.proprio_mean) / self.proprio_std
        h = self.mlp(torch.cat([*feats, p, self.text(text)], dim=-1))
        actions = self.actions(h).reshape(-1, self.cfg.chunk, ACTION_DIM)
        return actions, self.aux(h)

    def denormalise(self, actions: torch.Tensor) -> torch.Tensor:
        """Network outputs to actions (the gripper column stays a logit: > 0 means close)."""
        return actions * self.action_std + self.action_mean
