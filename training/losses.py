"""Generator and discriminator losses, and the quick quality measures the trainer validates with.

All ab losses are computed on ab / AB_SCALE so the weights below are scale-free.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from models.maskgan import AB_SCALE

EPS = 1e-6


def generator_losses(
    pred: torch.Tensor,
    ab: torch.Tensor,
    mask: torch.Tensor,
    hint_ab: torch.Tensor,
    hint_mask: torch.Tensor,
    sat_weight: float = 1.0,
    huber_beta: float = 0.02,
) -> dict[str, torch.Tensor]:
    """Reconstruction inside the mask, zero chroma outside it, and agreement with the hints.

    ``sat_weight`` weights each pixel by 1 + sat_weight * |ab| / AB_SCALE: colourful pixels
    are rare, so an unweighted L1 model learns that grey is nearly always a safe answer; this
    is a continuous cousin of Zhang et al.'s (2016) class rebalancing.
    """
    p = pred / AB_SCALE
    t = ab / AB_SCALE
    w = 1.0 + sat_weight * t.norm(dim=1, keepdim=True)
    rec = F.smooth_l1_loss(p, t, beta=huber_beta, reduction="none") * w * mask
    rec = rec.sum() / (2 * mask.sum() + EPS)
    outside = 1.0 - mask
    msk = (p.pow(2) * outside).sum() / (2 * outside.sum() + EPS)
    hint = ((p - hint_ab / AB_SCALE).abs() * hint_mask).sum() / (2 * hint_mask.sum() + EPS)
    return {"rec": rec, "mask": msk, "hint": hint}


def lsgan_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((real_logits - 1).pow(2).mean() + fake_logits.pow(2).mean())


def lsgan_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return 0.5 * (fake_logits - 1).pow(2).mean()


# --- quality measures (batched torch, sRGB in [0, 1], (B, 3, H, W)) -----------------------------


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB of two sRGB batches."""
    mse = (a - b).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return 10.0 * torch.log10(1.0 / mse)


def colourfulness(rgb: torch.Tensor) -> torch.Tensor:
    """Hasler & Suesstrunk (2003) colourfulness per image, on 0-255 sRGB values."""
    x = rgb * 255.0
    rg = x[:, 0] - x[:, 1]
    yb = 0.5 * (x[:, 0] + x[:, 1]) - x[:, 2]
    std = (rg.flatten(1).var(1, unbiased=False) + yb.flatten(1).var(1, unbiased=False)).sqrt()
    mean = (rg.flatten(1).mean(1).pow(2) + yb.flatten(1).mean(1).pow(2)).sqrt()
    return std + 0.3 * mean
