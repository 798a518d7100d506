"""From photo, mask and hints to full-size ab: one path shared by the GUI, the CLI and batch.

make_request() shrinks everything to the work size and freezes it in a ColorizeRequest;
a colorizer predicts ab there; finish() upsamples that ab guided by the full-size L and
composites it with the full-size mask. The final L is always the user's original L.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

import cv2
import numpy as np

from models.registry import DEFAULT_MODEL
from models.types import DEFAULT_HINT_REACH, CancelCheck, ColorizeRequest
from models.upsample import upsample_ab

from .composite import Grade, composite_ab
from .errors import HuebrushError
from .hints import Hint, rasterize_hints

# the range of each number (the CLI refuses values outside it; loaded files are clamped to it)
BOUNDS: dict[str, tuple[float, float]] = {"saturation": (0.0, 2.0), "hint_reach": (0.0, 1.0),
                                          "feather": (0.0, 500.0), "work_size": (32, 4096),
                                          "warmth": (-30.0, 30.0), "tint": (-30.0, 30.0)}


@dataclass(frozen=True)
class Settings:
    model: str = DEFAULT_MODEL
    saturation: float = 1.0  # 0 = grey, 1 = as predicted, 2 = doubled chroma
    feather: float = 4.0  # px at full size, fading colour in from the mask's edge
    work_size: int = 512  # long side (px) the model runs at
    device: str = "auto"
    hint_reach: float = DEFAULT_HINT_REACH  # 0 near .. 1 the whole photo (maskgan's hint following)
    # colour balance of the network's colour, in Lab units: warmth on b (+ yellow, - blue), tint on a
    # (+ magenta, - green); takes out a cast, as an editor's colour balance does
    warmth: float = 0.0
    tint: float = 0.0

    def __post_init__(self) -> None:
        for name, (lo, hi) in BOUNDS.items():
            want = int if name == "work_size" else float
            object.__setattr__(self, name, want(min(max(want(getattr(self, name)), lo), hi)))

    @property
    def grade(self) -> Grade:
        """Saturation and colour balance, as the compositing applies them to the network's colour."""
        return Grade(self.saturation, self.tint, self.warmth)

    @classmethod
    def check_overrides(cls, values: dict[str, Any], source: str = "the command line") -> dict[str, Any]:
        """User-given settings (CLI options): the right type, finite and inside ``BOUNDS``, or one
        sentence naming the option. The bounds are the ones the dataclass clamps to."""
        import math

        from .config import fields_from_dict

        for name, v in values.items():
            if name in BOUNDS and isinstance(v, float) and not math.isfinite(v):
                lo, hi = BOUNDS[name]
                raise HuebrushError(f"--{name.replace('_', '-')} {v} is not a number; choose a value from {lo:g} to {hi:g}.")
        checked = fields_from_dict(cls, values, source=source)
        for name, v in checked.items():
            if name in BOUNDS and not BOUNDS[name][0] <= v <= BOUNDS[name][1]:
                lo, hi = BOUNDS[name]
                raise HuebrushError(f"--{name.replace('_', '-')} {v:g} is out of range; choose a value from {lo:g} to {hi:g}.")
        return checked

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "Settings") -> Settings:
        """Settings from a project or config dict; unknown keys (from newer versions) are ignored,
        a value of the wrong type or a non-finite number is one sentence naming ``source``."""
        from .config import fields_from_dict

        return cls(**fields_from_dict(cls, data, source=source))

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def work_shape(full_shape: tuple[int, int], work_size: int) -> tuple[int, int]:
    """(h, w) with the long side at ``work_size``, keeping the aspect; never larger than the photo."""
    H, W = full_shape[:2]
    s = min(1.0, work_size / max(H, W))
    return max(1, int(round(H * s))), max(1, int(round(W * s)))


