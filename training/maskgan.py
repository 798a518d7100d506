"""The maskgan training loop: NoGAN schedule on a time budget, validation, checkpoints, export.

Phase 1 trains the generator alone (Huber on ab, mask loss, hint loss) for ``1 - gan_frac``
of the budget; phase 2 adds the conditional PatchGAN at a lower learning rate. Every
``val_every`` minutes rank 0 validates on the hold-out of the *training* shards (never on
the official val split, which is reserved for measuring), saves ``last.pt`` and keeps
``best.pt``. The whole of Tiny ImageNet is decoded into memory once, so steps do no JPEG work.
"""
from __future__ import annotations

import argparse
import copy
import math
import time
from pathlib import Path

import numpy as np
import torch

from models.fileio import atomic_write
from models.maskgan import MaskGANGenerator, PatchDiscriminator, default_config, normalise_inputs

from . import ddp
from .common import RunLog, atomic_torch_save, make_conditions, update_ema
from .data import (
    BSDS_VAL_EVERY,
    BSDS_VAL_SIZE,
    ImageFolder,
    TinyImageNet,
    bsds_holdout_every,
    lab_tensors,
    lab_to_rgb_tensors,
    random_crop,
    uint8_batch_to_rgb,
)
from .hints import sample_hints
from .losses import colourfulness, generator_losses, lsgan_d_loss, lsgan_g_loss, psnr
from .masks import load_bsds_masks

GAINS = (1.0, 1.1, 1.2, 1.35, 1.5, 1.7, 1.9, 2.2)
TARGET_COLOURFULNESS = 0.7  # the bar is 0.6; aim a little above it


class Batcher:
    """Random training batches (rgb, mask, hints) from photos held in memory."""

    def __init__(self, images: np.ndarray, rng: np.random.Generator, bsds_masks, rank: int, world: int, seed: int):
        from torch.utils.data import DistributedSampler

        self.images = images
        self.rng = rng
        self.bsds_masks = bsds_masks
        self.sampler = DistributedSampler(range(len(images)), num_replicas=world, rank=rank, shuffle=True, seed=seed)
        self.epoch = 0
        self._it = iter(())

    def indices(self, n: int) -> list[int]:
        out: list[int] = []
        while len(out) < n:
            try:
                out.append(next(self._it))
            except StopIteration:
                self.sampler.set_epoch(self.epoch)
                self.epoch += 1
                self._it = iter(list(self.sampler))
        return out

    def batch(self, n: int) -> np.ndarray:
        imgs = self.images[self.indices(n)]
        flip = self.rng.random(n) < 0.5
        imgs[flip] = imgs[flip, :, ::-1]
        return imgs


def lr_at(progress: float, base: float, gan_frac: float) -> float:
    """Warm-up, cosine decay over phase 1, then a low constant rate for the adversarial phase."""
    p1 = 1.0 - gan_frac
    if progress < 0.02:
        return base * (0.1 + 0.9 * progress / 0.02)
    if progress < p1:
        t = (progress - 0.02) / max(p1 - 0.02, 1e-6)
        return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))
    return base * 0.1


