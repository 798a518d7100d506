"""Training loop for the Iizuka et al. 2016 network on Tiny ImageNet (64 px, 200 classes).

Loss (as in the paper): MSE between the sigmoid output and ab scaled to [0, 1], plus
``alpha`` x cross-entropy of the classification head on the image labels (paper: alpha = 1/300).

The budget is wall-clock minutes, because the run shares a 2-core CPU: the learning rate follows
a cosine over the budget, the holdout (a fixed slice of the training shards that is never trained
on) is measured every ``val_every`` minutes, and the best-validating weights are kept. After
training, a saturation factor is calibrated on the holdout: MSE predicts the conditional mean,
which is greyer than real photos, and one multiplier on ab recovers colourfulness at a measured,
small cost in PSNR (see ``calibrate_saturation``). Tiny ImageNet val is never used here.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from models.fileio import atomic_write
from models.iizuka import ARCH, IizukaConfig, IizukaNet, ab_to_target, normalise_L, target_to_ab
from training.data import TinyImageNet, lab_tensors, uint8_batch_to_rgb
from training.export_v2 import CAST_GAIN, CAST_SHARES  # the same rule as maskgan-v2's export

DEFAULTS: dict[str, Any] = dict(
    data=None,
    out="runs/iizuka",
    minutes=60.0,
    steps=None,
    batch_size=64,
    lr=1e-3,
    alpha=1.0 / 300.0,
    width=0.5,
    global_size=64,
    seed=0,
    resume=None,
    export=None,
    limit=None,
    val_every=5.0,
    val_limit=1000,
    threads=1,
    log_every=50,
    photos=None,
    sizes="128,160,192,224,256",
    pixels=12 * 192 * 192,
    tiny_every=3,
    max_side=512,
    no_photos=False,
    init=None,
    hold_back_large=0,
)


def _opt(args: Any, name: str) -> Any:
    v = getattr(args, name, None)
    return DEFAULTS[name] if v is None else v


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The iizuka options (the training CLI may add them to its own parser)."""
    p.add_argument("--data", help="the shared datasets folder (holds tinyimagenet64/)")
    p.add_argument("--out", help="run folder: checkpoints, log.jsonl, sample grids")
    p.add_argument("--minutes", type=float, help="wall-clock training budget (default 60)")
    p.add_argument("--steps", type=int, help="stop after this many steps (overrides nothing else)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--alpha", type=float, help="weight of the classification loss (paper: 1/300)")
    p.add_argument("--width", type=float, help="channel width multiplier (1.0 = the paper)")
    p.add_argument("--global-size", type=int, help="side of the global path's input (paper: 224)")
    p.add_argument("--seed", type=int)
    p.add_argument("--resume", help="a checkpoint (.pt) written by this trainer")
    p.add_argument("--export", help="write the shipping safetensors + JSON here after training")
    p.add_argument("--limit", type=int, help="train on the first N photos only (smoke tests)")
    p.add_argument("--val-every", type=float, help="minutes between holdout validations")
    p.add_argument("--val-limit", type=int)
    p.add_argument("--threads", type=int, help="torch CPU threads (default 1: the CPU is shared)")
    p.add_argument("--photos", action="append", metavar="DIR",
                   help="also train on the colour photos under DIR (recursive, any size; repeatable)")
    p.add_argument("--sizes", help="crop sides (px) for the large photos (default 128-256)")
    p.add_argument("--pixels", type=int, help="pixels per large-photo batch (the batch is this over size^2)")
    p.add_argument("--tiny-every", type=int,
                   help="every Nth step is a Tiny ImageNet batch at 64 px, the ones with class labels (default 3)")
    p.add_argument("--max-side", type=int, help="large photos are kept in memory at most this large")
    p.add_argument("--init", metavar="WEIGHTS.safetensors",
                   help="start from these iizuka weights (e.g. the shipped ones) with a new schedule")
    p.add_argument("--hold-back-large", type=int, metavar="N",
                   help="keep every Nth photos-large train photo out of training; the calibration measures "
                        "the network's cast on them (0: none; start from scratch or from --init weights that "
                        "never saw photos-large)")
    p.add_argument("--no-photos", action="store_true",
                   help="Tiny ImageNet only, at 64 px (the first shipped run's recipe)")


# --- data -----------------------------------------------------------------------------------


