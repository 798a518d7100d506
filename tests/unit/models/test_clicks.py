"""The click protocol (models/clicks.py) on tiny synthetic targets."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import label

from models.clicks import centre, iou, iou_at, next_click, noc, run_protocol


def _two_squares():
    gt = np.zeros((40, 60), bool)
    gt[5:25, 5:25] = True
    other = np.zeros_like(gt)
    other[10:30, 35:55] = True
    return gt, other


def test_first_click_is_the_deepest_point_and_errors_get_the_right_sign():
    gt, other = _two_squares()
    x, y, depth = centre(gt)
    assert 13 <= x <= 16 and 13 <= y <= 16 and depth >= 10
    # everything taken: the largest error is the wrongly taken background -> an exclude click
    cx, cy, include = next_click(gt, np.ones_like(gt))
    assert include is False and not gt[int(cy), int(cx)]
    # nothing taken: the target itself is missed -> an include click inside it
    cx, cy, include = next_click(gt, np.zeros_like(gt))
    assert include is True and gt[int(cy), int(cx)]
    assert next_click(gt, gt.copy()) is None


def _oracle(gt_regions):
    """A segmenter that takes the whole region under each include click, minus those under excludes."""
    lab, _ = label(gt_regions)

    def segment(clicks):
        m = np.zeros(lab.shape, bool)
        for x, y, pos in clicks:
            k = lab[int(y), int(x)]
            if k:
                m = (m | (lab == k)) if pos else (m & (lab != k))
        return m
    return segment


def test_protocol_curves_noc_and_early_stop():
    gt, other = _two_squares()
    perfect = run_protocol(_oracle(gt), gt, max_clicks=20)
    assert perfect[0] == 1.0 and len(perfect) == 20  # an exact answer fills the curve
    # a segmenter that always takes both squares: the second square stays wrong
    both = gt | other

    def greedy(_clicks):
        return both
    curve = run_protocol(greedy, gt, max_clicks=6)
    assert len(curve) == 6 and all(abs(v - iou(both, gt)) < 1e-9 for v in curve)
    stopped = run_protocol(_oracle(gt), gt, max_clicks=20, stop_at=0.9, min_clicks=5)
    assert len(stopped) == 20  # exact at once: filled, not stopped
    curves = [perfect, curve]
    assert iou_at(curves, 1) == (1.0 + curve[0]) / 2
    assert noc(curves, 0.85, cap=20) == (1 + 20) / 2