def resize_to(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if a.shape[:2] == tuple(shape):
        return np.array(a, dtype=np.float32)
    return cv2.resize(np.asarray(a, np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def make_request(
    L_full: np.ndarray,
    mask: np.ndarray | None,
    hints: Iterable[Hint],
    settings: Settings,
    reference_lab: np.ndarray | None = None,
) -> ColorizeRequest:
    """The immutable model input at the work size; ``reference_lab`` (h, w, 3) is a colour photo of
    the scene (its L for iizuka's style, its L and ab for the reference model)."""
    full = L_full.shape[:2]
    shape = work_shape(full, settings.work_size)
    L = resize_to(L_full, shape)
    if mask is None:
        m = np.ones(shape, np.float32)
    else:
        if mask.shape != full:
            raise ValueError(f"mask shape {mask.shape} does not match the photo {full}")
        # Any coverage counts: every full-size masked pixel then has a prediction to upsample
        # from, instead of grey bleeding in from an unmasked work-size neighbour.
        m = (resize_to(np.asarray(mask, np.float32), shape) > 0).astype(np.float32)
    hint_ab, hint_mask = rasterize_hints(hints, full, shape)
    ref_L = ref_ab = None
    if reference_lab is not None:
        ref = resize_to(reference_lab, work_shape(reference_lab.shape, settings.work_size))
        ref_L, ref_ab = np.ascontiguousarray(ref[..., 0]), np.ascontiguousarray(ref[..., 1:])
    return ColorizeRequest(
        L=L, mask=m, hint_ab=hint_ab, hint_mask=hint_mask, model=settings.model,
        device=settings.device, reference_L=ref_L, reference_ab=ref_ab, hint_reach=settings.hint_reach,
    )


def finish(L_full: np.ndarray, ab_work: np.ndarray, mask: np.ndarray | None, settings: Settings) -> np.ndarray:
    """Work-size ab -> full-size composited ab (exactly 0 outside the mask)."""
    ab_full = upsample_ab(ab_work, L_full)
    return composite_ab(ab_full, mask, settings.feather, settings.grade)


def colorize_array(
    L_full: np.ndarray,
    mask: np.ndarray | None,
    hints: Iterable[Hint],
    settings: Settings,
    engine: Any = None,
    cancel: CancelCheck | None = None,
    notes: list[str] | None = None,
    reference_lab: np.ndarray | None = None,
) -> np.ndarray:
    """The whole path for one photo: request -> engine -> upsample + composite -> ab (H, W, 2).
    What the engine had to say (a fallback, a damaged user copy of a model) goes to ``notes``."""
    request = make_request(L_full, mask, list(hints), settings, reference_lab=reference_lab)
    return finish(L_full, _run(request, engine, cancel, notes), mask, settings)


def _run(request: ColorizeRequest, engine: Any, cancel: CancelCheck | None, notes: list[str] | None) -> np.ndarray:
    """The engine's ab for a request; what the engine had to say goes to ``notes``."""
    if engine is None:
        from models.engine import get_engine  # the engine pulls in torch; only when needed

        engine = get_engine()
    result = engine.colorize(request, cancel)
    if notes is not None and getattr(result, "message", ""):
        notes.append(result.message)
    return result.ab


def colorize_regions(L_full: np.ndarray, regions: list, hints: Iterable[Hint], settings: Settings, engine: Any = None,
                     cancel: CancelCheck | None = None, notes: list[str] | None = None,
                     reference_lab: np.ndarray | None = None, layers: list | None = None) -> np.ndarray:
    """Several colour regions (``app.core.regions``): the network runs once, over the regions that
    take its colour (hints inside them steer it), and each region composites its own source."""
    from .regions import auto_mask, needs_network

    ab_work = None
    if needs_network(regions):
        request = make_request(L_full, auto_mask(regions, L_full.shape[:2]), list(hints), settings,
                               reference_lab=reference_lab)
        ab_work = _run(request, engine, cancel, notes)
    return finish_regions(L_full, ab_work, regions, settings, layers)


def finish_regions(L_full: np.ndarray, ab_work: np.ndarray | None, regions: list, settings: Settings,
                   layers: list | None = None) -> np.ndarray:
    """Work-size network ab (None when no region takes it) -> the regions' full-size ab; with
    ``layers`` (a list), also appends the per-region layers for a layered export."""
    from .regions import compose_regions, region_layers

    shape = L_full.shape[:2]
    ab_network = upsample_ab(ab_work, L_full) if ab_work is not None else None
    if layers is not None:
        layers.append(region_layers(ab_network, regions, settings.feather, shape, settings.grade))
    return compose_regions(ab_network, regions, settings.feather, shape, settings.grade)
