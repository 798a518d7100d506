"""What the trainers share: the run log, the weights' moving average, the training conditions
(masks and hints for a batch), atomic checkpoints and a description of the hardware."""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from models.fileio import atomic_write

from .hints import sample_hints
from .masks import sample_mask


def make_conditions(ab: torch.Tensor, rng: np.random.Generator, bsds_masks) -> tuple[torch.Tensor, ...]:
    """Masks and hints for a batch of true ab (B, 2, H, W); hints only inside the mask."""
    b, _, h, w = ab.shape
    masks = torch.from_numpy(np.stack([sample_mask(h, w, rng, bsds_masks) for _ in range(b)])[:, None].astype(np.float32))
    hab, hm = zip(*(sample_hints(ab[i], rng) for i in range(b)))
    hint_mask = torch.stack(hm) * masks
    hint_ab = torch.stack(hab) * hint_mask
    return masks, hint_ab, hint_mask


def update_ema(ema: torch.nn.Module, gen: torch.nn.Module, decay: float) -> None:
    """ema = decay * ema + (1 - decay) * gen for weights; running statistics copied as they are."""
    with torch.no_grad():
        for e, p in zip(ema.parameters(), gen.parameters()):
            e.lerp_(p.detach(), 1.0 - decay)
        for e, b in zip(ema.buffers(), gen.buffers()):
            e.copy_(b)


def atomic_torch_save(obj, path: Path) -> None:
    atomic_write(path, lambda f: torch.save(obj, f))


class RunLog:
    """Append-only JSONL log (one JSON object per line, flushed each write)."""

    def __init__(self, path: Path, enabled: bool = True) -> None:
        self.path = path
        self.enabled = enabled

    def write(self, **rec) -> None:
        if not self.enabled:
            return
        rec = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **rec}
        with open(self.path, "a") as f:
            f.write(json.dumps(rec, default=float) + "\n")


def hardware() -> dict:
    info = {"platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "torch": torch.__version__}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
