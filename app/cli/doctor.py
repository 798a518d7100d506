"""`huebrush doctor`: what a user pastes into a bug report.

Versions, the compute device and its memory, the Qt platform, where Huebrush keeps its files, the
network weights present (colorizers and the click segmenter) and whether their checksums verify, and installed Segment Anything
checkpoints. Every part is collected on its own, so one broken piece still leaves a useful report.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata as md
import json
import os
import platform
import sys
from pathlib import Path

# distribution name -> module whose __version__ serves when the metadata is missing (frozen builds)
_PACKAGES = {
    "torch": "torch", "torchvision": "torchvision", "numpy": "numpy", "PySide6-Essentials": "PySide6",
    "opencv-python-headless": "cv2", "scikit-image": "skimage", "Pillow": "PIL", "tifffile": "tifffile",
    "safetensors": "safetensors", "segment-anything": "segment_anything", "mobilesam-mirror": "mobile_sam",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="report versions, device, weights and checkpoints (for bug reports)",
                       description="Print what a bug report needs: versions, the compute device, Qt, "
                       "folders, the colorizer weights (checksums verified) and Segment Anything checkpoints.")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def _version(dist: str, module: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        pass
    try:
        return str(getattr(importlib.import_module(module), "__version__", "installed, version unknown"))
    except Exception:  # noqa: BLE001 - a package that fails to import is reported, not raised
        return "not installed"


def _ram_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        return None


def _device() -> dict:
    import torch

    info: dict = {"torch_cuda_build": torch.version.cuda or "none", "ram_gb": _ram_gb()}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(device="cuda", name=props.name, memory_gb=round(props.total_memory / 2**30, 1),
                    count=torch.cuda.device_count())
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        info.update(device="mps", name="Apple GPU (shares the system memory)")
    else:
        info.update(device="cpu", name=platform.processor() or platform.machine(), threads=torch.get_num_threads())
    return info


def _qt() -> dict:
    # No QGuiApplication here: without a display Qt aborts the process instead of raising.
    from PySide6 import QtCore

    plugins = Path(QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    found = sorted(p.name.split(".")[0].removeprefix("libq") for p in plugins.glob("*q*")) if plugins.is_dir() else []
    return {
        "qt": QtCore.qVersion(),
        "platform_env": os.environ.get("QT_QPA_PLATFORM", "(default)"),
        "session": os.environ.get("XDG_SESSION_TYPE", "unknown"),
        "display": os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or "none",
        "platform_plugins": found,
        **({"x11_plugin": _x11_plugin()} if sys.platform.startswith("linux") else {}),
    }


def _x11_plugin() -> str:
    from app.ui.main import xcb_missing_library

    missing = xcb_missing_library()
    return f"cannot load: {missing} is missing" if missing else "loads"


def _folders() -> dict:
    from app.core import paths
    from models.checkpoint import bundled_weights_dir

    return {
        "settings": str(paths.config_dir()), "data": str(paths.data_dir()), "cache": str(paths.cache_dir()),
        "user_models": str(paths.user_models_dir()), "autosave": str(paths.autosave_dir()),
        "bundled_weights": str(bundled_weights_dir()),
    }


def _weights() -> list[dict]:
    from app.core.paths import user_models_dir
    from models.checkpoint import list_weights, read_meta
    from models.fileio import sha256_file
    from models.registry import names
    from models.types import ModelError

    colorizers = set(names())
    out = []
    for path in list_weights([user_models_dir()]):
        # role: a colorizer the user can pick with --model, or the click segmenter's network
        role = "colorizer" if path.stem in colorizers else "segmenter" if path.stem == "clickseg" else "other"
        row: dict = {"file": str(path), "role": role, "size_mb": round(path.stat().st_size / 2**20, 1)}
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

    # The hash was checked when the file was imported; re-hashing 2.5 GB here would make doctor slow.
    return [
        {"file": str(c.path), "family": c.family, "model": c.model, "size_mb": round(c.size_bytes / 2**20, 1),
         "official": c.official}
        for c in list_checkpoints()
    ]


def collect() -> dict:
    from app import __version__

    report: dict = {
        "huebrush": __version__,
        "python": sys.version.split()[0],
        "os": platform.platform(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "packages": {d: _version(d, m) for d, m in _PACKAGES.items()},
    }
    parts = (("device", _device), ("qt", _qt), ("folders", _folders), ("weights", _weights),
             ("sam_checkpoints", _sam_checkpoints))
    for key, fn in parts:
        try:
            report[key] = fn()
        except Exception as e:  # noqa: BLE001 - a broken part must not hide the rest of the report
            report[key] = {"error": f"{type(e).__name__}: {e}"}
    return report


def _print_text(report: dict) -> None:
    build = " (frozen build)" if report["frozen"] else ""
    print(f"Huebrush {report['huebrush']}{build} on Python {report['python']} ({report['os']})")
    for name, v in report["packages"].items():
        print(f"  {name:24s} {v}")
    print(f"Device: {json.dumps(report['device'])}")
    print(f"Qt: {json.dumps(report['qt'])}")
    folders = report["folders"]
    print("Folders:")
    for name, where in folders.items():
        print(f"  {name:16s} {where}")
    weights = report["weights"]
    print("Network weights:" + ("" if weights else " none found (only the 'hints' model works)"))
    if isinstance(weights, list):
        for w in weights:
            state = "checksum OK" if w.get("verified") else "CHECKSUM FAILED"
            print(f"  {w['file']} ({w.get('role')}: {w.get('architecture')}, {w['size_mb']} MB, {state}) "
                  f"{w.get('problem', '')}".rstrip())
    else:
        print(f"  {weights}")
    sam = report["sam_checkpoints"]
    print("Segment Anything checkpoints:" + ("" if sam else " none (the built-in segmenter is used)"))
    if isinstance(sam, list):
        names = {True: "official file", False: "NOT the official file", None: "no official hash known"}
        for c in sam:
            print(f"  {c['file']} ({c['family']} {c['model']}, {c['size_mb']} MB, {names[c['official']]})")
    else:
        print(f"  {sam}")


def run(args: argparse.Namespace) -> int:
    report = collect()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_text(report)
    return 0
