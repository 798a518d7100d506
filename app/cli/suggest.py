"""`huebrush suggest PHOTO --point X,Y`: the colours the model finds likely at a point, best first."""
from __future__ import annotations

import argparse
import json
import math


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "suggest",
        help="print the likeliest colours at a point of a photo (from maskgan's colour distribution)",
        description="Print the K colours the maskgan model finds likeliest at pixel X,Y, best first, each "
        "with its share; only colours that exist at that point's lightness are listed.",
    )
    p.add_argument("photo", help="the black-and-white photo")
    p.add_argument("--point", required=True, metavar="X,Y", help="a pixel of the photo (0,0 is the top left)")
    p.add_argument("--count", type=int, default=5, metavar="K", help="how many colours (1-20, default 5)")
    p.add_argument("--work-size", type=int, default=512, metavar="PX", help="long side the model runs at (default 512)")
    p.add_argument("--json", action="store_true", help='print [{"color": "#rrggbb", "share": p}, ...]')
    p.set_defaults(func=run)


def parse_point(text: str) -> tuple[float, float]:
    from app.core.errors import HuebrushError

    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise HuebrushError(f"--point {text!r} is not X,Y (two numbers, e.g. 120,80).") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise HuebrushError(f"--point {text!r} is not a finite position.")
    return x, y


def run(args: argparse.Namespace) -> int:
    from app.core.document import load_image
    from app.core.errors import HuebrushError
    from app.core.suggest import suggest_at, suggesting_model
    from models.registry import create

    x, y = parse_point(args.point)
    if not 1 <= args.count <= 20:
        raise HuebrushError(f"--count {args.count} is out of range; choose 1-20.")
    if not 64 <= args.work_size <= 4096:
        raise HuebrushError(f"--work-size {args.work_size} is out of range; choose 64-4096.")
    doc = load_image(args.photo)
    H, W = doc.size
    if not (0 <= x < W and 0 <= y < H):
        raise HuebrushError(f"--point {args.point} is outside the {W} x {H} photo.")
    model = suggesting_model(lambda name: create(name, "cpu"))
    found = suggest_at(model, doc.L, x, y, args.count, args.work_size)
    rows = [{"color": s.hex, "share": s.share} for s in found]
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(f"{r['color']}  {100 * r['share']:5.1f} %")
    return 0
