"""`python -m training train --model segmenter` end to end on a tiny synthetic BSDS500, then export and use."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from training.__main__ import main as training_main

pytestmark = pytest.mark.slow


def _fake_bsds(root, n=5, seed=0):
    rng = np.random.default_rng(seed)
    img_dir = root / "bsds500" / "images" / "train"
    seg_dir = root / "bsds500" / "segmentations" / "train"
    img_dir.mkdir(parents=True)
    seg_dir.mkdir(parents=True)
    for i in range(n):
        h, w = (96, 128) if i % 2 else (128, 96)
        lab = np.zeros((h, w), np.uint16)
        y0, x0 = rng.integers(5, 40, 2)
        lab[y0:y0 + 40, x0:x0 + 40] = 1
        lab[h - 20:, :] = 2
        rgb = np.stack([np.choose(lab, [30, 200, 110]).astype(np.uint8)] * 3, -1)
        rgb = np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(img_dir / f"{i:03d}.jpg", quality=95)
        for a in range(2):
            Image.fromarray(lab).save(seg_dir / f"{i:03d}_{a}.png")
    return root


def test_train_export_and_use(tmp_path):
    data = _fake_bsds(tmp_path / "data")
    run = tmp_path / "run"
    assert training_main(["train", "--model", "segmenter", "--data", str(data), "--out", str(run), "--steps", "4",
                          "--batch", "2", "--val-photos", "1", "--no-pretrained", "--threads", "1",
                          "--synthetic", "2", "--framed", "2"]) == 0
    events = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    data_ev = next(e for e in events if e["event"] == "data")
    # own size + one scale, mirrored and not, the generated pictures that have a target, two framed photos
    assert data_ev["photos"] == 4 and 4 * 2 * 2 + 2 < data_ev["items"] <= 4 * 2 * 2 + 2 + 2
    assert data_ev["synthetic"] == 2 and data_ev["framed"] == 2
    final = [e for e in events if e["event"] == "val" and e.get("final")]
    assert final and final[0]["segments"] >= 2 and 0.0 <= final[0]["iou@5"] <= 1.0
    # resume goes on from the step it reached
    assert training_main(["train", "--model", "segmenter", "--data", str(data), "--out", str(run), "--steps", "6",
                          "--batch", "2", "--val-photos", "1", "--no-pretrained", "--threads", "1",
                          "--synthetic", "0", "--framed", "0", "--resume", str(run / "last.pt")]) == 0
    events = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert events[-1]["step"] == 6
    out = tmp_path / "clickseg.safetensors"
    assert training_main(["export", str(run / "last.pt"), "--out", str(out)]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["architecture"] == "clickseg-v1" and meta["training"]["steps"] == 6

    from app.core.segment.learned import LearnedSegmenter
    from app.core.segment.types import Prompts

    seg = LearnedSegmenter(out)
    seg.set_image(np.full((64, 80), 50.0, np.float32), key="x")
    assert seg.segment(Prompts().add_include(10, 10)).mask.shape == (64, 80)


def test_synthetic_pictures_have_visible_targets():
    from scipy.ndimage import binary_dilation

    from training.segmenter import synthetic_picture

    rng = np.random.default_rng(3)
    contrasts = []
    for _ in range(8):
        g, lab = synthetic_picture(rng)
        assert g.shape == lab.shape and g.dtype == np.float32 and 0 <= g.min() and g.max() <= 1
        assert len(np.unique(lab)) >= 2
        for k in np.unique(lab)[1:]:
            m = lab == k
            ring = binary_dilation(m, iterations=4) & ~m
            contrasts.append(abs(g[m].mean() - g[ring].mean()))
    assert np.median(contrasts) > 0.05  # the shapes stand out from what is around them


def test_framed_photos_keep_the_frame_out_of_every_target():
    from training.segmenter import Item, frame_photo, sample_target

    rng = np.random.default_rng(5)
    grey = rng.uniform(0.3, 0.7, (60, 80)).astype(np.float32)
    lab = np.zeros((2, 60, 80), np.int32)
    lab[:, :30] = 1  # the top half touches the frame on three sides
    lab[:, 30:] = 2
    for _ in range(6):
        g, framed, frame = frame_photo(grey, lab, rng)
        H, W = g.shape
        assert H >= 60 and W >= 80 and (H, W) != (60, 80) and framed.shape == (2, H, W)
        inside = (framed != frame).all(axis=0)
        assert inside.sum() == 60 * 80 and frame not in (1, 2)
        assert np.array_equal(g[inside].reshape(60, 80), grey)  # the photo itself is untouched
        item = Item([], g, framed, 0.01, frame_label=frame)
        assert all(k != frame for _, k in item.targets) and len(item.targets) == 4
        for _ in range(10):  # joined with its neighbours (merge=1) a target still never takes the frame
            assert not (sample_target(item, rng, merge=1.0) & ~inside).any()
