"""Quantised ab: the bins, soft targets, the annealed mean and the suggested colours."""
from __future__ import annotations

import numpy as np
import torch

from models.abbins import annealed_mean, gamut_bins, in_gamut, lab_hex, rebalance_weights, soft_encode, top_colours


def test_bins_are_in_gamut_somewhere_and_cover_the_primaries():
    bins = gamut_bins()
    assert 150 < len(bins) < 320 and (np.abs(bins) <= 110).all()
    # sRGB red (L 53, a 80, b 67) and blue (L 32, a 79, b -108) lie within a bin's reach
    for a, b in ((80, 67), (79, -108), (-86, 83)):
        assert np.hypot(bins[:, 0] - a, bins[:, 1] - b).min() <= 10
    # no bin without a real colour: a corner of the grid is out
    assert not ((bins[:, 0] == -110) & (bins[:, 1] == -110)).any()


def test_soft_targets_sum_to_one_and_peak_at_the_true_bin():
    bins = torch.from_numpy(gamut_bins())
    ab = torch.tensor([30.0, -20.0]).view(1, 2, 1, 1).repeat(1, 1, 3, 4)
    t = soft_encode(ab, bins)
    assert t.shape == (1, len(bins), 3, 4)
    assert torch.allclose(t.sum(1), torch.ones(1, 3, 4))
    assert bins[t[0, :, 0, 0].argmax()].tolist() == [30.0, -20.0]


def test_annealed_mean_goes_from_mean_to_mode():
    bins = torch.from_numpy(gamut_bins())
    logits = torch.full((1, len(bins), 1, 1), -5.0)
    red = int(np.argmin(np.hypot(bins[:, 0] - 60, bins[:, 1] - 40)))
    grey = int(np.argmin(np.hypot(bins[:, 0], bins[:, 1])))
    logits[0, red], logits[0, grey] = 1.0, 0.9
    mean = annealed_mean(logits, bins, 1.0)[0, :, 0, 0]
    sharp = annealed_mean(logits, bins, 0.01)[0, :, 0, 0]
    assert sharp.norm() > mean.norm()  # a lower temperature is more vivid
    assert torch.allclose(sharp, bins[red], atol=1.0)


def test_rare_colours_weigh_more():
    bins = gamut_bins()
    counts = np.ones(len(bins))
    grey = int(np.argmin(np.hypot(bins[:, 0], bins[:, 1])))
    counts[grey] = 1000.0
    w = rebalance_weights(counts, bins)
    assert w[grey] < w.mean() and np.all(w > 0)


def test_top_colours_are_k_colours_that_exist_at_that_lightness():
    bins = gamut_bins()
    rng = np.random.default_rng(0)
    p = rng.random(len(bins))
    for L in (5.0, 50.0, 95.0):
        top = top_colours(p, bins, L, k=6)
        assert 1 <= len(top) <= 6 and (L != 50.0 or len(top) == 6)  # few distinct colours exist at L 5
        ab = np.array([c[1:] for c, _ in top])
        gaps = np.hypot(*(ab[:, None] - ab[None]).transpose(2, 0, 1)) + np.eye(len(ab)) * 99
        assert gaps.min() >= 20.0  # distinct colours, not neighbouring bins of one
        shares = [s for _, s in top]
        assert shares == sorted(shares, reverse=True) and sum(shares) <= 1.0 + 1e-9
        labs = np.array([c for c, _ in top])
        assert in_gamut(labs).all() and np.allclose(labs[:, 0], L)
    assert lab_hex((53.24, 80.09, 67.20)) == "#ff0000"


def test_top_colours_cover_the_likely_colours_each_within_reach():
    bins = gamut_bins()
    p = np.zeros(len(bins))
    near = lambda a, b: int(np.argmin(np.hypot(bins[:, 0] - a, bins[:, 1] - b)))  # noqa: E731
    # one colour spread over four neighbouring bins (a true colour between bins), and a second one
    for a, b in ((30, 20), (40, 20), (30, 30), (40, 30)):
        p[near(a, b)] = 0.15
    p[near(-30, 30)] = 0.4
    top = top_colours(p, bins, 60.0, k=3)
    (c1, s1), (c2, s2) = top[:2]
    assert np.hypot(c1[1] - 35, c1[2] - 25) <= 3 and s1 > 0.42  # the middle of the four, not one bin of them
    assert np.hypot(c2[1] + 30, c2[2] - 30) <= 3 and 0.3 < s2 < s1
    assert sum(s for _, s in top) <= 1.0 + 1e-6