@torch.no_grad()
def validate(gen, rgb_u8: np.ndarray, seed: int = 0, batch: int = 100) -> dict:
    """Whole-photo mask, no hints (and 10 true hints): PSNR vs grey, colourfulness ratio per gain."""
    was_training = gen.training
    gen.eval()
    rng = np.random.default_rng(seed)
    preds, preds_h, trues, Ls = [], [], [], []
    for i in range(0, len(rgb_u8), batch):
        rgb = uint8_batch_to_rgb(rgb_u8[i : i + batch])
        L, ab = lab_tensors(rgb)
        ones = torch.ones_like(L)
        zeros2 = torch.zeros_like(ab)
        preds.append(gen(normalise_inputs(L, ones, zeros2, torch.zeros_like(L))))
        hints = [sample_hints(ab[j], rng, n_points=10) for j in range(len(ab))]
        hab, hm = torch.stack([h[0] for h in hints]), torch.stack([h[1] for h in hints])
        preds_h.append(gen(normalise_inputs(L, ones, hab, hm)))
        trues.append(rgb)
        Ls.append(L)
    gen.train(was_training)
    L, true = torch.cat(Ls), torch.cat(trues)
    pred, pred_h = torch.cat(preds), torch.cat(preds_h)
    grey = lab_to_rgb_tensors(L, torch.zeros_like(pred))
    grey_psnr = psnr(grey, true).mean().item()
    cf_true = colourfulness(true).mean().item()
    out = {"grey_psnr": grey_psnr, "hints10_psnr": psnr(lab_to_rgb_tensors(L, pred_h), true).mean().item()}
    per_gain = []
    for g in GAINS:
        rgb = lab_to_rgb_tensors(L, pred * g)
        per_gain.append({"gain": g, "psnr": psnr(rgb, true).mean().item(), "cf_ratio": colourfulness(rgb).mean().item() / cf_true})
    out["per_gain"] = per_gain
    out.update(_score_gains(per_gain, grey_psnr))
    return out


def _score_gains(per_gain: list[dict], grey_psnr: float) -> dict:
    """The smallest gain that reaches the colourfulness target (else the largest tried), and a score.

    score: PSNR above grey at that gain, penalised if colourfulness is still short.
    ``per_gain`` rows are ``{"gain", "psnr", "cf_ratio"}`` in increasing gain and include gain 1.0.
    """
    chosen = next((p for p in per_gain if p["cf_ratio"] >= TARGET_COLOURFULNESS), per_gain[-1])
    unit = next(p for p in per_gain if p["gain"] == 1.0)
    return {"gain": chosen["gain"], "psnr": chosen["psnr"], "cf_ratio": chosen["cf_ratio"],
            "psnr_gain1": unit["psnr"], "cf_ratio_gain1": unit["cf_ratio"],
            "score": chosen["psnr"] - grey_psnr - 5.0 * max(0.0, TARGET_COLOURFULNESS - chosen["cf_ratio"])}


@torch.no_grad()
def save_grid(gen, rgb_u8: np.ndarray, path: Path, gain: float) -> None:
    """Rows: grey input, prediction, original (PNG)."""
    from PIL import Image

    was_training = gen.training
    gen.eval()
    rgb = uint8_batch_to_rgb(rgb_u8)
    L, ab = lab_tensors(rgb)
    pred = gen(normalise_inputs(L, torch.ones_like(L), torch.zeros_like(ab), torch.zeros_like(L))) * gain
    gen.train(was_training)
    rows = [lab_to_rgb_tensors(L, torch.zeros_like(ab)), lab_to_rgb_tensors(L, pred), rgb]
    grid = torch.cat([torch.cat(list(r), dim=2) for r in rows], dim=1)
    arr = (grid.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    atomic_write(path, lambda f: Image.fromarray(arr).save(f, format="PNG"))




def _load_bsds_images(data: Path, size: int, holdout_every: int = BSDS_VAL_EVERY) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """BSDS500 photos (train + test) for random multi-scale crops, and a held-back few to validate:
    every ``holdout_every``-th test photo (10: 20 photos; 2: 100).

    None of them are evaluation photos (those are Tiny ImageNet val, documerica and coco80).
    """
    train, val = [], []
    for split in ("train", "test"):
        folder = data / "bsds500" / "images" / split
        if folder.is_dir():
            ds = ImageFolder(folder, size=size, augment=True)
            for i in range(len(ds)):
                (val if split == "test" and i % holdout_every == 0 else train).append(ds.read(i))
    return train, val


@torch.no_grad()
def validate_large(gen, photos: list[np.ndarray]) -> dict:
    """Whole photos at a 256 px long side (the app's work size): PSNR vs grey and colourfulness per gain.

    The network saturates differently on large inputs than on 64 px ones, so checkpoint choice
    looks at both scales.
    """
    from .data import fit_long_side

    was_training = gen.training
    gen.eval()
    gains = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.35, 1.5)
    ps = {g: [] for g in gains}
    cf = {g: [] for g in gains}
    grey, cf_true = [], []
    for u8 in photos:
        rgb = uint8_batch_to_rgb(fit_long_side(u8, BSDS_VAL_SIZE)[None])
        L, ab = lab_tensors(rgb)
        x = normalise_inputs(L, torch.ones_like(L), torch.zeros_like(ab), torch.zeros_like(L))
        pred = gen(x.contiguous(memory_format=torch.channels_last))
        grey.append(psnr(lab_to_rgb_tensors(L, torch.zeros_like(ab)), rgb).item())
        cf_true.append(colourfulness(rgb).item())
        for g in gains:
            out = lab_to_rgb_tensors(L, pred * g)
            ps[g].append(psnr(out, rgb).item())
            cf[g].append(colourfulness(out).item())
    gen.train(was_training)
    grey_psnr, cft = float(np.mean(grey)), float(np.mean(cf_true))
    per_gain = [{"gain": g, "psnr": float(np.mean(ps[g])), "cf_ratio": float(np.mean(cf[g])) / cft} for g in gains]
    return {"grey_psnr": grey_psnr, **_score_gains(per_gain, grey_psnr)}


