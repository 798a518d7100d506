"""Shipping weights: fp16 safetensors plus a JSON sidecar, checked before anything is loaded.

The sidecar (``NAME.json`` next to ``NAME.safetensors``) records what a user or a later
maintainer needs to trust the file: architecture and config, colour space and normalisation,
training data, steps, wall time, hardware, measured metrics, and the sha256 of the weights.
Only safetensors is ever parsed: a pickle renamed to ``.safetensors`` is refused, not executed.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from .fileio import atomic_write_bytes
from .types import ModelError

SIDECAR_VERSION = 1
WEIGHTS_EXT = ".safetensors"


def sidecar_path(path: str | os.PathLike) -> Path:
    return Path(path).with_suffix(".json")


def save_weights(path: str | os.PathLike, state_dict: dict, meta: dict) -> Path:
    """Write ``state_dict`` as fp16 safetensors and ``meta`` (+ sha256) as the JSON sidecar.

    ``meta`` must name the ``architecture``. Floating tensors are stored as fp16 (integer
    buffers such as BatchNorm's counters keep their type). Both writes are atomic.
    """
    from safetensors.torch import save

    if "architecture" not in meta:
        raise ValueError("meta must contain 'architecture'")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for k, v in state_dict.items():
        v = v.detach().cpu().contiguous()
        tensors[k] = v.half() if v.is_floating_point() else v
    data = save(tensors, metadata={"architecture": str(meta["architecture"])})
    atomic_write_bytes(path, data)
    side = dict(meta)
    side["format_version"] = SIDECAR_VERSION
    side["weights_file"] = path.name
    side["dtype"] = "float16"
    side["sha256"] = hashlib.sha256(data).hexdigest()
    side["bytes"] = len(data)
    atomic_write_bytes(sidecar_path(path), (json.dumps(side, indent=2, sort_keys=True) + "\n").encode())
    return path


def read_meta(path: str | os.PathLike) -> dict:
    """The sidecar of a weights file, or ModelError naming the file."""
    side = sidecar_path(path)
    if not side.is_file():
        raise ModelError(f"{Path(path).name} has no {side.name} beside it: import the weights together with their .json file.")
    try:
        meta = json.loads(side.read_text())
        if not isinstance(meta, dict):
            raise ValueError
    except (ValueError, OSError, UnicodeDecodeError):
        raise ModelError(f"{side} is not a valid weights description: re-install or re-export the model.") from None
    return meta


def load_weights(path: str | os.PathLike, expected_arch: str) -> tuple[dict, dict]:
    """Check and load weights: ``(state_dict (float32 tensors), meta)``; ModelError if anything is off."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Weights file {path} does not exist: install the model with 'huebrush models import PATH'.")
    if path.suffix != WEIGHTS_EXT:
        raise ModelError(f"{path.name} is not a .safetensors file: Huebrush only loads safetensors weights.")
    meta = read_meta(path)
    arch = meta.get("architecture")
    if arch != expected_arch:
        raise ModelError(f"{path.name} holds a '{arch}' network, not '{expected_arch}': choose the matching model or file.")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise ModelError(f"{path.name} is damaged or was changed (checksum mismatch): re-install or re-import the model.")
    try:
        raw = load(data)
    except (SafetensorError, ValueError, RuntimeError, OSError) as e:
        raise ModelError(f"{path.name} cannot be read as safetensors ({type(e).__name__}): re-export the weights.") from None
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in raw.items()}
    return state, meta


def bundled_weights_dir() -> Path:
    """resources/weights inside the installed package (editable checkout or wheel)."""
    return Path(str(resources.files("resources").joinpath("weights")))


def user_models_dir() -> Path:
    """The user's models folder (not created here).

    Mirrors app.core.paths.user_models_dir (models may not import app): HUEBRUSH_MODELS_DIR,
    else HUEBRUSH_DATA_DIR/models, else the platform's user data folder / models.
    """
    env = os.environ.get("HUEBRUSH_MODELS_DIR")
    if env:
        return Path(env)
    data = os.environ.get("HUEBRUSH_DATA_DIR")
    if not data:
        import platformdirs

        data = platformdirs.user_data_dir("Huebrush", appauthor=False)
    return Path(data) / "models"


def _search_dirs(extra_dirs: Iterable[str | os.PathLike] = ()) -> list[Path]:
    dirs = [Path(d) for d in extra_dirs]
    dirs.append(user_models_dir())
    dirs.append(bundled_weights_dir())
    seen, out = set(), []
    for d in dirs:
        key = str(d.resolve()) if d.exists() else str(d)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def find_weights(name: str, extra_dirs: Iterable[str | os.PathLike] = ()) -> Path | None:
    """``NAME.safetensors`` from the user's folders first (imports override), then the bundled ones."""
    for d in _search_dirs(extra_dirs):
        p = d / f"{name}{WEIGHTS_EXT}"
        if p.is_file():
            return p
    return None


def candidate_weights(name: str, extra_dirs: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Every ``NAME.safetensors`` in search order (the user's folders first, the bundled last)."""
    return [d / f"{name}{WEIGHTS_EXT}" for d in _search_dirs(extra_dirs) if (d / f"{name}{WEIGHTS_EXT}").is_file()]


def load_first_intact(name: str, load, extra_dirs: Iterable[str | os.PathLike] = ()):
    """``(load(path), notes)`` for the first ``NAME.safetensors`` in search order that loads.

    A damaged or unusable copy in the user's folder must not hide the intact bundled one: it is
    skipped and ``notes`` says so in one sentence. With no intact copy, the first copy's
    ModelError is raised; with no copy at all, a ModelError saying how to install one.
    """
    paths = candidate_weights(name, extra_dirs)
    if not paths:
        raise ModelError(f"No {name} weights found: reinstall Huebrush or run 'huebrush models import {name}{WEIGHTS_EXT}'.")
    first: ModelError | None = None
    for p in paths:
        try:
            obj = load(p)
        except ModelError as e:
            first = first or e
            continue
        notes = [] if first is None else [
            f"Your copy {paths[0]} cannot be used ({str(first).rstrip('.')}), so the one in {p.parent} was used; "
            f"re-import or delete it."]
        return obj, notes
    raise first  # type: ignore[misc]


def list_weights(extra_dirs: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Every ``*.safetensors`` in the search folders, in search order."""
    out: list[Path] = []
    for d in _search_dirs(extra_dirs):
        if d.is_dir():
            out.extend(sorted(d.glob(f"*{WEIGHTS_EXT}")))
    return out
