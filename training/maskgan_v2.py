"""Training the maskgan v2 colorizer: photos at several sizes, a colour distribution per pixel.

Data: ``photos-large`` train (never its val), BSDS500 train + test less the photos held back to
calibrate on, any ``--photos`` folders, all decoded once into memory at a long side of at most
``--max-side`` and cut into random square crops of one of ``--sizes`` per step (the batch
shrinks as the size grows so a step costs about the same); every ``--tiny-every``-th step is a
batch of Tiny ImageNet photos at their 64 px (many more scenes and classes).

Loss: cross-entropy of the network's bin logits (a quarter of the crop's size) against the true
colour soft-encoded over the nearest bins, weighted per pixel by how rare its colour is (class
rebalancing, Zhang et al. 2016); outside the mask the target is grey. An exponential moving
average of the weights is what is validated and shipped.

Runs resume (``--resume RUN/last.pt``): the schedule follows the total ``--minutes`` across
sessions, and ``last.pt`` is rewritten atomically every ``--val-every`` minutes. A new run may
start from shipped weights (``--init maskgan-v2.safetensors``) instead of the ImageNet encoder: a
fine-tune on a user's own photos costs minutes, not the hours of a run from scratch.
"""
from __future__ import annotations

import argparse
import copy
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.abbins import nearest_bin, rebalance_weights, soft_encode
from models.maskgan_v2 import MaskGANConfig, MaskGANNet, normalise_inputs

from . import ddp
from .common import RunLog, atomic_torch_save, make_conditions, update_ema
from .data import (
    TinyImageNet,
    crop_batch,
    degrade_lightness,
    fit_long_side,
    lab_tensors,
    lab_to_rgb_tensors,
    load_photos,
    photos_large_paths,
    training_photos,
    uint8_batch_to_rgb,
)
from .losses import colourfulness, psnr
from .masks import load_bsds_masks

VAL_SIDE = 256  # validation photos' long side


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default=None, help="the shared datasets folder (../shared/datasets); optional with --photos")
    p.add_argument("--photos", action="append", default=[], metavar="DIR",
                   help="train on the colour photos under DIR too (recursive, any size, every format the app opens; repeatable)")
    p.add_argument("--out", required=True, help="run folder: log.jsonl, last.pt, sample grids")
    p.add_argument("--minutes", type=float, default=None, help="total wall-clock budget over all sessions (the schedule follows it)")
    p.add_argument("--steps", type=int, default=None, help="stop after N steps")
    p.add_argument("--sizes", default="128,160,192,224,256", help="crop sides (px) drawn per step")
    p.add_argument("--pixels", type=int, default=12 * 192 * 192, help="pixels per batch (the batch is this over size^2)")
    p.add_argument("--tiny-every", type=int, default=4, help="every Nth step is a Tiny ImageNet batch at 64 px (0: never)")
    p.add_argument("--tiny-batch", type=int, default=48)
    p.add_argument("--max-side", type=int, default=512, help="photos are kept in memory at most this large")
    p.add_argument("--crop-min", type=float, default=0.5, help="a crop's side is this to 1 times the photo's short side")
    p.add_argument("--crop-aspect", type=float, default=1.0, help="crops' sides may differ by up to this ratio (1: square)")
    p.add_argument("--rotate", type=float, default=0.0, help="crops are turned by up to this many degrees")
    p.add_argument("--degrade", type=float, default=0.0,
                   help="share of photos whose input lightness is blurred, grainy or softened (the colour target stays clean)")
    p.add_argument("--weight-decay", type=float, default=1e-4, help="AdamW weight decay (a resumed run takes this one)")
    p.add_argument("--hold-back-large", type=int, default=0, metavar="N",
                   help="keep every Nth photos-large train photo out of training, for the export to calibrate on (0: none)")
    p.add_argument("--resume", default=None, help="RUN/last.pt: go on from there")
    p.add_argument("--init", default=None, metavar="WEIGHTS.safetensors",
                   help="start a new run from these maskgan-v2 weights ('shipped': the ones Huebrush ships, to fine-tune "
                        "them on your own --photos) with a new schedule; their colour settings are kept unless `export --data` chooses them again")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--encoder-lr-mult", type=float, default=0.3)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--w-outside", type=float, default=0.3, help="weight of the grey target outside the mask")
    p.add_argument("--rebalance", type=float, default=0.5, help="class rebalancing: mix of the prior with uniform (1: none)")
    p.add_argument("--val-every", type=float, default=5.0, help="minutes between validations and checkpoints")
    p.add_argument("--val-large", type=int, default=48, help="photos-large val photos logged at each validation")
    p.add_argument("--val-tiny", type=int, default=300, help="Tiny ImageNet val photos logged at each validation")
    p.add_argument("--overfit-photos", type=int, default=20,
                   help="held-back BSDS500 photos (and as many training photos) whose colour likelihood is logged at each validation (0: none)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N photos of each source (tests)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--no-pretrained", action="store_true", help="random encoder (tests)")
    p.add_argument("--log-every", type=float, default=30.0)
    p.add_argument("--quiet", action="store_true")