def batch_lab(rgb_u8: np.ndarray, rng: np.random.Generator, augment: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (B,64,64,3) -> (L (B,1,H,W) 0-100, ab (B,2,H,W)), with cheap batch augmentation."""
    rgb = uint8_batch_to_rgb(rgb_u8)
    if augment:
        flip = torch.from_numpy(rng.random(len(rgb)) < 0.5)
        rgb[flip] = rgb[flip].flip(-1)
        if rng.random() < 0.3:
            # Zoom in (one crop for the whole batch, cheap): objects look bigger, as they do to
            # the local path at work sizes above 64 px.
            s = rgb.shape[-1]
            side = int(rng.integers(s // 2, s))
            y, x = (int(v) for v in rng.integers(0, s - side + 1, 2))
            rgb = F.interpolate(rgb[..., y : y + side, x : x + side], size=(s, s), mode="bilinear", align_corners=False)
    return lab_tensors(rgb)


def loss_fn(net: IizukaNet, L: torch.Tensor, ab: torch.Tensor, labels: torch.Tensor, alpha: float) -> tuple[torch.Tensor, dict]:
    pred, logits = net(normalise_L(L))
    mse = F.mse_loss(pred, ab_to_target(ab))
    ce = F.cross_entropy(logits, labels, ignore_index=-1) if (labels >= 0).any() else pred.new_zeros(())
    return mse + alpha * ce, {"mse": mse.item(), "ce": ce.item()}


# --- metrics used for checkpoint choice and calibration ----------------------------------------


@torch.no_grad()
def predict_holdout(net: IizukaNet, data: tuple[np.ndarray, np.ndarray], bs: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(L (N,H,W), ab_true (N,H,W,2), ab_pred (N,H,W,2)) for the holdout photos, saturation 1."""
    net.eval()
    Ls, abs_, preds = [], [], []
    for i in range(0, len(data[0]), bs):
        L, ab = batch_lab(data[0][i : i + bs], np.random.default_rng(0), augment=False)
        y, _ = net(normalise_L(L))
        Ls.append(L[:, 0].numpy()), abs_.append(ab.permute(0, 2, 3, 1).numpy())
        preds.append(target_to_ab(y).permute(0, 2, 3, 1).numpy())
    net.train()
    return np.concatenate(Ls), np.concatenate(abs_), np.concatenate(preds)


def holdout_metrics(L: np.ndarray, ab: np.ndarray, pred: np.ndarray, saturation: float = 1.0) -> dict:
    """PSNR (output and grey, vs truth), colourfulness ratio of means, and ab MSE."""
    from models.colour import lab_to_rgb
    from training.evaluate import colourfulness, psnr

    truth = lab_to_rgb(L, ab)
    out = lab_to_rgb(L, pred * saturation)
    grey = lab_to_rgb(L, np.zeros_like(ab))
    return {
        "psnr": float(np.mean([psnr(o, t) for o, t in zip(out, truth)])),
        "psnr_grey": float(np.mean([psnr(g, t) for g, t in zip(grey, truth)])),
        "colourfulness_ratio": float(np.mean([colourfulness(o) for o in out]) / np.mean([colourfulness(t) for t in truth])),
        "ab_mse": float(np.mean((pred * saturation - ab) ** 2)),
    }


def calibrate_saturation(L: torch.Tensor, ab: torch.Tensor, pred: torch.Tensor, target_ratio: float = 0.6,
                         max_psnr_drop: float = 0.25) -> tuple[float, list[dict]]:
    """The smallest ab multiplier whose colourfulness ratio reaches ``target_ratio``, as long as
    PSNR stays within ``max_psnr_drop`` dB of the grey photo; otherwise the largest that does.

    Returns (factor, the measured curve) so the card can show the trade-off.
    """
    curve = []
    for s in np.arange(1.0, 3.01, 0.1):
        m = holdout_metrics(L, ab, pred, float(s))
        m["saturation"] = round(float(s), 2)
        curve.append(m)
    ok = [m for m in curve if m["psnr"] >= m["psnr_grey"] - max_psnr_drop]
    if not ok:
        return 1.0, curve
    reach = [m for m in ok if m["colourfulness_ratio"] >= target_ratio]
    best = reach[0] if reach else ok[-1]
    return best["saturation"], curve


# --- sample grid ----------------------------------------------------------------------------


def save_grid(path: Path, L: np.ndarray, ab: np.ndarray, pred: np.ndarray, n: int = 8) -> None:
    """Rows: grey input, prediction, truth; written atomically as PNG."""
    from PIL import Image

    from models.colour import lab_to_rgb

    n = min(n, len(L))
    rows = [lab_to_rgb(L[:n], np.zeros_like(ab[:n])), lab_to_rgb(L[:n], pred[:n]), lab_to_rgb(L[:n], ab[:n])]
    grid = np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)
    img = (np.clip(grid, 0, 1) * 255 + 0.5).astype(np.uint8)
    atomic_write(path, lambda f: Image.fromarray(img).save(f, format="PNG"))


