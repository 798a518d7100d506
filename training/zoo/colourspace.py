"""The two colour spaces the zoo's networks predict in: Lab ab (given L) and YCbCr CbCr (given Y).

Targets are scaled to about [-1, 1]; ``to_rgb`` turns a prediction back into sRGB for the
evaluation and counts the pixels whose values fell outside [0, 1] before clipping (YCbCr can name
colours no sRGB pixel has)."""
from __future__ import annotations

import torch

from training.data import lab_tensors, lab_to_rgb_tensors

AB_SCALE = 110.0
# ITU-R BT.601 full range, on sRGB values in [0, 1]
_KR, _KB = 0.299, 0.114
_KG = 1.0 - _KR - _KB


def rgb_to_ycbcr(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r, g, b = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
    y = _KR * r + _KG * g + _KB * b
    cb = (b - y) / (2 * (1 - _KB))
    cr = (r - y) / (2 * (1 - _KR))
    return y, torch.cat([cb, cr], 1)


def ycbcr_to_rgb(y: torch.Tensor, cbcr: torch.Tensor) -> torch.Tensor:
    cb, cr = cbcr[:, 0:1], cbcr[:, 1:2]
    r = y + 2 * (1 - _KR) * cr
    b = y + 2 * (1 - _KB) * cb
    g = (y - _KR * r - _KB * b) / _KG
    return torch.cat([r, g, b], 1)


def inputs_targets(rgb: torch.Tensor, space: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(network input in [-1, 1] (B,1,H,W), target in about [-1, 1] (B,2,H,W), the grey channel as
    the colour space has it: L 0-100 or Y 0-1)."""
    if space == "ycbcr":
        y, cbcr = rgb_to_ycbcr(rgb)
        return y * 2 - 1, cbcr * 2, y
    L, ab = lab_tensors(rgb)
    return (L - 50) / 50, ab / AB_SCALE, L


def to_rgb(grey: torch.Tensor, pred: torch.Tensor, space: str) -> tuple[torch.Tensor, float]:
    """(sRGB (B,3,H,W) clipped to [0, 1], share of pixel values that were out of range)."""
    if space == "ycbcr":
        rgb = ycbcr_to_rgb(grey, pred / 2)
        bad = ((rgb < -1e-3) | (rgb > 1 + 1e-3)).float().mean().item()
        return rgb.clamp(0, 1), bad
    return lab_to_rgb_tensors(grey, pred * AB_SCALE), 0.0
