"""maskgan v1's export-time calibration: chroma gains by work size and lightness, scales, mirroring,
the network's largest size and the hint settings, all fitted on training photos and the BSDS500
photos the trainer held back (never an evaluation set). ``training/export.py`` runs them.

v2 (the distribution network) needs none of this; its export is ``training/export_v2.py``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from models.types import DEFAULT_HINT_REACH

# --- chroma calibration on training photos ------------------------------------------------------

CURVE_GAINS = tuple(round(0.5 + 0.05 * i, 2) for i in range(39))  # 0.5 to 2.4 in steps of 0.05
CURVE_POWERS = (0.0,)
# The network saturates differently at different work sizes, so each calibration domain gets its
# own gain, keyed by its long side; the colorizer interpolates between them (log-linear).
DOMAIN_SIDES = {"tinyimagenet_train_64px": 64, "bsds500_heldback_256px": 256}
MULTI_SCALES = (1.0, 0.5)  # the work size and half of it, averaged (if it calibrates better)
CHECKPOINT_BLIND = ("bsds500_heldback_256px",)  # calibration domains that do not score checkpoints
# chroma by lightness: one factor per band of L (0-10, ..., 90-100), fitted on training photos
LIGHTNESS_CENTRES = tuple(float(c) for c in range(5, 100, 10))
LIGHTNESS_CLIP = (0.25, 2.0)


def heldback_photos(data: Path, holdout_every: int | None = None) -> list[np.ndarray]:
    """The BSDS500 test photos the trainer holds back (every ``holdout_every``-th, by default
    ``BSDS_VAL_EVERY``), uint8 at their own size (481 x 321); empty without the folder."""
    from .data import BSDS_VAL_EVERY, ImageFolder

    test = data / "bsds500" / "images" / "test"
    if not test.is_dir():
        return []
    folder = ImageFolder(test)
    return [folder.read(i) for i in range(0, len(folder), holdout_every or BSDS_VAL_EVERY)]


def calibration_photos(data: Path, n_chroma: int = 2000, n_hints: int = 200, seed: int = 0,
                       holdout_every: int | None = None, n_hints_large: int = 40) -> tuple[dict, dict, dict]:
    """Photos to calibrate on, none of them evaluation photos. Returns (chroma domains, hint
    domains, curve-fitting photos):
      - 64 px: random Tiny ImageNet *train* photos, ``n_chroma`` for the chroma gain and
        ``n_hints`` more for the hint settings. They are training photos, but with 54,000 of
        them the network is barely more colourful on them than on new ones, and they cover all
        200 classes (the trainer's ``holdout`` split is the tail of one shard, about 35 classes);
      - 256 px: the BSDS500 test photos the trainer held back (every ``holdout_every``-th, by
        default ``BSDS_VAL_EVERY``), all for the chroma gain, at most ``n_hints_large`` of them
        (evenly spaced) for the hint settings.
        On BSDS500 the network has seen each photo many times and is far surer on those (at the
        shipped gain its colourfulness ratio is 0.69 on its BSDS500 training photos, 0.56 on the
        held-back ones), so a gain chosen on them comes out too grey on new photos;
      - BSDS500 train photos at 256 px for the *shape* of the lightness curve, which is kept only
        if it helps on the calibration photos.
    """
    from .data import BSDS_VAL_SIZE, ImageFolder, TinyImageNet, fit_long_side

    train = TinyImageNet(data, "train")
    n_hints = max(1, min(n_hints, len(train) // 5))  # a small folder (tests): a fifth for the hints
    n_chroma = max(1, min(n_chroma, len(train) - n_hints))
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(train), n_chroma + n_hints, replace=False)
    u8 = [train.read_uint8(int(i)) for i in idx]
    chroma = {"tinyimagenet_train_64px": u8[:n_chroma]}
    hints = {"tinyimagenet_train_64px": u8[n_chroma:]}
    fit = {}
    test, bsds_train = data / "bsds500" / "images" / "test", data / "bsds500" / "images" / "train"
    if test.is_dir():
        held = [fit_long_side(u8, BSDS_VAL_SIZE) for u8 in heldback_photos(data, holdout_every)]
        chroma["bsds500_heldback_256px"] = held
        step = max(1, -(-len(held) // max(1, n_hints_large)))
        hints["bsds500_heldback_256px"] = held[::step]
    if bsds_train.is_dir():
        folder = ImageFolder(bsds_train, size=BSDS_VAL_SIZE)
        fit["bsds500_train_256px"] = [fit_long_side(folder.read(i), BSDS_VAL_SIZE) for i in range(0, len(folder), 2)]
    return chroma, hints, fit


@torch.no_grad()
def fit_lightness_curve(items, centres=LIGHTNESS_CENTRES, clip=LIGHTNESS_CLIP) -> list[list[float]]:
    """[[L, factor], ...]: per band of lightness, the least-squares gain of the predicted ab onto
    the true ab, divided by the overall one (so the curve only reshapes; the gain is calibrated
    after it). ``items``: (L (B,1,H,W), rgb (B,3,H,W), pred ab (B,2,H,W)) tensors."""
    from .data import lab_tensors

    n = len(centres)
    half = (centres[1] - centres[0]) / 2 if n > 1 else 50.0
    pt = torch.zeros(n, dtype=torch.float64)
    pp = torch.zeros(n, dtype=torch.float64)
    for L, rgb, pred in items:
        _, ab = lab_tensors(rgb)
        dot = (pred * ab).sum(1, keepdim=True).double()
        sq = (pred * pred).sum(1, keepdim=True).double()
        for k, c in enumerate(centres):
            lo = -1e9 if k == 0 else c - half
            hi = 1e9 if k == n - 1 else c + half
            band = (L >= lo) & (L < hi)
            pt[k] += dot[band].sum()
            pp[k] += sq[band].sum()
    overall = float(pt.sum() / pp.sum().clamp_min(1e-9))
    out = []
    for k, c in enumerate(centres):
        f = float(pt[k] / pp[k]) / overall if pp[k] > 0 and overall > 0 else 1.0
        out.append([float(c), round(min(clip[1], max(clip[0], f)), 3)])
    return out


@torch.no_grad()
def _predict_domain(gen, photos, batch: int = 100, scales=(1.0,), flip_min_side: int | None = None):
    """Whole-photo, no-hint predictions: lists of (L, true rgb, pred ab) tensors, batched by shape.

    With more than one scale or with mirroring (``flip_min_side``, as in the colorizer's config),
    each photo goes through the app's colorizer (``raw_ab``), one by one.
    """
    from models.maskgan import MaskGANColorizer, normalise_inputs

    from .data import lab_tensors, uint8_batch_to_rgb

    if len(scales) > 1 or flip_min_side is not None:
        col = MaskGANColorizer(gen, {"config": {"scales": list(scales), "flip_min_side": flip_min_side}}, "cpu")
        out = []
        for p in photos:
            rgb = uint8_batch_to_rgb(p[None])
            L, _ = lab_tensors(rgb)
            ab = col.raw_ab(L[0, 0].numpy(), np.ones(L.shape[2:], np.float32))
            out.append((L, rgb, torch.from_numpy(ab).permute(2, 0, 1)[None]))
        return out
    groups: dict[tuple, list] = {}
    for p in photos:
        groups.setdefault(p.shape, []).append(p)
    out = []
    for same in groups.values():
        for i in range(0, len(same), batch):
            rgb = uint8_batch_to_rgb(np.stack(same[i : i + batch]))
            L, ab = lab_tensors(rgb)
            pred = gen(normalise_inputs(L, torch.ones_like(L), torch.zeros_like(ab), torch.zeros_like(L)))
            out.append((L, rgb, pred))
    return out


def flip_threshold(helps: dict[int, bool]) -> int | None:
    """The smallest work size (long side) to mirror at, from {calibrated side: whether mirroring
    scored better there}: it must help at that side and every larger one; the threshold sits
    halfway (geometrically) down to the next smaller calibrated side, or at 0 below the smallest.
    None when it does not help at the largest side."""
    sides = sorted(helps)
    k = len(sides)
    while k > 0 and helps[sides[k - 1]]:
        k -= 1
    if k == len(sides):
        return None
    return 0 if k == 0 else round((sides[k - 1] * sides[k]) ** 0.5)


@torch.no_grad()
def calibrate_chroma(gen, domains: dict, target_ratio: float = 0.62, scales=(1.0,), lightness=None,
                     preds: dict | None = None, flip_min_side: int | None = None) -> dict:
    """Pick (gain, power) for ab' = ab * gain * (|ab| / 20) ** power on calibration photos.

    L1-trained colorizers under-saturate; scaling strong predictions more than weak ones
    (power > 0) boosts the colours the network is surest of. ``domains`` maps a name to a
    list of uint8 photos (e.g. 64 px Tiny ImageNet, 256 px BSDS500). Chooses the highest mean
    PSNR gain over grey (averaged over domains) among settings whose colourfulness ratio
    reaches ``target_ratio`` in every domain (else the most colourful setting). ``lightness``
    ([[L, factor], ...]) is applied per pixel first; ``preds`` reuses ``_predict_domain`` output.
    """
    from models.maskgan import apply_chroma_curve, lightness_factor

    from .data import lab_to_rgb_tensors
    from .losses import colourfulness, psnr

    gen.eval()
    if preds is None:
        preds = {name: _predict_domain(gen, photos, scales=scales, flip_min_side=flip_min_side)
                 for name, photos in domains.items()}
    factors = {name: [lightness_factor(L, lightness) for L, _, _ in items] for name, items in preds.items()}

    base = {}
    for name, items in preds.items():  # grey PSNR and the originals' colourfulness: once per domain
        pg = torch.cat([psnr(lab_to_rgb_tensors(L, torch.zeros_like(pred)), rgb) for L, rgb, pred in items])
        cf_t = torch.cat([colourfulness(rgb) for _, rgb, _ in items])
        base[name] = (pg.mean().item(), cf_t.mean().item())

    def measure(name: str, g: float, p: float) -> tuple[float, float, float]:
        ps, cf_o = [], []
        for (L, rgb, pred), f in zip(preds[name], factors[name]):
            out = lab_to_rgb_tensors(L, apply_chroma_curve(pred, g, p, factor=f))
            ps.append(psnr(out, rgb))
            cf_o.append(colourfulness(out))
        return torch.cat(ps).mean().item(), base[name][0], torch.cat(cf_o).mean().item() / base[name][1]

    table = []
    for g in CURVE_GAINS:
        for p in CURVE_POWERS:
            row = {"gain": g, "power": p}
            for name in domains:
                ps, pg, cf = measure(name, g, p)
                row[name] = {"psnr": ps, "psnr_gain": ps - pg, "cf_ratio": cf}
            row["psnr_gain"] = float(np.mean([row[n]["psnr_gain"] for n in domains]))
            row["cf_ratio_min"] = min(row[n]["cf_ratio"] for n in domains)
            table.append(row)
    ok = [t for t in table if t["cf_ratio_min"] >= target_ratio]
    best = max(ok, key=lambda t: t["psnr_gain"]) if ok else max(table, key=lambda t: t["cf_ratio_min"])
    # per domain: the best PSNR among settings that reach the colourfulness target there
    per_domain = {}
    for name in domains:
        ok_d = [t for t in table if t[name]["cf_ratio"] >= target_ratio]
        pick = max(ok_d, key=lambda t: t[name]["psnr_gain"]) if ok_d else max(table, key=lambda t: t[name]["cf_ratio"])
        per_domain[name] = {"gain": pick["gain"], "power": pick["power"], **pick[name]}
    return {"chosen": best, "per_domain": per_domain, "table": table, "photos": {n: len(v) for n, v in domains.items()},
            "target_ratio": target_ratio, "lightness": lightness}


@torch.no_grad()
def choose_net_cap(gen, config: dict, photos, cap: int, target_ratio: float = 0.62) -> dict:
    """Whole-photo, no-hint PSNR gain over grey and colourfulness ratio on large photos (uint8,
    each at its own size as the work size) with the network run at the work size, and with it
    capped at ``cap`` px (its colour then upsampled guided by L, ``config.net_max_side``). The cap
    is chosen if PSNR rises while the colourfulness ratio stays at the target (or at the uncapped
    one's, if that is already under it): a greyer result must not win by being greyer."""
    from models.colour import lab_to_rgb, rgb_to_lab
    from models.maskgan import MaskGANColorizer
    from models.types import ColorizeRequest

    from .evaluate import colourfulness

    rgbs = [np.asarray(u8, np.float32) / 255.0 for u8 in photos]
    Ls = [rgb_to_lab(rgb)[..., 0].astype(np.float32) for rgb in rgbs]
    grey = np.mean([_psnr_np(lab_to_rgb(L, np.zeros((*L.shape, 2), np.float32)), rgb) for L, rgb in zip(Ls, rgbs)])
    cf_true = max(float(np.mean([colourfulness(rgb) for rgb in rgbs])), 1e-9)
    rows = {}
    for name, c in (("uncapped", None), ("capped", cap)):
        col = MaskGANColorizer(gen, {"config": {**config, "net_max_side": c}}, "cpu")
        outs = [lab_to_rgb(L, col.predict(ColorizeRequest.whole_photo(L))) for L in Ls]
        rows[name] = {"psnr_gain": float(np.mean([_psnr_np(o, rgb) for o, rgb in zip(outs, rgbs)]) - grey),
                      "cf_ratio": float(np.mean([colourfulness(o) for o in outs]) / cf_true)}
    u, c = rows["uncapped"], rows["capped"]
    better = c["psnr_gain"] > u["psnr_gain"] and c["cf_ratio"] >= min(target_ratio, u["cf_ratio"])
    sides = sorted({max(p.shape[:2]) for p in photos})
    return {"photos": len(photos), "long_sides": sides, "cap": cap, **rows, "chosen": cap if better else None}


@torch.no_grad()
def choose_hint_mode(gen, rgb_u8, curve: tuple[float, float], n_hints: int = 10, seed: int = 0) -> dict:
    """Mean PSNR with ``n_hints`` true hints for each way of using them, on calibration photos.

    Modes: the network with hint inputs plus residual propagation, and residual propagation on
    the network's hint-free prediction. Returns the table and the best mode.
    """
    import numpy as np

    from models.colour import lab_to_rgb, rgb_to_lab
    from models.maskgan import MaskGANColorizer
    from models.types import ColorizeRequest

    from .hints import sample_hints

    rng = np.random.default_rng(seed)
    # only modes that honour every hint exactly (the app promises it), so hint reach applies too;
    # the network alone with hint inputs ("net") does not
    modes = {"net+residual": (True, True), "net_nohint+residual": (False, True)}
    cols = {}
    for name, (hint_input, residual) in modes.items():
        cfg = {"chroma_gain": curve[0], "chroma_power": curve[1], "hint_input": hint_input, "hint_residual": residual}
        cols[name] = MaskGANColorizer(gen, {"config": cfg}, "cpu")
    scores = {name: [] for name in modes}
    grey_scores = []
    for rgb8 in rgb_u8:
        rgb = rgb8.astype(np.float32) / 255.0
        lab = rgb_to_lab(rgb)
        L, ab = lab[..., 0], lab[..., 1:]
        hab, hm = sample_hints(torch.from_numpy(np.ascontiguousarray(ab.transpose(2, 0, 1))), rng, n_points=n_hints)
        req = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hab.numpy().transpose(1, 2, 0).copy(), hint_mask=hm[0].numpy().copy())
        grey_scores.append(_psnr_np(lab_to_rgb(L, np.zeros_like(ab)), rgb))
        for name, col in cols.items():
            scores[name].append(_psnr_np(lab_to_rgb(L, col.predict(req)), rgb))
    table = {name: float(np.mean(v)) for name, v in scores.items()}
    best = max(table, key=table.get)
    return {"grey_psnr": float(np.mean(grey_scores)), "psnr": table, "best": best,
            "hint_input": modes[best][0], "hint_residual": modes[best][1], "photos": len(rgb_u8), "hints": n_hints}


HINT_COUNTS = (1, 3, 10, 20)
HINT_TRUSTS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.0)
TRUST_REACHES = (DEFAULT_HINT_REACH, 1.0)  # the trust is calibrated at these hint reaches


def calibrate_hint_trust(colorizer, domains: dict, counts=HINT_COUNTS, trusts=HINT_TRUSTS, seed: int = 0,
                         reach: float | None = None) -> dict:
    """How much of the network's colour to keep near k hints, chosen on calibration photos.

    For residual hint following (``models.maskgan.follow_hints``): near the hints the
    prediction is scaled by t, then the difference to each hint is spread (as far as
    ``reach`` lets it). True hints say both where colours are and how strong the photo's
    colours are, so with hints the network's own guess is worth less. For each hint count the
    trust t with the best mean PSNR (averaged over ``domains``: name -> uint8 photos) is kept.
    """
    import numpy as np

    from models.colour import lab_to_rgb, rgb_to_lab
    from models.maskgan import follow_hints
    from models.types import DEFAULT_HINT_REACH, ColorizeRequest

    from .hints import sample_hints

    reach = DEFAULT_HINT_REACH if reach is None else reach
    rng = np.random.default_rng(seed)
    scores = {k: {name: {t: [] for t in trusts} for name in domains} for k in counts}
    for name, photos in domains.items():
        for rgb8 in photos:
            rgb = rgb8.astype(np.float32) / 255.0
            lab = rgb_to_lab(rgb)
            L, ab = lab[..., 0], lab[..., 1:]
            pred = colorizer.predict(ColorizeRequest.whole_photo(L))
            ab_t = torch.from_numpy(np.ascontiguousarray(ab.transpose(2, 0, 1)))
            for k in counts:
                hab, hm = sample_hints(ab_t, rng, n_points=k)
                req = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hab.numpy().transpose(1, 2, 0).copy(),
                                      hint_mask=hm[0].numpy().copy(), hint_reach=reach)
                for t in trusts:
                    out = follow_hints(pred, req, t)
                    scores[k][name][t].append(_psnr_np(lab_to_rgb(L, out), rgb))
    table = {k: {t: float(np.mean([np.mean(scores[k][n][t]) for n in domains])) for t in trusts} for k in counts}
    by_count = [[k, max(table[k], key=table[k].get)] for k in counts]
    per_domain = {k: {n: {t: float(np.mean(v)) for t, v in scores[k][n].items()} for n in domains} for k in counts}
    return {"by_count": by_count, "psnr": {str(k): {str(t): v for t, v in row.items()} for k, row in table.items()},
            "psnr_per_domain": {str(k): {n: {str(t): v for t, v in d.items()} for n, d in row.items()}
                                for k, row in per_domain.items()},
            "photos": {n: len(v) for n, v in domains.items()}, "hint_reach": reach}


def _psnr_np(a, b) -> float:
    import numpy as np

    mse = float(np.mean((np.clip(a, 0, 1) - b) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-10))
