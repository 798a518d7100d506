"""Colour regions: named masks, each with its own colour source and saturation.

A region's colour comes from the network (``auto``; hints inside it steer it, as everywhere), or is a
chosen ``tint`` (that hue and chroma at each pixel's own lightness; the export's gamut mapping keeps
L). Regions are listed bottom to top; where they overlap the upper one wins (its feathered edge
blends over the one below); outside every region the original grey stays exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .composite import as_grade, feather_weights
from .errors import HuebrushError
from .mask import as_mask, inside

SOURCES = ("auto", "tint")


@dataclass(frozen=True, eq=False)
class Region:
    name: str
    mask: np.ndarray  # bool (H, W) at the photo's size, or a soft mask's uint8 coverage
    source: str = "auto"  # auto | tint
    colour: str | None = None  # "#rrggbb" for a tint
    saturation: float = 1.0
    visible: bool = True

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise HuebrushError(f"Region '{self.name}' has an unknown colour source '{self.source}'; use auto or a colour.")
        if self.source == "tint":
            from models.colour import hex_to_rgb

            try:
                hex_to_rgb(self.colour or "")
            except ValueError:
                raise HuebrushError(f"Region '{self.name}': {self.colour!r} is not a colour; write it as #RRGGBB.") from None
        if not (0.0 <= float(self.saturation) <= 2.0):
            raise HuebrushError(f"Region '{self.name}': saturation {self.saturation} is out of range; choose 0 to 2.")

    def with_mask(self, mask: np.ndarray) -> Region:
        return replace(self, mask=as_mask(mask))


def tint_ab(hex_colour: str) -> tuple[float, float]:
    """The tint's chroma (a, b); applied at every pixel's own lightness."""
    from models.colour import hex_to_rgb, rgb_to_ab

    return rgb_to_ab(hex_to_rgb(hex_colour))


def union(regions: list[Region], shape: tuple[int, int]) -> np.ndarray:
    """Where any visible region asks for colour (bool (H, W))."""
    out = np.zeros(shape, bool)
    for r in regions:
        if r.visible:
            out |= inside(r.mask)
    return out


def hint_note(regions: list[Region], x: float, y: float, model: str | None = None) -> str | None:
    """Why a colour hint at photo pixel (x, y) will not show its colour there (one sentence with
    the fix), or None when it will: hints colour only the network's regions, only inside their
    masks (the upper region decides where they overlap), and only with a ``model`` that takes
    hints."""
    from models.registry import follows_hints

    if model is not None and not follows_hints(model):
        return f"{model} does not take hints: choose maskgan-v2 (or hints) in Model to colour from them."
    H, W = regions[0].mask.shape
    xi, yi = min(max(int(x), 0), W - 1), min(max(int(y), 0), H - 1)
    here = [r for r in regions if inside(r.mask[yi:yi + 1, xi:xi + 1]).any()]
    shown = [r for r in here if r.visible]
    if not shown:
        if here:
            return f"This hint is in hidden '{here[-1].name}': tick it in Colour regions to see its colour."
        return "This hint is outside the mask: paint over it (or Fill) to see its colour."
    top = shown[-1]
    if top.source == "tint":
        return f"'{top.name}' has a chosen colour: hints colour only Network colour regions."
    return None


def needs_network(regions: list[Region]) -> bool:
    return any(r.visible and r.source == "auto" and r.mask.any() for r in regions)


def auto_mask(regions: list[Region], shape: tuple[int, int]) -> np.ndarray:
    """Where the network's colour is wanted: the visible ``auto`` regions (bool (H, W))."""
    return union([r for r in regions if r.source == "auto"], shape)


