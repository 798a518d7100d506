"""Canvas tools. ``create_tools(canvas)`` lists them in toolbar order; see base.Tool."""
from __future__ import annotations

import logging

from app.ui.tools.base import Tool

log = logging.getLogger(__name__)


def create_tools(canvas) -> dict[str, Tool]:
    from app.ui.tools.brush import BrushTool, EraserTool
    from app.ui.tools.hint import HintTool
    from app.ui.tools.lasso import LassoTool
    from app.ui.tools.wand import WandTool

    classes: list[type[Tool]] = [BrushTool, EraserTool, LassoTool, WandTool, HintTool]
    try:  # the click-to-segment tool is optional until its module exists
        from app.ui.tools.segment import SegmentTool

        classes.insert(4, SegmentTool)
    except ImportError as e:
        if "app.ui.tools.segment" not in str(e):
            log.warning("segment tool unavailable: %s", e)
    return {cls.name: cls(canvas) for cls in classes}
