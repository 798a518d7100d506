"""The one training loop for every zoo configuration: ``python -m training train --model NAME``.

The data are the colours issue's (photos-large train, BSDS500 less the held-back photos, any
``--photos`` folders as random crops at ``--sizes``; Tiny ImageNet with its class labels every
``--tiny-every``-th step); each configuration brings its network and its recipe (``loss_for``):

    fusion              Huber on the colour + cross-entropy on the class (Tiny ImageNet batches)
    unet-ssim           MAE for the first half, then 1 - SSIM of the RGB result; the last 10 %
                        adds a PatchGAN on (grey, colour) at weight 0.01
    autoencoder(-merged) MSE on the colour

Adam at ``--lr``; runs resume from ``last.pt``; photos/s and the loss are logged.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from training.common import RunLog, atomic_torch_save
from training.data import TinyImageNet, crop_batch, training_photos, uint8_batch_to_rgb

from . import NAMES, build
from .colourspace import inputs_targets, to_rgb
from .nets import PatchDiscriminator

CE_WEIGHT = 1.0 / 300.0  # the class loss beside the colour loss (Iizuka et al.'s weight)
GAN_WEIGHT = 0.01
SSIM_FROM, GAN_FROM = 0.5, 0.9  # unet-ssim's phases, as shares of the budget


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, choices=NAMES)
    p.add_argument("--colour-space", choices=("lab", "ycbcr"), default="lab")
    p.add_argument("--data", default=None, help="the shared datasets folder")
    p.add_argument("--photos", action="append", default=[], metavar="DIR", help="more colour photos (repeatable)")
    p.add_argument("--out", required=True)
    p.add_argument("--minutes", type=float, default=None)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--width", type=float, default=0.5, help="channel width multiplier (1.0: the design's)")
    p.add_argument("--batch", type=int, default=512, help="Tiny ImageNet batch (the fusion design's 512)")
    p.add_argument("--sizes", default="64,96,128")
    p.add_argument("--pixels", type=int, default=48 * 96 * 96, help="pixels per large-photo batch")
    p.add_argument("--tiny-every", type=int, default=2, help="every Nth step is a Tiny ImageNet batch (0: never)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--resume", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--log-every", type=float, default=30.0)


def ssim_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """1 - mean SSIM (8x8 box windows) of two RGB batches in [0, 1]."""
    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = F.avg_pool2d(a, 7, 1, 3), F.avg_pool2d(b, 7, 1, 3)
    va = F.avg_pool2d(a * a, 7, 1, 3) - mu_a**2
    vb = F.avg_pool2d(b * b, 7, 1, 3) - mu_b**2
    cov = F.avg_pool2d(a * b, 7, 1, 3) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (va + vb + c2))
    return 1 - s.mean()


def loss_for(name: str, space: str, net, batch: dict, progress: float, disc=None) -> dict[str, torch.Tensor]:
    """The configuration's training loss on one batch (``total`` plus its parts)."""
    pred, logits = net(batch["x"])
    t = batch["target"]
    if name == "fusion":
        parts = {"huber": F.smooth_l1_loss(pred, t, beta=0.05)}
        labels = batch["labels"]
        if logits is not None and (labels >= 0).any():
            parts["ce"] = CE_WEIGHT * F.cross_entropy(logits, labels, ignore_index=-1)
    elif name == "unet-ssim":
        if progress < SSIM_FROM:
            parts = {"mae": (pred - t).abs().mean()}
        else:
            rgb, _ = to_rgb(batch["grey"], pred, space)
            parts = {"ssim": ssim_loss(rgb, batch["rgb"])}
        if disc is not None and progress >= GAN_FROM:
            parts["adv"] = GAN_WEIGHT * 0.5 * (disc(batch["x"], pred) - 1).pow(2).mean()
    else:
        parts = {"mse": F.mse_loss(pred, t)}
    parts["total"] = sum(parts.values())
    parts["pred"] = pred.detach()
    return parts


def make_batch(u8: np.ndarray, labels: np.ndarray | None, space: str) -> dict:
    rgb = uint8_batch_to_rgb(u8)
    x, target, grey = inputs_targets(rgb, space)
    lab = torch.from_numpy(labels) if labels is not None else torch.full((len(u8),), -1, dtype=torch.long)
    return {"rgb": rgb, "x": x, "target": target, "grey": grey, "labels": lab}


