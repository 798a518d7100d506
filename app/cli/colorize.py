"""`huebrush colorize INPUT -o OUTPUT`: one photo, headless, through the same pipeline as the window."""
from __future__ import annotations

import argparse
import sys
import time


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "colorize",
        help="colourize one photo and export it",
        description="Colourize INPUT inside the mask (the whole photo without one) and write OUTPUT "
        "(.png, .tif/.tiff, .jpg/.jpeg, .webp or .bmp; .ora for OpenRaster layers: the grey photo and the colour as a "
        "Color-mode layer, for GIMP and Krita). Outside the mask the original grey is kept exactly.",
    )
    p.add_argument("input", help="the black-and-white photo")
    p.add_argument("-o", "--output", required=True, help="where to write the result")
    p.add_argument("--model", help="colorizer to use (see `huebrush models list`); default: maskgan-v2, else maskgan, else hints")
    p.add_argument("--mask", metavar="MASK.png", help="where colour goes: non-zero pixels (same size as the photo)")
    p.add_argument("--region", action="append", default=[], metavar="MASK.png=#RRGGBB|auto",
                   help="a colour region: its mask and a colour (a tint at the photo's own lightness) or auto (the "
                        "network; --hint inside it steers it); repeat, the later ones on top; instead of --mask")
    p.add_argument("--hint", action="append", default=[], metavar="X,Y,#RRGGBB",
                   help="a colour at pixel X,Y of the photo; repeat for more")
    p.add_argument("--hints", metavar="FILE.json", help='hints as [{"points": [[x, y]], "color": "#RRGGBB", "radius": 6}]')
    p.add_argument("--reference", metavar="REF.jpg",
                   help="a colour photo of the same scene: the reference model takes its colours, iizuka its style")
    p.add_argument("--saturation", type=float, help="colour strength 0-2 (default 1)")
    p.add_argument("--warmth", type=float, metavar="B",
                   help="colour balance of the network's colour: + yellower, - bluer (Lab b units, -30..30; default 0)")
    p.add_argument("--tint", type=float, metavar="A",
                   help="colour balance of the network's colour: + more magenta, - greener (Lab a units, -30..30; default 0)")
    p.add_argument("--hint-reach", type=float, metavar="R",
                   help="how far a hint carries: 0 near it .. 1 the whole photo (true colours from a reference); default 0.1")
    p.add_argument("--feather", type=float, metavar="PX", help="soft mask edge in pixels (default 4)")
    p.add_argument("--work-size", type=int, metavar="PX", help="long side the colours are computed at (default 512; a model may run its network smaller, see its model card)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="where the model runs (default auto)")
    p.add_argument("--bit-depth", type=int, choices=(8, 16), help="bits per channel (default: as the input; JPEG: 8)")
    p.add_argument("--quality", type=int, default=95, metavar="Q", help="JPEG quality 1-100 (default 95)")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists (never the input)")
    p.add_argument("--colour-layer", metavar="LAYER.tif",
                   help="also write the colour alone with alpha (16-bit as the photo), for a Color-mode layer in Photoshop")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.core.document import load_image
    from app.core.errors import HuebrushError
    from app.core.export import check_output_path, default_bit_depth
    from app.core.output import write_result

    t0 = time.perf_counter()
    out = check_output_path(args.output, overwrite=args.overwrite, protect=(args.input,))
    from app.core.pipeline import Settings

    Settings.check_overrides({k: v for k, v in (("saturation", args.saturation), ("hint_reach", args.hint_reach),
                                                ("work_size", args.work_size), ("feather", args.feather),
                                                ("warmth", args.warmth), ("tint", args.tint)) if v is not None})
    if not 1 <= args.quality <= 100:
        raise HuebrushError(f"JPEG quality {args.quality} is out of range; choose 1-100.")
    if args.bit_depth == 16 and out.suffix.lower() in (".jpg", ".jpeg", ".webp", ".bmp"):
        raise HuebrushError(f"{out.suffix.lstrip('.').upper()} holds only 8 bits per channel, so {out} cannot be 16-bit; use .png or .tif.")

    doc = load_image(args.input)
    reference = None
    if args.reference:
        from app.core.document import load_reference

        reference = load_reference(args.reference)
    elif args.model == "reference":
        raise HuebrushError("The reference model needs a colour photo of the scene: add --reference REF.jpg.")
    args.reference_lab = reference
    if args.region and args.mask:
        raise HuebrushError("Give either --mask or --region, not both: each region has its own mask.")
    regions = _load_regions(args.region, doc.size)
    mask = _load_mask(args.mask, doc.size)
    hints = _load_hints(args, doc.size)
    t_load = time.perf_counter()

    model, fallback = _choose_model(args.model)
    from app.core.hints import unused_hints_note

    if note := unused_hints_note(model, len(hints)):
        print(f"huebrush: note: {note}", file=sys.stderr)
    engine = _engine()  # imports torch and finds the devices: start-up, not colorizing
    t_start = time.perf_counter()
    args.regions = regions
    ab, model = _colorize(doc.L, mask, hints, args, model, fallback, engine)
    if model == "hints" and not hints:
        print("huebrush: note: the hints model needs colour hints (--hint or --hints); "
              "without them the result stays grey.", file=sys.stderr)
    t_model = time.perf_counter()

    depth = args.bit_depth or default_bit_depth(doc, out)
    write_result(out, doc.L, ab, layers=getattr(args, "region_layers", None), bit_depth=depth, quality=args.quality,
                 icc_profile=doc.icc_profile, exif=doc.exif, alpha=doc.alpha, overwrite=args.overwrite,
                 protect=(args.input,))
    if args.colour_layer:
        from app.core.layers import export_colour_layer

        print(export_colour_layer(args.colour_layer, doc.L, ab, bit_depth=16 if doc.bit_depth == 16 else 8,
                                  icc_profile=doc.icc_profile, exif=doc.exif, protect=(args.input,)))
    t_end = time.perf_counter()
    h, w = doc.size
    print(f"{out}")
    kind = {".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WebP", ".bmp": "BMP",
            ".ora": "OpenRaster"}.get(out.suffix.lower(), "PNG")
    print(f"wrote {w} x {h} px, {depth}-bit {kind}, model {model}, "
          f"in {t_end - t0:.2f} s (load {t_load - t0:.2f} s, start {t_start - t_load:.2f} s, "
          f"colorize {t_model - t_start:.2f} s, "
          f"export {t_end - t_model:.2f} s)")
    return 0


def _load_mask(path: str | None, shape: tuple[int, int]):
    if not path:
        return None
    from app.core.mask import Mask

    data = Mask.load_png(path, shape).data
    if not data.any():
        print(f"huebrush: note: the mask {path} is empty, so the result stays grey.", file=sys.stderr)
    return data.copy()


def _load_regions(items: list[str], shape: tuple[int, int]) -> list:
    from pathlib import Path

    from app.core.mask import Mask
    from app.core.regions import Region, parse_region_arg

    regions = []
    for text in items:
        path, what = parse_region_arg(text)
        data = Mask.load_png(path, shape).data.copy()
        name = Path(path).stem
        regions.append(Region(name, data, "auto") if what == "auto" else Region(name, data, "tint", what))
    return regions


def _load_hints(args: argparse.Namespace, shape: tuple[int, int]) -> list:
    from app.core.errors import HuebrushError
    from app.core.hints import load_hints_file, parse_hint_arg

    hints = [parse_hint_arg(text) for text in args.hint]
    if args.hints:
        hints += load_hints_file(args.hints)
    h, w = shape
    for hint in hints:
        for x, y in hint.points:
            if not (0 <= x < w and 0 <= y < h):
                raise HuebrushError(f"Hint at ({x:g}, {y:g}) lies outside the photo ({w} x {h} px); "
                                    "give pixel coordinates inside it.")
    return hints


def _choose_model(name: str | None) -> tuple[str, bool]:
    """-> (model, may fall back to hints). An explicit --model never falls back silently."""
    from models import registry
    from models.registry import DEFAULT_MODEL
    from models.types import ModelError

    names = registry.names()
    if name:
        if name not in names:
            raise ModelError(f"Unknown model '{name}'; choose one of {', '.join(sorted(names))} "
                             "(see `huebrush models list`).")
        return name, False
    for default in (DEFAULT_MODEL, "maskgan"):
        if default in names:
            return default, True
    return "hints", False


def _colorize(L, mask, hints, args: argparse.Namespace, model: str, fallback: bool, engine):
    from models.types import ModelError

    try:
        return _run_pipeline(L, mask, hints, args, model, engine), model
    except ModelError as e:
        if not fallback:
            raise ModelError(_one_sentence(f"Model '{model}' could not run: {e}")) from None
        print(f"huebrush: note: {_one_sentence(str(e))} Using the hints model instead.", file=sys.stderr)
        return _run_pipeline(L, mask, hints, args, "hints", engine), "hints"


def _run_pipeline(L, mask, hints, args: argparse.Namespace, model: str, engine):
    from app.core.pipeline import Settings, colorize_array

    overrides = {
        key: value
        for key, value in (("saturation", args.saturation), ("feather", args.feather),
                           ("work_size", args.work_size), ("device", args.device), ("hint_reach", args.hint_reach),
                           ("warmth", args.warmth), ("tint", args.tint))
        if value is not None
    }
    settings = Settings(model=model, **overrides)
    notes: list[str] = []
    if getattr(args, "regions", None):
        from app.core.pipeline import colorize_regions

        layers: list = []  # an .ora output gets one layer per region
        ab = colorize_regions(L, args.regions, hints, settings, engine=engine, notes=notes,
                              reference_lab=getattr(args, "reference_lab", None), layers=layers)
        args.region_layers = layers[0]
    else:
        ab = colorize_array(L, mask, hints, settings, engine=engine, notes=notes,
                            reference_lab=getattr(args, "reference_lab", None))
    for note in notes:
        print(f"huebrush: note: {note}", file=sys.stderr)
    return ab


def _engine():
    from models.engine import get_engine

    return get_engine()  # the device travels in Settings, per request


def _one_sentence(text: str) -> str:
    line = " ".join(text.split())
    return line if line.endswith((".", "!", "?")) else line + "."

