"""`huebrush doctor`: what a user pastes into a bug report.

Versions, the compute device and its memory, the Qt platform, the colorizer weights present and
whether their checksums verify, and installed Segment Anything checkpoints.
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import platform
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="report versions, device, weights and checkpoints (for bug reports)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def _device() -> dict:
    import torch

    info: dict = {"torch_cuda_build": torch.version.cuda or "none"}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(device="cuda", name=props.name, memory_gb=round(props.total_memory / 2**30, 1))
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        info.update(device="mps", name="Apple GPU")
    else:
        info.update(device="cpu", name=platform.processor() or platform.machine(), threads=torch.get_num_threads())
    return info


def _qt() -> dict:
    from PySide6 import QtCore

    return {
        "qt": QtCore.qVersion(),
        "platform_env": os.environ.get("QT_QPA_PLATFORM", "(default)"),
        "display": os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or "none",
    }


def _weights() -> list[dict]:
    from app.core.paths import user_models_dir
    from models.checkpoint import list_weights, read_meta, sha256_file
    from models.types import ModelError

    out = []
    for path in list_weights([user_models_dir()]):
        row: dict = {"file": str(path), "size_mb": round(path.stat().st_size / 2**20, 1)}
        try:
            meta = read_meta(path)
            row["architecture"] = meta.get("architecture")
            row["verified"] = sha256_file(path) == meta.get("sha256")
        except ModelError as e:
            row["verified"] = False
            row["problem"] = str(e)
        out.append(row)
    return out


def _sam_checkpoints() -> list[dict]:
    from app.core.segment.checkpoints import list_checkpoints

    return [
        {"file": str(c.path), "model": f"{c.family} {c.model}", "official_hash": c.official}
        for c in list_checkpoints()
    ]


def collect() -> dict:
    report: dict = {
        "huebrush": _version("huebrush"),
        "python": sys.version.split()[0],
        "os": platform.platform(),
        "packages": {
            d: _version(d)
            for d in ("torch", "torchvision", "numpy", "PySide6-Essentials", "opencv-python-headless",
                      "scikit-image", "Pillow", "tifffile", "segment-anything", "mobilesam-mirror")
        },
    }
    for key, fn in (("device", _device), ("qt", _qt), ("weights", _weights), ("sam_checkpoints", _sam_checkpoints)):
        try:
            report[key] = fn()
        except Exception as e:  # a broken part must not hide the rest of the report
            report[key] = {"error": f"{type(e).__name__}: {e}"}
    return report


def run(args: argparse.Namespace) -> int:
    report = collect()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Huebrush {report['huebrush']} on Python {report['python']} ({report['os']})")
    for name, v in report["packages"].items():
        print(f"  {name:24s} {v}")
    print(f"Device: {json.dumps(report['device'])}")
    print(f"Qt: {json.dumps(report['qt'])}")
    weights = report["weights"]
    print("Colorizer weights:" + ("" if weights else " none found"))
    if isinstance(weights, list):
        for w in weights:
            state = "verified" if w.get("verified") else "NOT VERIFIED"
            print(f"  {w['file']} ({w.get('architecture')}, {w['size_mb']} MB, {state}) {w.get('problem', '')}")
    else:
        print(f"  {weights}")
    sam = report["sam_checkpoints"]
    print("Segment Anything checkpoints:" + ("" if sam else " none (the built-in segmenter is used)"))
    if isinstance(sam, list):
        for c in sam:
            official = {True: "matches the official file", False: "differs from the official file", None: "no official hash known"}
            print(f"  {c['file']} ({c['model']}, {official[c['official_hash']]})")
    else:
        print(f"  {sam}")
    return 0
