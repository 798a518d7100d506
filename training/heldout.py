"""The held-out photo sets and how a colorizer meets them: read a set, bring a photo to the work
size, the evaluation's masks and true-colour hints (shared by ``evaluate`` and ``judge``)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

GREY_CHROMA = 2.0  # mean |ab| under this: the "colour" photo is really greyscale (2 in coco80)


def mean_chroma(ab: np.ndarray) -> float:
    return float(np.mean(np.hypot(ab[..., 0], ab[..., 1])))


def fit_work_size(rgb: np.ndarray, work_size: int) -> np.ndarray:
    """The photo at the work size (long side at most ``work_size``; never upscaled), float [0, 1]."""
    import cv2

    h, w = rgb.shape[:2]
    s = min(1.0, work_size / max(h, w))
    if s < 1.0:
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return np.asarray(rgb, np.float32) / 255.0


def iter_set(data: Path, name: str, limit: int | None) -> Iterator[tuple[str, np.ndarray]]:
    """(photo name, uint8 RGB) for one held-out set."""
    if name == "tinyimagenet":
        from training.data import TinyImageNet

        ds = TinyImageNet(data, "val", limit=limit)
        for i in range(len(ds)):
            yield ds.members[i][1], ds.read_uint8(i)
        return
    from PIL import Image

    from training.data import list_images, photos_large_paths

    if name == "photos-large":  # its fixed val split: never trained, tuned or calibrated on
        paths = photos_large_paths(data, "val")
        for p in paths[:limit] if limit else paths:
            with Image.open(p) as im:
                yield p.name, np.asarray(im.convert("RGB"), np.uint8)
        return
    # bsds500 is not a test set: it is what post-training calibration may look at.
    folder = data / "bsds500" / "images" / "train" if name == "bsds500" else data / "photos" / name
    paths = list_images(folder)
    for p in paths[:limit] if limit else paths:
        with Image.open(p) as im:
            yield p.name, np.asarray(im.convert("RGB"), np.uint8)


SETS = ("tinyimagenet", "documerica", "coco80", "photos-large")


def eval_mask(h: int, w: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """float32 {0, 1}: the whole photo, or a random painted-style mask with both sides present."""
    if kind == "whole":
        return np.ones((h, w), np.float32)
    from training.masks import sample_mask

    for _ in range(50):
        m = sample_mask(h, w, rng)
        if 0 < m.sum() < m.size:
            return m.astype(np.float32)
    m = np.zeros((h, w), np.float32)
    m[: h // 2] = 1.0
    return m


def eval_hints(ab: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """k hints sampled from the true ab (h, w, 2): (hint_ab (h, w, 2), hint_mask (h, w))."""
    h, w = ab.shape[:2]
    if k <= 0:
        return np.zeros((h, w, 2), np.float32), np.zeros((h, w), np.float32)
    import torch

    from training.hints import sample_hints

    hab, hm = sample_hints(torch.from_numpy(np.ascontiguousarray(ab.transpose(2, 0, 1))), rng, n_points=k)
    return hab.numpy().transpose(1, 2, 0).astype(np.float32), hm[0].numpy().astype(np.float32)
