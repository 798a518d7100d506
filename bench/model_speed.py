"""maskgan speed on this machine. Prints JSON.

    python bench/model_speed.py [--work-size 512] [--repeat 5] [--threads 2] [--train-steps 8]

- inference: milliseconds per photo at a ``work-size`` long side (4:3 photo, whole mask, no
  hints) through the engine, median of ``repeat`` runs after one warm-up (goal: < 250 ms on a
  2-core CPU at 512 px), with the shipped scales (e.g. the work size and half of it, averaged)
  with one scale, without the chroma-by-lightness curve, without the mirrored pass and with the
  network run at the work size instead of at most ``net_max_side``, interleaved: ``cost_of_scales``,
  ``cost_of_lightness_curve`` and ``cost_of_flip`` are ratios of the shipped setting to each of
  those, ``speedup_of_cap`` the uncapped time over the shipped one. Uses the bundled weights when
  present, else random weights (same cost).
- training: photos per second of full training steps (generator forward + backward + AdamW,
  64 px, batch 32, masks and hints sampled as in training), the generator-only and the
  adversarial phase separately, median over ``train-steps`` steps after two warm-ups.
- layout: the raw network forward (inference) and training steps with the default (NCHW) and
  the channels-last memory layout, interleaved in one run; the app and the trainer use
  channels-last, and the ratio is the before/after of that change.
The machine may be shared: the load average is reported beside the numbers.
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


def inference_ms(work_size: int, repeat: int) -> dict:
    import torch

    from models.checkpoint import find_weights
    from models.maskgan import MaskGANColorizer, MaskGANGenerator, default_config, load_maskgan
    from models.types import ColorizeRequest

    path = find_weights("maskgan")
    if path is not None:
        col = load_maskgan(path, "cpu")
        source = str(path)
    else:
        col = MaskGANColorizer(MaskGANGenerator(pretrained=False), {"config": default_config()}, "cpu")
        source = "random weights (no bundled file)"
    h, w = round(work_size * 3 / 4), work_size
    L = (np.random.default_rng(0).random((h, w)) * 100).astype(np.float32)
    req = ColorizeRequest.whole_photo(L, model="maskgan")
    shipped, curve, flip, cap = list(col.scales), list(col.chroma_by_lightness), col.flip_min_side, col.net_max_side
    variants = {"shipped": (shipped, curve, flip, cap), "one_scale": ([1.0], curve, flip, cap),
                "no_lightness_curve": (shipped, [], flip, cap), "no_flip": (shipped, curve, None, cap),
                "uncapped": (shipped, curve, flip, None)}
    times = {k: [] for k in variants}

    def use(k: str) -> None:
        col.scales, col.chroma_by_lightness, col.flip_min_side, col.net_max_side = variants[k]

    for k in variants:  # warm-up
        use(k)
        col.predict(req)
    for _ in range(repeat):  # interleaved, so a busy moment hits all of them
        for k in variants:
            use(k)
            t = time.perf_counter()
            col.predict(req)
            times[k].append((time.perf_counter() - t) * 1000)
    use("shipped")
    med = {k: float(np.median(v)) for k, v in times.items()}
    return {"work_size": [h, w], "ms_median": round(med["shipped"], 1), "ms_min": round(min(times["shipped"]), 1),
            "scales": shipped, "one_scale_ms_median": round(med["one_scale"], 1),
            "cost_of_scales": round(med["shipped"] / med["one_scale"], 2),
            "lightness_curve": bool(curve), "no_lightness_curve_ms_median": round(med["no_lightness_curve"], 1),
            "cost_of_lightness_curve": round(med["shipped"] / med["no_lightness_curve"], 3),
            "flip_min_side": flip, "mirrored_pass": col.flips_at(w), "no_flip_ms_median": round(med["no_flip"], 1),
            "cost_of_flip": round(med["shipped"] / med["no_flip"], 2),
            "net_max_side": cap, "network_side": col.net_side(w), "uncapped_ms_median": round(med["uncapped"], 1),
            "speedup_of_cap": round(med["uncapped"] / med["shipped"], 2),
            "weights": source, "torch_threads": torch.get_num_threads()}


def layout_ratio(work_size: int, repeat: int) -> dict:
    """Raw forward at the work size, NCHW vs channels-last, interleaved (best of ``repeat``)."""
    import copy

    import torch

    from models.maskgan import MaskGANGenerator

    nchw = MaskGANGenerator(pretrained=False).eval()
    cl = copy.deepcopy(nchw).to(memory_format=torch.channels_last)
    x = torch.randn(1, 5, round(work_size * 3 / 4), work_size)
    xc = x.contiguous(memory_format=torch.channels_last)
    ta, tb = [], []
    with torch.inference_mode():
        nchw(x), cl(xc)
        for _ in range(repeat):
            t = time.perf_counter()
            nchw(x)
            ta.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            cl(xc)
            tb.append((time.perf_counter() - t) * 1000)
    return {"forward_ms_nchw": round(min(ta), 1), "forward_ms_channels_last": round(min(tb), 1),
            "speedup": round(min(ta) / min(tb), 2)}


def training_rate(steps: int, batch: int = 32, size: int = 64, channels_last: bool = True) -> dict:
    import torch

    from models.maskgan import MaskGANGenerator, PatchDiscriminator, normalise_inputs
    from training.data import lab_tensors, uint8_batch_to_rgb
    from training.losses import generator_losses, lsgan_d_loss, lsgan_g_loss
    from training.maskgan import make_conditions

    rng = np.random.default_rng(0)
    gen, disc = MaskGANGenerator(pretrained=False), PatchDiscriminator()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    gen = gen.to(memory_format=fmt)
    opt_g = torch.optim.AdamW(gen.parameters(), 1e-4)
    opt_d = torch.optim.AdamW(disc.parameters(), 1e-4)
    out = {}
    for phase in ("generator", "adversarial"):
        times = []
        for i in range(steps + 2):
            t = time.perf_counter()
            u8 = (rng.random((batch, size, size, 3)) * 255).astype(np.uint8)
            L, ab = lab_tensors(uint8_batch_to_rgb(u8))
            mask, hab, hm = make_conditions(ab, rng, None)
            pred = gen(normalise_inputs(L, mask, hab, hm).contiguous(memory_format=fmt))
            loss = sum(generator_losses(pred, ab, mask, hab, hm).values())
            if phase == "adversarial":
                loss = loss + 0.01 * lsgan_g_loss(disc(L, mask, pred))
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()
            if phase == "adversarial":
                d = lsgan_d_loss(disc(L, mask, ab * mask), disc(L, mask, pred.detach()))
                opt_d.zero_grad()
                d.backward()
                opt_d.step()
            if i >= 2:
                times.append(time.perf_counter() - t)
        out[f"{phase}_photos_per_s"] = round(batch / float(np.median(times)), 1)
    out.update(batch=batch, size=size, layout="channels_last" if channels_last else "nchw")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work-size", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-steps", type=int, default=8, help="0 skips the training measurement")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    result = {"device": "cpu", "cpu_count": os.cpu_count(), "load_average_before": os.getloadavg()}
    with torch.inference_mode():
        result["inference"] = inference_ms(args.work_size, args.repeat)
    result["inference"]["goal_ms"] = 250
    result["layout"] = layout_ratio(args.work_size, args.repeat)
    if args.train_steps:
        result["training"] = training_rate(args.train_steps)
        result["training_nchw"] = training_rate(args.train_steps, channels_last=False)
    result["load_average_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
