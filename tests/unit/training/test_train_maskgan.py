"""The maskgan trainer on tiny configs: learning happens, runs are logged, resumed and exported."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from models.maskgan import MaskGANGenerator, load_maskgan, normalise_inputs
from models.types import ColorizeRequest
from training.__main__ import main as training_main
from training.calibrate_v1 import DOMAIN_SIDES, choose_net_cap, flip_threshold
from training.common import make_conditions
from training.data import lab_tensors, uint8_batch_to_rgb
from training.losses import generator_losses
from training.maskgan import lr_at

from ._fakedata import colourful_photo, make_fake_datasets


@pytest.mark.slow
def test_loss_falls_on_a_fixed_batch():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    u8 = np.stack([colourful_photo(rng, 32) for _ in range(8)])
    L, ab = lab_tensors(uint8_batch_to_rgb(u8))
    mask, hint_ab, hint_mask = make_conditions(ab, rng, None)
    gen = MaskGANGenerator(pretrained=False)
    opt = torch.optim.Adam(gen.parameters(), 2e-3)
    x = normalise_inputs(L, mask, hint_ab, hint_mask)
    history = []
    for _ in range(30):
        losses = generator_losses(gen(x), ab, mask, hint_ab, hint_mask)
        total = losses["rec"] + 5 * losses["mask"] + losses["hint"]
        opt.zero_grad()
        total.backward()
        opt.step()
        history.append(losses["rec"].item())
    assert np.mean(history[-5:]) < 0.6 * np.mean(history[:3])


def test_mask_loss_only_counts_outside_the_mask():
    ab = torch.full((1, 2, 8, 8), 40.0)
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :4] = 1
    pred = ab * mask  # perfect inside, grey outside
    losses = generator_losses(pred, ab, mask, torch.zeros_like(ab), torch.zeros_like(mask))
    assert losses["rec"].item() == pytest.approx(0.0, abs=1e-6)
    assert losses["mask"].item() == pytest.approx(0.0, abs=1e-6)
    losses = generator_losses(ab.clone(), ab, mask, torch.zeros_like(ab), torch.zeros_like(mask))
    assert losses["mask"].item() > 0.1  # colour leaking out of the mask is penalised


def test_schedule_warms_up_decays_then_holds_for_the_gan_phase():
    assert lr_at(0.0, 1e-3, 0.2) < lr_at(0.05, 1e-3, 0.2)
    assert lr_at(0.1, 1e-3, 0.2) > lr_at(0.7, 1e-3, 0.2)
    assert lr_at(0.85, 1e-3, 0.2) == lr_at(0.99, 1e-3, 0.2) == pytest.approx(1e-4)


def _events(run):
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_tiny_run_logs_validates_exports_and_resumes(tmp_path):
    data = make_fake_datasets(tmp_path / "data")
    run = tmp_path / "run"
    common = ["--model", "maskgan-v1", "--data", str(data), "--out", str(run), "--batch", "4", "--size", "32",
              "--val-count", "6", "--no-pretrained", "--bsds-every", "2", "--big-size", "48", "--quiet",
              "--threads", "1", "--gan-frac", "0.5", "--val-steps", "2", "--seed", "3"]
    assert training_main(["train", *common, "--steps", "4", "--export", str(run / "maskgan.safetensors")]) == 0
    ev = _events(run)
    kinds = [e["event"] for e in ev]
    assert kinds[0] == "data" and kinds[-1] == "done" and kinds.count("val") >= 2
    phases = {e["phase"] for e in ev if e["event"] == "train"}
    assert "g" in phases
    done = ev[-1]
    assert done["step"] == 4 and done["photos"] > 0 and done["photos_per_s"] > 0
    val = next(e for e in ev if e["event"] == "val")
    assert {"grey_psnr", "psnr", "cf_ratio", "hints10_psnr", "gain"} <= set(val)
    assert (run / "best.pt").is_file() and (run / "last.pt").is_file()
    assert list(run.glob("grid_*.png"))
    meta = json.loads((run / "maskgan.json").read_text())
    assert meta["steps"] <= 4 and meta["architecture"].startswith("maskgan") and "hardware" in meta
    col = load_maskgan(run / "maskgan.safetensors", "cpu")
    ab = col.predict(ColorizeRequest.whole_photo(np.full((20, 24), 50, np.float32)))
    assert ab.shape == (20, 24, 2)
    # resume continues the step count from last.pt
    assert training_main(["train", *common, "--steps", "6", "--resume", str(run / "last.pt")]) == 0
    ev = _events(run)
    assert any(e["event"] == "resume" for e in ev)
    assert ev[-1]["event"] == "done" and ev[-1]["step"] == 6
    assert [e["event"] for e in ev].count("val") == kinds.count("val") + 1  # step 6 validated once


@pytest.mark.slow
def test_export_calibrates_on_the_right_photos_and_keeps_the_better_checkpoint(tmp_path):
    data = make_fake_datasets(tmp_path / "data")
    run = tmp_path / "run"
    assert training_main(["train", "--model", "maskgan-v1", "--data", str(data), "--out", str(run), "--steps", "2", "--batch", "4", "--size", "32",
                          "--val-count", "6", "--no-pretrained", "--bsds-every", "0", "--quiet", "--threads", "1"]) == 0
    out = tmp_path / "w" / "maskgan.safetensors"
    assert training_main(["export", str(run / "best.pt"), str(run / "last.pt"), "--out", str(out),
                          "--data", str(data), "--calibrate", "20"]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    cal = meta["metrics"]["calibration"]
    # Tiny ImageNet train photos and the BSDS500 test photos the trainer holds back
    assert set(cal["calibration_photos"]) == {"tinyimagenet_train_64px", "bsds500_heldback_256px"}
    assert len(cal["candidates"]) == 2
    assert meta["config"]["chroma_gain"] == cal["chroma"]["gain"]
    assert meta["config"]["hint_residual"] == cal["hint_mode"]["hint_residual"]
    ms = cal["multi_scale"]  # two scales averaged only where that calibrates better on held-back photos
    better = ms["multi"]["psnr_gain"] > ms["single"]["psnr_gain"]
    assert meta["config"]["scales"] == ms["chosen"] == ([1.0, 0.5] if better else [1.0])
    fl = cal["flip"]  # the mirrored pass: used from a work size up where it calibrates better at every larger size
    for name, m in fl["mirrored"].items():
        assert fl["helps_at"][str(DOMAIN_SIDES[name])] == (m["psnr_gain"] > fl["plain"][name]["psnr_gain"])
    assert meta["config"]["flip_min_side"] == fl["min_side"] == flip_threshold({int(k): v for k, v in fl["helps_at"].items()})
    cap = cal["net_max_side"]  # the 80 x 60 fake held-back photos are under 256 px: the cap cannot help
    assert cap["long_sides"] == [80] and cap["capped"] == cap["uncapped"]
    assert cap["chosen"] is None and meta["config"]["net_max_side"] is None
    lc = cal["lightness"]  # the lightness curve: fitted on BSDS500 train, used at a size only if it scores better there
    assert [c for c, _ in lc["curve"]] == [5.0 + 10 * i for i in range(10)]
    for name, used in lc["used_at"].items():
        assert used == (lc["curved"][name]["psnr_gain"] > lc["flat"][name]["psnr_gain"])
    assert lc["chosen"] == any(lc["used_at"].values())
    assert meta["config"]["chroma_by_lightness"] == (lc["curve"] if lc["chosen"] else [])
    if lc["chosen"]:
        assert meta["config"]["chroma_by_lightness_weight_by_size"] == [
            [64, float(lc["used_at"]["tinyimagenet_train_64px"])], [256, float(lc["used_at"]["bsds500_heldback_256px"])]]
    if cal["hint_mode"]["hint_residual"]:  # the trust under k hints, chosen on the same kind of photos
        trust = cal["hint_trust"]
        assert meta["config"]["hint_trust_by_count"] == trust["by_count"]
        assert [k for k, _ in trust["by_count"]] == [1, 3, 10, 20]
        by_reach = meta["config"]["hint_trust_by_reach"]  # calibrated near (the default) and photo-wide
        assert [r for r, _ in by_reach] == [0.1, 1.0] and by_reach[0][1] == trust["by_count"]
        assert by_reach[1][1] == cal["hint_trust_by_reach"][1]["by_count"]
        for k, t in trust["by_count"]:
            assert trust["psnr"][str(k)][str(t)] == max(trust["psnr"][str(k)].values())
    # each calibration size gets its own gain, and the colorizer follows it by work size
    by_size = meta["config"]["chroma_gain_by_size"]
    assert [s for s, _ in by_size] == [64, 256]
    assert by_size[0][1] == cal["chroma_per_domain"]["tinyimagenet_train_64px"]["gain"]
    assert by_size[1][1] == cal["chroma_per_domain"]["bsds500_heldback_256px"]["gain"]
    col = load_maskgan(out, "cpu")
    assert col.gain == cal["chroma"]["gain"] and col.power == cal["chroma"]["power"]
    assert col.gain_for(64) == by_size[0][1] and col.gain_for(512) == by_size[1][1]


@pytest.mark.slow
def test_export_calibrates_on_the_photos_the_run_held_back_and_judges_with_them_only_if_clean(tmp_path, capsys):
    data = make_fake_datasets(tmp_path / "data", n_bsds=4)
    common = ["--model", "maskgan-v1", "--data", str(data), "--steps", "2", "--batch", "4", "--size", "32", "--val-count", "6",
              "--no-pretrained", "--bsds-every", "2", "--big-size", "48", "--quiet", "--threads", "1"]
    clean, later = tmp_path / "clean", tmp_path / "later"
    assert training_main(["train", *common, "--out", str(clean), "--bsds-holdout-every", "2"]) == 0
    assert training_main(["train", *common, "--out", str(later), "--bsds-holdout-every", "2",
                          "--init", str(clean / "last.pt")]) == 0
    assert [e for e in _events(clean) if e["event"] == "data"][0]["bsds_val"] == 2  # test photos 0 and 2 of 4

    n = itertools.count()

    def export(*cks):
        out = tmp_path / "w" / f"{next(n)}.safetensors"
        assert training_main(["export", *map(str, cks), "--out", str(out), "--data", str(data), "--calibrate", "12"]) == 0
        return json.loads(out.with_suffix(".json").read_text())["metrics"]["calibration"]

    cal = export(clean / "best.pt", clean / "last.pt")
    assert cal["bsds_holdout_every"] == 2 and cal["calibration_photos"]["bsds500_heldback_256px"] == "2 photos"
    assert cal["heldback_scores_checkpoints"] is True  # from the ImageNet encoder: never trained on them
    for c in cal["candidates"].values():
        assert c["score"] == pytest.approx(np.mean([d["psnr_gain"] for d in c["per_domain"].values()]))
    cal = export(later / "last.pt")
    assert cal["heldback_scores_checkpoints"] is False  # started from another run: they may have been trained on
    (c,) = cal["candidates"].values()
    assert c["score"] == pytest.approx(c["per_domain"]["tinyimagenet_train_64px"]["psnr_gain"])
    other = tmp_path / "other"  # a run that held back other photos cannot be exported together with these
    assert training_main(["train", *common, "--out", str(other)]) == 0
    out = tmp_path / "w" / "mixed.safetensors"
    assert training_main(["export", str(clean / "last.pt"), str(other / "last.pt"), "--out", str(out),
                          "--data", str(data), "--calibrate", "12"]) == 2
    assert "held back different BSDS500 photos" in capsys.readouterr().err and not out.exists()


def test_ema_moves_a_fraction_of_the_way_and_copies_running_statistics():
    from training.maskgan import update_ema

    a, b = torch.nn.BatchNorm2d(2), torch.nn.BatchNorm2d(2)
    with torch.no_grad():
        a.weight.fill_(0.0)
        b.weight.fill_(1.0)
        b.running_mean.fill_(3.0)
    update_ema(a, b, 0.9)
    torch.testing.assert_close(a.weight, torch.full((2,), 0.1))
    torch.testing.assert_close(a.running_mean, torch.full((2,), 3.0))


@pytest.mark.slow
def test_ema_run_ships_the_average_and_resumes_from_the_raw_weights(tmp_path):
    data = make_fake_datasets(tmp_path / "data")
    run = tmp_path / "run"
    common = ["--model", "maskgan-v1", "--data", str(data), "--out", str(run), "--batch", "4", "--size", "32",
              "--val-count", "6", "--no-pretrained", "--bsds-every", "0", "--quiet", "--threads", "1",
              "--gan-frac", "0", "--val-steps", "3", "--seed", "3", "--ema", "0.5", "--lr", "5e-3"]
    assert training_main(["train", *common, "--steps", "3"]) == 0
    last = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    best = torch.load(run / "best.pt", map_location="cpu", weights_only=False)
    moved = [k for k, v in last["gen"].items() if v.is_floating_point() and not torch.equal(v, last["gen_raw"][k])]
    assert moved  # the average lags the raw weights
    for k in last["gen"]:
        torch.testing.assert_close(best["gen"][k], last["gen"][k])  # step 3 is best and last: the average in both
    assert training_main(["train", *common, "--steps", "6", "--resume", str(run / "last.pt")]) == 0
    ev = _events(run)
    assert ev[-1]["event"] == "done" and ev[-1]["step"] == 6


def test_flip_threshold_is_the_smallest_size_from_which_mirroring_helps_at_every_larger_one():
    assert flip_threshold({64: False, 256: True}) == 128  # halfway (geometrically) down to 64 px
    assert flip_threshold({64: True, 256: True}) == 0
    assert flip_threshold({256: True}) == 0
    assert flip_threshold({64: True, 256: False}) is None  # not at the largest size: never
    assert flip_threshold({64: False, 256: False}) is None
    assert flip_threshold({}) is None
    assert flip_threshold({64: True, 256: False, 1024: True}) == 512


def test_net_cap_is_chosen_only_if_psnr_rises_without_greying_the_photos():
    from models.maskgan import default_config

    torch.manual_seed(0)
    gen = MaskGANGenerator(pretrained=False).eval()
    with torch.no_grad():
        gen.head.weight.normal_(0, 0.3)
    rng = np.random.default_rng(0)
    photos = [(rng.random((120, 200, 3)) * 255).astype(np.uint8) for _ in range(2)]
    cfg = dict(default_config(), chroma_gain=1.0)
    res = choose_net_cap(gen, cfg, photos, 96)
    assert res["photos"] == 2 and res["long_sides"] == [200] and res["cap"] == 96
    u, c = res["uncapped"], res["capped"]
    assert u != c  # the network really ran at 96 px for one of them
    assert res["chosen"] == (96 if c["psnr_gain"] > u["psnr_gain"] and c["cf_ratio"] >= min(0.62, u["cf_ratio"]) else None)
    # a greyer capped result cannot win by being greyer: with the target above both, it must also
    # keep the uncapped colourfulness
    strict = choose_net_cap(gen, cfg, photos, 96, target_ratio=10.0)
    assert strict["chosen"] == (96 if c["psnr_gain"] > u["psnr_gain"] and c["cf_ratio"] >= u["cf_ratio"] else None)
