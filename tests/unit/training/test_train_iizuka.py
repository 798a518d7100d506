"""The iizuka trainer: the loss falls, checkpoints resume, and the export loads in the app."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch

from models.iizuka import IizukaConfig, IizukaNet
from training.iizuka import add_arguments, batch_lab, calibrate_saturation, loss_fn, train_iizuka

TINY = IizukaConfig(width=0.0625, num_classes=10, global_size=32)


def _photos(n: int, side: int = 32, seed: int = 0) -> np.ndarray:
    """Smooth colourful synthetic photos: colour follows lightness structure, so it is learnable."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] / side
    out = []
    for i in range(n):
        f = rng.uniform(1, 4)
        r = 0.5 + 0.4 * np.sin(2 * np.pi * f * x + i)
        g = 0.5 + 0.4 * np.cos(2 * np.pi * f * y)
        b = 0.5 + 0.4 * np.sin(2 * np.pi * (x + y) * f)
        out.append(np.stack([r, g, b], -1))
    return (np.stack(out) * 255).astype(np.uint8)


def test_loss_falls_on_a_fixed_batch():
    torch.manual_seed(0)
    net = IizukaNet(TINY)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    L, ab = batch_lab(_photos(8), np.random.default_rng(0), augment=False)
    labels = torch.arange(8) % 10
    first = None
    for _ in range(40):
        loss, parts = loss_fn(net, L, ab, labels, alpha=1 / 300)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else parts
    assert parts["mse"] < 0.5 * first["mse"]
    assert parts["ce"] < first["ce"]


def test_calibration_picks_a_larger_saturation_for_a_washed_out_prediction():
    rng = np.random.default_rng(0)
    L = np.full((4, 16, 16), 60.0, np.float32)
    ab = rng.normal(0, 30, (4, 16, 16, 2)).astype(np.float32)
    ab = np.repeat(np.repeat(ab[:, ::8, ::8], 8, 1), 8, 2)  # blocky colour regions
    washed = 0.4 * ab  # right hue, a third of the chroma: what MSE training tends to give
    sat, curve = calibrate_saturation(L, ab, washed, target_ratio=0.6, max_psnr_drop=0.25)
    assert sat > 1.0
    chosen = next(m for m in curve if m["saturation"] == sat)
    assert chosen["colourfulness_ratio"] > next(m for m in curve if m["saturation"] == 1.0)["colourfulness_ratio"]


def _args(tmp_path, datasets_dir, **kw) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_arguments(p)
    a = p.parse_args(["--data", str(datasets_dir), "--out", str(tmp_path / "run"), "--limit", "48",
                      "--val-limit", "16", "--batch-size", "8", "--width", "0.0625", "--minutes", "5"])
    for k, v in kw.items():
        setattr(a, k, v)
    return a


@pytest.mark.data
@pytest.mark.slow
def test_train_resume_and_export(tmp_path, datasets_dir):
    from models.iizuka import load_iizuka
    from models.types import ColorizeRequest

    train_iizuka(_args(tmp_path, datasets_dir, steps=3))
    run = tmp_path / "run"
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if r["event"] == "val"] == [3]  # the end of the budget always validates
    assert log[0]["large_photos"]["photos"] > 0  # photos-large and BSDS500 crops beside Tiny ImageNet
    assert list(run.glob("samples_*.png")) and (run / "best.pt").is_file()

    export = tmp_path / "iizuka.safetensors"
    train_iizuka(_args(tmp_path, datasets_dir, steps=5, resume=str(run / "last.pt"), export=str(export)))
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if r["event"] == "start"] == [0, 3]  # resumed, not restarted
    col = load_iizuka(export)
    meta = json.loads(export.with_suffix(".json").read_text())
    assert meta["config"]["saturation"] == col.config.saturation >= 1.0
    assert meta["training"]["photos"] == 48
    ab = col.predict(ColorizeRequest.whole_photo(np.full((50, 70), 55.0, np.float32)))
    assert ab.shape == (50, 70, 2) and np.isfinite(ab).all()

    # Calibration on BSDS500 photos writes its choice into the config the app loads.
    from training.iizuka import calibrate_on_photos

    cal = tmp_path / "cal" / "iizuka.safetensors"
    res = calibrate_on_photos(export, datasets_dir, cal, work_size=64, limit=3, sides=(None, 32))
    col = load_iizuka(cal)
    chosen = res["chosen"]
    assert (col.config.max_side, col.config.saturation, col.config.mean_saturation) == (
        chosen["max_side"], chosen["saturation"], chosen["mean_saturation"])
    record = json.loads(cal.with_suffix(".json").read_text())["photo_calibration"]
    assert record["chosen"] == chosen
    # one candidate per side and mean-colour gain that reached the colourfulness target (the least
    # saturation that did), and the chosen one has the best mean PSNR gain among them
    candidates = record["candidates"] or [chosen]
    assert chosen in candidates and len({(c["max_side"], c["mean_saturation"]) for c in candidates}) == len(candidates)
    gain = lambda r: np.mean([r[k]["psnr_gain"] for k in record["psnr_grey"]])  # noqa: E731
    assert gain(chosen) == max(gain(c) for c in candidates)