def bin_counts(photos: list[np.ndarray], bins: torch.Tensor, rng: np.random.Generator, n: int = 400) -> np.ndarray:
    """How often each bin is a pixel's colour in a sample of training photos (at 64 px)."""
    counts = np.zeros(len(bins), np.float64)
    for i in rng.choice(len(photos), size=min(n, len(photos)), replace=False):
        rgb = uint8_batch_to_rgb(fit_long_side(photos[int(i)], 64)[None])
        _, ab = lab_tensors(rgb)
        counts += np.bincount(nearest_bin(ab, bins).ravel().numpy(), minlength=len(bins))
    return counts


def with_rebalance(state: dict, weights) -> dict:
    """A network state from a run that predates the ``log_rebalance`` buffer, with it filled in."""
    state = dict(state)
    state.setdefault("log_rebalance", torch.log(torch.as_tensor(weights, dtype=torch.float32)))
    return state


def quarter(t: torch.Tensor, h4: int, w4: int) -> torch.Tensor:
    """Average (B, C, H, W) over 4x4 cells onto the network's (h4, w4) output grid."""
    H, W = t.shape[-2:]
    t = F.pad(t, (0, 4 * w4 - W, 0, 4 * h4 - H), mode="replicate") if (4 * h4, 4 * w4) != (H, W) else t
    return F.avg_pool2d(t, 4)


def colour_loss(logits: torch.Tensor, ab: torch.Tensor, mask: torch.Tensor, bins: torch.Tensor,
                weights: torch.Tensor, w_outside: float) -> torch.Tensor:
    """Rebalanced soft cross-entropy inside the mask, grey outside it (all at the logits' size)."""
    h4, w4 = logits.shape[-2:]
    ab4, m4 = quarter(ab, h4, w4), quarter(mask, h4, w4)
    logp = F.log_softmax(logits.float(), dim=1)
    target = soft_encode(ab4, bins)
    ce_true = -(target * logp).sum(1, keepdim=True)
    w = weights[nearest_bin(ab4, bins)][:, None]
    grey = soft_encode(torch.zeros_like(ab4[:1, :, :1, :1]), bins)  # (1, Q, 1, 1)
    ce_grey = -(grey * logp).sum(1, keepdim=True)
    return (m4 * w * ce_true + w_outside * (1 - m4) * ce_grey).mean()


def lr_at(progress: float, base: float) -> float:
    """Linear warm-up over the first 2 %, then cosine to a tenth."""
    if progress < 0.02:
        return base * (0.1 + 0.9 * progress / 0.02)
    t = min(1.0, (progress - 0.02) / 0.98)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def _no_hint_logits(net: MaskGANNet, u8: np.ndarray, side: int | None):
    """(rgb, L, ab, logits) of one photo (at most ``side`` long), whole-photo mask, no hints."""
    rgb = uint8_batch_to_rgb((fit_long_side(u8, side) if side else u8)[None])
    L, ab = lab_tensors(rgb)
    x = normalise_inputs(L, torch.ones_like(L), torch.zeros_like(ab), torch.zeros_like(L))
    return rgb, L, ab, net(x.contiguous(memory_format=torch.channels_last))