def compose_regions(ab_network: np.ndarray | None, regions: list[Region], feather_px: float,
                    shape: tuple[int, int], auto_saturation: float = 1.0) -> np.ndarray:
    """Full-size ab (H, W, 2): each visible region's colour over the ones below it, exactly 0
    outside every region. ``ab_network``: the network's full-size ab (None when no region uses it);
    ``auto_saturation``: the photo's saturation setting (a number, or a ``Grade`` with the colour
    balance too), applied to the network's colour (a tint's strength is its region's own saturation only). Made in bands of rows (each reads the masks a
    feather's reach beyond its edges), so a 24 MP photo with several regions holds one band's
    weights and temporaries, not a full-size float copy per region."""
    from .composite import BAND_PIXELS, feather_margin

    H, W = shape
    for r in regions:
        if r.mask.shape != (H, W):
            raise HuebrushError(f"Region '{r.name}' has a {r.mask.shape[1]}x{r.mask.shape[0]} mask but the photo is "
                                f"{W}x{H}; use a mask made for this photo.")
        if r.visible and r.source == "auto" and ab_network is None and r.mask.any():
            raise ValueError("an auto region needs the network's colour")
    out = np.zeros((H, W, 2), np.float32)
    live = [r for r in regions if r.visible and r.mask.any()]
    if not live:
        return out
    m = feather_margin(feather_px)
    step = max(64, 4 * BAND_PIXELS // max(W, 1))
    for y0 in range(0, H, step):
        y1 = min(H, y0 + step)
        p0, p1 = max(0, y0 - m), min(H, y1 + m)
        band = _compose_block(None if ab_network is None else ab_network[p0:p1],
                              [r.with_mask(r.mask[p0:p1]) for r in live], feather_px, auto_saturation)
        out[y0:y1] = band[y0 - p0 : y1 - p0]
    return out


def _compose_block(ab_network: np.ndarray | None, regions: list[Region], feather_px: float,
                   auto_saturation: float) -> np.ndarray:
    """``compose_regions``'s maths on one block (the masks already cut to it)."""
    h, w = regions[0].mask.shape
    out = np.zeros((h, w, 2), np.float32)
    anywhere = np.zeros((h, w), bool)
    for r in regions:
        if not r.mask.any():
            continue
        anywhere |= inside(r.mask)
        wt = feather_weights(r.mask, feather_px)[..., None]
        if r.source == "tint":
            target = np.asarray(tint_ab(r.colour), np.float32) * np.float32(r.saturation)
        else:
            target = as_grade(auto_saturation).apply(ab_network, r.saturation)
        out += wt * (target - out)
    out[~anywhere] = 0.0  # exactly grey outside every region
    return out


def region_layers(ab_network: np.ndarray | None, regions: list[Region], feather_px: float,
                  shape: tuple[int, int], auto_saturation: float = 1.0):
    """One layer per visible region, bottom up, for a layered export: ``(name, ab, alpha)`` with the
    region's own colour (unfeathered) and its feathered coverage as alpha, so that the layers laid in
    Color mode over the grey photo, upper over lower, give ``compose_regions``. Made one at a time
    (a generator): a 24 MP export holds one layer's floats, not one per region."""
    for r in regions:
        if not r.visible or not r.mask.any():
            continue
        alpha = feather_weights(r.mask, feather_px).astype(np.float32)
        if r.source == "tint":
            ab = np.empty((*shape, 2), np.float32)
            ab[:] = np.asarray(tint_ab(r.colour), np.float32) * np.float32(r.saturation)
        else:
            if ab_network is None:
                raise ValueError("an auto region needs the network's colour")
            ab = as_grade(auto_saturation).apply(ab_network, r.saturation)
        ab[alpha <= 0] = 0.0
        yield r.name, ab, alpha


def compose_regions_rgb8(L: np.ndarray, ab_up: np.ndarray | None, regions: list[Region], feather_px: float,
                         auto_saturation: float = 1.0, rect=None) -> np.ndarray:
    """The regions' result as uint8 RGB for ``rect`` (x0, y0, x1, y1; None: the whole photo, band by
    band), the same maths as ``compose_regions`` + export at 8 bits. A rectangle reads the masks
    ``feather_margin`` beyond its edges, so tiles composed apart agree with the whole. Before the
    network has answered (``ab_up`` None) the ``auto`` regions stay grey."""
    from .composite import BAND_PIXELS, dirty_rect, grey8, rgb8_with_grey

    H, W = L.shape
    if rect is None:
        out = np.empty((H, W, 3), np.uint8)
        step = max(1, BAND_PIXELS // max(W, 1))
        for y in range(0, H, step):
            out[y : y + step] = compose_regions_rgb8(L, ab_up, regions, feather_px, auto_saturation,
                                                     (0, y, W, min(H, y + step)))
        return out
    x0, y0, x1, y1 = rect
    px0, py0, px1, py1 = dirty_rect(rect, feather_px, (H, W))
    crop = [r.with_mask(r.mask[py0:py1, px0:px1]) for r in regions if r.visible]
    crop = [r for r in crop if r.mask.any() and (r.source == "tint" or ab_up is not None)]
    Lr = L[y0:y1, x0:x1]
    if not crop:  # nothing coloured here: exactly the original grey
        return np.repeat(grey8(Lr)[:, :, None], 3, axis=2)
    ab_net = ab_up[py0:py1, px0:px1] if ab_up is not None else None
    ab = compose_regions(ab_net, crop, feather_px, (py1 - py0, px1 - px0), auto_saturation)
    ab = ab[y0 - py0 : y1 - py0, x0 - px0 : x1 - px0]
    # outside every coloured region: exactly the untouched grey
    return rgb8_with_grey(Lr, ab, ~union(crop, (py1 - py0, px1 - px0))[y0 - py0 : y1 - py0, x0 - px0 : x1 - px0])


def parse_region_arg(text: str) -> tuple[str, str]:
    """``MASK.png=#RRGGBB`` or ``MASK.png=auto`` -> (mask path, "auto" or the colour)."""
    path, sep, what = text.rpartition("=")
    if not sep or not path or not what:
        raise HuebrushError(f"--region {text!r} is not MASK.png=#RRGGBB or MASK.png=auto.")
    what = what.strip()
    if what.lower() != "auto":
        from models.colour import hex_to_rgb

        try:
            hex_to_rgb(what)
        except ValueError:
            raise HuebrushError(f"--region {text!r}: {what!r} is not a colour; write it as #RRGGBB or auto.") from None
    return path, what.lower() if what.lower() == "auto" else what
