"""``python -m training grid``: genuine black-and-white photos side by side under several weights files.

    python -m training grid --data ../shared/datasets --model maskgan \\
        --weights before=old/maskgan.safetensors --weights after=resources/weights/maskgan.safetensors \\
        --out resources/weights/maskgan_grid.png [--count 12] [--work-size 512]

Rows are ``historical-bw`` photos (no colour truth exists for them: this is for looking, never for
numbers), evenly spaced through the folder; the first column is the photo as it is, then one
column per weights file, each colourized whole (no mask, no hints) at the work size and finished
to the cell size by guided upsampling, as the app does.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def grid(columns: list[tuple[str, object]], data: Path, out: Path, *, count: int = 12, work_size: int = 512,
         cell: int = 256) -> Path:
    from PIL import Image, ImageDraw

    from models.colour import lab_to_rgb, rgb_to_lab
    from models.types import ColorizeRequest
    from models.upsample import upsample_ab

    from .data import fit_long_side, list_images
    from .evaluate import fit_work_size

    files = list_images(data / "historical-bw")
    picks = files[:: max(1, len(files) // count)][:count]
    rows = []
    for path in picks:
        with Image.open(path) as im:
            rgb8 = np.asarray(im.convert("RGB"), np.uint8)
        L_cell = rgb_to_lab(fit_long_side(rgb8, cell).astype(np.float32) / 255.0)[..., 0]
        L_work = rgb_to_lab(fit_work_size(rgb8, work_size))[..., 0]
        cells = [lab_to_rgb(L_cell, np.zeros(L_cell.shape + (2,), np.float32))]
        for _, model in columns:
            ab = np.asarray(model.predict(ColorizeRequest.whole_photo(L_work.astype(np.float32))), np.float32)
            cells.append(lab_to_rgb(L_cell, upsample_ab(ab, L_cell)))
        row = np.ones((cell, len(cells) * (cell + 4), 3), np.float32)
        for i, c in enumerate(cells):
            h, w = c.shape[:2]
            y0, x0 = (cell - h) // 2, i * (cell + 4) + (cell - w) // 2
            row[y0 : y0 + h, x0 : x0 + w] = c
        rows.append(row)
    body = np.concatenate([np.pad(r, ((2, 2), (0, 0), (0, 0)), constant_values=1.0) for r in rows], axis=0)
    head = np.ones((22, body.shape[1], 3), np.float32)
    img = Image.fromarray((np.clip(np.concatenate([head, body]), 0, 1) * 255 + 0.5).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for i, label in enumerate(["photo"] + [name for name, _ in columns]):
        draw.text((i * (cell + 4) + 6, 5), label, fill=(0, 0, 0))
    from models.fileio import atomic_write

    return atomic_write(Path(out), lambda f: img.save(f, format="PNG"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training grid", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="the shared datasets folder")
    p.add_argument("--model", default="maskgan", help="the registered model the weights files are for")
    p.add_argument("--weights", action="append", required=True, metavar="LABEL=FILE",
                   help="a column: its label and a .safetensors file (with its .json); repeat")
    p.add_argument("--out", required=True, help="the PNG to write")
    p.add_argument("--count", type=int, default=12)
    p.add_argument("--work-size", type=int, default=512)
    args = p.parse_args(argv)
    from .evaluate import _model_with_weights

    cols = []
    for item in args.weights:
        label, sep, file = item.partition("=")
        if not sep:
            p.error(f"--weights {item!r}: write LABEL=FILE")
        cols.append((label, _model_with_weights(args.model, file, "cpu")))
    print(grid(cols, Path(args.data), Path(args.out), count=args.count, work_size=args.work_size))
    return 0
