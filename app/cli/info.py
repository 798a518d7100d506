"""`huebrush info IMAGE`: what Huebrush sees in a photo (size, mode, depth, profile, EXIF)."""
from __future__ import annotations

import argparse
import json
import struct


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("info", help="show a photo's size, mode, bit depth, profile and checksum")
    p.add_argument("image", help="the photo to inspect")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.core.document import load_image

    doc = load_image(args.image)
    h, w = doc.size
    info = {
        "path": str(doc.path),
        "format": doc.format,
        "width": w,
        "height": h,
        "megapixels": round(w * h / 1e6, 2),
        "mode": doc.source_mode,
        "bit_depth": doc.bit_depth,
        "alpha": doc.alpha is not None,
        "icc_profile": icc_description(doc.icc_profile),
        "exif": doc.exif is not None,
        "exif_orientation": doc.orientation,
        "sha256": doc.sha256,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    turned = " (applied: shown upright)" if doc.orientation != 1 else ""
    print(f"file:         {info['path']}")
    print(f"format:       {doc.format}")
    print(f"size:         {w} x {h} px ({info['megapixels']} MP)")
    print(f"mode:         {doc.source_mode}{' with alpha' if info['alpha'] else ''}")
    print(f"bit depth:    {doc.bit_depth}")
    print(f"ICC profile:  {info['icc_profile'] or 'none'}")
    print(f"EXIF:         {'yes' if info['exif'] else 'none'}; orientation {doc.orientation}{turned}")
    print(f"sha256:       {doc.sha256}")
    return 0


def icc_description(icc: bytes | None) -> str | None:
    """The profile's own name from its 'desc' tag (ICC v2 'desc' or v4 'mluc'); '' if unreadable."""
    if not icc:
        return None
    try:
        (count,) = struct.unpack_from(">I", icc, 128)
        for i in range(min(count, 256)):
            sig, off, size = struct.unpack_from(">4sII", icc, 132 + 12 * i)
            if sig != b"desc":
                continue
            body = icc[off : off + size]
            kind = body[:4]
            if kind == b"desc":
                (n,) = struct.unpack_from(">I", body, 8)
                return body[12 : 12 + n].split(b"\x00")[0].decode("latin-1").strip()
            if kind == b"mluc":
                length, start = struct.unpack_from(">II", body, 20)  # first record: length, offset
                return body[start : start + length].decode("utf-16-be").strip()
    except (struct.error, UnicodeDecodeError):
        pass
    return ""