# --- checkpoints ----------------------------------------------------------------------------


def _save_ckpt(path: Path, state: dict) -> None:
    atomic_write(path, lambda f: torch.save(state, f))


def _log(path: Path, rec: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")


COLOUR_SPACE = ("CIE Lab (D65, sRGB). Input L/50 - 1; output sigmoid y -> ab = (2y - 1) * 110, then times "
                 "config.saturation (with config.mean_saturation: the photo's mean ab times that, and each pixel's "
                 "difference from it times config.saturation), plus config.cast.")


def export_weights(path: Path, net: IizukaNet, config: IizukaConfig, extra: dict) -> Path:
    """The shipping format: fp16 safetensors + sidecar (config, colour space, training record)."""
    from models.checkpoint import save_weights

    meta = {
        "architecture": ARCH,
        "config": config.to_dict(),
        "colour_space": COLOUR_SPACE,
        **extra,
    }
    return save_weights(path, net.state_dict(), meta)


def train_iizuka(args: Any) -> int:
    """Train (or resume), keep the best holdout checkpoint, calibrate, and optionally export."""
    from tqdm import tqdm

    data_root = _opt(args, "data") or os.environ.get("HUEBRUSH_DATA")
    if not data_root:
        raise SystemExit("iizuka training needs --data: the shared datasets folder.")
    out = Path(_opt(args, "out"))
    out.mkdir(parents=True, exist_ok=True)
    threads = int(_opt(args, "threads"))
    torch.set_num_threads(threads)
    seed = int(_opt(args, "seed"))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    bs, alpha = int(_opt(args, "batch_size")), float(_opt(args, "alpha"))
    budget_s = float(_opt(args, "minutes")) * 60.0
    max_steps = _opt(args, "steps")

    t_load = time.time()
    train = TinyImageNet(data_root, "train", limit=_opt(args, "limit"))
    train_x, train_y = train.preload(progress=True)
    hold = TinyImageNet(data_root, "holdout", limit=int(_opt(args, "val_limit")))
    hold_data = hold.preload()
    num_classes = max(200, int(train_y.max()) + 1)
    from training.data import crop_batch, training_photos

    resume = _opt(args, "resume")
    ck = torch.load(resume, map_location="cpu", weights_only=True) if resume else None
    held = int(_opt(args, "hold_back_large") or 0)
    if ck is not None:  # a resumed run keeps the photos it held back out of training
        before = int(ck.get("hold_back_large", 0))
        if held and held != before:
            raise SystemExit(f"train: {resume} held back {f'every {before}th photos-large photo' if before else 'none'}; "
                             "resume it without --hold-back-large, or start a new run")
        held = before
    large, large_desc = ([], {}) if _opt(args, "no_photos") else training_photos(
        data_root, _opt(args, "photos") or (), _opt(args, "limit"), int(_opt(args, "max_side")),
        hold_back_large=held)
    sizes = [int(s) for s in str(_opt(args, "sizes")).split(",") if s.strip()]
    tiny_every = max(1, int(_opt(args, "tiny_every")))
    print(f"loaded {len(train_x)} training, {len(large)} large and {len(hold_data[0])} holdout photos "
          f"in {time.time() - t_load:.0f}s", flush=True)

    init = _opt(args, "init")
    init_state = None
    if ck is not None:
        config = IizukaConfig.from_dict(ck["config"])
    elif init:
        from models.checkpoint import load_weights

        init_state, meta = load_weights(Path(init), ARCH)
        # the network as it was; the inference settings are chosen again after this run
        config = IizukaConfig.from_dict({**meta["config"], "max_side": None, "saturation": 1.0, "cast": [0.0, 0.0]})
    else:
        config = IizukaConfig(width=float(_opt(args, "width")), num_classes=num_classes, global_size=int(_opt(args, "global_size")))
    net = IizukaNet(config)
    if init_state is not None:
        from models.iizuka import state_dict_fp32

        net.load_state_dict(state_dict_fp32(init_state), strict=True)
    lr0 = float(_opt(args, "lr"))
    opt = torch.optim.Adam(net.parameters(), lr=lr0)
    step, elapsed, best = 0, 0.0, math.inf
    if ck is not None:
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        step, elapsed, best = ck["step"], ck["elapsed"], ck["best"]
        rng = np.random.default_rng(seed + step)

    log_path = out / "log.jsonl"
    n_params = sum(p.numel() for p in net.parameters())
    _log(log_path, {"event": "start", "step": step, "config": config.to_dict(), "params": n_params, "threads": threads,
                    "large_photos": large_desc})
    order = rng.permutation(len(train_x))
    pos = 0
    last_val = elapsed
    t0 = time.time() - elapsed
    bar = tqdm(desc="iizuka", unit="step", initial=step, mininterval=10)
    running: dict[str, float] = {}
    seen, t_run = 0, time.time()  # photos this process has trained on, for photos/s
    net.train()
    while True:
        elapsed = time.time() - t0
        done = elapsed >= budget_s or (max_steps is not None and step >= max_steps)
        if done or elapsed - last_val >= float(_opt(args, "val_every")) * 60.0:
            last_val = elapsed
            L, ab, pred = predict_holdout(net, hold_data)
            m = holdout_metrics(L, ab, pred)
            rec = {"event": "val", "step": step, "elapsed_s": round(elapsed, 1), **m}
            _log(log_path, rec)
            print(json.dumps(rec), flush=True)
            save_grid(out / f"samples_{step:07d}.png", L, ab, pred)
            state = {"model": net.state_dict(), "optim": opt.state_dict(), "config": config.to_dict(),
                     "step": step, "elapsed": elapsed, "best": min(best, m["ab_mse"]), "hold_back_large": held}
            _save_ckpt(out / "last.pt", state)
            if m["ab_mse"] < best:
                best = m["ab_mse"]
                _save_ckpt(out / "best.pt", state)
        if done:
            break
        if large and step % tiny_every != tiny_every - 1:
            # random crops of the large photos at several sizes: no class label (the head learns
            # from the Tiny ImageNet batches in between)
            u8 = crop_batch(large, sizes, int(_opt(args, "pixels")), rng)
            L, ab = lab_tensors(uint8_batch_to_rgb(u8))
            labels = torch.full((len(u8),), -1, dtype=torch.long)
        else:
            if pos + bs > len(order):
                order, pos = rng.permutation(len(train_x)), 0
            idx = np.sort(order[pos : pos + bs])
            pos += bs
            L, ab = batch_lab(train_x[idx], rng, augment=True)
            labels = torch.from_numpy(train_y[idx])
        # Cosine over the time budget (or the step budget when that is what ends the run).
        frac = step / max_steps if max_steps is not None else elapsed / budget_s
        for g in opt.param_groups:
            g["lr"] = lr0 * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))
        seen += len(L)
        loss, parts = loss_fn(net, L, ab, labels, alpha)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        bar.update(1)
        for k, v in parts.items():
            running[k] = running.get(k, 0.0) + v
        if step % int(_opt(args, "log_every")) == 0:
            n = int(_opt(args, "log_every"))
            rec = {"event": "train", "step": step, "elapsed_s": round(time.time() - t0, 1),
                   "lr": opt.param_groups[0]["lr"], **{k: v / n for k, v in running.items()},
                   "photos_per_s": round(seen / max(1e-6, time.time() - t_run), 1)}
            _log(log_path, rec)
            bar.set_postfix(mse=f"{rec['mse']:.4f}", ce=f"{rec['ce']:.2f}")
            running = {}
    bar.close()

    best_state = torch.load(out / "best.pt", map_location="cpu", weights_only=True)
    net.load_state_dict(best_state["model"])
    L, ab, pred = predict_holdout(net, hold_data)
    sat, curve = calibrate_saturation(L, ab, pred)
    _log(log_path, {"event": "calibration", "saturation": sat, "curve": curve})
    print(f"calibrated saturation x{sat} on the holdout", flush=True)
    config = IizukaConfig.from_dict({**config.to_dict(), "saturation": sat})
    summary = {
        "training": {
            "data": "Tiny ImageNet 64x64 (train shards minus the last 1000 photos, which are the holdout)"
                    + (f"; every {tiny_every}th step, and random {sizes} px crops of the large photos otherwise: "
                       f"{json.dumps(large_desc)}" if large else ""),
            "photos": len(train_x),
            "steps": int(best_state["step"]),
            "batch_size": bs,
            "optimizer": f"Adam lr {lr0} cosine over {budget_s / 60:.0f} min",
            "loss": f"MSE(sigmoid, ab/220 + 0.5) + {alpha:.5f} x cross-entropy (200 classes)",
            "wall_time_s": round(float(best_state["elapsed"]), 1),
            "hardware": f"{platform.processor() or platform.machine()}, {threads} torch thread(s), CPU",
            "global_input": f"the 64 px photo at {config.global_size} x {config.global_size}",
            "params": n_params,
            "hold_back_large": held,
        },
        "calibration": {"saturation": sat, "on": "holdout", "curve": curve},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    export = _opt(args, "export")
    if export:
        p = export_weights(Path(export), net, config, summary)
        print(f"exported {p}", flush=True)
    return 0


def _calibration_photos(data: Path, work_size: int, limit: int, large_every: int = 0) -> dict[str, list]:
    """(rgb, L, ab) at the work size: the BSDS500 test photos every trainer holds back (every
    ``BSDS_VAL_EVERY``-th), the Tiny ImageNet holdout, and, for a run trained with
    ``--hold-back-large N`` (``large_every``), the photos-large train photos it kept out.

    None is trained on nor a test set; together they cover large real photos, the 64 px photos
    the network knows and everyday photos like the users'.
    """
    from models.colour import rgb_to_lab
    from training.data import bsds_heldback_paths, load_photos, photos_large_heldback_paths
    from training.heldout import fit_work_size

    def lab(rgb8: np.ndarray) -> tuple:
        rgb = fit_work_size(rgb8, work_size)
        x = rgb_to_lab(rgb)
        return rgb, x[..., 0], x[..., 1:]

    hold = TinyImageNet(data, "holdout")
    step = max(1, len(hold) // limit)  # spread over the holdout's classes
    sets = {
        "bsds500_heldback": [lab(rgb8) for rgb8 in load_photos(bsds_heldback_paths(data), 4096)[0]][:limit],
        "holdout": [lab(hold.read_uint8(i)) for i in range(0, len(hold), step)][:limit],
    }
    if large_every:
        held = photos_large_heldback_paths(data, large_every)
        # the manifest groups photos by source: take ``limit`` spread over all of them, not the first
        pick = np.unique(np.linspace(0, len(held) - 1, min(limit, len(held))).round().astype(int))
        sets["photos_large_heldback"] = [lab(rgb8) for rgb8 in load_photos([held[i] for i in pick], 4096)[0]]
    return sets


MEAN_SATURATIONS = (None, 0.8, 1.0, 1.15, 1.3, 1.5)  # None: one gain for the mean and the rest


def gain_ab(p: np.ndarray, saturation: float, mean_saturation: float | None = None) -> np.ndarray:
    """``models.iizuka.scale_ab`` on one predicted ab photo (H, W, 2) as numpy."""
    from models.iizuka import scale_ab

    t = torch.from_numpy(np.ascontiguousarray(p, np.float32)).permute(2, 0, 1)[None]
    return scale_ab(t, saturation, mean_saturation)[0].permute(1, 2, 0).numpy()


def calibrate_on_photos(weights: Path, data: Path, out: Path | None = None, *, work_size: int = 512,
                        limit: int = 100, sides: tuple = (None, 256, 128, 64), target_ratio: float = 0.55,
                        mean_saturations: tuple = MEAN_SATURATIONS) -> dict:
    """Choose ``max_side``, ``saturation`` and ``mean_saturation`` for real photos at the app's work size.

    The network learnt on 64 px photos; at a 256 px work size its local path sees objects 4x
    bigger than in training, so running it at a smaller side (ab is upsampled) may colour
    better. MSE predictions are greyer than photos, and more saturation always costs PSNR, so
    for each side and each gain on the photo's mean colour (``mean_saturation``; None: the same
    gain as the rest) the calibration takes the least saturation that makes the output at least
    ``target_ratio`` as colourful as the originals on every calibration set (see
    ``_calibration_photos``), and of those the one with the best mean PSNR gain over grey.
    For a run that held photos-large photos back, those decide too, and on them the calibration
    measures the cast the network puts on everyday photos (the photos' mean ab minus its own, at the
    chosen setting) and takes a share of it out (``config.cast``) where that adds ``CAST_GAIN`` dB
    on the mean of the sets.
    The weights are re-saved (to ``out`` or in place) with the choice in their config.
    """
    from dataclasses import replace

    from models.checkpoint import read_meta, save_weights
    from models.colour import lab_to_rgb
    from models.iizuka import load_iizuka
    from models.types import ColorizeRequest
    from training.evaluate import colourfulness, psnr

    col = load_iizuka(weights)
    base = replace(col.config, saturation=1.0, cast=(0.0, 0.0), mean_saturation=None)
    meta = read_meta(weights)
    large_every = int((meta.get("training") or {}).get("hold_back_large") or 0)
    sets = _calibration_photos(Path(data), work_size, limit, large_every)
    grey = {k: float(np.mean([psnr(lab_to_rgb(L, np.zeros_like(ab)), rgb) for rgb, L, ab in v])) for k, v in sets.items()}
    cf_orig = {k: float(np.mean([colourfulness(rgb) for rgb, _, _ in v])) for k, v in sets.items()}

    def scored(preds: dict, sat: float, mean_sat: float | None, cast=(0.0, 0.0)) -> dict:
        out = {}
        for k, v in sets.items():
            outs = [lab_to_rgb(L, gain_ab(p, sat, mean_sat) + np.asarray(cast, np.float32)) for p, (_, L, _) in zip(preds[k], v)]
            out[k] = {
                "psnr_gain": float(np.mean([psnr(o, rgb) for o, (rgb, _, _) in zip(outs, v)])) - grey[k],
                "colourfulness_ratio": float(np.mean([colourfulness(o) for o in outs]) / cf_orig[k]),
            }
        return out

    def reaches(r: dict) -> bool:
        return all(r[k]["colourfulness_ratio"] >= target_ratio for k in sets)

    mean_gain = lambda r: float(np.mean([r[k]["psnr_gain"] for k in sets]))  # noqa: E731
    rows, by_side, least = [], {}, []
    for side in sides:
        col.config = replace(base, max_side=side)
        preds = by_side[side] = {k: [col.predict(ColorizeRequest.whole_photo(L)) for _, L, _ in v] for k, v in sets.items()}
        for mean_sat in mean_saturations:
            for sat in np.arange(0.5, 3.01, 0.1):  # upwards; the first that reaches the target is the least
                rows.append({"max_side": side, "mean_saturation": mean_sat, "saturation": round(float(sat), 2),
                             **scored(preds, float(sat), mean_sat)})
                if reaches(rows[-1]):
                    least.append(rows[-1])
                    break
    pool = least or [max(rows, key=lambda r: min(r[k]["colourfulness_ratio"] for k in sets))]
    best = max(pool, key=mean_gain)
    cast, cast_record = (0.0, 0.0), None
    if sets.get("photos_large_heldback"):
        preds, sat, mean_sat = by_side[best["max_side"]], best["saturation"], best["mean_saturation"]
        measured = np.mean([ab.reshape(-1, 2).mean(0) - gain_ab(p, sat, mean_sat).reshape(-1, 2).mean(0)
                            for p, (_, _, ab) in zip(preds["photos_large_heldback"], sets["photos_large_heldback"])], 0)
        tried = {share: scored(preds, sat, mean_sat, tuple(share * measured)) for share in CAST_SHARES}
        share = max(tried, key=lambda sh: mean_gain(tried[sh]))
        if mean_gain(tried[share]) >= mean_gain(best) + CAST_GAIN:
            cast = tuple(round(float(share * c), 2) for c in measured)
        cast_record = {"measured": [round(float(c), 2) for c in measured], "kept": list(cast),
                       "tried": {str(sh): r for sh, r in tried.items()},
                       "rule": f"the share of the cast measured on the held-back photos-large photos with the best "
                               f"mean PSNR gain, kept where it adds {CAST_GAIN} dB on the mean of the sets"}
    config = replace(base, max_side=best["max_side"], saturation=best["saturation"],
                     mean_saturation=best["mean_saturation"], cast=cast)
    meta["config"] = config.to_dict()
    meta["colour_space"] = COLOUR_SPACE
    meta["photo_calibration"] = {
        "photos": {k: f"{len(v)} photos at work size {work_size}" for k, v in sets.items()},
        "rule": f"for each side and mean-colour gain, the least saturation with colourfulness ratio >= {target_ratio} "
                f"on every set; of those, the best mean PSNR gain",
        "psnr_grey": grey, "chosen": best, "candidates": least, "table": rows,
        **({"cast": cast_record} if cast_record else {}),
    }
    save_weights(out or weights, col.net.state_dict(), meta)
    return {"psnr_grey": grey, "chosen": best, "cast": list(cast)}


def export_checkpoint(checkpoint: Path, out: Path) -> Path:
    """Ship another checkpoint of a finished run (``last.pt`` rather than the holdout's ``best.pt``):
    the run's record (``summary.json``) with this checkpoint's steps and time; calibrate it after."""
    run = Path(checkpoint).parent
    summary_path = run / "summary.json"
    if not summary_path.is_file():
        raise SystemExit(f"export: {run} has no summary.json: let the run finish (its last validation writes it) first")
    ck = torch.load(checkpoint, map_location="cpu", weights_only=True)
    config = IizukaConfig.from_dict(ck["config"])
    net = IizukaNet(config)
    net.load_state_dict(ck["model"])
    summary = json.loads(summary_path.read_text())
    summary["training"].update(steps=int(ck["step"]), wall_time_s=round(float(ck["elapsed"]), 1), checkpoint=Path(checkpoint).name)
    return export_weights(Path(out), net, config, summary)


def record_metrics(weights: Path, metrics: dict, key: str = "metrics") -> Path:
    """Re-save the weights with an evaluation report (``python -m training evaluate --json``) in
    the sidecar, so the numbers travel with the file they describe."""
    from models.checkpoint import load_weights, read_meta, save_weights

    state, _ = load_weights(weights, ARCH)
    meta = read_meta(weights)
    meta[key] = metrics
    return save_weights(weights, state, meta)


def main(argv: list[str] | None = None) -> int:
    argv = list(argv if argv is not None else __import__("sys").argv[1:])
    if argv[:1] == ["calibrate"]:
        c = argparse.ArgumentParser(prog="python -m training.iizuka calibrate", description=calibrate_on_photos.__doc__.split("\n")[0])
        c.add_argument("weights", help="iizuka.safetensors (with its .json) from a training run")
        c.add_argument("--data", required=True, help="the shared datasets folder (uses bsds500/images/train)")
        c.add_argument("--out", help="write the calibrated weights here instead of in place")
        c.add_argument("--limit", type=int, default=100)
        a = c.parse_args(argv[1:])
        print(json.dumps(calibrate_on_photos(Path(a.weights), Path(a.data), Path(a.out) if a.out else None, limit=a.limit), indent=2))
        return 0
    if argv[:1] == ["export"]:
        c = argparse.ArgumentParser(prog="python -m training.iizuka export", description=export_checkpoint.__doc__.split("\n")[0])
        c.add_argument("checkpoint", help="RUN/last.pt (or RUN/best.pt) of a finished run")
        c.add_argument("--out", required=True, help="iizuka.safetensors to write (with its .json)")
        a = c.parse_args(argv[1:])
        print(export_checkpoint(Path(a.checkpoint), Path(a.out)))
        return 0
    if argv[:1] == ["record-metrics"]:
        c = argparse.ArgumentParser(prog="python -m training.iizuka record-metrics", description=record_metrics.__doc__.split("\n")[0])
        c.add_argument("weights")
        c.add_argument("report", help="JSON written by `python -m training evaluate --json`")
        c.add_argument("--key", default="metrics", help="sidecar key (e.g. metrics_random_mask)")
        a = c.parse_args(argv[1:])
        print(record_metrics(Path(a.weights), json.loads(Path(a.report).read_text()), a.key))
        return 0
    p = argparse.ArgumentParser(prog="python -m training.iizuka", description="Train the Iizuka et al. 2016 colorizer.")
    add_arguments(p)
    return train_iizuka(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
