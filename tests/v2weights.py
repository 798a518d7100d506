"""A small random maskgan v2 network installed as the user's maskgan weights (for tests of what
uses its colour distribution: suggestions, the hint panel)."""
from __future__ import annotations

import os
from pathlib import Path


def install_v2_weights() -> Path:
    import torch

    from models.checkpoint import save_weights
    from models.maskgan_v2 import ARCH, MaskGANConfig, MaskGANNet

    torch.manual_seed(0)
    cfg = MaskGANConfig(decoder=(16, 16, 16))
    net = MaskGANNet(cfg)
    with torch.no_grad():
        net.head.weight.normal_(0, 0.5)  # untrained but opinionated
    return save_weights(Path(os.environ["HUEBRUSH_MODELS_DIR"]) / "maskgan.safetensors", net.state_dict(),
                        {"architecture": ARCH, "config": cfg.to_dict()})
