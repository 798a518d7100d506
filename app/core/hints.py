"""Colour hints: a colour the user asks for at a point or along a stroke.

Hints live in image coordinates (x, y of the full-size photo) and are rasterised to the
two hint channels a colorizer reads (requested ab + a hint mask) at whatever work size
the model runs at. The JSON form is shared by project files and ``--hints FILE.json``:
a list of ``{"points": [[x, y], ...], "color": "#RRGGBB", "radius": r}``.
"""
from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from models.colour import hex_to_rgb, rgb_to_ab, rgb_to_hex

from .errors import HuebrushError

_ids = itertools.count(1)


MAX_RADIUS = 2000.0  # px: a hint is a dab of colour, not a flood
MAX_COORDINATE = 1e6  # px: beyond any photo Huebrush opens


@dataclass(frozen=True)
class Hint:
    points: tuple[tuple[float, float], ...]
    rgb: tuple[float, float, float]
    radius: float = 6.0
    id: int = field(default_factory=lambda: next(_ids))

    def __post_init__(self) -> None:
        pts = tuple((float(x), float(y)) for x, y in self.points)
        if not pts:
            raise ValueError("a hint needs at least one point")
        if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for p in pts for v in p):
            raise ValueError(f"hint points must be finite pixel positions within {MAX_COORDINATE:.0e}")
        rgb = tuple(float(c) for c in self.rgb)
        if len(rgb) != 3 or not all(0.0 <= c <= 1.0 for c in rgb):
            raise ValueError(f"hint colour {self.rgb!r} must be three sRGB values in [0, 1]")
        if not (0 < float(self.radius) <= MAX_RADIUS):
            raise ValueError(f"a hint radius must be a number of pixels above 0 and at most {MAX_RADIUS:g}")
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "rgb", rgb)
        object.__setattr__(self, "radius", float(self.radius))

    @classmethod
    def at(cls, x: float, y: float, colour: str | Sequence[float], radius: float = 6.0) -> Hint:
        rgb = hex_to_rgb(colour) if isinstance(colour, str) else tuple(colour)
        return cls(((x, y),), rgb, radius)  # type: ignore[arg-type]

    @property
    def ab(self) -> tuple[float, float]:
        return rgb_to_ab(self.rgb)

    @property
    def hex(self) -> str:
        return rgb_to_hex(self.rgb)

    def moved(self, dx: float, dy: float) -> Hint:
        """The same hint shifted (a new id, so an undo stack can tell them apart)."""
        return Hint(tuple((x + dx, y + dy) for x, y in self.points), self.rgb, self.radius)


def rasterize_hints(
    hints: Iterable[Hint], full_shape: tuple[int, int], work_shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Hint channels at the work size: (hint_ab float32 (h, w, 2), hint_mask float32 (h, w)).

    Points and radii scale with the work size; every hint covers at least one pixel so a
    small hint is never lost at a small work size. Later hints paint over earlier ones.
    """
    H, W = full_shape[:2]
    h, w = work_shape[:2]
    hint_ab = np.zeros((h, w, 2), np.float32)
    hint_mask = np.zeros((h, w), np.float32)
    sx, sy = w / W, h / H
    scale = (sx + sy) / 2
    for hint in hints:
        stamp = np.zeros((h, w), np.uint8)
        # pixel centres sit at integer coordinates at both sizes
        pts = np.array([((x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5) for x, y in hint.points])
        pts_i = np.round(pts).astype(np.int32)
        r = max(0, int(round(hint.radius * scale)))
        if len(pts_i) == 1:
            cv2.circle(stamp, (int(pts_i[0, 0]), int(pts_i[0, 1])), r, 1, -1)
        else:
            cv2.polylines(stamp, [pts_i], False, 1, 2 * r + 1)
        sel = stamp.astype(bool)
        if not sel.any():
            continue  # the hint lies outside the photo
        hint_ab[sel] = hint.ab
        hint_mask[sel] = 1.0
    return hint_ab, hint_mask


def hints_to_json(hints: Iterable[Hint]) -> list[dict[str, Any]]:
    return [
        {"points": [[x, y] for x, y in h.points], "color": h.hex, "radius": h.radius} for h in hints
    ]


def hints_from_json(data: Any, source: str = "hints") -> list[Hint]:
    """Hints from the JSON list (parsed or as text); raises HuebrushError naming ``source``."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as e:
            raise HuebrushError(f"{source} is not valid JSON ({e.msg}, line {e.lineno}): fix the file.") from None
    if not isinstance(data, list):
        raise HuebrushError(f"{source} must hold a list of hints like "
                            '[{"points": [[x, y]], "color": "#RRGGBB", "radius": 6}].')
    hints = []
    for i, item in enumerate(data):
        try:
            pts = item["points"]
            if not isinstance(pts, list) or not pts:
                raise ValueError("points must be a non-empty list of [x, y]")
            points = tuple((float(p[0]), float(p[1])) for p in pts if len(p) == 2)
            if len(points) != len(pts):
                raise ValueError("each point must be [x, y]")
            rgb = hex_to_rgb(str(item["color"]))
            hints.append(Hint(points, rgb, float(item.get("radius", 6.0))))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise HuebrushError(f"Hint {i + 1} in {source} is not valid ({e}): "
                                'write it as {"points": [[x, y]], "color": "#RRGGBB", "radius": 6}.') from None
    return hints


def load_hints_file(path: str | os.PathLike) -> list[Hint]:
    """Read a ``--hints FILE.json`` file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise HuebrushError(f"Could not read hints file {path} ({e}): check the path.") from None
    return hints_from_json(text, source=f"hints file {path}")


def parse_hint_arg(text: str, radius: float = 6.0) -> Hint:
    """A command-line hint ``X,Y,#RRGGBB`` (image pixels)."""
    parts = text.split(",")
    try:
        if len(parts) != 3:
            raise ValueError
        return Hint.at(float(parts[0]), float(parts[1]), parts[2], radius)
    except ValueError:
        raise HuebrushError(f"Hint '{text}' is not valid: write it as X,Y,#RRGGBB, e.g. 120,80,#3366cc.") from None


def unused_hints_note(model: str, count: int, what: str = "given") -> str | None:
    """The command line's note when ``count`` hints go to a model that takes none, else None."""
    from models.registry import follows_hints

    if not count or follows_hints(model):
        return None
    return (f"{model} does not take hints, so the {count} {what} are not used; "
            "colour from them with --model maskgan-v2 (or hints).")