@torch.no_grad()
def validate(net: MaskGANNet, photos: list[np.ndarray], side: int | None) -> dict:
    """Whole photo, no hints: PSNR (and the grey photo's), colourfulness ratio, at the net's temperature."""
    was = net.training
    net.eval()
    ps, gs, cf, cft = [], [], [], []
    for u8 in photos:
        rgb, L, ab, logits = _no_hint_logits(net, u8, side)
        small = net.ab(logits)
        pred = F.interpolate(small, size=L.shape[-2:], mode="bilinear", align_corners=False)
        out = lab_to_rgb_tensors(L, pred)
        ps.append(psnr(out, rgb).item())
        gs.append(psnr(lab_to_rgb_tensors(L, torch.zeros_like(ab)), rgb).item())
        cf.append(colourfulness(out).item())
        cft.append(colourfulness(rgb).item())
    net.train(was)
    return {"psnr": float(np.mean(ps)), "grey_psnr": float(np.mean(gs)),
            "gain_db": float(np.mean(ps) - np.mean(gs)), "cf_ratio": float(np.mean(cf) / max(np.mean(cft), 1e-6))}


@torch.no_grad()
def mean_nll(net: MaskGANNet, photos: list[np.ndarray], side: int = VAL_SIDE) -> float:
    """Mean negative log-likelihood of the true colour (spread over its bins as in training, no
    rebalancing weights, the prior fully restored) under the network's distribution, whole photo,
    no hints: the same number on training photos and on photos it never saw shows overfitting."""
    was = net.training
    net.eval()
    out = []
    for u8 in photos:
        _, _, ab, logits = _no_hint_logits(net, u8, side)
        logp = F.log_softmax(net.corrected(logits, 1.0).float(), 1)
        h4, w4 = logp.shape[-2:]
        out.append(float(-(soft_encode(quarter(ab, h4, w4), net.bins) * logp).sum(1).mean()))
    net.train(was)
    return float(np.mean(out)) if out else float("nan")


