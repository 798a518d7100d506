"""Smoke test of an installed or frozen Huebrush, shared by build.sh and test_wheel.sh.

    python packaging/smoke.py HUEBRUSH_COMMAND [--json-out FILE]

Runs the command the way a user would, from an empty folder with its own settings folders, on a
generated black-and-white photo (sky over ground): `--version`; `doctor --json`; `colorize` with
two colour hints (default model) and again with each network whose weights the install ships;
`segment` with a click on the ground, then a colorize inside that mask, which must leave the sky
exactly grey. Outputs must be colour photos of the right size, so a frozen build that lost torch,
Qt plugins, scikit-image or the weights fails here and not on a user's desk. When the install
ships no maskgan weights (before training has exported them), an untrained stand-in is written
to a user models folder so the torch / EfficientNet / safetensors path still runs (its bias is set
so that it paints a colour, which must reach the written photo).
Needs numpy and Pillow in the Python that runs it (not in the command under test), and the
checkout's `models` package for the stand-in. Prints one JSON line with the timings.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

H, W = 240, 320
# (x, y, colour): sky blue at the top left, grass green at the bottom right
HINTS = ((40, 30, "#4a7fd0"), (300, 220, "#3f8f3a"))


def make_sample(path: Path) -> None:
    """A grey photo: a gradient sky over a textured darker ground."""
    y = np.linspace(0, 1, H)[:, None]
    x = np.linspace(0, 9, W)[None, :]
    img = np.where(y < 0.55, 200 - 60 * y, 90 + 12 * np.sin(x) + 20 * y)
    Image.fromarray(np.broadcast_to(img, (H, W)).astype(np.uint8), "L").save(path)


def mean_chroma(path: Path) -> float:
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    if rgb.shape != (H, W, 3):
        raise SystemExit(f"smoke test failed: {path} is {rgb.shape[1]}x{rgb.shape[0]}, expected {W}x{H}")
    return float((rgb.max(-1) - rgb.min(-1)).mean())


def run(cmd: list[str], cwd: Path, env: dict, timeout: float = 900) -> tuple[str, float]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"smoke test failed: `{shlex.join(cmd)}` exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p.stdout, dt


def bundled_models(doctor: dict) -> list[str]:
    """Colorizer names of the weights the install ships (files are NAME.safetensors).

    The click segmenter's weights (role "segmenter") are not a --model choice; the segment step
    below exercises them.
    """
    weights = doctor.get("weights")
    if not isinstance(weights, list):
        raise SystemExit(f"smoke test failed: doctor could not list the weights: {weights}")
    return sorted({Path(w["file"]).stem for w in weights if w.get("role", "colorizer") == "colorizer"})


def write_stand_in_maskgan(folder: Path) -> bool:
    """Untrained maskgan weights (fixed seed) in ``folder``; False when this Python cannot make them."""
    try:
        import torch

        from models.checkpoint import save_weights
        from models.maskgan import ARCH, MaskGANGenerator, default_config
    except ImportError:
        return False
    torch.manual_seed(0)
    net = MaskGANGenerator(pretrained=False)
    with torch.no_grad():  # a constant push on the output: an untrained net would paint near-grey
        net.head.bias.fill_(0.5)
    meta = {"architecture": ARCH, "model": "maskgan", "config": default_config(),
            "training_data": "none: an untrained stand-in written by packaging/smoke.py"}
    save_weights(folder / "maskgan.safetensors", net.state_dict(), meta)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", help="how to start Huebrush, e.g. 'packaging/dist/huebrush/huebrush'")
    ap.add_argument("--json-out", help="also write the timings JSON here")
    args = ap.parse_args(argv)
    cmd = shlex.split(args.command)
    cmd[0] = str(Path(cmd[0]).resolve()) if os.sep in cmd[0] else cmd[0]
    report: dict = {"command": args.command}

    with tempfile.TemporaryDirectory(prefix="huebrush-smoke-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
        # fresh settings / user models / cache: only what the install itself ships is seen
        for name in ("CONFIG", "DATA", "CACHE"):
            env[f"HUEBRUSH_{name}_DIR"] = str(work / name.lower())
        env.pop("HUEBRUSH_MODELS_DIR", None)
        env.pop("PYTHONPATH", None)  # the checkout must not leak into the install under test

        out, report["version_s"] = run(cmd + ["--version"], work, env)
        report["version"] = out.strip()
        if not report["version"].startswith("huebrush "):
            raise SystemExit(f"smoke test failed: --version printed {out!r}")

        out, report["doctor_s"] = run(cmd + ["doctor", "--json"], work, env)
        doctor = json.loads(out)
        report["device"] = doctor.get("device", {}).get("device") if isinstance(doctor.get("device"), dict) else None
        if report["device"] is None:
            raise SystemExit(f"smoke test failed: doctor found no device: {doctor.get('device')}")
        bad = [w["file"] for w in doctor["weights"] if not w.get("verified")] if isinstance(doctor.get("weights"), list) else []
        if bad:
            raise SystemExit(f"smoke test failed: weights whose checksum does not verify: {bad}")
        report["models_with_weights"] = bundled_models(doctor)

        sample = work / "sample.png"
        make_sample(sample)
        hint_args = [a for x, y, c in HINTS for a in ("--hint", f"{x},{y},{c}")]
        report["colorize"] = {}
        for model in [None] + report["models_with_weights"]:
            label = model or "default"
            dest = work / f"sample_{label}.png"
            extra = ["--model", model] if model else []
            _, dt = run(cmd + ["colorize", str(sample), "-o", str(dest)] + hint_args + extra, work, env)
            chroma = mean_chroma(dest)
            if chroma <= 3:
                raise SystemExit(f"smoke test failed: model {label} wrote a grey image (mean chroma {chroma:.1f})")
            report["colorize"][label] = {"seconds": round(dt, 2), "mean_chroma": round(chroma, 1)}

        # Click-to-select (the built-in segmenter: scikit-image, OpenCV, SciPy) on the ground,
        # then colour only there: the sky outside the mask must stay exactly grey.
        mask = work / "ground_mask.png"
        _, report["segment_s"] = run(cmd + ["segment", str(sample), "--point", "160,200", "--segmenter", "builtin",
                                            "-o", str(mask)], work, env)
        inside = np.asarray(Image.open(mask)) > 0
        if inside.shape != (H, W) or not inside[200, 160] or inside.all():
            raise SystemExit(f"smoke test failed: the mask of a click at 160,200 covers {inside.mean():.0%} "
                             f"of the photo, clicked pixel {'in' if inside[200, 160] else 'NOT in'} it")
        dest = work / "sample_masked.png"
        _, dt = run(cmd + ["colorize", str(sample), "-o", str(dest), "--mask", str(mask), "--hint", "160,200,#3f8f3a"],
                    work, env)
        rgb = np.asarray(Image.open(dest).convert("RGB")).astype(int)
        spread = rgb.max(-1) - rgb.min(-1)
        if spread[~inside].max() > 1 or mean_chroma(dest) <= 1:
            raise SystemExit(f"smoke test failed: masked colorize put colour outside the mask "
                             f"(max {spread[~inside].max()}) or none inside")
        report["colorize"]["default, ground mask"] = {"seconds": round(dt, 2),
                                                      "mean_chroma_inside": round(float(spread[inside].mean()), 1)}

        if "maskgan" not in report["models_with_weights"]:
            stand_in = work / "stand-in-models"
            if write_stand_in_maskgan(stand_in):
                dest = work / "sample_stand_in.png"
                env_si = dict(env, HUEBRUSH_MODELS_DIR=str(stand_in))
                _, dt = run(cmd + ["colorize", str(sample), "-o", str(dest), "--model", "maskgan"] + hint_args,
                            work, env_si)
                chroma = mean_chroma(dest)  # the network's output must reach the written photo
                if chroma <= 3:
                    raise SystemExit(f"smoke test failed: the maskgan stand-in wrote a grey image (mean chroma {chroma:.1f})")
                report["colorize"]["maskgan (untrained stand-in)"] = {"seconds": round(dt, 2),
                                                                      "mean_chroma": round(chroma, 1)}
            else:
                report["colorize"]["maskgan (untrained stand-in)"] = "skipped: this Python cannot import models"

    for k, v in list(report.items()):
        if k.endswith("_s"):
            report[k] = round(v, 2)
    line = json.dumps(report)
    print(line)
    if args.json_out:
        Path(args.json_out).write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
