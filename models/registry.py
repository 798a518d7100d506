"""The model registry: name -> colorizer factory, plus what the user can pick.

A colorizer is any object with ``predict(request, cancel) -> ab`` (float32 (h, w, 2)) and a
``name``; networks are loaded lazily so listing models never imports torch.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .types import CancelCheck, ColorizeRequest, ModelError


class Colorizer(Protocol):
    name: str

    def predict(self, request: ColorizeRequest, cancel: CancelCheck | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelInfo:
    name: str
    title: str
    description: str
    needs_weights: bool
    follows_hints: bool = True  # False: the model colours without the user's hints (iizuka, reference)


DEFAULT_MODEL = "maskgan-v2"  # what the app, the CLI and new projects colour with unless told otherwise

# name -> (info, factory(device) -> Colorizer)
_REGISTRY: dict[str, tuple[ModelInfo, Callable[[str], Colorizer]]] = {}


def register(info: ModelInfo, factory: Callable[[str], Colorizer]) -> None:
    _REGISTRY[info.name] = (info, factory)


def available() -> list[ModelInfo]:
    _load_builtin()
    return [info for info, _ in _REGISTRY.values()]


def names() -> list[str]:
    return [m.name for m in available()]


def follows_hints(name: str) -> bool:
    """Whether model ``name`` takes the user's colour hints (an unknown name: assumed so)."""
    _load_builtin()
    entry = _REGISTRY.get(name)
    return entry is None or entry[0].follows_hints


def create(name: str, device: str = "cpu") -> Colorizer:
    _load_builtin()
    if name not in _REGISTRY:
        raise ModelError(f"Unknown model '{name}': choose one of {', '.join(sorted(_REGISTRY))}.")
    return _REGISTRY[name][1](device)


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import builtin  # noqa: F401  (registers hints, maskgan, iizuka)
