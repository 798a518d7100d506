"""The reference model on held-out photos: each photo made grey, its own colour original mirrored
and cropped to the central 80 % as the reference (a second shot of the scene). Prints JSON.

    python bench/reference_transfer.py [--set coco80] [--limit N] [--work-size 512]

Goals (colour-control issue): PSNR at least 3 dB above the grey photo's and colourfulness ratio at
least 0.8 on coco80; under 2 s for a 1 MP photo on 2 cores (``seconds_1mp``, timed separately).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--set", default="coco80")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--work-size", type=int, default=512)
    ap.add_argument("--match-full", action="store_true", help="match at the photo's own size (the old way)")
    args = ap.parse_args()
    from models.colour import lab_to_rgb, rgb_to_lab
    from models.reference import ReferenceColorizer
    from models.types import ColorizeRequest
    from training.evaluate import colourfulness, psnr
    from training.heldout import GREY_CHROMA, fit_work_size, iter_set, mean_chroma

    col = ReferenceColorizer(feature_side=None) if args.match_full else ReferenceColorizer()
    gains, cf, cf0, secs = [], [], [], []
    for _, rgb8 in iter_set(args.data, args.set, args.limit):
        rgb = fit_work_size(rgb8, args.work_size)
        lab = rgb_to_lab(rgb)
        L, ab = lab[..., 0].astype(np.float32), lab[..., 1:]
        if mean_chroma(ab) < GREY_CHROMA:
            continue
        h, w = L.shape
        ref = rgb_to_lab(np.ascontiguousarray(rgb[int(0.1 * h) : int(0.9 * h), int(0.1 * w) : int(0.9 * w)][:, ::-1]))
        req = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=np.zeros(L.shape + (2,), np.float32),
                              hint_mask=np.zeros_like(L), reference_L=ref[..., 0].astype(np.float32),
                              reference_ab=ref[..., 1:].astype(np.float32))
        t = time.perf_counter()
        out = lab_to_rgb(L, col.predict(req))
        secs.append(time.perf_counter() - t)
        gains.append(psnr(out, rgb) - psnr(lab_to_rgb(L, np.zeros_like(ab)), rgb))
        cf.append(colourfulness(out))
        cf0.append(colourfulness(rgb))
    # 1 MP: a 1155 x 866 photo, its own mirror as the reference
    rng = np.random.default_rng(0)
    big = np.clip(rng.random((866, 1155, 3)).astype(np.float32) * 0.2 + 0.4, 0, 1)
    blab = rgb_to_lab(big)
    req = ColorizeRequest(L=blab[..., 0].astype(np.float32), mask=np.ones(blab.shape[:2], np.float32),
                          hint_ab=np.zeros(blab.shape[:2] + (2,), np.float32), hint_mask=np.zeros(blab.shape[:2], np.float32),
                          reference_L=np.ascontiguousarray(blab[:, ::-1, 0]), reference_ab=np.ascontiguousarray(blab[:, ::-1, 1:]))
    t = time.perf_counter()
    col.predict(req)
    t1mp = time.perf_counter() - t
    # the same request matched at its own size (how it ran before MAX_FEATURE_SIDE), in this run
    full = ReferenceColorizer(feature_side=None)
    full.encoder = col.encoder
    t = time.perf_counter()
    full.predict(req)
    t1mp_full = time.perf_counter() - t
    print(json.dumps({"set": args.set, "photos": len(gains), "work_size": args.work_size,
                      "matched_at": "full size" if args.match_full else f"at most {col.feature_side} px",
                      "psnr_gain_over_grey": round(float(np.mean(gains)), 3),
                      "colourfulness_ratio": round(float(np.mean(cf) / np.mean(cf0)), 3),
                      "seconds_median_at_work_size": round(float(np.median(secs)), 3), "seconds_1mp": round(t1mp, 2),
                      "seconds_1mp_matched_at_full_size": round(t1mp_full, 2),
                      "goals": {"psnr_gain_over_grey": 3.0, "colourfulness_ratio": 0.8, "seconds_1mp": 2.0}}, indent=2))


if __name__ == "__main__":
    main()
