"""Evaluation metrics and the `python -m training evaluate` report, on synthetic photos."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from models import registry
from models.colour import lab_to_rgb
from training.evaluate import PSNR_CAP, bootstrap_ci, colourfulness, evaluate_set, main, psnr, ssim


def _rgb(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([0.5 + 0.4 * np.sin(x / 9 + seed), 0.5 + 0.3 * np.cos(y / 7), 0.4 + 0.2 * np.sin((x + y) / 11)], -1)
    return np.clip(rgb + rng.normal(0, 0.02, rgb.shape), 0, 1).astype(np.float32)


def test_colourfulness_of_grey_is_zero_and_grows_with_chroma():
    grey = np.repeat(np.linspace(0, 1, 64 * 48).reshape(48, 64, 1), 3, -1)
    assert colourfulness(grey) == pytest.approx(0.0, abs=1e-9)
    L = np.full((32, 32), 60.0, np.float32)
    ab = np.zeros((32, 32, 2), np.float32)
    ab[:, :16] = (30, 20)
    ab[:, 16:] = (-25, 10)
    assert 0 < colourfulness(lab_to_rgb(L, ab * 0.5)) < colourfulness(lab_to_rgb(L, ab))


def test_psnr_identical_is_capped_and_falls_with_noise():
    x = _rgb()
    assert psnr(x, x) == PSNR_CAP
    noisy = np.clip(x + np.random.default_rng(1).normal(0, 0.05, x.shape), 0, 1)
    assert 20 < psnr(noisy, x) < 35
    assert ssim(x, x) == pytest.approx(1.0) and ssim(noisy, x) < 0.95


class _ConstantColour:
    """A stand-in colorizer: the same strong colour everywhere, whatever the mask says."""

    name = "test-constant"

    def predict(self, request, cancel=None):
        h, w = request.L.shape
        return np.broadcast_to(np.array([40.0, 30.0], np.float32), (h, w, 2)).copy()


@pytest.fixture
def photo_set(tmp_path, monkeypatch):
    """A fake datasets folder with 3 colour photos and 1 greyscale one in photos/documerica."""
    folder = tmp_path / "photos" / "documerica"
    folder.mkdir(parents=True)
    for i in range(3):
        Image.fromarray((_rgb(60, 90, seed=i) * 255).astype(np.uint8)).save(folder / f"p{i}.png")
    grey = (np.repeat(_rgb(60, 90)[..., :1], 3, -1) * 255).astype(np.uint8)
    Image.fromarray(grey).save(folder / "grey.png")
    info = registry.ModelInfo("test-constant", "t", "t", False)
    monkeypatch.setitem(registry._REGISTRY, "test-constant", (info, lambda device: _ConstantColour()))
    return tmp_path


def test_random_mask_keeps_everything_outside_it_grey(photo_set):
    res = evaluate_set(_ConstantColour(), photo_set, "documerica", mask="random", work_size=64)
    assert res["photos"] == 3 and res["skipped_greyscale"] == ["grey.png"]
    assert res["max_ab_outside_mask"] == 0.0
    assert res["L_kept_psnr"] > 40  # colour never changes lightness


def test_whole_photo_report_has_output_and_grey_baseline(photo_set, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["--model", "test-constant", "--data", str(photo_set), "--sets", "documerica",
                 "--work-size", "64", "--json", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    d = printed["sets"]["documerica"]
    # A wrong constant colour is worse than leaving the photo grey, and colourful.
    assert d["psnr"] < d["psnr_grey"] and d["ssim"] <= d["ssim_grey"] + 1e-6
    assert d["colourfulness_ratio"] > 0.3
    assert "max_ab_outside_mask" not in d


def test_the_colour_balance_is_added_to_the_model_colour_inside_the_mask_only(photo_set, tmp_path, capsys):
    """--warmth/--tint measure what the app's Warmth and Tint give: taking (-40, -30) out of the
    constant (40, 30) leaves grey, which scores exactly the grey photo's PSNR."""
    res = evaluate_set(_ConstantColour(), photo_set, "documerica", work_size=64, balance=(-40.0, -30.0))
    assert res["psnr"] == pytest.approx(res["psnr_grey"]) and res["colourfulness_ratio"] == 0.0
    masked = evaluate_set(_ConstantColour(), photo_set, "documerica", mask="random", work_size=64, balance=(5.0, -5.0))
    assert masked["max_ab_outside_mask"] == 0.0
    assert main(["--model", "test-constant", "--data", str(photo_set), "--sets", "documerica", "--work-size", "64",
                 "--warmth", "-30", "--tint", "-40"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["colour_balance"] == {"tint": -40.0, "warmth": -30.0}
    assert printed["sets"]["documerica"]["psnr"] == pytest.approx(printed["sets"]["documerica"]["psnr_grey"])


def test_bootstrap_interval_holds_the_mean_and_narrows_with_more_photos():
    rng = np.random.default_rng(3)
    mean = lambda x: x.mean(axis=1)  # noqa: E731
    assert bootstrap_ci(mean, np.full(20, 1.5)) == [1.5, 1.5]
    few, many = rng.normal(0, 1, 25), rng.normal(0, 1, 2500)
    lo, hi = bootstrap_ci(mean, few)
    assert lo < few.mean() < hi
    lo2, hi2 = bootstrap_ci(mean, many)
    assert lo2 < many.mean() < hi2 and (hi2 - lo2) < (hi - lo) / 5  # ~ 1 / sqrt(n)
    assert 0.06 < hi2 - lo2 < 0.1  # 2 x 1.96 / sqrt(2500)
    assert bootstrap_ci(mean, many) == [lo2, hi2]  # seeded


def test_overrides_and_paired_difference_compare_two_settings_photo_by_photo(photo_set, tmp_path, capsys):
    import torch

    from models.checkpoint import save_weights
    from models.maskgan import ARCH, MaskGANGenerator, default_config

    torch.manual_seed(0)
    g = MaskGANGenerator(pretrained=False).eval()
    with torch.no_grad():
        g.head.weight.normal_(0, 0.3)
    cfg = dict(default_config(), chroma_gain=1.0)
    weights = save_weights(tmp_path / "w" / "maskgan.safetensors", g.state_dict(), {"architecture": ARCH, "config": cfg})
    sidecar = weights.with_suffix(".json").read_text()
    base = ["--model", "maskgan", "--weights", str(weights), "--data", str(photo_set), "--sets", "documerica",
            "--work-size", "64"]
    grey, colour = tmp_path / "grey.json", tmp_path / "colour.json"
    assert main(base + ["--set", "chroma_gain=0", "--per-photo", "--json", str(grey)]) == 0
    g_rep = json.loads(grey.read_text())
    assert g_rep["config_overrides"] == {"chroma_gain": 0}
    per = g_rep["sets"]["documerica"]["per_photo"]
    assert [p["photo"] for p in per] == ["p0.png", "p1.png", "p2.png"]
    assert all(p["psnr_gain"] == 0 and p["colourfulness"] == 0 for p in per)  # gain 0: the grey photo itself
    assert main(base + ["--paired-with", str(grey), "--json", str(colour)]) == 0
    c_rep = json.loads(colour.read_text())
    d, c = c_rep["paired_with"]["sets"]["documerica"], c_rep["sets"]["documerica"]
    # against grey, the paired difference is the run's own gain over grey
    assert d["photos"] == 3 and d["psnr_gain_difference"] == pytest.approx(c["psnr_gain"], abs=2e-3)
    assert d["photos_better"] + d["photos_worse"] == 3 and d["ci95"][0] <= d["psnr_gain_difference"] <= d["ci95"][1]
    assert c["ci95"]["psnr_gain"][0] <= c["psnr_gain"] <= c["ci95"]["psnr_gain"][1]
    assert weights.with_suffix(".json").read_text() == sidecar  # the installed sidecar is never edited
    capsys.readouterr()
    assert main(base + ["--set", "chroma_gian=0"]) == 0  # a key the sidecar does not have: said, not silent
    assert "chroma_gian not in maskgan.json's config" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        main(base + ["--set", "flip_min_side"])
    with pytest.raises(SystemExit, match="not JSON"):
        main(base + ["--set", "flip_min_side=never"])


def test_unknown_set_is_one_clear_error(photo_set):
    with pytest.raises(SystemExit, match="unknown set"):
        main(["--model", "test-constant", "--data", str(photo_set), "--sets", "nope"])


@pytest.mark.data
@pytest.mark.slow
def test_hints_from_the_truth_improve_psnr_with_hint_propagation(datasets_dir):
    pytest.importorskip("models.hintprop")
    model = registry.create("hints")
    none = evaluate_set(model, datasets_dir, "documerica", limit=3, work_size=96, hints=0)
    ten = evaluate_set(model, datasets_dir, "documerica", limit=3, work_size=96, hints=10)
    assert none["psnr"] == pytest.approx(none["psnr_grey"], abs=0.05)  # no hints: stays grey
    assert ten["psnr"] > ten["psnr_grey"] + 0.5