def train_zoo(args: argparse.Namespace) -> Path:
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, args.threads))
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = RunLog(out / "log.jsonl")
    photos, desc = training_photos(args.data, args.photos, args.limit) if (args.data or args.photos) else ([], {})
    tiny_x = tiny_y = None
    if args.data and args.tiny_every and (Path(args.data) / "tinyimagenet64").is_dir():
        tiny_x, tiny_y = TinyImageNet(args.data, "train", size=64, limit=args.limit).preload()
    if not photos and tiny_x is None:
        raise SystemExit("train: no photos to learn from: give --data or --photos")
    net = build(args.model, args.colour_space, args.width)
    disc = PatchDiscriminator() if args.model == "unet-ssim" else None
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=args.lr)
    opt_d = torch.optim.Adam(disc.parameters(), lr=args.lr * 0.2, betas=(0.5, 0.99)) if disc is not None else None
    state = {"step": 0, "seconds": 0.0, "photos": 0}
    if args.resume:
        ck = torch.load(args.resume, map_location="cpu", weights_only=False)  # our own run file
        net.load_state_dict(ck["net"])
        opt.load_state_dict(ck["opt"])
        if disc is not None and "disc" in ck:
            disc.load_state_dict(ck["disc"])
        state.update(ck["state"])
    log.write(event="start", model=args.model, colour_space=args.colour_space, width=args.width, photos=desc,
              tiny=0 if tiny_x is None else len(tiny_x), params=sum(p.numel() for p in net.parameters() if p.requires_grad))
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    budget = args.minutes * 60 if args.minutes else float("inf")
    max_steps = args.steps or 10**12
    start = time.time() - state["seconds"]
    t_log, photos_log = time.time(), state["photos"]
    net.train()

    def save() -> None:
        ck = {"net": net.state_dict(), "opt": opt.state_dict(), "state": dict(state), "model": args.model,
              "colour_space": args.colour_space, "width": args.width}
        if disc is not None:
            ck["disc"] = disc.state_dict()
        atomic_torch_save(ck, out / "last.pt")

    last_save = time.time()
    while True:
        progress = max((time.time() - start) / budget, state["step"] / max_steps)
        if progress >= 1.0:
            break
        use_tiny = tiny_x is not None and (not photos or state["step"] % args.tiny_every == args.tiny_every - 1)
        if use_tiny:
            idx = rng.integers(0, len(tiny_x), min(args.batch, len(tiny_x)))
            batch = make_batch(tiny_x[idx], tiny_y[idx], args.colour_space)
        else:
            batch = make_batch(crop_batch(photos, sizes, args.pixels, rng), None, args.colour_space)
        parts = loss_for(args.model, args.colour_space, net, batch, progress, disc)
        opt.zero_grad(set_to_none=True)
        parts["total"].backward()
        opt.step()
        if disc is not None and progress >= GAN_FROM:
            real = disc(batch["x"], batch["target"])
            fake = disc(batch["x"], parts["pred"])
            d_loss = 0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean())
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        state["step"] += 1
        state["photos"] += len(batch["x"])
        state["seconds"] = time.time() - start
        if time.time() - t_log > args.log_every or state["step"] == 1:
            rate = (state["photos"] - photos_log) / max(time.time() - t_log, 1e-6)
            log.write(event="train", step=state["step"], seconds=round(state["seconds"], 1), photos_per_s=round(rate, 1),
                      **{k: round(float(v), 5) for k, v in parts.items() if k != "pred"})
            t_log, photos_log = time.time(), state["photos"]
        if time.time() - last_save > 300:
            save()
            last_save = time.time()
    save()
    log.write(event="done", step=state["step"], seconds=round(state["seconds"], 1), photos=state["photos"])
    return out


def load_run(path: Path):
    """(network in eval mode, configuration name, colour space) from a run's ``last.pt``."""
    ck = torch.load(path, map_location="cpu", weights_only=False)  # our own run file
    net = build(ck["model"], ck["colour_space"], ck["width"])
    net.load_state_dict(ck["net"])
    return net.eval(), ck["model"], ck["colour_space"]
