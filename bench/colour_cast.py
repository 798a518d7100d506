"""How much of a held-out set's colour is one cast per photo, and does the model predict it? Prints JSON.

    python bench/colour_cast.py [--model maskgan] [--weights FILE] [--sets documerica,coco80,tinyimagenet]
                                [--limit N] [--data ../shared/datasets]

A diagnostic, not a setting: it reads the evaluation sets' own colours, and nothing it finds is
used by the app or the export. Same protocol as ``python -m training evaluate`` (256 px work
size, greyscale input, whole-photo mask, no hints; photos with mean chroma under 2 skipped).
Per set, with the photo's *cast* = its mean ab and its *local colour* = ab minus the cast:

- ``grey_psnr`` and ``psnr_gain`` (the model as shipped, dB over grey);
- ``true_cast_only``: every pixel painted the photo's true mean ab (an oracle);
- ``model_local_with_true_cast``: the model's local colour on the true cast (an oracle);
- ``model_local_no_cast``: the model's local colour alone;
- ``cast_share``: the cast's share of the photo's ab energy, mean over photos;
- ``set_mean_cast``: the set's mean ab, true and predicted (a > 0 red, b > 0 yellow, b < 0 blue);
- ``cast_agreement``: per photo, the cosine between the true and predicted cast (median), the
  correlation of a and of b across photos, and the least-squares gain of true on predicted;
- ``set_offset_2fold``: the model plus one fixed ab offset learned on half of the set (the mean
  difference of true and predicted casts), scored on the other half, both ways: what a
  per-collection "film cast" setting would give.

``--sets train:photos-large,train:bsds500,train:tinyimagenet`` reads the training photos instead
(N of each with ``--limit``: photos-large spread over its sources, Tiny ImageNet over its classes).
Result (maskgan-v2 as shipped on 2026-12-07, ``--limit 150``, one run): mean b (yellow) true vs
predicted on the photos it learnt from: photos-large 9.4 vs 12.2 (+0.32 dB over grey), BSDS500 10.7
vs 10.2 (+2.20 dB), Tiny ImageNet 6.1 vs 11.3 (-0.23 dB); photos-large val 7.8 vs 13.5 (-0.09 dB).
The network is warmer than the photos it learnt from except on BSDS500, whose held-back photos
(true b 15.0, predicted 12.2) are what the export calibrates on, so no offset is chosen there.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def analyse(items: list[tuple]) -> dict:
    """``items``: (L, true ab, true rgb, predicted ab) per photo, float arrays at the work size."""
    from models.colour import lab_to_rgb
    from training.evaluate import colourfulness, psnr

    def score(fn) -> tuple[float, float]:
        outs = [(lab_to_rgb(L, fn(ab, p)), rgb) for L, ab, rgb, p in items]
        return (float(np.mean([psnr(o, rgb) for o, rgb in outs])),
                float(np.mean([colourfulness(o) for o, _ in outs])))

    mean = lambda a: a.reshape(-1, 2).astype(np.float64).mean(0)  # noqa: E731
    r2 = lambda v: [round(float(x), 2) for x in v]  # noqa: E731
    grey, _ = score(lambda ab, p: np.zeros_like(ab))
    cf_true = float(np.mean([colourfulness(rgb) for _, _, rgb, _ in items]))

    def row(fn) -> dict:
        ps, cf = score(fn)
        return {"psnr_gain": round(ps - grey, 3), "cf_ratio": round(cf / cf_true, 3)}

    T = np.array([mean(ab) for _, ab, _, _ in items])
    P = np.array([mean(p) for *_, p in items])
    cos = (T * P).sum(1) / (np.linalg.norm(T, axis=1) * np.linalg.norm(P, axis=1) + 1e-9)
    share = [float((mean(ab) ** 2).sum() / max((ab ** 2).sum(-1).mean(), 1e-9)) for _, ab, _, _ in items]
    folds = []
    for k in (0, 1):
        fit, test = items[k::2], items[1 - k::2]
        off = np.mean([mean(ab) - mean(p) for _, ab, _, p in fit], 0)
        folds.append((test, off))
    # the two test halves are every photo once, so grey and the originals' colourfulness are the set's
    shifted = [(lab_to_rgb(L, p + off), rgb) for test, off in folds for L, _, rgb, p in test]
    return {
        "photos": len(items),
        "grey_psnr": round(grey, 3),
        "as_shipped": row(lambda ab, p: p),
        "true_cast_only": row(lambda ab, p: np.broadcast_to(mean(ab), ab.shape)),
        "model_local_with_true_cast": row(lambda ab, p: p - mean(p) + mean(ab)),
        "model_local_no_cast": row(lambda ab, p: p - mean(p)),
        "cast_share": round(float(np.mean(share)), 3),
        "set_mean_cast": {"true": r2(T.mean(0)), "predicted": r2(P.mean(0))},
        "cast_agreement": {"median_cosine": round(float(np.median(cos)), 3),
                           "corr_a": round(float(np.corrcoef(T[:, 0], P[:, 0])[0, 1]), 3),
                           "corr_b": round(float(np.corrcoef(T[:, 1], P[:, 1])[0, 1]), 3),
                           "ls_gain": round(float((T * P).sum() / max((P * P).sum(), 1e-9)), 3)},
        "set_offset_2fold": {"offsets": [r2(off) for _, off in folds],
                             "psnr_gain": round(float(np.mean([psnr(o, rgb) for o, rgb in shifted])) - grey, 3),
                             "cf_ratio": round(float(np.mean([colourfulness(o) for o, _ in shifted])) / cf_true, 3)},
    }


def iter_photos(data: Path, name: str, limit: int | None):
    """(name, uint8 RGB) of a held-out set, or with ``train:`` in front (``train:photos-large``,
    ``train:bsds500``, ``train:tinyimagenet``) of the photos the models trained on: whether the
    model's mean colour matches even the photos it learnt from."""
    from training.heldout import iter_set

    if not name.startswith("train:"):
        yield from iter_set(data, name, limit)
        return
    source = name.split(":", 1)[1]
    spread = lambda n: range(0, n, max(1, n // (limit or n)))[: limit or None]  # noqa: E731  (over sources / classes)
    if source == "tinyimagenet":
        from training.data import TinyImageNet

        ds = TinyImageNet(data, "train")
        for i in spread(len(ds)):
            yield ds.members[i][1], ds.read_uint8(i)
        return
    if source == "photos-large":
        from PIL import Image

        from training.data import photos_large_paths

        paths = photos_large_paths(data, "train")
        for i in spread(len(paths)):
            with Image.open(paths[i]) as im:
                yield paths[i].name, np.asarray(im.convert("RGB"), np.uint8)
        return
    if source == "bsds500":
        yield from iter_set(data, "bsds500", limit)
        return
    raise SystemExit(f"colour_cast: unknown set {name!r}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="maskgan")
    p.add_argument("--weights", default=None, help="a .safetensors with its .json (default: the installed one)")
    p.add_argument("--sets", default="documerica,coco80,tinyimagenet")
    p.add_argument("--limit", type=int, default=None, help="photos per set (default: all; Tiny ImageNet val: 2,000)")
    p.add_argument("--work-size", type=int, default=256)
    p.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    args = p.parse_args(argv)

    from models.colour import rgb_to_lab
    from models.types import ColorizeRequest
    from training.evaluate import _model_with_weights, fit_work_size, mean_chroma

    model = _model_with_weights(args.model, args.weights, "cpu")
    out = {"model": args.model, "weights": args.weights or "installed", "work_size": args.work_size, "sets": {}}
    for name in args.sets.split(","):
        items = []
        for _, rgb8 in iter_photos(Path(args.data), name, args.limit):
            rgb = fit_work_size(rgb8, args.work_size)
            lab = rgb_to_lab(rgb)
            L, ab = lab[..., 0].astype(np.float32), lab[..., 1:]
            if mean_chroma(ab) < 2:
                continue
            pred = np.asarray(model.predict(ColorizeRequest.whole_photo(L)), np.float32)
            items.append((L, ab, rgb, pred))
        out["sets"][name] = analyse(items)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
