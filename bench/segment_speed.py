"""Click latency of the segmenters; prints JSON.

- builtin (the learned segmenter): per-photo features, per-click time and the hover preview (a click
  added to the first one, answered at the work size) on a ~1 MP photo (goals: features < 1 s,
  a click < 100 ms, a hover preview < 50 ms, on 2 cores).
- classic (the weight-free superpixel segmenter): precompute and per-click time (goal: a click < 500 ms).
- tiny SAM (random weights, tiny encoder): the plumbing's per-click decode time and embedding
  time; with --checkpoint PATH, the same for a real SAM / MobileSAM file.

    python bench/segment_speed.py [--photo PATH] [--megapixels 1.0] [--clicks 20] [--checkpoint PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.segment.builtin import BuiltinSegmenter  # noqa: E402
from app.core.segment.types import Prompts  # noqa: E402


def _photo(path: Path | None, megapixels: float) -> tuple[np.ndarray, str]:
    import cv2
    from PIL import Image

    data = Path(os.environ.get("HUEBRUSH_DATA", REPO.parent / "shared" / "datasets"))
    path = path or next(iter(sorted((data / "photos" / "coco80").glob("*.jpg"))), None)
    if path is None:
        rng = np.random.default_rng(0)
        rgb = (cv2.GaussianBlur(rng.random((480, 640, 3)).astype(np.float32), (0, 0), 6) * 255).astype(np.uint8)
        name = "synthetic"
    else:
        rgb, name = np.asarray(Image.open(path).convert("RGB")), path.name
    h, w = rgb.shape[:2]
    s = np.sqrt(megapixels * 1e6 / (h * w))
    rgb = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)
    return rgb, name


def _clicks(shape: tuple[int, int], n: int) -> list[Prompts]:
    rng = np.random.default_rng(1)
    h, w = shape
    p = Prompts()
    out = []
    for k in range(n):
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        p = p.add_include(x, y) if k % 3 != 1 else p.add_exclude(x, y)
        out.append(p)
    return out


def _time_clicks(seg, prompts: list[Prompts]) -> dict:
    times = []
    for p in prompts:
        t0 = time.perf_counter()
        seg.segment(p)
        times.append(1000 * (time.perf_counter() - t0))
    return {"click_ms_mean": round(statistics.mean(times), 1), "click_ms_median": round(statistics.median(times), 1),
            "click_ms_max": round(max(times), 1)}


def bench_learned(rgb: np.ndarray, clicks: int) -> dict:
    from app.core.segment.learned import LearnedSegmenter

    seg = LearnedSegmenter()
    t0 = time.perf_counter()
    seg.set_image(rgb, key="bench")
    prep = 1000 * (time.perf_counter() - t0)
    prompts = _clicks(rgb.shape[:2], clicks)
    out = {"photo_size": list(rgb.shape[:2]), "work_size": list(seg.work_shape or ()),
           "features_ms": round(prep, 1), **_time_clicks(seg, prompts)}
    rng = np.random.default_rng(2)
    first = prompts[0]
    seg.segment(first)
    hover = []
    for _ in range(clicks):
        p = first.add_include(float(rng.uniform(0, rgb.shape[1])), float(rng.uniform(0, rgb.shape[0])))
        t0 = time.perf_counter()
        seg.preview(p)
        hover.append(1000 * (time.perf_counter() - t0))
    out.update(hover_ms_mean=round(statistics.mean(hover), 1), hover_ms_max=round(max(hover), 1))
    return out


def bench_classic(rgb: np.ndarray, clicks: int) -> dict:
    seg = BuiltinSegmenter()
    t0 = time.perf_counter()
    seg.set_image(rgb, key="bench")
    prep = 1000 * (time.perf_counter() - t0)
    return {"photo_size": list(rgb.shape[:2]), "precompute_ms": round(prep, 1),
            **_time_clicks(seg, _clicks(rgb.shape[:2], clicks))}


def bench_sam(rgb: np.ndarray, clicks: int, checkpoint: Path | None) -> dict:
    import torch
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    from app.core.segment.cache import EmbeddingCache
    from app.core.segment.checkpoints import installed_from_file
    from app.core.segment.sam import SamSegmenter

    with tempfile.TemporaryDirectory() as tmp:
        if checkpoint is None:
            torch.manual_seed(0)
            tiny = Sam(
                image_encoder=ImageEncoderViT(img_size=256, patch_size=16, embed_dim=64, depth=2, num_heads=2,
                                              out_chans=64, use_rel_pos=True, window_size=8, global_attn_indexes=(1,),
                                              norm_layer=partial(torch.nn.LayerNorm, eps=1e-6)),
                prompt_encoder=PromptEncoder(embed_dim=64, image_embedding_size=(16, 16), input_image_size=(256, 256),
                                             mask_in_chans=16),
                mask_decoder=MaskDecoder(num_multimask_outputs=3, transformer_dim=64,
                                         transformer=TwoWayTransformer(depth=2, embedding_dim=64, mlp_dim=256,
                                                                       num_heads=8)))
            checkpoint = Path(tmp) / "tiny_sam.pth"
            torch.save(tiny.state_dict(), checkpoint)
        ck = installed_from_file(checkpoint)
        seg = SamSegmenter(ck, cache=EmbeddingCache())
        t0 = time.perf_counter()
        seg.set_image(rgb, key="bench")
        emb = 1000 * (time.perf_counter() - t0)
        t0 = time.perf_counter()
        seg.set_image(rgb, key="bench")
        again = 1000 * (time.perf_counter() - t0)
        return {"checkpoint": ck.name, "model": ck.model, "embed_ms_first": round(emb, 1),
                "embed_ms_cached": round(again, 1), **_time_clicks(seg, _clicks(rgb.shape[:2], clicks))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", type=Path)
    ap.add_argument("--megapixels", type=float, default=1.0)
    ap.add_argument("--clicks", type=int, default=20)
    ap.add_argument("--checkpoint", type=Path, help="a real SAM/MobileSAM file (default: a tiny random SAM)")
    ap.add_argument("--skip-sam", action="store_true")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2)))
    rgb, name = _photo(args.photo, args.megapixels)
    out = {"photo": name, "cpu_threads": torch.get_num_threads(), "builtin": bench_learned(rgb, args.clicks),
           "classic": bench_classic(rgb, args.clicks)}
    if not args.skip_sam:
        out["sam"] = bench_sam(rgb, args.clicks, args.checkpoint)
    out["goals_ms"] = {"builtin_features": 1000, "builtin_click": 100, "builtin_hover": 50, "classic_click": 500}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
