"""maskgan v1 (full-size regression decoder) against v2 (ab bins at a quarter of the size), one run.

    python bench/colour_v2.py [--work-size 512] [--repeat 7] [--train-size 256] [--train-steps 6]

- inference: milliseconds per photo through each colorizer's ``predict`` at a 4:3 work size
  (whole mask, no hints; v2 with one hint too, which runs the network twice), interleaved, median
  of ``repeat`` after a warm-up; v2 also with and without the mirrored pass (``cost_of_mirror``:
  the ratio, one run). Goal: v2 under 250 ms at 512 px on a 2-core CPU. Uses the
  installed weights where they are of that version, else random weights (same cost).
- training: photos per second of full training steps at ``train-size`` (forward, loss, backward,
  AdamW; masks and hints sampled as in training), v1's generator step against v2's, the same
  number of pixels per batch, interleaved, median over ``train-steps`` after two warm-ups.
Prints JSON with the ratios; the load average is reported beside the numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def colorizers():
    from models import maskgan, maskgan_v2
    from models.checkpoint import find_weights, read_meta

    found = {}
    for name in ("maskgan", "maskgan-v2"):
        path = find_weights(name)
        if path is not None:
            found[read_meta(path).get("architecture")] = path
    v1 = maskgan.load_maskgan(found[maskgan.ARCH]) if maskgan.ARCH in found else maskgan.MaskGANColorizer(
        maskgan.MaskGANGenerator(), {"config": maskgan.default_config()}, "cpu")
    v2 = maskgan.load_maskgan(found[maskgan_v2.ARCH]) if maskgan_v2.ARCH in found else maskgan_v2.MaskGANColorizer(
        maskgan_v2.MaskGANNet(), {}, "cpu")
    return {"v1": v1, "v2": v2}, {"weights": {k: str(v) for k, v in found.items()}}


def inference(work_size: int, repeat: int) -> dict:
    from models.types import ColorizeRequest

    cols, info = colorizers()
    h, w = round(work_size * 3 / 4), work_size
    L = (np.random.default_rng(0).random((h, w)) * 100).astype(np.float32)
    plain = ColorizeRequest.whole_photo(L)
    hm = np.zeros((h, w), np.float32)
    hm[h // 2, w // 2] = 1
    hab = np.zeros((h, w, 2), np.float32)
    hab[h // 2, w // 2] = (40, 20)
    hinted = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hab, hint_mask=hm)
    from dataclasses import replace

    from models.maskgan_v2 import MaskGANColorizer

    v2 = cols["v2"]
    both = {}
    for m in (False, True):  # the same network with and without the mirrored pass
        both[m] = MaskGANColorizer(v2.net, v2.meta, "cpu")
        both[m].config = replace(v2.config, mirror=m)
    runs = {"v1": (cols["v1"], plain), "v2": (v2, plain), "v2_one_hint": (v2, hinted),
            "v2_one_pass": (both[False], plain), "v2_mirrored": (both[True], plain),
            "v2_one_hint_one_pass": (both[False], hinted), "v2_one_hint_mirrored": (both[True], hinted)}
    times = {k: [] for k in runs}
    for col, req in runs.values():
        col.predict(req)
    for _ in range(repeat):
        for k, (col, req) in runs.items():
            t = time.perf_counter()
            col.predict(req)
            times[k].append((time.perf_counter() - t) * 1000)
    med = {k: round(float(np.median(v)), 1) for k, v in times.items()}
    return {"work_size": [h, w], "ms_median": med, "v1_over_v2": round(med["v1"] / med["v2"], 2), "goal_ms": 250,
            "v2_mirror_shipped": bool(v2.config.mirror), "cost_of_mirror": round(med["v2_mirrored"] / med["v2_one_pass"], 2),
            "cost_of_mirror_one_hint": round(med["v2_one_hint_mirrored"] / med["v2_one_hint_one_pass"], 2), **info}


def training(size: int, steps: int) -> dict:
    import torch

    from models import maskgan, maskgan_v2
    from training.data import lab_tensors, uint8_batch_to_rgb
    from training.losses import generator_losses
    from training.maskgan import make_conditions
    from training.maskgan_v2 import colour_loss

    rng = np.random.default_rng(0)
    batch = max(2, 589824 // (size * size))  # the v2 trainer's default pixels per batch
    g1 = maskgan.MaskGANGenerator().to(memory_format=torch.channels_last)
    g2 = maskgan_v2.MaskGANNet().to(memory_format=torch.channels_last)
    weights = torch.ones(len(g2.bins))
    opts = {"v1": torch.optim.AdamW(g1.parameters(), 1e-4), "v2": torch.optim.AdamW(g2.parameters(), 1e-4)}

    def step(kind: str) -> float:
        t = time.perf_counter()
        u8 = (rng.random((batch, size, size, 3)) * 255).astype(np.uint8)
        L, ab = lab_tensors(uint8_batch_to_rgb(u8))
        mask, hab, hm = make_conditions(ab, rng, None)
        if kind == "v1":
            pred = g1(maskgan.normalise_inputs(L, mask, hab, hm).contiguous(memory_format=torch.channels_last))
            loss = sum(generator_losses(pred, ab, mask, hab, hm).values())
        else:
            logits = g2(maskgan_v2.normalise_inputs(L, mask, hab, hm).contiguous(memory_format=torch.channels_last))
            loss = colour_loss(logits, ab, mask, g2.bins, weights, 0.3)
        opts[kind].zero_grad()
        loss.backward()
        opts[kind].step()
        return time.perf_counter() - t

    times = {"v1": [], "v2": []}
    for i in range(steps + 2):
        for k in times:
            dt = step(k)
            if i >= 2:
                times[k].append(dt)
    rate = {k: round(batch / float(np.median(v)), 2) for k, v in times.items()}
    return {"size": size, "batch": batch, "photos_per_s": rate, "v2_over_v1": round(rate["v2"] / rate["v1"], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work-size", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--train-size", type=int, default=256)
    ap.add_argument("--train-steps", type=int, default=6, help="0 skips the training measurement")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    out = {"device": "cpu", "cpu_count": os.cpu_count(), "torch_threads": args.threads, "load_average_before": os.getloadavg()}
    with torch.inference_mode():
        out["inference"] = inference(args.work_size, args.repeat)
    if args.train_steps:
        out["training"] = training(args.train_size, args.train_steps)
    out["load_average_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
