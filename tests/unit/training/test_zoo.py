"""The published designs as trainer configurations: each learns on a fixed batch, the loop runs and
resumes, YCbCr round-trips, and the ablation measures what it trained."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from training.zoo import NAMES, build
from training.zoo.colourspace import inputs_targets, rgb_to_ycbcr, to_rgb, ycbcr_to_rgb
from training.zoo.loop import loss_for, make_batch

from ._fakedata import colourful_photo, make_fake_datasets


def test_ycbcr_round_trips_and_counts_impossible_values():
    rgb = torch.rand(2, 3, 8, 8)
    y, cbcr = rgb_to_ycbcr(rgb)
    assert torch.allclose(ycbcr_to_rgb(y, cbcr), rgb, atol=1e-5)
    out, bad = to_rgb(y, torch.full_like(cbcr, 0.9), "ycbcr")  # far too much chroma for these lumas
    assert bad > 0.1 and out.min() >= 0 and out.max() <= 1
    _, bad = to_rgb(y, cbcr * 2, "ycbcr")
    assert bad == 0.0


@pytest.mark.parametrize("name,space", [(n, "lab") for n in NAMES] + [("fusion", "ycbcr")])
def test_every_configuration_learns_a_fixed_batch(name, space):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    net = build(name, space, width=0.125, num_classes=3)
    batch = make_batch(np.stack([colourful_photo(rng, 32) for _ in range(6)]), np.array([0, 1, 2, 0, 1, 2]), space)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(30):
        parts = loss_for(name, space, net, batch, progress=0.2)
        opt.zero_grad()
        parts["total"].backward()
        opt.step()
        losses.append(float(parts["total"]))
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), losses[::5]
    x, _, _ = inputs_targets(torch.rand(1, 3, 37, 45), space)
    net.eval()
    with torch.no_grad():
        pred, _ = net(x)
    assert pred.shape == (1, 2, 37, 45) and pred.abs().max() <= 1.0


def test_unet_switches_to_ssim_then_adds_the_discriminator():
    from training.zoo.nets import PatchDiscriminator

    rng = np.random.default_rng(1)
    net, disc = build("unet-ssim", "lab", width=0.125), PatchDiscriminator(8)
    batch = make_batch(np.stack([colourful_photo(rng, 32) for _ in range(2)]), None, "lab")
    assert set(loss_for("unet-ssim", "lab", net, batch, 0.1, disc)) == {"mae", "total", "pred"}
    assert set(loss_for("unet-ssim", "lab", net, batch, 0.6, disc)) == {"ssim", "total", "pred"}
    assert set(loss_for("unet-ssim", "lab", net, batch, 0.95, disc)) == {"ssim", "adv", "total", "pred"}


@pytest.mark.slow
def test_train_resume_and_ablation_on_tiny_data(tmp_path):
    from training.__main__ import main as training_main

    data = make_fake_datasets(tmp_path / "data")
    run = tmp_path / "fusion"
    common = ["train", "--model", "fusion", "--data", str(data), "--out", str(run), "--width", "0.125",
              "--batch", "8", "--sizes", "32", "--pixels", str(4 * 32 * 32), "--threads", "1"]
    assert training_main([*common, "--steps", "3"]) == 0
    assert training_main([*common, "--steps", "5", "--resume", str(run / "last.pt")]) == 0
    events = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "done" and events[-1]["step"] == 5
    out = tmp_path / "ablation"
    assert training_main(["ablation", "--data", str(data), "--minutes", "0.02", "--out", str(out), "--sets", "tinyimagenet",
                          "--limit", "6", "--width", "0.125", "--threads", "1", "--only", "fusion,autoencoder",
                          "--no-classifier", "--no-shipped", "--work-size", "32"]) == 0
    report = json.loads((out / "ablation.json").read_text())
    assert set(report["configurations"]) == {"fusion", "fusion (ycbcr)", "autoencoder"}
    r = report["configurations"]["fusion (ycbcr)"]["tinyimagenet"]
    assert r["photos"] > 0 and "psnr_gain" in r
    assert "| fusion (ycbcr) |" in (out / "ablation.md").read_text()
