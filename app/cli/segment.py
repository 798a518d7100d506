"""`huebrush segment IMAGE --point X,Y ... -o MASK.png`: click-to-segment without the window."""
from __future__ import annotations

import argparse
import json
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "segment",
        help="make a mask from clicks (Segment Anything if imported, else the built-in segmenter)",
        description="Segment the object under the given points of IMAGE and write the mask as a PNG "
        "(255 = inside). Use it as `huebrush colorize --mask MASK.png`.",
    )
    p.add_argument("image", help="the photo")
    p.add_argument("--point", action="append", default=[], metavar="X,Y", help="a pixel on the object; repeat for more")
    p.add_argument("--negative", action="append", default=[], metavar="X,Y",
                   help="a pixel that is NOT part of the object; repeat for more")
    p.add_argument("--box", metavar="X0,Y0,X1,Y1", help="a box around the object")
    p.add_argument("--segmenter", default="auto", choices=("auto", "sam", "mobilesam", "builtin", "classic"),
                   help="auto: the best imported checkpoint, else builtin, the learned segmenter that ships "
                   "with Huebrush; classic: the earlier weight-free one (default auto)")
    p.add_argument("--checkpoint", metavar="PATH", help="a SAM or MobileSAM checkpoint to use without importing it")
    p.add_argument("--alternative", type=int, default=0, metavar="N",
                   help="write SAM's N-th alternative mask instead of the best (0 = best)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps"), help="where SAM runs (default cpu)")
    p.add_argument("-o", "--output", required=True, metavar="MASK.png", help="where to write the mask")
    p.set_defaults(func=run)


def _numbers(text: str, count: int, what: str) -> tuple[float, ...]:
    from app.core.errors import HuebrushError

    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != count:
        raise HuebrushError(f"{what} {text!r} is not {count} comma-separated numbers; write it like "
                            f"{'X,Y' if count == 2 else 'X0,Y0,X1,Y1'} in photo pixels.")
    return vals


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.core.document import load_image
    from app.core.errors import HuebrushError
    from app.core.mask import save_mask_png
    from app.core.segment.factory import create_segmenter
    from app.core.segment.types import Prompts

    out = Path(args.output)
    if out.suffix.lower() != ".png":
        raise HuebrushError(f"{out} must be a .png file; masks are written as PNG.")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise HuebrushError(f"The folder {out.parent} does not exist; create it or choose another place for {out.name}.")
    if out.exists() and out.resolve() == Path(args.image).resolve():
        raise HuebrushError(f"Refusing to write the mask over the photo {out}; choose another output name.")
    include = tuple(_numbers(t, 2, "--point") for t in args.point)
    exclude = tuple(_numbers(t, 2, "--negative") for t in args.negative)
    box = _numbers(args.box, 4, "--box") if args.box else None
    if not include and box is None:
        raise HuebrushError("Give at least one --point X,Y on the object (or a --box) to segment it.")

    doc = load_image(args.image)
    H, W = doc.size
    for x, y in include + exclude:
        if not (0 <= x < W and 0 <= y < H):
            raise HuebrushError(f"Point {x:g},{y:g} is outside {Path(args.image).name} ({W}x{H}); "
                                "give pixel coordinates inside the photo.")
    seg = create_segmenter(args.segmenter, args.checkpoint, device=args.device)
    seg.set_image(doc.L, key=doc.sha256 or None)
    result = seg.segment(Prompts(include=include, exclude=exclude, box=box))
    if not 0 <= args.alternative < result.count:
        raise HuebrushError(f"--alternative {args.alternative} does not exist: the {result.segmenter} segmenter "
                            f"gave {result.count} mask(s); choose 0 to {result.count - 1}.")
    mask = result.masks[args.alternative]
    save_mask_png(out, mask)
    print(json.dumps({"mask": str(out), "segmenter": result.segmenter, "pixels": int(mask.sum()),
                      "fraction": round(float(mask.mean()), 4), "alternatives": result.count,
                      "score": round(result.scores[args.alternative], 4),
                      "seconds": round(result.seconds, 3)}), file=sys.stdout)
    return 0