def train_maskgan(args: argparse.Namespace) -> Path:
    """Run training as configured by the CLI; returns the run folder."""
    rank, world, device = ddp.setup(args.device)
    torch.manual_seed(args.seed + rank)
    if device.type == "cpu":
        torch.set_num_threads(max(1, args.threads // world))
    rng = np.random.default_rng(args.seed + 1000 * rank)
    out = Path(args.out)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    data = Path(args.data)
    log = RunLog(out / "log.jsonl", enabled=rank == 0)

    t_load = time.time()
    train_ds = TinyImageNet(data, "train", size=args.size, limit=args.limit)
    images, _ = train_ds.preload(progress=rank == 0 and not args.quiet)
    hold = TinyImageNet(data, "holdout", size=args.size, limit=args.val_count)
    hold_u8, _ = hold.preload()
    bsds_masks = load_bsds_masks(data) if args.bsds_masks else []
    bsds_imgs, bsds_val = (_load_bsds_images(data, args.big_size, bsds_holdout_every(args))
                            if args.bsds_every > 0 else ([], []))
    if args.limit:
        bsds_val = bsds_val[:2]  # quick runs (tests)
    log.write(event="data", train=len(images), holdout=len(hold_u8), bsds_masks=len(bsds_masks),
              bsds_images=len(bsds_imgs), bsds_val=len(bsds_val), seconds=round(time.time() - t_load, 1))

    gen = MaskGANGenerator(pretrained=not args.resume and not args.init and not args.no_pretrained).to(device)
    if args.init:
        gen.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=False)["gen"])  # our own run file
        log.write(event="init", path=str(args.init))
    # channels-last convolutions train faster on the CPU (bench/model_speed.py: training vs training_nchw)
    gen = gen.to(memory_format=torch.channels_last)
    disc = PatchDiscriminator().to(device)
    enc_params = list(gen.encoder.parameters())
    enc_ids = {id(p) for p in enc_params}
    dec_params = [p for p in gen.parameters() if id(p) not in enc_ids]
    opt_g = torch.optim.AdamW([{"params": enc_params, "lr_mult": args.encoder_lr_mult}, {"params": dec_params, "lr_mult": 1.0}],
                              lr=args.lr, betas=(0.9, 0.99), weight_decay=1e-4)
    opt_d = torch.optim.AdamW(disc.parameters(), lr=args.lr * 0.2, betas=(0.5, 0.99))
    state = {"step": 0, "seconds": 0.0, "photos": 0, "best_score": -1e9, "best": None}
    if args.resume:
        ck = torch.load(args.resume, map_location="cpu", weights_only=False)  # our own run file
        gen.load_state_dict(ck["gen"])
        disc.load_state_dict(ck["disc"])
        opt_g.load_state_dict(ck["opt_g"])
        opt_d.load_state_dict(ck["opt_d"])
        state.update(ck["state"])
        log.write(event="resume", path=str(args.resume), step=state["step"])
    # an exponential moving average of the generator's weights: what is validated and exported
    ema = None
    if args.ema > 0:
        ema = copy.deepcopy(gen).eval().requires_grad_(False)
        if args.resume and "gen_raw" in ck:
            gen.load_state_dict(ck["gen_raw"])
    gen_t, disc_t = ddp.wrap(gen, device), ddp.wrap(disc, device)
    batcher = Batcher(images, rng, bsds_masks, rank, world, args.seed)
    big_batch = max(1, args.batch * (args.size**2) // (args.big_size**2))

    budget_s = args.minutes * 60.0 if args.minutes else float("inf")
    max_steps = args.steps or 10**12
    start = time.time() - state["seconds"]
    next_val = (state["seconds"] // (args.val_every * 60) + 1) * args.val_every * 60
    bar = _progress(rank == 0 and not args.quiet, args)
    t_log, photos_log = time.time(), state["photos"]
    while True:
        elapsed = time.time() - start
        progress = max(elapsed / budget_s, state["step"] / max_steps)
        stop = ddp.any_true(progress >= 1.0, device)
        if stop:
            break
        adversarial = progress >= 1.0 - args.gan_frac and args.gan_frac > 0
        lr = lr_at(progress, args.lr, args.gan_frac)
        for grp in opt_g.param_groups:
            grp["lr"] = lr * grp["lr_mult"]
        if bsds_imgs and state["step"] % args.bsds_every == args.bsds_every - 1:
            u8 = np.stack([random_crop(bsds_imgs[int(rng.integers(len(bsds_imgs)))], args.big_size, np.random) for _ in range(big_batch)])
        else:
            u8 = batcher.batch(args.batch)
        rgb = uint8_batch_to_rgb(u8).to(device)
        L, ab = lab_tensors(rgb)
        mask, hint_ab, hint_mask = (t.to(device) for t in make_conditions(ab.cpu(), rng, bsds_masks))
        pred = gen_t(normalise_inputs(L, mask, hint_ab, hint_mask).contiguous(memory_format=torch.channels_last))
        losses = generator_losses(pred, ab, mask, hint_ab, hint_mask, sat_weight=args.sat_weight)
        total = losses["rec"] + args.w_mask * losses["mask"] + args.w_hint * losses["hint"]
        if adversarial:
            disc.requires_grad_(False)
            # the unwrapped D: this loss updates G only, so no gradient sync for D is needed
            losses["adv"] = lsgan_g_loss(disc(L, mask, pred))
            total = total + args.w_adv * losses["adv"]
        opt_g.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(gen.parameters(), 5.0)
        opt_g.step()
        if ema is not None:
            update_ema(ema, gen, args.ema)
        if adversarial:
            disc.requires_grad_(True)
            # the discriminator only judges the masked region: outside it, both are grey
            # one forward for real and fake together (one DDP forward per backward)
            both = disc_t(torch.cat([L, L]), torch.cat([mask, mask]), torch.cat([ab * mask, pred.detach()]))
            real_logits, fake_logits = both.chunk(2)
            d_loss = lsgan_d_loss(real_logits, fake_logits)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            losses["d"] = d_loss
        state["step"] += 1
        state["photos"] += len(u8) * world
        state["seconds"] = time.time() - start
        if bar is not None:
            bar.update(1)
        if rank == 0 and (time.time() - t_log > args.log_every or state["step"] == 1):
            rate = (state["photos"] - photos_log) / max(time.time() - t_log, 1e-6)
            log.write(event="train", step=state["step"], seconds=round(state["seconds"], 1), lr=lr,
                      phase="gan" if adversarial else "g", photos_per_s=round(rate, 1),
                      **{k: round(float(v.detach()), 5) for k, v in losses.items()})
            if bar is not None:
                bar.set_postfix(loss=f"{float(total):.4f}", ph="gan" if adversarial else "g", ips=f"{rate:.0f}")
            t_log, photos_log = time.time(), state["photos"]
        if state["seconds"] >= next_val or (args.steps and state["step"] % max(1, args.val_steps) == 0):
            next_val += args.val_every * 60
            if rank == 0:
                _validate_and_save(gen, disc, opt_g, opt_d, state, hold_u8, out, log, args, bsds_val, ema)
    if rank == 0:
        if state.get("validated_step") != state["step"]:
            _validate_and_save(gen, disc, opt_g, opt_d, state, hold_u8, out, log, args, bsds_val, ema)
        log.write(event="done", step=state["step"], seconds=round(state["seconds"], 1),
                  photos=state["photos"], photos_per_s=round(state["photos"] / max(state["seconds"], 1e-6), 1),
                  best=state["best"])
    if bar is not None:
        bar.close()
    ddp.barrier()  # the other ranks wait for rank 0's last validation and export
    ddp.cleanup()
    return out


def _validate_and_save(gen, disc, opt_g, opt_d, state, hold_u8, out: Path, log, args, bsds_val=(), ema=None) -> None:
    """Score the generator (its moving average when there is one), keep best.pt and last.pt.

    With an average, "gen" in both files is the average (what export ships) and last.pt also
    holds the raw weights ("gen_raw") that training resumes from.
    """
    t0 = time.time()
    state["validated_step"] = state["step"]
    raw = gen
    if ema is not None:
        gen = ema
    metrics = validate(gen, hold_u8, seed=args.seed)
    if bsds_val:
        # the score weighs the 64 px hold-out and the large-photo check equally
        large = validate_large(gen, bsds_val)
        metrics["large"] = large
        metrics["score_64"] = metrics["score"]
        metrics["score"] = 0.5 * (metrics["score"] + large["score"])
    save_grid(gen, hold_u8[:12], out / f"grid_{state['step']:07d}.png", metrics["gain"])
    improved = metrics["score"] > state["best_score"]
    if improved:
        state["best_score"] = metrics["score"]
        state["best"] = {"step": state["step"], **{k: v for k, v in metrics.items() if k != "per_gain"}}
        atomic_torch_save({"gen": gen.state_dict(), "state": dict(state), "metrics": metrics, "config": _config(metrics["gain"]),
                            "args": vars(args)}, out / "best.pt")
    last = {"gen": gen.state_dict(), "disc": disc.state_dict(), "opt_g": opt_g.state_dict(),
            "opt_d": opt_d.state_dict(), "state": dict(state), "args": vars(args)}
    if ema is not None:
        last["gen_raw"] = raw.state_dict()
    atomic_torch_save(last, out / "last.pt")
    log.write(event="val", step=state["step"], seconds=round(state["seconds"], 1), best=improved,
              val_seconds=round(time.time() - t0, 1), **metrics)


def _config(gain: float) -> dict:
    cfg = default_config()
    cfg["chroma_gain"] = float(gain)
    return cfg


def _data_desc(args) -> str:
    d = "Tiny ImageNet 64x64 train shards (54,000 photos; 1,000 held out for checkpoint choice and gain calibration)"
    if args.bsds_every:
        d += f"; BSDS500 images (train+test) as random {args.big_size}px crops every {args.bsds_every}th step"
    if args.bsds_masks:
        d += "; BSDS500 train human segmentations as training masks"
    return d


def _progress(enabled: bool, args):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=args.steps or None, unit="step", mininterval=10, dynamic_ncols=True)


