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


def _maskgan(device: str):
    from .maskgan import load_maskgan

    return load_maskgan(None, device)


register(
    ModelInfo(
        name="maskgan",
        title="Mask-conditioned GAN, v1",
        description="The first network: a U-Net with an ImageNet-pretrained EfficientNet-Lite0 encoder that colours "
        "inside your mask and follows your colour hints, trained mostly on 64 px photos. A little closer to the "
        "original than maskgan-v2 without hints on some photos; its hints spread far.",
        needs_weights=True,
    ),
    _maskgan,
)


def _maskgan_v2(device: str):
    from .checkpoint import load_first_intact
    from .maskgan import load_maskgan

    col, notes = load_first_intact("maskgan-v2", lambda p: load_maskgan(p, device))
    col.load_note = " ".join(notes)
    return col


register(
    ModelInfo(
        name="maskgan-v2",
        title="Mask-conditioned colour distribution (default)",
        description="Trained on large photos: predicts a distribution over colours (the suggested colours at a "
        "hint), hints stay local at a low reach and set the whole photo's vividness and cast at full reach. "
        "See its model card for where it is better and worse than maskgan v1.",
        needs_weights=True,
    ),
    _maskgan_v2,
)


def _iizuka(device: str):
    from .iizuka import load_iizuka

    return load_iizuka(None, device)


register(
    ModelInfo(
        name="iizuka",
        title="Iizuka et al. 2016 (Let there be Color!)",
        description="Global and local features fused for automatic colorization; a reference photo can set the "
        "global style. Ignores hints.",
        needs_weights=True,
        follows_hints=False,
    ),
    _iizuka,
)


def _reference(device: str):
    from .reference import ReferenceColorizer

    return ReferenceColorizer(device)


register(
    ModelInfo(
        name="reference",
        title="From a reference photo (no training)",
        description="Takes the colours of a colour photo of the same scene: matches the two photos' features and "
        "lightness, then spreads the sure matches along the grey photo's edges. Needs a reference photo.",
        needs_weights=False,
        follows_hints=False,
    ),
    _reference,
)
