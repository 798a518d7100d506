"""The maskgan v2 trainer: the loss falls, runs resume, --photos reads any folder, export ships."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from models.maskgan import load_maskgan
from models.maskgan_v2 import MaskGANConfig, MaskGANNet, normalise_inputs
from models.types import ColorizeRequest
from training.__main__ import main as training_main
from training.data import find_photos, lab_tensors, load_photos, uint8_batch_to_rgb
from training.export_v2 import choose_setting
from training.maskgan_v2 import colour_loss

from ._fakedata import colourful_photo, make_fake_datasets


@pytest.mark.slow
def test_the_loss_falls_on_a_fixed_batch():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    net = MaskGANNet(MaskGANConfig(decoder=(32, 32, 32)))
    rgb = uint8_batch_to_rgb(np.stack([colourful_photo(rng, 64) for _ in range(4)]))
    L, ab = lab_tensors(rgb)
    mask = torch.ones_like(L)
    x = normalise_inputs(L, mask, torch.zeros_like(ab), torch.zeros_like(L))
    weights = torch.ones(len(net.bins))
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    losses = []
    for _ in range(40):
        loss = colour_loss(net(x), ab, mask, net.bins, weights, 0.3)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])


def test_photos_folders_skip_bad_and_grey_files_with_a_count(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "a" / "deep").mkdir(parents=True)
    Image.fromarray(colourful_photo(rng, 80)).save(tmp_path / "a" / "one.png")
    Image.fromarray(colourful_photo(rng, 90)).save(tmp_path / "a" / "deep" / "two.jpg")
    rgb16 = (colourful_photo(rng, 70).astype(np.uint16) * 257)
    import tifffile

    tifffile.imwrite(tmp_path / "a" / "deep" / "three.tif", rgb16)
    Image.fromarray(np.full((64, 64), 128, np.uint8)).save(tmp_path / "a" / "grey.png")
    (tmp_path / "a" / "broken.jpg").write_bytes(b"not a jpeg at all")
    (tmp_path / "a" / "notes.txt").write_text("ignored")
    paths = find_photos([tmp_path / "a"])
    assert len(paths) == 5
    photos, skipped = load_photos(paths, max_side=64)
    assert len(photos) == 3 and skipped == {"unreadable": 1, "grey": 1, "too_small": 0}
    assert all(max(p.shape[:2]) <= 64 and p.dtype == np.uint8 for p in photos)


def test_choose_setting_prefers_psnr_among_colourful_enough():
    rows = lambda *r: [{"prior_correction": c, "temperature": t, "psnr_gain": g, "cf_ratio": f} for c, t, g, f in r]  # noqa: E731
    tables = {"a": rows((0, 0.2, 0.1, 0.9), (0, 0.4, 0.6, 0.8), (1, 0.4, 0.9, 0.3)),
              "b": rows((0, 0.2, 0.2, 0.95), (0, 0.4, 0.5, 0.76), (1, 0.4, 1.0, 0.4))}
    assert choose_setting(tables, target=0.75) == (0, 0.4)
    assert choose_setting(tables, target=0.99) == (0, 0.2)  # none colourful enough: the most colourful
    assert choose_setting(tables, target=0.78, decide_on=("a",)) == (0, 0.4)  # only set a decides
    assert choose_setting(tables, target=0.2) == (1, 0.4)  # undoing the rebalancing wins when allowed


@pytest.mark.slow
def test_a_tiny_run_resumes_and_exports_weights_the_app_loads(tmp_path):
    data = make_fake_datasets(tmp_path / "data")
    mine = tmp_path / "mine"
    mine.mkdir()
    rng = np.random.default_rng(2)
    for i in range(3):
        Image.fromarray(colourful_photo(rng, 96)).save(mine / f"p{i}.png")
    (mine / "bad.png").write_bytes(b"\x89PNG broken")
    run = tmp_path / "run"
    common = ["train", "--model", "maskgan", "--data", str(data), "--photos", str(mine), "--out", str(run),
              "--sizes", "64,96", "--pixels", str(4 * 64 * 64), "--tiny-every", "2", "--tiny-batch", "4",
              "--no-pretrained", "--quiet", "--threads", "1", "--val-tiny", "4"]
    assert training_main([*common, "--steps", "3"]) == 0
    (tmp_path / "step3.pt").write_bytes((run / "last.pt").read_bytes())
    events = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    photos = next(e for e in events if e["event"] == "photos")
    assert photos["user_files"] == 4 and photos["skipped"]["unreadable"] == 1
    trains = [e for e in events if e["event"] == "train"]
    assert trains and all(e["photos_per_s"] > 0 for e in trains)
    assert events[-1]["event"] == "done" and events[-1]["step"] == 3
    val = next(e for e in events if e["event"] == "val")
    assert {"psnr", "grey_psnr", "cf_ratio"} <= set(val["tiny_val"])
    # overfitting watch: the colour likelihood on held-back BSDS500 photos beside training photos
    o = val["overfit"]
    assert np.isfinite([o["train_nll"], o["heldback_nll"]]).all() and o["gap"] == round(o["heldback_nll"] - o["train_nll"], 4)
    # a resumed run takes this run's encoder learning rate, not the one saved with the optimiser
    assert training_main([*common, "--steps", "5", "--resume", str(run / "last.pt"), "--encoder-lr-mult", "0"]) == 0
    events = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert any(e["event"] == "resume" for e in events) and events[-1]["step"] == 5
    # a run resumed with another hold-back would train on photos it held back: refused
    with pytest.raises(SystemExit, match="held back"):
        training_main([*common, "--steps", "6", "--resume", str(run / "last.pt"), "--hold-back-large", "3"])
    ck = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    assert [g["lr_mult"] for g in ck["opt"]["param_groups"]] == [0.0, 1.0]
    # ... and a frozen encoder is frozen whole: weights and normalisation statistics
    before = torch.load(tmp_path / "step3.pt", map_location="cpu", weights_only=False)["net_raw"]
    enc = [k for k in before if k.startswith("encoder.") and before[k].is_floating_point()]
    assert any("running_mean" in k for k in enc)
    assert all(torch.equal(before[k], ck["net_raw"][k]) for k in enc)
    out = tmp_path / "maskgan.safetensors"
    assert training_main(["export", str(run / "last.pt"), "--out", str(out), "--temperature", "0.4"]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["config"]["temperature"] == 0.4 and meta["steps"] == 5
    col = load_maskgan(out)
    ab = col.predict(ColorizeRequest.whole_photo(np.linspace(0, 100, 40 * 56, dtype=np.float32).reshape(40, 56)))
    assert ab.shape == (40, 56, 2) and np.isfinite(ab).all()
    # two run files: their weights averaged (a model soup), the first one's record kept
    soup = tmp_path / "soup.safetensors"
    assert training_main(["export", str(run / "last.pt"), str(tmp_path / "step3.pt"), "--out", str(soup), "--temperature", "0.4"]) == 0
    from safetensors.torch import load_file

    ck3 = torch.load(tmp_path / "step3.pt", map_location="cpu", weights_only=False)
    got = load_file(str(soup))
    key = "head.weight"
    assert not torch.equal(ck["net"][key], ck3["net"][key])
    assert torch.allclose(got[key].float(), (ck["net"][key] + ck3["net"][key]) / 2, atol=1e-3)
    meta = json.loads(soup.with_suffix(".json").read_text())
    assert meta["steps"] == 5 and len(meta["averaged_from"]) == 2
    # a file that is not a v2 run file: one line naming it, nothing written
    other = tmp_path / "other.pt"
    torch.save({"model": {}}, other)
    bad = tmp_path / "bad.safetensors"
    assert training_main(["export", str(run / "last.pt"), str(other), "--out", str(bad), "--temperature", "0.4"]) == 2
    assert not bad.exists()
    # a new run from shipped-style weights (a fine-tune on one's own photos): it starts from them
    meta0 = json.loads(out.with_suffix(".json").read_text())
    tuned = tmp_path / "tuned"
    assert training_main([*common, "--steps", "1", "--out", str(tuned), "--init", str(out), "--lr", "1e-9"]) == 0
    events = [json.loads(x) for x in (tuned / "log.jsonl").read_text().splitlines()]
    init = next(e for e in events if e["event"] == "init")
    assert init["sha256"] == json.loads(out.with_suffix(".json").read_text())["sha256"] and init["steps"] == 5
    start = torch.load(tuned / "last.pt", map_location="cpu", weights_only=False)
    shipped = load_file(str(out))
    assert torch.allclose(start["net_raw"][key], shipped[key].float(), atol=1e-4)  # lr 1e-9: still the file's weights
    assert start["state"]["step"] == 1 and start["args"]["init"] == str(out)
    # exported without --data, the tuned file keeps the colour settings of the one it started from
    again = tmp_path / "again.safetensors"
    assert training_main(["export", str(tuned / "last.pt"), "--out", str(again)]) == 0
    assert json.loads(again.with_suffix(".json").read_text())["config"] == meta0["config"]
    # ... and averaged with the weights it started from (a soup of a fine-tune and its start)
    both = tmp_path / "both.safetensors"
    assert training_main(["export", str(tuned / "last.pt"), str(out), "--out", str(both)]) == 0
    soup_w, tuned_w = load_file(str(both)), torch.load(tuned / "last.pt", map_location="cpu", weights_only=False)["net"]
    assert torch.allclose(soup_w[key].float(), (tuned_w[key] + shipped[key].float()) / 2, atol=1e-3)
    assert len(json.loads(both.with_suffix(".json").read_text())["averaged_from"]) == 2
    # weights of another network, or --init with --resume: one sentence, no run
    iz = tmp_path / "iz"
    with pytest.raises(SystemExit, match="not 'maskgan-abq-efflite0-v2'"):
        training_main([*common, "--steps", "1", "--out", str(iz), "--init", str(_iizuka_file(tmp_path))])
    with pytest.raises(SystemExit, match="not both"):
        training_main([*common, "--steps", "1", "--init", str(out), "--resume", str(run / "last.pt")])


def test_init_shipped_names_the_weights_huebrush_ships():
    from models.checkpoint import bundled_weights_dir
    from training.maskgan_v2 import _init_weights

    state, meta = _init_weights("shipped")
    assert meta["path"] == str(bundled_weights_dir() / "maskgan-v2.safetensors") and "head.weight" in state
    with pytest.raises(SystemExit, match="does not exist"):
        _init_weights("no/such/file.safetensors")


def _iizuka_file(folder):
    """Weights of another network (its sidecar names another architecture)."""
    from models.checkpoint import save_weights

    return save_weights(folder / "other-net.safetensors", {"w": torch.zeros(3)}, {"architecture": "iizuka2016"})


def _with_photos_large(data, sizes=range(40, 49), tint=(0, 0, 0)):
    """Fake photos-large: one photo per size (the sizes tell them apart), the last one val."""
    root = data / "photos-large"
    (root / "src").mkdir(parents=True)
    rng = np.random.default_rng(3)
    rows = ["file,split"]
    sizes = list(sizes)
    for i, n in enumerate(sizes):
        photo = np.clip(colourful_photo(rng, n).astype(int) + np.array(tint), 0, 255).astype(np.uint8)
        Image.fromarray(photo).save(root / "src" / f"p{i}.png")
        rows.append(f"src/p{i}.png,{'val' if i == len(sizes) - 1 else 'train'}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return data


def test_a_run_can_keep_photos_large_photos_out_for_the_export_to_calibrate_on(tmp_path):
    from training.data import photos_large_heldback_paths, training_photos
    from training.export_v2 import calibration_sets

    data = _with_photos_large(make_fake_datasets(tmp_path / "data", n_train=4, n_val=2))
    held = photos_large_heldback_paths(data, 3)
    assert [p.name for p in held] == ["p0.png", "p3.png", "p6.png"] and photos_large_heldback_paths(data, 0) == []
    everything, d0 = training_photos(data, max_side=64)
    kept, d3 = training_photos(data, max_side=64, hold_back_large=3)
    assert d0["photos_large_train"] == 8 and d3["photos_large_train"] == 5 and d3["photos_large_held_back"] == 3
    shapes = lambda ps: sorted(p.shape[:2] for p in ps)  # noqa: E731  (the sizes tell the photos apart)
    assert not set(shapes(kept)) & {(40, 40), (43, 43), (46, 46)}  # no held-back photo is trained on
    assert len(everything) - len(kept) == 3
    sets = calibration_sets(data, n_tiny=2, large_every=3)
    assert shapes(sets["photos_large_heldback"]) == [(40, 40), (43, 43), (46, 46)]
    assert "photos_large_heldback" not in calibration_sets(data, n_tiny=2)


def test_crop_batches_come_at_one_of_the_sizes_with_the_pixel_budget():
    from training.data import crop_batch

    rng = np.random.default_rng(0)
    photos = [colourful_photo(rng, 90), colourful_photo(rng, 120)]
    for _ in range(5):
        b = crop_batch(photos, [32, 64], 4 * 64 * 64, rng)
        assert b.dtype == np.uint8 and b.shape[1] == b.shape[2] and b.shape[1] in (32, 64)
        assert len(b) == max(2, 4 * 64 * 64 // b.shape[1] ** 2)


def test_turned_and_stretched_crops_stay_inside_the_photo_and_keep_its_colours():
    import cv2

    from training import data as tdata

    rng = np.random.default_rng(0)
    photo = np.zeros((90, 140, 3), np.uint8)
    photo[:] = (200, 40, 60)  # one colour: any pixel from outside the photo would show
    real = cv2.warpAffine
    try:  # what lies outside the photo is black for this test
        tdata.cv2 = cv2
        cv2.warpAffine = lambda *a, **k: real(*a, **{**k, "borderMode": cv2.BORDER_CONSTANT, "borderValue": 0})
        for _ in range(100):
            out = tdata.random_crop_sized(photo, 48, rng, min_frac=0.3, aspect=1.33, rotate=10)
            assert out.shape == (48, 48, 3)
            # the gamma may change the lightness but not what the colour is
            assert out[..., 0].min() > out[..., 1].max() and out.min() > 0
    finally:
        cv2.warpAffine = real


def test_degraded_lightness_is_blurred_grainy_or_soft_and_stays_in_range():
    import torch

    from training.data import degrade_lightness

    rng = np.random.default_rng(0)
    L = torch.zeros(12, 1, 32, 32)
    L[..., ::2, :] = 100.0  # stripes: every kind of degradation changes them
    out = degrade_lightness(L, rng, 1.0)
    assert out.shape == L.shape and float(out.min()) >= 0.0 and float(out.max()) <= 100.0
    assert all(not torch.equal(out[i], L[i]) for i in range(len(L)))
    assert torch.equal(degrade_lightness(L, rng, 0.0), L)


def test_the_cast_taken_out_is_the_one_measured():
    """measure_cast gives the mean colour the network misses on the photos; with it as the config's
    cast, the network's mean colour on them is theirs."""
    from models.maskgan_v2 import MaskGANColorizer
    from training.export_v2 import measure_cast

    torch.manual_seed(0)
    net = MaskGANNet(MaskGANConfig(temperature=0.5), pretrained=False).eval()
    col = MaskGANColorizer(net, {}, "cpu")
    rng = np.random.default_rng(4)
    photos = [np.clip(colourful_photo(rng, 64).astype(int) + (30, 10, -30), 0, 255).astype(np.uint8) for _ in range(3)]
    cast = measure_cast(col, photos)
    assert cast.shape == (2,) and np.abs(cast).max() > 1.0
    logits = col.logits(np.full((64, 64), 50.0, np.float32), np.ones((64, 64), np.float32))
    before = net.ab(logits)
    net.config.cast = tuple(float(c) for c in cast)
    assert torch.allclose(net.ab(logits) - before, torch.tensor(cast, dtype=before.dtype)[None, :, None, None], atol=1e-5)
    np.testing.assert_allclose(measure_cast(col, photos), 0.0, atol=1e-3)
    cfg = MaskGANConfig.from_dict(net.config.to_dict())  # through the sidecar
    assert cfg.cast == pytest.approx(tuple(cast))
    with pytest.raises(ValueError, match="cast"):
        MaskGANConfig.from_dict({"cast": [0.0, 55.0]})


