"""``python -m training ablation --minutes M``: every zoo configuration trained for the same budget on
the same data, then measured on held-out photos beside the grey photo and the shipped models.

Measures (whole photo, no hints, at ``--work-size``): PSNR gain over the grey photo, colourfulness
ratio, how often an ImageNet classifier (EfficientNet-Lite1, never a training loss) names the
original's class on the result and on the grey photo, and for YCbCr the share of pixel values
outside [0, 1] before clipping. Nothing here is tuned on these sets. Writes ``ablation.json`` and
``ablation.md`` (a table for the docs) into ``--out``.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

CONFIGS = (("fusion", "lab"), ("fusion", "ycbcr"), ("unet-ssim", "lab"), ("autoencoder", "lab"),
           ("autoencoder-merged", "lab"))


def measure_net(net, space: str, data: Path, sets: list[str], work_size: int, limit: int | None, judge=None) -> dict:
    from training.evaluate import colourfulness, psnr
    from training.heldout import GREY_CHROMA, fit_work_size, iter_set, mean_chroma

    from .colourspace import inputs_targets, to_rgb

    out = {}
    for name in sets:
        rows = {k: [] for k in ("psnr", "grey", "cf", "cf0", "agree", "agree_grey", "invalid")}
        for _, rgb8 in iter_set(data, name, limit):
            rgb = fit_work_size(rgb8, work_size)
            t = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
            x, target, grey = inputs_targets(t, space)
            if mean_chroma(target[0].permute(1, 2, 0).numpy() * (110 if space == "lab" else 220)) < GREY_CHROMA:
                continue
            with torch.no_grad():
                pred, _ = net(x)
            res, bad = to_rgb(grey, pred, space)
            grey_rgb, _ = to_rgb(grey, torch.zeros_like(pred), space)
            res_np = res[0].permute(1, 2, 0).numpy()
            grey_np = grey_rgb[0].permute(1, 2, 0).numpy()
            rows["psnr"].append(psnr(res_np, rgb))
            rows["grey"].append(psnr(grey_np, rgb))
            rows["cf"].append(colourfulness(res_np))
            rows["cf0"].append(colourfulness(rgb))
            rows["invalid"].append(bad)
            if judge is not None:
                top = judge.top1([rgb, res_np, grey_np])
                rows["agree"].append(float(top[1] == top[0]))
                rows["agree_grey"].append(float(top[2] == top[0]))
        out[name] = summarise(rows)
    return out


def summarise(rows: dict) -> dict:
    m = {k: float(np.mean(v)) if v else float("nan") for k, v in rows.items()}
    res = {"photos": len(rows["psnr"]), "psnr_gain": round(m["psnr"] - m["grey"], 3),
           "colourfulness_ratio": round(m["cf"] / max(m["cf0"], 1e-9), 3)}
    if rows["agree"]:
        res.update(classifier_agreement=round(m["agree"], 3), classifier_agreement_grey=round(m["agree_grey"], 3))
    if rows["invalid"] and max(rows["invalid"]) > 0:
        res["invalid_share"] = round(m["invalid"], 4)
    return res


def shipped(data: Path, sets: list[str], work_size: int, limit: int | None, judge) -> dict:
    from models.registry import create
    from training.evaluate import evaluate_set

    out = {}
    for name in ("maskgan", "iizuka"):
        try:
            model = create(name, "cpu")
        except Exception as e:  # noqa: BLE001 - a missing model is a row that says so
            out[name] = {"error": str(e)}
            continue
        out[name] = {}
        for s in sets:
            r = evaluate_set(model, data, s, limit=limit, work_size=work_size, judge=judge)
            out[name][s] = {k: r.get(k) for k in ("photos", "psnr_gain", "colourfulness_ratio", "classifier_agreement",
                                                   "classifier_agreement_grey")}
    return out


def markdown(report: dict) -> str:
    sets = report["sets"]
    head = "| configuration | " + " | ".join(f"{s}: PSNR gain / colourfulness / classifier (grey)" for s in sets) + " |"
    lines = [f"Budget: {report['minutes']} min per configuration on {report['hardware']}; held-out photos at a "
             f"{report['work_size']} px work size, whole photo, no hints (`python -m training ablation`).", "",
             head, "|---|" + "---|" * len(sets)]

    def cell(r: dict) -> str:
        if not r or "psnr_gain" not in r:
            return "-"
        s = f"{r['psnr_gain']:+.2f} dB / {r['colourfulness_ratio']:.2f}"
        if r.get("classifier_agreement") is not None:
            s += f" / {r['classifier_agreement']:.2f} ({r['classifier_agreement_grey']:.2f})"
        if r.get("invalid_share"):
            s += f" / {100 * r['invalid_share']:.1f} % invalid"
        return s

    for name, res in list(report["configurations"].items()) + [(f"shipped {k}", v) for k, v in report["shipped"].items()]:
        lines.append(f"| {name} | " + " | ".join(cell(res.get(s, {})) for s in sets) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training ablation", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--minutes", type=float, required=True, help="training budget per configuration")
    p.add_argument("--out", default="runs/ablation")
    p.add_argument("--sets", default="coco80,photos-large,tinyimagenet")
    p.add_argument("--limit", type=int, default=300, help="at most N photos per set")
    p.add_argument("--work-size", type=int, default=256)
    p.add_argument("--width", type=float, default=0.5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", default=None, help="comma-separated configuration names (default: all)")
    p.add_argument("--no-classifier", action="store_true")
    p.add_argument("--no-shipped", action="store_true")
    args = p.parse_args(argv)
    from training.judge import Judge

    from .loop import add_arguments, load_run, train_zoo

    data, out = Path(args.data), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sets = [s for s in args.sets.split(",") if s]
    judge = None if args.no_classifier else Judge()
    torch.set_num_threads(args.threads)
    only = set(args.only.split(",")) if args.only else None
    report = {"minutes": args.minutes, "work_size": args.work_size, "sets": sets, "limit": args.limit,
              "hardware": f"{platform.machine()}, {os.cpu_count()} cores, {args.threads} torch threads, CPU",
              "configurations": {}, "shipped": {}}
    for name, space in CONFIGS:
        if only and name not in only:
            continue
        key = name if space == "lab" else f"{name} (ycbcr)"
        run = out / key.replace(" ", "_").replace("(", "").replace(")", "")
        tp = argparse.ArgumentParser()
        add_arguments(tp)
        targs = tp.parse_args(["--model", name, "--colour-space", space, "--data", str(data), "--out", str(run),
                               "--minutes", str(args.minutes), "--width", str(args.width), "--threads", str(args.threads)])
        t0 = time.time()
        train_zoo(targs)
        net, _, _ = load_run(run / "last.pt")
        report["configurations"][key] = {"train_seconds": round(time.time() - t0, 1),
                                         **measure_net(net, space, data, sets, args.work_size, args.limit, judge)}
    if not args.no_shipped:
        report["shipped"] = shipped(data, sets, args.work_size, args.limit, judge)
    from models.fileio import atomic_write_bytes, atomic_write_json

    atomic_write_json(out / "ablation.json", report, indent=2)
    atomic_write_bytes(out / "ablation.md", markdown(report).encode("utf-8"))
    print(markdown(report))
    return 0
