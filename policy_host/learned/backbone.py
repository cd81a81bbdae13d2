"""The frozen image encoder: ImageNet MobileNetV2, stages 0-13 (96 channels at stride 16)."""

from __future__ import annotations

import threading

import numpy as np
import torch

from policy_host.learned.mobilenet import MobileNetV2, load_pretrained, normalise
from policy_host.learned.model import BACKBONE_CHANNELS, BACKBONE_STAGES

_shared_lock = threading.Lock()
_shared: Backbone | None = None


class Backbone:
    def __init__(self, net: MobileNetV2) -> None:
        self.net = net.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)

    @staticmethod
    def shared() -> Backbone:
        """One frozen network per process, shared read-only by every episode (thread-safe)."""
        global _shared
        with _shared_lock:
            if _shared is None:
                _shared = Backbone(load_pretrained())
            return _shared

    @staticmethod
    def shape(size: int) -> tuple[int, int, int]:
        side = -(-size // 16)
        return (BACKBONE_CHANNELS, side, side)

    @torch.no_grad()
    def features_tensor(self, images: np.ndarray) -> torch.Tensor:
        """uint8 (N, H, W, 3) -> float32 (N, 96, H/16, W/16)."""
        return self.net.features_upto(normalise(torch.from_numpy(np.ascontiguousarray(images))), BACKBONE_STAGES)

    def features(self, images: np.ndarray, batch: int = 32) -> np.ndarray:
        out = [self.features_tensor(images[i:i + batch]).numpy() for i in range(0, len(images), batch)]
        return np.concatenate(out) if out else np.zeros((0, *self.shape(images.shape[1])), np.float32)
