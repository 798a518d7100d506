"""Registers the colorizers Huebrush ships. Imports of heavy modules stay inside factories."""
from __future__ import annotations

from .registry import ModelInfo, register


def _hints(device: str):
    from .hintprop import HintPropagation

    return HintPropagation()


register(
    ModelInfo(
        name="hints",
        title="Hint propagation (Levin et al. 2004)",
        description="Spreads your colour hints to neighbouring pixels of similar lightness. Needs no weights.",
        needs_weights=False,
    ),
    _hints,
)
