"""The built-in segmenter on photos whose right answer is known."""
from __future__ import annotations

import numpy as np
import pytest

from app.core.segment.builtin import BuiltinSegmenter
from app.core.segment.everything import merge_small_regions
from app.core.segment.types import Prompts, SegmentResult


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Mid-grey with film-grain-like texture, as L 0-100."""
    rng = np.random.default_rng(seed)
    import cv2

    noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5)
    return (45 + 6 * noise / noise.std()).astype(np.float32)


@pytest.fixture
def scene():
    """A bright disc and a dark square on textured ground, under a smooth sky band."""
    h, w = 240, 360
    L = textured(h, w)
    yy, xx = np.mgrid[0:h, 0:w]
    sky = yy < 50
    L[sky] = 85 + 5 * xx[sky] / w  # gradient sky touching the photo's border
    disc = (xx - 120) ** 2 + (yy - 140) ** 2 < 45 ** 2
    L[disc] = 78 + L[disc] * 0.05
    square = (xx > 230) & (xx < 310) & (yy > 100) & (yy < 190)
    L[square] = 15 + L[square] * 0.05
    return L, {"sky": sky, "disc": disc, "square": square}


def test_one_click_selects_the_object(scene):
    L, parts = scene
    seg = BuiltinSegmenter()
    seg.set_image(L)
    r = seg.segment(Prompts(include=((120, 140),)))
    assert isinstance(r, SegmentResult) and r.mask.shape == L.shape and r.mask.dtype == bool
    assert iou(r.mask, parts["disc"]) > 0.9
    assert not r.mask.flags.writeable  # results are frozen
    r2 = seg.segment(Prompts(include=((270, 145),)))
    assert iou(r2.mask, parts["square"]) > 0.9


def test_region_touching_the_border_is_not_cut_off(scene):
    L, parts = scene
    seg = BuiltinSegmenter()
    seg.set_image(L)
    r = seg.segment(Prompts(include=((180, 20),)))
    assert iou(r.mask, parts["sky"]) > 0.9


def test_box_alone_finds_what_is_inside(scene):
    L, parts = scene
    seg = BuiltinSegmenter()
    seg.set_image(L)
    r = seg.segment(Prompts(box=(60, 80, 180, 200)))
    assert iou(r.mask, parts["disc"]) > 0.85


def test_exclude_click_splits_two_similar_touching_regions():
    h, w = 200, 300
    L = textured(h, w, seed=3)
    L[60:140, 40:260] = 80.0 + L[60:140, 40:260] * 0.02  # one bright bar...
    L[60:140, 149:151] = 70.0  # ...with a faint seam in the middle
    seg = BuiltinSegmenter()
    seg.set_image(L)
    both = seg.segment(Prompts(include=((90, 100),))).mask
    left = np.zeros((h, w), bool)
    left[60:140, 40:150] = True
    right = np.zeros((h, w), bool)
    right[60:140, 150:260] = True
    assert both[right].mean() > 0.8  # one click takes the whole bar
    only_left = seg.segment(Prompts(include=((90, 100),), exclude=((210, 100),))).mask
    assert iou(only_left, left) > 0.85 and only_left[right].mean() < 0.1


def test_every_click_wins_where_it_lands(scene):
    L, _ = scene
    seg = BuiltinSegmenter()
    seg.set_image(L)
    p = Prompts(include=((120, 140), (121, 141)), exclude=((122, 142),))
    m = seg.segment(p).mask
    assert m[140, 120] and m[141, 121] and not m[142, 122]


def test_precompute_is_cached_per_photo(scene, monkeypatch):
    L, _ = scene
    seg = BuiltinSegmenter()
    calls = []
    import app.core.segment.builtin as builtin

    real = builtin.build_graph
    monkeypatch.setattr(builtin, "build_graph", lambda *a, **k: calls.append(1) or real(*a, **k))
    seg.set_image(L, key="a")
    seg.set_image(L[::-1].copy(), key="b")
    seg.set_image(L, key="a")
    per_photo = 2  # superpixels at two scales: coarse for a lone click, fine for corrections
    assert len(calls) == 2 * per_photo and seg.has_image("a")


def test_large_photo_is_worked_small_but_answered_full_size():
    L = textured(1200, 1600, seed=5)
    L[300:900, 400:1200] = 85.0
    seg = BuiltinSegmenter()
    seg.set_image(L)
    m = seg.segment(Prompts(include=((800, 600),))).mask
    truth = np.zeros_like(m)
    truth[300:900, 400:1200] = True
    assert m.shape == (1200, 1600) and iou(m, truth) > 0.95


def test_empty_prompts_give_an_empty_mask(scene):
    L, _ = scene
    seg = BuiltinSegmenter()
    seg.set_image(L)
    assert not seg.segment(Prompts()).mask.any()


def test_segment_everything_partitions_the_photo(scene):
    L, parts = scene
    seg = BuiltinSegmenter()
    seg.set_image(L)
    regions = seg.everything()
    assert 3 <= len(regions) <= 80
    total = np.sum(regions, axis=0)
    assert (total == 1).all()  # every pixel in exactly one region
    for name in ("disc", "square", "sky"):
        assert max(iou(r, parts[name]) for r in regions) > 0.8, name


def test_merge_small_regions_leaves_no_crumbs():
    lab = np.zeros((50, 50), int)
    lab[:, 25:] = 1
    lab[10:12, 10:12] = 2  # a 4-pixel crumb inside region 0
    out = merge_small_regions(lab, 10)
    assert len(np.unique(out)) == 2 and out[10, 10] == out[0, 0]


def test_prompts_normalise_the_box_and_cycle_alternatives():
    p = Prompts(box=(50, 40, 10, 5)).add_include(1, 2).add_exclude(3, 4)
    assert p.box == (10, 5, 50, 40) and p.include == ((1.0, 2.0),) and p.exclude == ((3.0, 4.0),)
    masks = (np.ones((2, 2), bool), np.zeros((2, 2), bool))
    r = SegmentResult(masks, (0.9, 0.4))
    assert r.next_alternative().mask.sum() == 0 and r.next_alternative().next_alternative().chosen == 0


@pytest.mark.data
@pytest.mark.slow
def test_five_clicks_on_real_photos_are_usable(datasets_dir):
    """A few BSDS500 test photos through the benchmark's click protocol (grey input)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
    import segment_bsds as bench  # noqa: E402

    bsds = datasets_dir / "bsds500"
    if not bsds.is_dir():
        pytest.skip("bsds500 not in the shared datasets")
    seg = BuiltinSegmenter()
    scores = []
    from PIL import Image

    for img in sorted((bsds / "images" / "test").glob("*.jpg"))[:3]:
        seg.set_image(np.asarray(Image.open(img).convert("RGB")), key=img.stem)
        for gt in bench.targets(bsds / "segmentations" / "test" / f"{img.stem}_0.png", 0.02):
            ious, _, _ = bench.run_segment(seg, gt, max_clicks=5)
            scores.append(ious[min(5, len(ious)) - 1])
    assert np.mean(scores) > 0.6


