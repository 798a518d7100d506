"""Colour regions: does a chosen colour come out as asked, and what do regions cost at 24 MP?

    python bench/regions.py [--data ../shared/datasets] [--limit 40] [--width 6000 --height 4000]

Prints one JSON object:

- ``tint_hue``: held-out coco80 photos made grey; each photo's centre (the middle 60 % of each side)
  becomes one region of a chosen colour, for eight everyday colours; the export's pixels (gamut
  mapped, lightness kept) are read back as Lab. Counted only where the lightness allows the colour
  (the asked a, b at the pixel's L lies inside sRGB) and with output chroma over 5: the share of
  pixels whose hue is within 20 degrees of the asked hue (goal: the colour-control issue's bar), and
  the mean hue error. Where the lightness does not allow it, the share of pixels that still keep
  the hue within 20 degrees is printed beside it.
- ``memory_24mp``: peak RSS of the full-size finish + 16-bit TIFF export of a 24 MP photo with one
  plain mask, and with five overlapping regions (three network, two chosen colours), each in its own
  child process; goal: five regions within 1.5x of the single mask.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

COLOURS = {"brick red": "#9c3b2a", "navy": "#2b3a67", "olive": "#6b7a3a", "sky blue": "#7aa6d6",
           "skin": "#d8a88a", "mustard": "#c9a23a", "forest green": "#2f5d3a", "purple": "#6a3d7a"}


def _hue(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(b, a))


def _hue_diff(h1: np.ndarray, h2: float) -> np.ndarray:
    d = np.abs(h1 - h2) % 360.0
    return np.minimum(d, 360.0 - d)


def tint_hue(data: Path, limit: int) -> dict:
    from app.core.export import result_rgb
    from app.core.regions import Region, compose_regions
    from models.colour import hex_to_rgb, lab_to_linear_rgb, rgb_to_ab, rgb_to_lab
    from training.heldout import iter_set

    ok = allowed = kept_out = out_n = 0
    errors: list[float] = []
    err_out: list[float] = []
    per_colour: dict[str, float] = {}
    photos = 0
    for _, rgb8 in iter_set(data, "coco80", limit):
        photos += 1
        rgb = rgb8.astype(np.float32) / 255.0 if rgb8.dtype == np.uint8 else rgb8
        L = rgb_to_lab(rgb)[..., 0].astype(np.float32)
        H, W = L.shape
        mask = np.zeros((H, W), bool)
        mask[int(0.2 * H) : int(0.8 * H), int(0.2 * W) : int(0.8 * W)] = True
        for name, hx in COLOURS.items():
            a, b = rgb_to_ab(hex_to_rgb(hx))
            ab = compose_regions(None, [Region(name, mask, "tint", hx)], 0.0, (H, W))
            out = np.clip(result_rgb(L, ab), 0.0, 1.0)
            lab = rgb_to_lab(out)
            la, lb = lab[..., 1][mask], lab[..., 2][mask]
            chroma = np.hypot(la, lb) > 5.0
            # can this a, b exist at each pixel's lightness? (the unmapped conversion stays in [0, 1])
            raw = lab_to_linear_rgb(L[mask][:, None], np.broadcast_to(np.float32([a, b]), (int(mask.sum()), 1, 2)))
            possible = ((raw >= -1e-3) & (raw <= 1 + 1e-3)).all(axis=-1)[:, 0]
            d = _hue_diff(_hue(la, lb), float(_hue(np.float32(a), np.float32(b))))
            sel = possible & chroma
            allowed += int(sel.sum())
            ok += int((d[sel] <= 20.0).sum())
            errors.append(float(d[sel].mean()) if sel.any() else float("nan"))
            per_colour.setdefault(name, 0.0)
            per_colour[name] += float((d[sel] <= 20.0).mean()) if sel.any() else 0.0
            other = ~possible & chroma
            out_n += int(other.sum())
            kept_out += int((d[other] <= 20.0).sum())
            err_out.append(float(d[other].mean()) if other.any() else float("nan"))
    return {"photos": photos, "colours": len(COLOURS), "pixels_where_lightness_allows": allowed,
            "share_within_20_deg": round(ok / max(allowed, 1), 4), "goal_share": 1.0,
            "mean_hue_error_deg": round(float(np.nanmean(errors)), 2),
            "share_within_20_deg_by_colour": {k: round(v / max(photos, 1), 4) for k, v in per_colour.items()},
            "where_lightness_does_not_allow": {"pixels": out_n, "share_within_20_deg": round(kept_out / max(out_n, 1), 4),
                                              "mean_hue_error_deg": round(float(np.nanmean(err_out)), 2)}}


def _child(mode: str, width: int, height: int, folder: Path) -> None:
    """One export at full size in this process; prints its peak RSS and seconds."""
    import cv2

    from app.core.export import export_result
    from app.core.pipeline import Settings, finish, finish_regions
    from app.core.regions import Region

    rng = np.random.default_rng(0)
    L = np.empty((height, width), np.float32)
    for y in range(0, height, 500):  # a grey scan in blocks (no full-size float temporaries)
        L[y : y + 500] = rng.uniform(20, 90, (min(500, height - y), 1)).astype(np.float32) + \
            np.linspace(0, 5, width, dtype=np.float32)[None, :]
    wh, ww = round(512 * height / width), 512
    yy, xx = np.mgrid[0:wh, 0:ww].astype(np.float32)
    ab_work = np.stack([25.0 * np.sin(xx / 60.0), 30.0 * np.cos(yy / 45.0) - 10.0], axis=-1).astype(np.float32)
    settings = Settings(feather=4.0)

    def ellipse(cx, cy, rx, ry) -> np.ndarray:
        m = np.zeros((height, width), np.uint8)
        cv2.ellipse(m, (int(cx * width), int(cy * height)), (int(rx * width), int(ry * height)), 0, 0, 360, 1, -1)
        return m.view(bool)

    base = time.perf_counter()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if mode == "mask":
        ab = finish(L, ab_work, ellipse(0.5, 0.5, 0.4, 0.4), settings)
    else:
        regions = [Region("sky", ellipse(0.5, 0.3, 0.45, 0.25)), Region("field", ellipse(0.5, 0.75, 0.45, 0.2)),
                   Region("house", ellipse(0.5, 0.5, 0.2, 0.2), "tint", "#9c3b2a"),
                   Region("door", ellipse(0.5, 0.6, 0.05, 0.08), "tint", "#2b3a67"),
                   Region("tree", ellipse(0.8, 0.4, 0.1, 0.25), saturation=0.8)]
        ab = finish_regions(L, ab_work, regions, settings)
        del regions
    export_result(folder / f"{mode}.tif", L, ab, bit_depth=16)
    print(json.dumps({"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
                      "rss_before_mb": round(rss0, 1), "seconds": round(time.perf_counter() - base, 2)}))


def memory(width: int, height: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="huebrush_regions_"))
    res = {}
    for mode in ("mask", "regions"):
        p = subprocess.run([sys.executable, __file__, "--child", mode, "--width", str(width), "--height", str(height),
                            "--folder", str(folder)], check=True, capture_output=True, text=True)
        res[mode] = json.loads(p.stdout.strip().splitlines()[-1])
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    res["ratio_regions_to_mask"] = round(res["regions"]["peak_rss_mb"] / res["mask"]["peak_rss_mb"], 3)
    res["goal_ratio"] = 1.5
    res["image"] = f"{width}x{height}, 16-bit TIFF out, five regions vs one mask"
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--width", type=int, default=6000)
    ap.add_argument("--height", type=int, default=4000)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.width, args.height, args.folder)
        return
    out = {"tint_hue": tint_hue(args.data, args.limit)}
    if not args.skip_memory:
        out["memory_24mp"] = memory(args.width, args.height)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
