"""24 MP 16-bit greyscale TIFF: load + upsample chroma + composite + export 16-bit TIFF.

Goal (issue 2): total under 2 s, peak memory under 2.5 GB on a 2-core CPU.
Prints one JSON object: seconds per stage, total, peak RSS, and a side-by-side of the
Lab -> sRGB conversion (models.colour.lab_to_rgb, block by block, vs app.core.export.result_rgb,
vs OpenCV's cvtColor) measured in the same run, after the peak-memory reading. CPU seconds
are printed beside wall seconds because a shared machine inflates the wall clock.

    python bench/export_24mp.py [--width 6000 --height 4000] [--repeat N] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_tiff(path: Path, width: int, height: int) -> None:
    """A photo-like 16-bit grey scan (gradients, edges, grain), written in a child process
    so its float temporaries do not count towards the measured peak."""
    import tifffile

    rng = np.random.default_rng(0)
    out = np.empty((height, width), np.uint16)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)
    step = 256
    for y0 in range(0, height, step):
        y = np.linspace(y0 / height, min(y0 + step, height) / height, min(step, height - y0), dtype=np.float32)
        v = 0.15 + 0.6 * x[None, :] * (1.0 - 0.4 * y[:, None])
        v = v + 0.2 * ((np.sin(x[None, :] * 23.0) * np.cos(y[:, None] * 17.0)) > 0.3)  # hard-edged shapes
        v = v + rng.normal(0.0, 0.01, v.shape).astype(np.float32)  # film grain
        out[y0 : y0 + len(y)] = (np.clip(v, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)
    tifffile.imwrite(path, out)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=6000)
    ap.add_argument("--height", type=int, default=4000)
    ap.add_argument("--keep", help="write the files here instead of a temporary folder")
    ap.add_argument("--repeat", type=int, default=1, help="run the pipeline N times, report each stage's best")
    ap.add_argument("--make", help=argparse.SUPPRESS)  # child process: only write the TIFF
    args = ap.parse_args()
    if args.make:
        make_tiff(Path(args.make), args.width, args.height)
        return

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="huebrush_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / "scan24mp.tif"
    out = folder / "scan24mp_colour.tif"
    subprocess.run([sys.executable, __file__, "--make", str(src), "--width", str(args.width),
                    "--height", str(args.height)], check=True)

    import cv2

    from app.core.composite import composite_ab
    from app.core.document import load_image
    from app.core.export import export_result
    from models.upsample import upsample_ab

    # Inputs the model would give: a 512 px ab map and a painted mask (not timed).
    wh, ww = round(512 * args.height / args.width), 512
    yy, xx = np.mgrid[0:wh, 0:ww].astype(np.float32)
    ab_small = np.stack([25.0 * np.sin(xx / 60.0), 30.0 * np.cos(yy / 45.0) - 10.0], axis=-1).astype(np.float32)
    mask = np.zeros((args.height, args.width), np.uint8)
    cv2.ellipse(mask, (args.width // 2, args.height // 2), (args.width * 2 // 5, args.height * 2 // 5), 0, 0, 360, 1, -1)
    mask = mask.view(bool)
    rss_before = peak_rss_mb()

    stages: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def timed(name: str, fn):
        t, c = time.perf_counter(), time.process_time()
        value = fn()
        wall, used = time.perf_counter() - t, time.process_time() - c
        # best of --repeat runs: on a shared machine the minimum is the least disturbed
        stages[name], cpu[name] = min(stages.get(name, wall), wall), min(cpu.get(name, used), used)
        return value

    for _ in range(max(1, args.repeat)):
        doc = timed("load", lambda: load_image(src))
        ab_full = timed("upsample_chroma", lambda: upsample_ab(ab_small, doc.L))
        ab = timed("composite", lambda full=ab_full: composite_ab(full, mask, 4.0, 1.0))
        del ab_full
        timed("export_16bit_tiff", lambda: export_result(out, doc.L, ab, bit_depth=16, icc_profile=doc.icc_profile,
                                                         exif=doc.exif, protect=(src,)))
        if _ + 1 < max(1, args.repeat):
            del doc, ab  # so the peak reflects one photo in flight, not two
    total = sum(stages.values())
    peak = peak_rss_mb()

    result = {
        "image": f"{args.width}x{args.height} 16-bit grey TIFF",
        "cpu_count": os.cpu_count(),
        "repeat": args.repeat,
        "seconds": {k: round(v, 3) for k, v in stages.items()},
        "total_seconds": round(total, 3),
        "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
        "load_average_1min": round(os.getloadavg()[0], 2),
        "goal_total_seconds": 2.0,
        "peak_rss_mb": round(peak, 1),
        "rss_before_pipeline_mb": round(rss_before, 1),
        "goal_peak_mb": 2560,
        "coloured_fraction": round(float(np.count_nonzero(mask)) / mask.size, 3),
        "export_breakdown": export_breakdown(doc.L, ab, folder),
        "lab_to_rgb_comparison": compare_conversions(doc.L, ab),
    }
    print(json.dumps(result, indent=2))


def export_breakdown(L: np.ndarray, ab: np.ndarray, folder: Path) -> dict:
    """Where export time goes: Lab -> 16-bit RGB, then encode + write + fsync."""
    import tifffile

    from app.core.export import quantised_rgb

    t = time.perf_counter()
    pixels = quantised_rgb(L, ab, None, 16)
    t_convert = time.perf_counter() - t
    t = time.perf_counter()
    with open(folder / "raw.tif", "wb") as fh:
        tifffile.imwrite(fh, pixels, photometric="rgb")
        fh.flush()
        os.fsync(fh.fileno())
    t_write = time.perf_counter() - t
    return {"lab_to_uint16_rgb": round(t_convert, 3), "tiff_write_fsync": round(t_write, 3),
            "output_mb": round(pixels.nbytes / 1e6, 1)}


def compare_conversions(L: np.ndarray, ab: np.ndarray) -> dict:
    """Before/after on the same full-size data; the reference runs in row blocks to fit memory."""
    import cv2

    from app.core.export import result_rgb
    from models.colour import lab_to_rgb

    h, w = L.shape
    step = max(1, (1 << 20) // w)
    ref = np.empty((h, w, 3), np.float32)
    t = time.perf_counter()
    for y in range(0, h, step):
        ref[y : y + step] = lab_to_rgb(L[y : y + step], ab[y : y + step])
    t_ref = time.perf_counter() - t

    t = time.perf_counter()
    fast = result_rgb(L, ab)
    t_fast = time.perf_counter() - t
    err_fast = float(np.abs(fast - ref).max())
    del fast

    t = time.perf_counter()
    cv = np.empty((h, w, 3), np.float32)
    for y in range(0, h, step):
        lab = np.concatenate([L[y : y + step, :, None], ab[y : y + step]], axis=-1)
        cv[y : y + step] = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    t_cv = time.perf_counter() - t
    err_cv = float(np.abs(cv - ref).max())
    return {
        "models.colour.lab_to_rgb_blocks_s": round(t_ref, 3),
        "export.result_rgb_s": round(t_fast, 3),
        "speedup": round(t_ref / max(t_fast, 1e-9), 2),
        "result_rgb_max_abs_diff": err_fast,
        "cv2_cvtColor_Lab2RGB_s": round(t_cv, 3),
        "cv2_max_abs_diff": err_cv,
        "note": "cv2 clips instead of keeping L when out of gamut, hence its larger difference",
    }


if __name__ == "__main__":
    main()