def test_random_walker_stops_at_strong_outlines():
    from app.core.segment.walker import random_walker

    # a chain 0-1-2-3-4 with one hard-to-cross link between 2 and 3
    pairs = np.array([[0, 1], [1, 2], [2, 3], [3, 4]])
    w = np.array([1.0, 1.0, 0.01, 1.0])
    x = random_walker(5, pairs, w, fg=np.array([0]), bg=np.array([4]))
    assert x[0] == 1.0 and x[4] == 0.0
    assert x[1] > 0.9 and x[2] > 0.9 and x[3] < 0.1
    # no background click: a weak pull of node 4 towards the background still splits the chain
    x = random_walker(5, pairs, w, fg=np.array([0]), bg=np.array([], dtype=int),
                      prior_bg=np.array([0, 0, 0, 0, 0.05]))
    assert x[2] > 0.5 > x[3]


def test_second_click_adds_its_own_region(scene):
    L, parts = scene
    seg = BuiltinSegmenter()
    seg.set_image(L)
    both = parts["disc"] | parts["square"]
    m = seg.segment(Prompts(include=((120, 140), (270, 145)))).mask
    assert iou(m, both) > 0.85


def test_exclude_correction_removes_the_region_it_lands_in(scene):
    L, parts = scene
    seg = BuiltinSegmenter()
    seg.set_image(L)
    # a box around both objects, then an exclude click on the square: only the disc stays
    p = Prompts(include=((120, 140),), exclude=((270, 145),), box=(40, 60, 330, 210))
    m = seg.segment(p).mask
    assert iou(m, parts["disc"]) > 0.85 and m[parts["square"]].mean() < 0.1


def test_pixel_refinement_follows_an_outline_finer_than_the_superpixels():
    """A blob whose edge wiggles faster than superpixels can follow: the superpixel answer
    alone leaves a jagged, bleeding outline; the band refinement must snap it to the photo."""
    from dataclasses import replace

    h, w = 300, 400
    L = textured(h, w, seed=7)
    yy, xx = np.mgrid[0:h, 0:w]
    angle, radius = np.arctan2(yy - 150, xx - 200), np.hypot(yy - 150, xx - 200)
    blob = radius < 90 + 4 * np.sin(120 * angle)  # teeth about 5 pixels apart
    L[blob] = 62 + L[blob] * 0.1
    refined = BuiltinSegmenter()
    assert refined.params.pixel_refine != "none"
    plain = BuiltinSegmenter(replace(refined.params, pixel_refine="none"))
    wrong = []
    for seg in (plain, refined):
        seg.set_image(L)
        m = seg.segment(Prompts(include=((200, 150),))).mask
        assert iou(m, blob) > 0.95
        wrong.append(int(np.count_nonzero(m != blob)))
    assert wrong[1] < 0.7 * wrong[0], wrong  # measured: about half the wrong pixels
    assert 1 - wrong[1] / blob.sum() > 0.98
