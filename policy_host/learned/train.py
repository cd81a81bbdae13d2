"""`arena train`: fit the VLA head on cached demo features; progress bar, loss-curve PNG, safetensors
checkpoint and a model card (data, budget, seed, metrics)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from policy_host.learned.model import GRIPPER_INDEX as GRIPPER
from policy_host.learned.model import HeadConfig, VLAHead
from policy_host.learned.samples import Samples
from policy_host.learned.text import shared_encoder
from schemas.errors import ValidationError


@dataclass
class TrainConfig:
    steps: int = 3000
    batch: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    aux_weight: float = 0.5
    seed: int = 0
    val_fraction: float = 0.1
    max_episodes: int | None = None  # use only the first N demo episodes (smaller-data checkpoints)
    robot: str = "franka"  # the robot the demos drove: the only one the checkpoint drives
    head: HeadConfig = field(default_factory=HeadConfig)


@dataclass
class TrainResult:
    model: VLAHead
    history: dict[str, list[float]]
    metrics: dict[str, float]
    seconds: float
    samples: int
    episodes: int


def train(samples: Samples, cfg: TrainConfig, progress: Callable[[int, dict[str, float]], None] | None = None
          ) -> TrainResult:
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    episodes = np.unique(samples.episode)
    if cfg.max_episodes is not None:
        episodes = episodes[: cfg.max_episodes]
    val_eps = set(rng.choice(episodes, max(1, int(len(episodes) * cfg.val_fraction)), replace=False).tolist())
    keep = np.isin(samples.episode, episodes)
    is_val = np.isin(samples.episode, list(val_eps)) & keep
    train_idx, val_idx = np.flatnonzero(keep & ~is_val), np.flatnonzero(is_val)

    encoder = shared_encoder()
    unique = sorted(set(samples.texts))
    table = torch.from_numpy(np.stack([encoder.encode(t) for t in unique]))
    text_id = torch.from_numpy(np.array([unique.index(t) for t in samples.texts]))

    feats = torch.from_numpy(samples.feats)  # float16, converted per batch
    proprio = torch.from_numpy(samples.proprio)
    chunk = cfg.head.chunk
    actions = torch.from_numpy(samples.actions[:, :chunk])
    aux = torch.from_numpy(samples.aux)

    if samples.proprio.shape[1] != cfg.head.proprio:
        raise ValidationError("samples", f"proprio of size {samples.proprio.shape[1]}, "
                              f"the head expects {cfg.head.proprio}")
    model = VLAHead(cfg.head)
    tr = torch.from_numpy(train_idx)
    model.proprio_mean.copy_(proprio[tr].mean(0))
    model.proprio_std.copy_(proprio[tr].std(0).clamp(min=1e-3))
    flat = actions[tr].reshape(-1, actions.shape[-1])
    model.action_mean.copy_(flat.mean(0))
    model.action_std.copy_(flat.std(0).clamp(min=1e-3))
    model.action_mean[GRIPPER] = 0.0  # the gripper is a 0/1 command: keep it as a logit target
    model.action_std[GRIPPER] = 1.0
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.1)

    def losses(idx: torch.Tensor) -> dict[str, torch.Tensor]:
        fm = feats[idx].float()
        pred, pred_aux = model([fm[:, c] for c in range(fm.shape[1])], proprio[idx], table[text_id[idx]])
        target = actions[idx]
        norm = (target - model.action_mean) / model.action_std
        arm = torch.nn.functional.smooth_l1_loss(pred[..., :GRIPPER], norm[..., :GRIPPER], beta=0.1)
        closed = (target[..., GRIPPER] > 0.5).float()
        grip = torch.nn.functional.binary_cross_entropy_with_logits(pred[..., GRIPPER], closed)
        aux_loss = torch.nn.functional.smooth_l1_loss(pred_aux, aux[idx], beta=0.01)
        total = arm + 0.2 * grip + cfg.aux_weight * aux_loss
        return {"arm": arm, "gripper": grip, "aux": aux_loss, "total": total}

    history: dict[str, list[float]] = {"step": [], "train": [], "val": [], "val_step": []}
    val_t = torch.from_numpy(val_idx)
    for step in range(1, cfg.steps + 1):
        model.train()
        idx = tr[torch.from_numpy(rng.integers(0, len(tr), cfg.batch))]
        loss = losses(idx)
        opt.zero_grad()
        loss["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        history["step"].append(step)
        history["train"].append(float(loss["total"].detach()))
        if step % 100 == 0 or step == cfg.steps:
            model.eval()
            with torch.no_grad():
                v = {k: float(x) for k, x in _batched(losses, val_t).items()}
            history["val_step"].append(step)
            history["val"].append(v["total"])
            if progress:
                progress(step, {"train": history["train"][-1], **{f"val_{k}": x for k, x in v.items()}})
    model.eval()
    with torch.no_grad():
        final = {f"val_{k}": float(x) for k, x in _batched(losses, val_t).items()}
        final |= {f"train_{k}": float(x) for k, x in _batched(losses, tr[:4096]).items()}
    return TrainResult(model, history, final, time.perf_counter() - t0, len(train_idx), len(episodes))


def _batched(fn: Callable[[torch.Tensor], dict[str, torch.Tensor]], idx: torch.Tensor, size: int = 512) -> dict:
    totals: dict[str, float] = {}
    for i in range(0, len(idx), size):
        part = idx[i:i + size]
        for k, v in fn(part).items():
            totals[k] = totals.get(k, 0.0) + float(v) * len(part)
    return {k: v / max(1, len(idx)) for k, v in totals.items()}


def save(result: TrainResult, cfg: TrainConfig, out_dir: Path, card: dict) -> None:
    """model.safetensors, config.json, card.json + card.md, loss.png."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in result.model.state_dict().items()}
    save_file(state, out_dir / "model.safetensors", metadata={"format": "pt", "head": json.dumps(cfg.head.to_dict())})
    (out_dir / "config.json").write_text(json.dumps({"robot": cfg.robot, "head": cfg.head.to_dict(), "train": {
        k: v for k, v in asdict(cfg).items() if k not in ("head", "robot")}}, indent=2) + "\n")
    plot_loss(result.history, out_dir / "loss.png", title=card.get("name", "training"))
    (out_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")


def plot_loss(history: dict[str, list[float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    steps = np.array(history["step"])
    train = np.array(history["train"])
    k = max(1, len(train) // 100)
    smooth = np.convolve(train, np.ones(k) / k, mode="valid")
    ax.plot(steps, train, color="#9ecae1", lw=0.6, label="train (per batch)")
    ax.plot(steps[k - 1:], smooth, color="#3182bd", lw=1.6, label=f"train ({k}-step mean)")
    ax.plot(history["val_step"], history["val"], "o-", color="#e6550d", ms=3, lw=1.4,
            label="validation (held-out demos)")
    ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (arm smooth-L1 + 0.2 gripper BCE + aux)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
