"""Calibrating how much of the network's colour to keep under k hints."""
from __future__ import annotations

import numpy as np

from models.colour import rgb_to_lab
from training.calibrate_v1 import calibrate_hint_trust


def _photos(n: int, seed: int) -> list[np.ndarray]:
    """Blocky colour photos: four flat quadrants of random colours and lightness."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        rgb = np.zeros((40, 40, 3), np.float32)
        for y in (0, 20):
            for x in (0, 20):
                rgb[y : y + 20, x : x + 20] = rng.uniform(0.1, 0.9, 3)
        out.append((rgb * 255).round().astype(np.uint8))
    return out


class _Oracle:
    """Predicts each photo's true ab times ``scale`` (no weights): a stand-in colorizer."""

    def __init__(self, photos, scale: float) -> None:
        self.truth = {}
        for p in photos:
            lab = rgb_to_lab(p.astype(np.float32) / 255.0)
            self.truth[lab[..., 0].tobytes()] = lab[..., 1:]
        self.scale = scale

    def predict(self, request, cancel=None):
        return (self.truth[np.asarray(request.L, np.float32).tobytes()] * self.scale).astype(np.float32)


def test_a_right_network_is_trusted_and_a_wrong_one_is_not():
    photos = _photos(6, 0)
    domains = {"blocks": photos}
    right = calibrate_hint_trust(_Oracle(photos, 1.0), domains, counts=(1, 10), trusts=(1.0, 0.5, 0.0))
    assert right["by_count"] == [[1, 1.0], [10, 1.0]]
    wrong = calibrate_hint_trust(_Oracle(photos, -1.0), domains, counts=(1, 10), trusts=(1.0, 0.5, 0.0))
    assert wrong["by_count"] == [[1, 0.0], [10, 0.0]]  # opposite colours: better to keep none
    assert wrong["psnr"]["10"]["0.0"] > wrong["psnr"]["10"]["1.0"]
    assert wrong["photos"] == {"blocks": 6}
    # the table is the mean PSNR of what the colorizer would show
    assert 10 < right["psnr"]["1"]["1.0"] <= 100
