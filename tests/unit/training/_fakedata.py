"""A tiny stand-in for ../shared/datasets (Tiny ImageNet zip shards, BSDS500 folders) made in tests."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image


def colourful_photo(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth colour gradients plus a coloured block: learnable, clearly not grey."""
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    c0, c1 = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    img = c0 * yy[..., None] + c1 * xx[..., None] * (1 - yy[..., None])
    y, x = rng.integers(0, size // 2, 2)
    img[y : y + size // 3, x : x + size // 3] = rng.uniform(0, 1, 3)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def make_fake_datasets(root: Path, n_train: int = 60, n_val: int = 10, size: int = 32, seed: int = 0,
                       n_bsds: int = 2) -> Path:
    rng = np.random.default_rng(seed)
    tin = root / "tinyimagenet64"
    tin.mkdir(parents=True)
    for split, n, shards in (("train", n_train, 2), ("val", n_val, 1)):
        rows = ["file,class_index,wnid,name"]
        per = -(-n // shards)
        for s in range(shards):
            with zipfile.ZipFile(tin / f"{split}-{s:03d}.zip", "w", zipfile.ZIP_STORED) as z:
                for i in range(s * per, min(n, (s + 1) * per)):
                    name = f"{split}_{i}.JPEG"
                    buf = io.BytesIO()
                    Image.fromarray(colourful_photo(rng, size)).save(buf, "JPEG", quality=95)
                    z.writestr(name, buf.getvalue())
                    rows.append(f"{name},{i % 3},n{i % 3:08d},class {i % 3}")
        (tin / f"{split}_labels.csv").write_text("\n".join(rows) + "\n")
    for split in ("train", "test"):
        img_dir = root / "bsds500" / "images" / split
        seg_dir = root / "bsds500" / "segmentations" / split
        img_dir.mkdir(parents=True)
        seg_dir.mkdir(parents=True)
        for i in range(n_bsds):
            Image.fromarray(colourful_photo(rng, 80)[:, :60]).save(img_dir / f"{i}.jpg")
            lab = np.zeros((80, 60), np.uint16)
            lab[20:50, 10:40] = 1
            lab[60:, :] = 2
            Image.fromarray(lab).save(seg_dir / f"{i}_1.png")
    return root