@pytest.mark.slow
def test_an_export_of_a_run_that_held_photos_back_measures_its_cast_on_them(tmp_path):
    data = _with_photos_large(make_fake_datasets(tmp_path / "data", n_train=4, n_val=2), tint=(25, 5, -25))
    run = tmp_path / "run"
    assert training_main(["train", "--model", "maskgan", "--data", str(data), "--out", str(run), "--sizes", "64",
                          "--pixels", str(2 * 64 * 64), "--tiny-every", "0", "--no-pretrained", "--quiet",
                          "--threads", "1", "--val-tiny", "2", "--steps", "2", "--hold-back-large", "3"]) == 0
    out = tmp_path / "w.safetensors"
    assert training_main(["export", str(run / "last.pt"), "--out", str(out), "--data", str(data)]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    cal = meta["calibration"]
    assert cal["decided_on"] == ["bsds500_heldback", "photos_large_heldback"]
    measured = np.array(cal["cast_measured"])
    assert measured.shape == (2,) and set(cal["cast_tried"]) == {"0.5", "1.0"}
    kept = np.array(meta["config"]["cast"])
    # either no cast (it did not gain enough) or a tried share of the measured one
    assert np.allclose(kept, 0.0) or any(np.allclose(kept, s * measured, atol=0.01) for s in (0.5, 1.0))
    assert load_maskgan(out).config.cast == pytest.approx(tuple(kept))
