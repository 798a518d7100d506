"""Readers for the shared training data and the sRGB -> Lab conversion in torch.

Tiny ImageNet lives in uncompressed zip shards; members are read in place by name (random
access through the zip's central directory), and each DataLoader worker opens its own zip
handles lazily because a ``zipfile.ZipFile`` must not be shared across processes.

Splits: ``train`` is every training image except a fixed hold-out of ``HOLDOUT`` images (the
last members of the last shard, by name; at most a fifth of that shard) that the trainer uses to pick checkpoints and to
calibrate; ``holdout`` is those images; ``val`` is the official val subset, which we only ever
measure on (never train, select or calibrate on it).
"""
from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

HOLDOUT = 1000
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def _decode(data: bytes, size: int | None) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB")
        if size is not None and im.size != (size, size):
            im = im.resize((size, size), Image.BICUBIC)
        return np.asarray(im, dtype=np.uint8)


class TinyImageNet(Dataset):
    """Tiny ImageNet 64x64 photos from the zip shards: items ``dict(rgb=(3,H,W) float, label=int)``."""

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        size: int = 64,
        limit: int | None = None,
        augment: bool = False,
    ) -> None:
        root = Path(root)
        self.dir = root / "tinyimagenet64" if (root / "tinyimagenet64").is_dir() else root
        if split not in ("train", "val", "holdout"):
            raise ValueError(f"unknown split {split!r}: use train, val or holdout")
        prefix = "val" if split == "val" else "train"
        shards = sorted(self.dir.glob(f"{prefix}-*.zip"))
        if not shards:
            raise FileNotFoundError(f"No {prefix}-*.zip shards in {self.dir}: pass the shared datasets folder.")
        labels = _read_labels(self.dir / f"{prefix}_labels.csv")
        members: list[tuple[int, str]] = []
        for i, shard in enumerate(shards):
            with zipfile.ZipFile(shard) as z:
                members.extend((i, n) for n in z.namelist() if not n.endswith("/"))
        if split != "val":
            # The hold-out is the tail of the last shard, sorted by name: stable across runs.
            last = len(shards) - 1
            names = sorted(n for s, n in members if s == last)
            tail = names[-min(HOLDOUT, len(names) // 5) :] if len(names) >= 5 else []
            held = set(tail)
            if split == "holdout":
                members = [(last, n) for n in tail]
            else:
                members = [(s, n) for s, n in members if not (s == last and n in held)]
        if limit is not None:
            members = members[:limit]
        self.shards = shards
        self.members = members
        self.labels = [labels.get(n, -1) for _, n in members]
        self.size = size
        self.augment = augment
        self._zips: dict[int, zipfile.ZipFile] = {}
        self._pid = -1

    def __len__(self) -> int:
        return len(self.members)

    def _zip(self, shard: int) -> zipfile.ZipFile:
        if self._pid != os.getpid():  # a forked worker: open our own handles
            self._zips, self._pid = {}, os.getpid()
        if shard not in self._zips:
            self._zips[shard] = zipfile.ZipFile(self.shards[shard])
        return self._zips[shard]

    def read_uint8(self, idx: int) -> np.ndarray:
        shard, name = self.members[idx]
        return _decode(self._zip(shard).read(name), self.size)

    def __getitem__(self, idx: int) -> dict:
        rgb = self.read_uint8(idx)
        if self.augment and np.random.random() < 0.5:
            rgb = rgb[:, ::-1]
        return dict(rgb=_to_tensor(rgb), label=int(self.labels[idx]))

    def preload(self, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Decode everything into memory: uint8 (N, H, W, 3) and int64 labels (N,).

        55k 64x64 photos are ~0.7 GB and decode in well under a minute, after which a CPU
        training step costs no JPEG decoding at all.
        """
        out = np.empty((len(self), self.size, self.size, 3), np.uint8)
        it: Iterable[int] = range(len(self))
        if progress:
            from tqdm import tqdm

            it = tqdm(it, desc="decoding", unit="img", mininterval=5)
        for i in it:
            out[i] = self.read_uint8(i)
        return out, np.asarray(self.labels, np.int64)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_zips"], state["_pid"] = {}, -1
        return state


def _read_labels(path: Path) -> dict[str, int]:
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {row["file"]: int(row["class_index"]) for row in csv.DictReader(f)}


def _to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb).transpose(2, 0, 1).astype(np.float32) / 255.0)


def list_images(folder: str | os.PathLike) -> list[Path]:
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and p.is_file())


class ImageFolder(Dataset):
    """Photos in a folder (photos/*, bsds500/images/*): items ``dict(rgb=(3,S,S) float, label=-1)``.

    With ``augment`` a random crop (random scale, flip) of side ``size``; without, the whole
    photo resized so its long side is ``size`` (for evaluation).
    """

    def __init__(self, folder: str | os.PathLike, size: int = 128, augment: bool = False) -> None:
        self.paths = list_images(folder)
        if not self.paths:
            raise FileNotFoundError(f"No images in {folder}: check the --data folder.")
        self.size = size
        self.augment = augment

    def __len__(self) -> int:
        return len(self.paths)

    def read(self, idx: int) -> np.ndarray:
        with Image.open(self.paths[idx]) as im:
            return np.asarray(im.convert("RGB"), np.uint8)

    def __getitem__(self, idx: int) -> dict:
        rgb = self.read(idx)
        rgb = random_crop(rgb, self.size, np.random) if self.augment else fit_long_side(rgb, self.size)
        return dict(rgb=_to_tensor(rgb), label=-1)


def fit_long_side(rgb: np.ndarray, size: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = size / max(h, w)
    im = Image.fromarray(rgb).resize((max(1, round(w * s)), max(1, round(h * s))), Image.BICUBIC)
    return np.asarray(im)


def random_crop(rgb: np.ndarray, size: int, rng) -> np.ndarray:
    """A square crop covering 35-100% of the short side, resized to ``size``, maybe flipped."""
    h, w = rgb.shape[:2]
    side = int(min(h, w) * rng.uniform(0.35, 1.0))
    y = int(rng.randint(0, h - side + 1))
    x = int(rng.randint(0, w - side + 1))
    crop = Image.fromarray(rgb[y : y + side, x : x + side]).resize((size, size), Image.BICUBIC)
    out = np.asarray(crop)
    return out[:, ::-1] if rng.random() < 0.5 else out


# --- colour conversion in torch (same maths as models.colour, batched) -------------------------

_RGB_TO_XYZ = torch.tensor(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE = _RGB_TO_XYZ.sum(dim=1)
_EPS = (6.0 / 29.0) ** 3
_KAPPA = 3.0 * (6.0 / 29.0) ** 2


def _f(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t > _EPS, t.clamp_min(_EPS).pow(1.0 / 3.0), t / _KAPPA + 4.0 / 29.0)


def lab_tensors(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sRGB (B, 3, H, W) in [0, 1] -> L (B, 1, H, W) in [0, 100] and ab (B, 2, H, W)."""
    rgb = rgb.float().clamp(0, 1)
    lin = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055).pow(2.4))
    m = (_RGB_TO_XYZ / _WHITE[:, None]).to(rgb.device)
    xyz = torch.einsum("ij,bjhw->bihw", m, lin)
    f = _f(xyz)
    L = 116.0 * f[:, 1:2] - 16.0
    a = 500.0 * (f[:, 0:1] - f[:, 1:2])
    b = 200.0 * (f[:, 1:2] - f[:, 2:3])
    return L, torch.cat([a, b], dim=1)


def uint8_batch_to_rgb(batch: np.ndarray) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> float (B, 3, H, W) in [0, 1]."""
    # converted by numpy into a new, writable array (decoded photos may be read-only)
    return torch.from_numpy(np.array(batch, dtype=np.float32)).permute(0, 3, 1, 2).div_(255.0)


def _f_inv(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t > 6.0 / 29.0, t.pow(3), _KAPPA * (t - 4.0 / 29.0))


def lab_to_rgb_tensors(L: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """L (B,1,H,W), ab (B,2,H,W) -> sRGB (B,3,H,W) clipped to [0,1] (for metrics and grids)."""
    fy = (L + 16.0) / 116.0
    fx = fy + ab[:, 0:1] / 500.0
    fz = fy - ab[:, 1:2] / 200.0
    xyz = torch.cat([_f_inv(fx), _f_inv(fy), _f_inv(fz)], dim=1) * _WHITE.to(L.device)[None, :, None, None]
    lin = torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_RGB_TO_XYZ).to(L.device), xyz).clamp(0, 1)
    return torch.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin.clamp_min(1e-12).pow(1 / 2.4) - 0.055).clamp(0, 1)


# --- photo collections at any size: photos-large, BSDS500, the user's own folders ---------------


def read_photo_rgb8(path: str | os.PathLike) -> np.ndarray:
    """An image file as uint8 RGB (h, w, 3): 8- and 16-bit, greyscale, palette, CMYK, alpha.

    Raises ``OSError``/``ValueError`` for files that do not decode (the caller counts them).
    16-bit TIFFs that Pillow cannot read go through tifffile.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, np.float64)
                arr = (arr / max(arr.max(), 1.0) * 255.0 if arr.max() > 255 else arr).astype(np.uint8)
                return np.repeat(arr[..., None], 3, axis=2)
            return np.asarray(im.convert("RGB"), np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError):
        if path.suffix.lower() not in (".tif", ".tiff"):
            raise
    import tifffile

    arr = np.asarray(tifffile.imread(path))
    if arr.ndim == 3 and arr.shape[0] in (3, 4) and arr.shape[-1] not in (3, 4):
        arr = np.moveaxis(arr, 0, -1)  # planar
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    arr = arr[..., :3]
    if arr.dtype != np.uint8:
        arr = (arr.astype(np.float64) / np.iinfo(arr.dtype).max * 255.0 + 0.5).astype(np.uint8) \
            if np.issubdtype(arr.dtype, np.integer) else (np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"{path.name}: not an RGB image")
    return arr


def is_colour(rgb: np.ndarray, threshold: float = 6.0) -> bool:
    """False for photos with (almost) no colour to learn from: mean of max(R,G,B) - min(R,G,B) under
    ``threshold`` (the rule the shared Tiny ImageNet files were cleaned with)."""
    small = rgb[:: max(1, rgb.shape[0] // 64), :: max(1, rgb.shape[1] // 64)].astype(np.int16)
    return float((small.max(-1) - small.min(-1)).mean()) >= threshold


def photos_large_paths(data: str | os.PathLike, split: str) -> list[Path]:
    """The ``photos-large`` files of one split of its ``manifest.csv`` (``train`` or ``val``)."""
    root = Path(data) / "photos-large"
    if not (root / "manifest.csv").is_file():
        return []
    with open(root / "manifest.csv", newline="") as f:
        return [root / row["file"] for row in csv.DictReader(f) if row["split"] == split]


def find_photos(folders: Iterable[str | os.PathLike]) -> list[Path]:
    """Every file with an image extension under the folders (recursive, sorted, no duplicates)."""
    seen: dict[Path, None] = {}
    for folder in folders:
        folder = Path(folder)
        if folder.is_file():
            seen[folder.resolve()] = None
            continue
        if not folder.is_dir():
            raise FileNotFoundError(f"--photos {folder}: no such folder")
        for p in sorted(folder.rglob("*")):
            if p.suffix.lower() in IMAGE_EXTS and p.is_file():
                seen[p.resolve()] = None
    return list(seen)


def load_photos(paths: Iterable[Path], max_side: int = 512, progress: bool = False) -> tuple[list[np.ndarray], dict[str, int]]:
    """Decode photos into memory (uint8 RGB, long side at most ``max_side``).

    Returns the photos and counts of what was skipped: ``unreadable`` (does not decode) and
    ``grey`` (no colour to learn from). A bad file is counted, never raised.
    """
    import cv2

    paths = list(paths)
    out: list[np.ndarray] = []
    skipped = {"unreadable": 0, "grey": 0, "too_small": 0}
    it: Iterable[Path] = paths
    if progress:
        from tqdm import tqdm

        it = tqdm(paths, desc="reading photos", unit="photo", mininterval=5)
    for p in it:
        try:
            rgb = read_photo_rgb8(p)
        except Exception:  # noqa: BLE001  (any decoder failure: the file is skipped and counted)
            skipped["unreadable"] += 1
            continue
        h, w = rgb.shape[:2]
        if min(h, w) < 32:
            skipped["too_small"] += 1
            continue
        if not is_colour(rgb):
            skipped["grey"] += 1
            continue
        s = max_side / max(h, w)
        if s < 1:
            rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        out.append(np.ascontiguousarray(rgb))
    return out, skipped


def random_crop_sized(rgb: np.ndarray, size: int, rng: np.random.Generator, min_frac: float = 0.5,
                      aspect: float = 1.0, rotate: float = 0.0) -> np.ndarray:
    """A crop (``min_frac``-100 % of the short side) resized to a ``size`` square, maybe flipped,
    with a mild lightness change (gamma 0.85-1.15 on all channels alike: hue kept).

    ``aspect`` > 1 lets the crop's sides differ by up to that ratio (the square output then
    stretches it a little); ``rotate`` turns the crop by up to that many degrees, cut from inside
    the turned photo so no border shows. Both only move pixels: every colour stays what it was.
    """
    import cv2

    h, w = rgb.shape[:2]
    side = max(8, int(min(h, w) * rng.uniform(min_frac, 1.0)))
    r = float(np.exp(rng.uniform(-np.log(aspect), np.log(aspect)))) if aspect > 1.0 else 1.0
    ch, cw = min(h, max(8, int(side * np.sqrt(r)))), min(w, max(8, int(side / np.sqrt(r))))
    angle = float(rng.uniform(-rotate, rotate)) if rotate > 0 else 0.0
    if angle:
        t = np.radians(abs(angle))
        # the turned crop's bounding box must fit in the photo: shrink the crop until it does
        shrink = min(1.0, w / (cw * np.cos(t) + ch * np.sin(t)), h / (cw * np.sin(t) + ch * np.cos(t)))
        ch, cw = max(8, int(ch * shrink)), max(8, int(cw * shrink))
        ex, ey = (cw * np.cos(t) + ch * np.sin(t)) / 2.0, (cw * np.sin(t) + ch * np.cos(t)) / 2.0
        cx, cy = float(rng.uniform(ex, max(ex, w - ex))), float(rng.uniform(ey, max(ey, h - ey)))
        m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
        m[:, 2] += [cw / 2.0 - cx, ch / 2.0 - cy]
        crop = cv2.warpAffine(rgb, m, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    else:
        y = int(rng.integers(0, h - ch + 1))
        x = int(rng.integers(0, w - cw + 1))
        crop = rgb[y : y + ch, x : x + cw]
    interp = cv2.INTER_AREA if max(ch, cw) > size else cv2.INTER_CUBIC
    out = cv2.resize(crop, (size, size), interpolation=interp)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    if rng.random() < 0.5:
        g = rng.uniform(0.85, 1.15)
        lut = np.clip((np.arange(256) / 255.0) ** g * 255.0 + 0.5, 0, 255).astype(np.uint8)
        out = lut[out]
    return np.ascontiguousarray(out)


def crop_batch(photos: list[np.ndarray], sizes: list[int], pixels: int, rng: np.random.Generator,
               **crop: float) -> np.ndarray:
    """A batch of random crops (uint8 (B, S, S, 3)) at one of ``sizes``; B is ``pixels`` / S^2.
    ``crop`` goes to :func:`random_crop_sized` (``min_frac``, ``aspect``, ``rotate``)."""
    size = int(sizes[int(rng.integers(len(sizes)))])
    n = max(2, pixels // (size * size))
    return np.stack([random_crop_sized(photos[int(rng.integers(len(photos)))], size, rng, **crop) for _ in range(n)])


def degrade_lightness(L: torch.Tensor, rng: np.random.Generator, p: float) -> torch.Tensor:
    """The lightness an old print or scan gives (L in 0-100, (B, 1, H, W)): each photo, with
    probability ``p``, gets one of a blur (sigma 0.5-1.5 px), grain (sigma 1-4 L units) or a
    softer resampling (down by 1.5-3x and back). For the network's input only: the colour it
    must find is still the clean photo's."""
    import torch.nn.functional as F
    from torchvision.transforms.functional import gaussian_blur

    if p <= 0:
        return L
    out = L.clone()
    for i in range(L.shape[0]):
        if rng.random() >= p:
            continue
        x = out[i : i + 1]
        kind = int(rng.integers(3))
        if kind == 0:
            s = float(rng.uniform(0.5, 1.5))
            x = gaussian_blur(x, [2 * max(1, int(3 * s)) + 1] * 2, [s, s])
        elif kind == 1:
            x = x + torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32)).to(x) * float(rng.uniform(1.0, 4.0))
        else:
            h, w = x.shape[-2:]
            f = float(rng.uniform(1.5, 3.0))
            small = F.interpolate(x, size=(max(4, int(h / f)), max(4, int(w / f))), mode="area")
            x = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
        out[i : i + 1] = x.clamp(0.0, 100.0)
    return out


# --- BSDS500: which test photos a run holds back -------------------------------------------------

BSDS_VAL_EVERY = 10  # every 10th BSDS500 test photo is held back to validate at a large work size
BSDS_VAL_SIZE = 256  # the long side the app and the evaluation run photos at


def bsds_heldback_paths(data) -> list[Path]:
    """The BSDS500 test photos every run holds back (every ``BSDS_VAL_EVERY``-th, sorted by name)."""
    folder = Path(data) / "bsds500" / "images" / "test"
    return sorted(folder.glob("*.jpg"))[::BSDS_VAL_EVERY] if folder.is_dir() else []


def bsds_holdout_every(args) -> int:
    """Which BSDS500 test photos a run held back (older runs: ``BSDS_VAL_EVERY``)."""
    a = args if isinstance(args, dict) else vars(args)
    return int(a.get("bsds_holdout_every") or BSDS_VAL_EVERY)


def hold_back(paths: list[Path], every: int) -> tuple[list[Path], list[Path]]:
    """(kept, held back): every ``every``-th path held back (0: none)."""
    if not every or every <= 0:
        return list(paths), []
    return [p for i, p in enumerate(paths) if i % every], list(paths[::every])


def photos_large_heldback_paths(data, every: int) -> list[Path]:
    """The ``photos-large`` train photos a run that holds back every ``every``-th of them (in the
    manifest's order, which groups them by source, so spread over the sources) keeps out of
    training, for the export to calibrate on: everyday photos like the users', which neither the
    run nor any evaluation sees (0: none)."""
    return hold_back(photos_large_paths(data, "train"), every)[1]


def training_photos(data, photos_dirs=(), limit: int | None = None, max_side: int = 512,
                    progress: bool = False, hold_back_large: int = 0) -> tuple[list[np.ndarray], dict]:
    """Every large training photo in memory (uint8 RGB, long side at most ``max_side``) and what
    was read from where: ``photos-large`` train (less every ``hold_back_large``-th, when given) and
    BSDS500 train + test less the photos runs hold back (from the shared ``data`` folder, when
    given), and the user's ``photos_dirs``."""
    paths: list[Path] = []
    desc: dict = {}
    if data:
        data = Path(data)
        pl, held = hold_back(photos_large_paths(data, "train"), hold_back_large)
        if held:
            desc["photos_large_held_back"] = len(held)
        pl = pl[:limit]
        bsds = []
        for split in ("train", "test"):
            folder = data / "bsds500" / "images" / split
            files = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
            bsds += [p for i, p in enumerate(files) if not (split == "test" and i % BSDS_VAL_EVERY == 0)]
        bsds = bsds[:limit]
        paths += pl + bsds
        desc.update(photos_large_train=len(pl), bsds500=len(bsds))
    user = find_photos(photos_dirs)[:limit] if photos_dirs else []
    paths += user
    photos, skipped = load_photos(paths, max_side, progress=progress)
    desc.update(user_files=len(user), photos=len(photos), skipped=skipped)
    if sum(skipped.values()):
        print(f"skipped {skipped['unreadable']} unreadable, {skipped['grey']} grey and {skipped['too_small']} tiny files")
    return photos, desc