def overfit_photos(data, photos: list[np.ndarray], n: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(training photos, held-back photos) whose likelihoods the overfitting watch compares: the
    first ``n`` held-back BSDS500 photos at ``VAL_SIDE`` and as many of ``photos`` (seed 0)."""
    from .data import bsds_heldback_paths

    heldback, _ = load_photos(bsds_heldback_paths(data)[:n], VAL_SIDE)
    pick = np.random.default_rng(0).choice(len(photos), size=min(len(heldback), len(photos)), replace=False)
    return [photos[i] for i in sorted(pick)], heldback


def train_maskgan_v2(args: argparse.Namespace) -> Path:
    rank, world, device = ddp.setup(args.device)
    torch.manual_seed(args.seed + rank)
    if device.type == "cpu":
        torch.set_num_threads(max(1, args.threads // world))
    rng = np.random.default_rng(args.seed + 1000 * rank + (int(time.time()) if args.resume else 0))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = RunLog(out / "log.jsonl", enabled=rank == 0)
    if not args.data and not args.photos:
        raise SystemExit("train: give --data (the shared datasets) or at least one --photos folder")

    init = getattr(args, "init", None)
    if init and args.resume:
        raise SystemExit("train: give --init (a new run from weights) or --resume (go on with a run), not both")
    ck = torch.load(args.resume, map_location="cpu", weights_only=False) if args.resume else None  # our own run file
    init_state, init_meta = _init_weights(init) if init else (None, None)
    if init:
        init = args.init = init_meta["path"]
    if ck is not None:  # a resumed run keeps the photos it held back out of training
        held_before = int(ck.get("args", {}).get("hold_back_large") or 0)
        if args.hold_back_large and args.hold_back_large != held_before:
            was = f"every {held_before}th photos-large photo" if held_before else "no photos-large photos"
            raise SystemExit(f"train: {args.resume} held back {was}; resume it without --hold-back-large, "
                             f"so that it keeps the same photos out of training")
        args.hold_back_large = held_before
    t0 = time.time()
    photos, desc = training_photos(args.data, args.photos, args.limit, args.max_side, progress=not args.quiet,
                                   hold_back_large=args.hold_back_large)
    log.write(event="photos", **desc)
    if not photos:
        raise SystemExit("train: no colour photos to learn from (see the skipped counts above)")
    tiny = None
    if args.data and args.tiny_every > 0 and (Path(args.data) / "tinyimagenet64").is_dir():
        tiny, _ = TinyImageNet(args.data, "train", size=64, limit=args.limit).preload(progress=not args.quiet)
    val_large, val_tiny = [], []
    if args.data and rank == 0:
        val_large, _ = load_photos(photos_large_paths(args.data, "val")[: args.val_large], VAL_SIDE)
        if (Path(args.data) / "tinyimagenet64").is_dir() and args.val_tiny:
            val_tiny = list(TinyImageNet(args.data, "val", size=64, limit=args.val_tiny).preload()[0])
    seen, heldback = overfit_photos(args.data, photos, args.overfit_photos) if args.data and rank == 0 else ([], [])
    bsds_masks = load_bsds_masks(args.data) if args.data else []
    log.write(event="data", tiny=0 if tiny is None else len(tiny), val_large=len(val_large), val_tiny=len(val_tiny),
              bsds_masks=len(bsds_masks), seconds=round(time.time() - t0, 1))

    cfg = MaskGANConfig()
    if init_state is not None:  # the network and its colour settings as they were (`export --data` chooses them again)
        cfg = MaskGANConfig.from_dict(init_meta.get("config"))
    net = MaskGANNet(cfg, pretrained=not args.resume and not init and not args.no_pretrained).to(device)
    if init_state is not None:
        try:
            net.load_state_dict(init_state, strict=True)
        except RuntimeError:
            raise SystemExit(f"train: {Path(init).name} does not fit the maskgan-v2 network: "
                             "give weights exported by this version of Huebrush") from None
        log.write(event="init", path=str(init), sha256=init_meta.get("sha256"), steps=init_meta.get("steps"))
    net = net.to(memory_format=torch.channels_last)
    bins = net.bins
    enc_ids = {id(p) for p in net.encoder.parameters()}
    groups = [{"params": list(net.encoder.parameters()), "lr_mult": args.encoder_lr_mult},
              {"params": [p for p in net.parameters() if id(p) not in enc_ids], "lr_mult": 1.0}]
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.99), weight_decay=args.weight_decay)
    state = {"step": 0, "seconds": 0.0, "photos": 0, "pixels": 0}
    if ck is not None:
        net.load_state_dict(with_rebalance(ck["net_raw"], ck["rebalance"]))
        opt.load_state_dict(ck["opt"])
        for g, mult in zip(opt.param_groups, (args.encoder_lr_mult, 1.0)):
            g["lr_mult"] = mult  # this run's settings, not the ones saved with the optimiser
            g["weight_decay"] = args.weight_decay
        state.update(ck["state"])
        weights = torch.as_tensor(ck["rebalance"])
        log.write(event="resume", path=str(args.resume), step=state["step"], seconds=state["seconds"])
        before = ck.get("args", {}).get("rebalance")
        if before is not None and float(before) != float(args.rebalance):  # a change of the loss's weighting
            lam = min(max(args.rebalance, 0.0), 1.0)
            weights = torch.from_numpy(rebalance_weights(bin_counts(photos, bins.cpu(), rng), bins.cpu().numpy(), lam=lam))
            log.write(event="rebalance", before=before, now=args.rebalance)
    else:
        lam = min(max(args.rebalance, 0.0), 1.0)
        counts = bin_counts(photos, bins.cpu(), rng)
        weights = torch.from_numpy(rebalance_weights(counts, bins.cpu().numpy(), lam=lam))
    weights = weights.to(device)
    with torch.no_grad():
        net.log_rebalance.copy_(torch.log(weights).to(net.log_rebalance))  # shipped with the net: inference may undo it
    if args.encoder_lr_mult == 0:
        freeze_statistics(net.encoder)  # a frozen encoder keeps its normalisation statistics too
    ema = copy.deepcopy(net).eval().requires_grad_(False)
    if ck is not None:
        ema.load_state_dict(with_rebalance(ck["net"], weights.cpu()))
        ema.log_rebalance.copy_(net.log_rebalance)
    net_t = ddp.wrap(net, device)
    sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]

    budget = args.minutes * 60.0 if args.minutes else float("inf")
    max_steps = args.steps or 10**12
    start = time.time() - state["seconds"]
    next_val = (state["seconds"] // (args.val_every * 60) + 1) * args.val_every * 60
    t_log, photos_log, px_log = time.time(), state["photos"], state["pixels"]
    by_size: dict[int, list[float]] = {}

    def save() -> None:
        atomic_torch_save({"net": ema.state_dict(), "net_raw": net.state_dict(), "opt": opt.state_dict(),
                           "state": dict(state), "rebalance": weights.cpu(), "config": cfg.to_dict(),
                           "args": vars(args), "data": desc}, out / "last.pt")

    while True:
        progress = max((time.time() - start) / budget, state["step"] / max_steps)
        if ddp.any_true(progress >= 1.0, device):
            break
        lr = lr_at(progress, args.lr)
        for g in opt.param_groups:
            g["lr"] = lr * g["lr_mult"]
        t_step = time.time()
        if tiny is not None and state["step"] % args.tiny_every == args.tiny_every - 1:
            idx = rng.integers(0, len(tiny), args.tiny_batch)
            u8 = tiny[idx].copy()
            flip = rng.random(len(u8)) < 0.5
            u8[flip] = u8[flip, :, ::-1]
        else:
            u8 = crop_batch(photos, sizes, args.pixels, rng, min_frac=args.crop_min, aspect=args.crop_aspect, rotate=args.rotate)
        rgb = uint8_batch_to_rgb(u8).to(device)
        L, ab = lab_tensors(rgb)
        mask, hint_ab, hint_mask = (t.to(device) for t in make_conditions(ab.cpu(), rng, bsds_masks))
        L_in = degrade_lightness(L, rng, args.degrade)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = net_t(normalise_inputs(L_in, mask, hint_ab, hint_mask).contiguous(memory_format=torch.channels_last))
        loss = colour_loss(logits, ab, mask, bins, weights, args.w_outside)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        update_ema(ema, net, args.ema if state["step"] > 100 else 0.9)
        state["step"] += 1
        state["photos"] += len(u8) * world
        state["pixels"] += int(u8.shape[0] * u8.shape[1] * u8.shape[2]) * world
        state["seconds"] = time.time() - start
        by_size.setdefault(u8.shape[1], []).append(len(u8) / max(time.time() - t_step, 1e-6))
        if rank == 0 and (time.time() - t_log > args.log_every or state["step"] == 1):
            dt = max(time.time() - t_log, 1e-6)
            log.write(event="train", step=state["step"], seconds=round(state["seconds"], 1), lr=lr, loss=round(float(loss.detach()), 4),
                      photos_per_s=round((state["photos"] - photos_log) / dt, 2),
                      mpix_per_s=round((state["pixels"] - px_log) / dt / 1e6, 3),
                      photos_per_s_by_size={k: round(float(np.median(v)), 2) for k, v in sorted(by_size.items())})
            t_log, photos_log, px_log = time.time(), state["photos"], state["pixels"]
            by_size.clear()
        if state["seconds"] >= next_val:
            next_val += args.val_every * 60
            if rank == 0:
                _validate_and_save(ema, val_large, val_tiny, (seen, heldback), state, log, save)
    if rank == 0:
        _validate_and_save(ema, val_large, val_tiny, (seen, heldback), state, log, save)
        log.write(event="done", step=state["step"], seconds=round(state["seconds"], 1), photos=state["photos"])
    ddp.barrier()
    ddp.cleanup()
    return out


def _init_weights(path: str) -> tuple[dict, dict]:
    """(state_dict, sidecar) of maskgan-v2 weights to start a run from; one sentence if they are not."""
    from models.checkpoint import bundled_weights_dir, load_weights
    from models.maskgan_v2 import ARCH
    from models.types import ModelError

    if path == "shipped":
        path = str(bundled_weights_dir() / "maskgan-v2.safetensors")
    try:
        state, meta = load_weights(path, ARCH)
        return state, {**meta, "path": str(path)}
    except ModelError as e:
        raise SystemExit(f"train: --init {e}") from None


def freeze_statistics(module: torch.nn.Module) -> None:
    """Batch-norm layers under ``module`` stop updating their running statistics (eval mode):
    with the encoder's weights frozen, its statistics would otherwise still drift towards
    whatever the batches hold (the 64 px Tiny ImageNet photos among them)."""
    for m in module.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()


def _validate_and_save(ema, val_large, val_tiny, overfit, state, log, save) -> None:
    t0 = time.time()
    save()
    rec = {}
    if val_large:
        rec["photos_large_val"] = validate(ema, val_large, VAL_SIDE)
    if val_tiny:
        rec["tiny_val"] = validate(ema, val_tiny, None)
    seen, heldback = overfit
    if seen and heldback:
        tr, hb = mean_nll(ema, seen), mean_nll(ema, heldback)
        rec["overfit"] = {"train_nll": round(tr, 4), "heldback_nll": round(hb, 4), "gap": round(hb - tr, 4)}
    log.write(event="val", step=state["step"], seconds=round(state["seconds"], 1), val_seconds=round(time.time() - t0, 1), **rec)