@pytest.mark.data
@pytest.mark.slow
def test_a_run_holding_photos_large_back_calibrates_a_cast_on_them(tmp_path, datasets_dir):
    from models.iizuka import load_iizuka
    from training.data import photos_large_heldback_paths
    from training.iizuka import CAST_SHARES, calibrate_on_photos

    export = tmp_path / "iizuka.safetensors"
    train_iizuka(_args(tmp_path, datasets_dir, steps=2, hold_back_large=10))
    run = tmp_path / "run"
    start = json.loads((run / "log.jsonl").read_text().splitlines()[0])
    assert start["large_photos"]["photos_large_held_back"] == len(photos_large_heldback_paths(datasets_dir, 10))
    with pytest.raises(SystemExit, match="held back every 10th"):  # a resumed run keeps its hold-back
        train_iizuka(_args(tmp_path, datasets_dir, steps=3, hold_back_large=5, resume=str(run / "last.pt")))
    train_iizuka(_args(tmp_path, datasets_dir, steps=3, resume=str(run / "last.pt"), export=str(export)))
    assert json.loads(export.with_suffix(".json").read_text())["training"]["hold_back_large"] == 10
    # the last checkpoint can ship instead of the holdout's best: the run's record, its own steps
    from training.iizuka import main as iizuka_main

    last = tmp_path / "last" / "iizuka.safetensors"
    assert iizuka_main(["export", str(run / "last.pt"), "--out", str(last)]) == 0
    rec = json.loads(last.with_suffix(".json").read_text())["training"]
    assert rec["steps"] == 3 and rec["checkpoint"] == "last.pt" and rec["hold_back_large"] == 10
    from safetensors.torch import load_file

    ck, shipped = torch.load(run / "last.pt", map_location="cpu", weights_only=True)["model"], load_file(str(last))
    assert all(torch.allclose(shipped[k].float(), ck[k].float(), atol=1e-2, rtol=1e-2) for k in ck if ck[k].is_floating_point())
    with pytest.raises(SystemExit, match="summary.json"):  # a run that has not finished
        (run / "summary.json").unlink()
        iizuka_main(["export", str(run / "last.pt"), "--out", str(tmp_path / "x.safetensors")])

    cal = tmp_path / "cal" / "iizuka.safetensors"
    res = calibrate_on_photos(export, datasets_dir, cal, work_size=64, limit=3, sides=(32,))
    record = json.loads(cal.with_suffix(".json").read_text())["photo_calibration"]
    assert "photos_large_heldback" in record["psnr_grey"]  # the held-back everyday photos decide too
    measured, kept = np.array(record["cast"]["measured"]), np.array(record["cast"]["kept"])
    assert np.abs(measured).max() > 0 and set(record["cast"]["tried"]) == {str(s) for s in CAST_SHARES}
    assert not kept.any() or any(np.allclose(kept, s * measured, atol=0.01) for s in CAST_SHARES)
    assert load_iizuka(cal).config.cast == tuple(res["cast"]) == tuple(kept)
