"""Render the one icon source (resources/icons/huebrush.svg) to every size and format we ship.

PNG sizes for freedesktop icon themes, .ico for Windows and .icns for macOS, all from the SVG, so
there is a single drawing to maintain. Run: python packaging/make_icons.py [OUT_DIR]
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SVG = REPO / "resources" / "icons" / "huebrush.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(size: int):
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot read the icon source {SVG}")
    img = QImage(size, size, QImage.Format.Format_RGBA8888)
    img.fill(Qt.GlobalColor.transparent)
    painter = QPainter(img)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    buf = bytes(img.constBits())
    return Image.frombuffer("RGBA", (size, size), buf, "raw", "RGBA", img.bytesPerLine(), 1).copy()


def main(out_dir: str | None = None) -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (QPainter needs it)
    out = Path(out_dir) if out_dir else REPO / "resources" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    images = {s: render(s) for s in PNG_SIZES}
    for s, im in images.items():
        im.save(out / f"huebrush-{s}.png")
    images[256].save(out / "huebrush.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    images[512].save(out / "huebrush.icns")
    print(f"icons written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
