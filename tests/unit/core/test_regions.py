"""Colour regions: each region its own colour source; the upper wins; grey outside every region."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.core.errors import HuebrushError
from app.core.regions import Region, compose_regions, hint_note
from models.colour import hex_to_rgb, rgb_to_ab, rgb_to_lab


def _masks(h=40, w=60):
    left = np.zeros((h, w), bool)
    left[:, :35] = True
    right = np.zeros((h, w), bool)
    right[:, 25:50] = True
    return left, right


def test_tints_take_their_hue_the_upper_region_wins_and_outside_is_grey():
    left, right = _masks()
    net = np.full((40, 60, 2), (5.0, 30.0), np.float32)
    regions = [Region("door", left, "tint", "#c03020"), Region("wall", right, "auto", saturation=0.5)]
    ab = compose_regions(net, regions, 0.0, (40, 60))
    a, b = rgb_to_ab(hex_to_rgb("#c03020"))
    assert np.allclose(ab[:, :25], (a, b), atol=1e-4)  # the door's tint
    assert np.allclose(ab[:, 25:50], (2.5, 15.0))  # the wall on top: the network at half saturation
    assert (ab[:, 50:] == 0).all()  # outside every region: exactly grey
    hidden = [regions[0], Region("wall", right, "auto", visible=False)]
    assert np.allclose(compose_regions(net, hidden, 0.0, (40, 60))[:, 25:35], (a, b), atol=1e-4)


def test_the_photo_saturation_scales_the_network_colour_only():
    left, right = _masks()
    net = np.full((40, 60, 2), (5.0, 30.0), np.float32)
    regions = [Region("door", left, "tint", "#c03020"), Region("wall", right, "auto", saturation=0.5)]
    ab = compose_regions(net, regions, 0.0, (40, 60), auto_saturation=2.0)
    assert np.allclose(ab[:, 25:50], (5.0, 30.0))  # 0.5 x 2.0
    assert np.allclose(ab[:, :25], rgb_to_ab(hex_to_rgb("#c03020")), atol=1e-4)  # the tint is not scaled


def test_the_colour_balance_moves_the_network_colour_only():
    from app.core.composite import Grade

    left, right = _masks()
    net = np.full((40, 60, 2), (5.0, 30.0), np.float32)
    regions = [Region("door", left, "tint", "#c03020"), Region("wall", right, "auto", saturation=0.5)]
    ab = compose_regions(net, regions, 0.0, (40, 60), auto_saturation=Grade(2.0, tint=-1.0, warmth=-10.0))
    assert np.allclose(ab[:, 25:50], (4.0, 20.0))  # (net + balance) x 0.5 x 2.0
    assert np.allclose(ab[:, :25], rgb_to_ab(hex_to_rgb("#c03020")), atol=1e-4)  # the chosen colour keeps its own
    assert (ab[:, 50:] == 0).all()


def test_display_tiles_composed_apart_agree_with_the_whole_and_grey_is_exact():
    from app.core.composite import grey8
    from app.core.regions import compose_regions_rgb8

    rng = np.random.default_rng(0)
    L = rng.uniform(20, 90, (90, 130)).astype(np.float32)
    net = np.full((90, 130, 2), (10.0, 25.0), np.float32)
    a = np.zeros((90, 130), bool)
    a[10:70, 5:80] = True
    b = np.zeros((90, 130), bool)
    b[40:85, 60:120] = True
    regions = [Region("a", a), Region("b", b, "tint", "#3050c0")]
    whole = compose_regions_rgb8(L, net, regions, 6.0, 1.0)
    tiles = np.empty_like(whole)
    for y in range(0, 90, 32):
        for x in range(0, 130, 48):
            tiles[y : y + 32, x : x + 48] = compose_regions_rgb8(L, net, regions, 6.0, 1.0,
                                                                 (x, y, min(130, x + 48), min(90, y + 32)))
    assert np.array_equal(whole, tiles)
    out = ~(a | b)
    assert np.array_equal(whole[out], np.repeat(grey8(L)[out][:, None], 3, axis=1))
    # before the network answers, the auto region is grey and the tint already shows
    early = compose_regions_rgb8(L, None, regions, 6.0, 1.0)
    assert np.array_equal(early[a & ~b], np.repeat(grey8(L)[a & ~b][:, None], 3, axis=1))
    assert (early[60:80, 90:110].astype(int).max(-1) - early[60:80, 90:110].min(-1) > 10).all()


def test_banded_composition_equals_the_whole_photo_at_once(monkeypatch):
    import app.core.composite as composite
    from app.core.regions import _compose_block

    rng = np.random.default_rng(1)
    H, W = 300, 80
    net = rng.normal(0, 20, (H, W, 2)).astype(np.float32)
    a = np.zeros((H, W), bool)
    a[20:250, 5:60] = True
    b = np.zeros((H, W), bool)
    b[100:290, 30:75] = True
    regions = [Region("a", a, saturation=0.7), Region("b", b, "tint", "#3050c0")]
    whole = _compose_block(net, regions, 9.0, 1.3)
    monkeypatch.setattr(composite, "BAND_PIXELS", 1000)  # bands of 64 rows
    assert np.allclose(compose_regions(net, regions, 9.0, (H, W), 1.3), whole, atol=1e-5)


def test_bad_regions_are_one_sentence():
    left, _ = _masks()
    with pytest.raises(HuebrushError, match="not a colour"):
        Region("door", left, "tint", "#zzz")
    with pytest.raises(HuebrushError, match="photo is"):
        compose_regions(None, [Region("door", left[:, :20], "tint", "#ff0000")], 0.0, (40, 60))


def test_cli_regions_colour_each_mask_its_own_way(tmp_path, capsys):
    grey = np.tile(np.linspace(60, 200, 60).astype(np.uint8), (40, 1))
    Image.fromarray(grey).save(tmp_path / "p.png")
    left, right = _masks()
    Image.fromarray(left.astype(np.uint8) * 255).save(tmp_path / "door.png")
    Image.fromarray(right.astype(np.uint8) * 255).save(tmp_path / "wall.png")
    rc = main(["colorize", str(tmp_path / "p.png"), "-o", str(tmp_path / "o.png"), "--model", "hints",
               "--region", f"{tmp_path / 'door.png'}=#2050d0", "--region", f"{tmp_path / 'wall.png'}=auto",
               "--hint", "40,20,#30a040"])
    assert rc == 0, capsys.readouterr().err
    out = np.asarray(Image.open(tmp_path / "o.png").convert("RGB")).astype(np.float32) / 255.0
    lab = rgb_to_lab(out)
    assert lab[:, :20, 2].mean() < -15  # the door: blue (b < 0)
    assert lab[:, 30:48, 1].mean() < -10  # the wall: the hint's green (a < 0), by the hints model
    assert np.ptp(out[:, 52:], axis=-1).max() < 1e-6  # outside both: grey
    L_in = rgb_to_lab(np.repeat((grey / 255.0)[..., None], 3, -1).astype(np.float32))[..., 0]
    assert np.abs(lab[..., 0] - L_in).max() < 1.0  # lightness kept
    for bad, words in ((f"{tmp_path / 'door.png'}", "MASK.png=#RRGGBB"), (f"{tmp_path / 'door.png'}=purple", "not a colour")):
        assert main(["colorize", str(tmp_path / "p.png"), "-o", str(tmp_path / "x.png"), "--region", bad]) == 1
        assert words in capsys.readouterr().err


def test_projects_keep_their_regions_and_old_projects_open_as_one_mask(tmp_path):
    from app.core.project import Project, load_project, save_project

    left, right = _masks()
    regions = [Region("door", left, "tint", "#c03020", 1.2), Region("wall", right, "auto", visible=False)]
    p = save_project(tmp_path / "a.huebrush", Project(source_path=None, size=(40, 60), regions=regions))
    back = load_project(p)
    assert [(r.name, r.source, r.colour, r.saturation, r.visible) for r in back.regions] == \
        [("door", "tint", "#c03020", 1.2, True), ("wall", "auto", None, 1.0, False)]
    assert np.array_equal(back.regions[0].mask, left) and np.array_equal(back.regions[1].mask, right)
    assert np.array_equal(back.mask, left)  # the union of the visible regions, for older readers' sake
    old = save_project(tmp_path / "b.huebrush", Project(source_path=None, size=(40, 60), mask=left))
    assert load_project(old).regions is None and np.array_equal(load_project(old).mask, left)


def test_a_damaged_region_list_is_one_sentence(tmp_path):
    import json
    import zipfile

    from app.core.errors import HuebrushError
    from app.core.project import load_project

    p = tmp_path / "bad.huebrush"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("manifest.json", json.dumps({"format": "huebrush-project", "version": 2, "size": [40, 60],
                                                 "regions": [{"name": "door", "source": "tint", "colour": "nope",
                                                              "mask": "regions/0.png"}]}))
        buf = __import__("io").BytesIO()
        Image.fromarray(np.zeros((40, 60), np.uint8)).save(buf, "PNG")
        z.writestr("regions/0.png", buf.getvalue())
    with pytest.raises(HuebrushError) as e:
        load_project(p)
    assert "bad.huebrush" in str(e.value) and "door" in str(e.value) and "\n" not in str(e.value)


def test_batch_honours_a_projects_regions(tmp_path):
    from app.core.batch import BatchJob
    from app.core.pipeline import Settings
    from app.core.project import Project, save_project

    grey = np.tile(np.linspace(60, 200, 60).astype(np.uint8), (40, 1))
    Image.fromarray(grey).save(tmp_path / "p.png")
    left, right = _masks()
    save_project(tmp_path / "p.huebrush", Project(source_path=tmp_path / "p.png", settings=Settings(model="hints"),
                                                  regions=[Region("door", left, "tint", "#2050d0")]))
    report = BatchJob(inputs=[tmp_path / "p.png"], output_dir=tmp_path / "out", settings=Settings(model="hints")).run()
    assert report.counts()["done"] == 1
    out = np.asarray(Image.open(tmp_path / "out" / "p_colour.png").convert("RGB")).astype(np.float32) / 255.0
    lab = rgb_to_lab(out)
    assert lab[:, :30, 2].mean() < -15 and np.ptp(out[:, 40:], axis=-1).max() < 1e-6


def test_a_soft_region_blends_over_the_one_below_by_its_coverage():
    from app.core.mask import Mask
    from app.core.regions import compose_regions_rgb8, union

    H, W = 60, 80
    low = np.zeros((H, W), bool)
    low[:, :40] = True
    m = Mask(H, W)
    m.stroke([(40, 30)], 20, hardness=0.0)
    soft = m.coverage
    regions = [Region("wall", low, "tint", "#2050c0"), Region("door", soft, "tint", "#c03020")]
    ab = compose_regions(None, regions, 0.0, (H, W))
    blue, red = np.asarray(rgb_to_ab(hex_to_rgb("#2050c0"))), np.asarray(rgb_to_ab(hex_to_rgb("#c03020")))
    np.testing.assert_allclose(ab[30, 40], red, atol=1e-4)  # full coverage: the upper colour
    t = soft[30, 30] / 255.0  # partial coverage over the lower region: a blend of the two
    assert 0 < t < 1
    np.testing.assert_allclose(ab[30, 30], blue + t * (red - blue), atol=1e-3)
    outside = ~union(regions, (H, W))
    assert (ab[outside] == 0).all() and outside[30, 75]
    L = np.full((H, W), 60.0, np.float32)
    rgb = compose_regions_rgb8(L, None, regions, 0.0)
    assert (rgb[outside].max(axis=-1) == rgb[outside].min(axis=-1)).all()


def test_hint_note_says_why_a_hint_cannot_show_its_colour_and_nothing_when_it_can():
    left, right = _masks()  # left: columns 0-34, right: 25-49 (upper); 50-59 in neither
    regions = [Region("sky", left, "auto"), Region("door", right, "tint", "#c03020")]
    assert hint_note(regions, 10, 20) is None  # in the network's region
    assert "outside the mask" in hint_note(regions, 55, 20)
    assert "'door' has a chosen colour" in hint_note(regions, 30, 20)  # both cover it: the upper decides
    assert "'door' has a chosen colour" in hint_note(regions, 45, 20)
    hidden = [regions[0], Region("door", right, "tint", "#c03020", visible=False)]
    assert hint_note(hidden, 30, 20) is None  # the door is hidden: the sky below shows the hint
    assert "in hidden 'door'" in hint_note(hidden, 45, 20)
    assert "outside the mask" in hint_note([Region("sky", np.zeros((40, 60), bool))], 10, 10)
    assert hint_note(regions, -5, 999) is None and "outside" in hint_note(regions, 999, -5)  # off the photo: its edge


def test_hint_note_names_a_model_that_takes_no_hints():
    from models.registry import follows_hints

    assert not follows_hints("iizuka") and not follows_hints("reference")
    assert follows_hints("maskgan-v2") and follows_hints("hints") and follows_hints("maskgan")
    sky = [Region("sky", np.ones((40, 60), bool))]
    assert hint_note(sky, 10, 10, "maskgan-v2") is None
    assert "iizuka does not take hints" in hint_note(sky, 10, 10, "iizuka")
    assert "reference does not take hints" in hint_note(sky, 10, 10, "reference")
