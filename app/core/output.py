"""Where a finished result goes: one image (``export.export_result``) or, for ``.ora``, the grey
photo with the colour as a Color-mode layer (``layers.export_ora``). Every writer calls this."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from models.fileio import remove_stale_parts

from . import export


def write_result(path: str | os.PathLike, L: np.ndarray, ab: np.ndarray, layers=None, **kw) -> Path:
    """``export_result``'s arguments; an ``.ora`` name writes OpenRaster layers instead: ``layers``
    (``(name, ab[, alpha])`` bottom up, e.g. one per colour region) or one "Colour" layer of ``ab``."""
    path = Path(path)
    if path.suffix.lower() != ".ora":
        return export.export_result(path, L, ab, **kw)
    from .layers import export_ora

    export.check_output_path(path, overwrite=kw.get("overwrite", True), protect=kw.get("protect", ()))
    remove_stale_parts([path])
    return export_ora(path, L, layers if layers is not None else [("Colour", ab)], bit_depth=kw.get("bit_depth", 8),
                      icc_profile=export.icc_for_rgb(kw.get("icc_profile")), protect=kw.get("protect", ()))
