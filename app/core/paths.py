"""Where Huebrush keeps settings, user models, autosaves and caches (platformdirs).

Environment variables override each folder so tests, portable installs and CI stay isolated.
"""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

_APP = "Huebrush"


def _dir(env: str, default: str) -> Path:
    p = Path(os.environ.get(env) or default)
    p.mkdir(parents=True, exist_ok=True)
    return p


def config_dir() -> Path:
    return _dir("HUEBRUSH_CONFIG_DIR", platformdirs.user_config_dir(_APP, appauthor=False))


def data_dir() -> Path:
    return _dir("HUEBRUSH_DATA_DIR", platformdirs.user_data_dir(_APP, appauthor=False))


def cache_dir() -> Path:
    return _dir("HUEBRUSH_CACHE_DIR", platformdirs.user_cache_dir(_APP, appauthor=False))


def user_models_dir() -> Path:
    return _dir("HUEBRUSH_MODELS_DIR", str(data_dir() / "models"))


def autosave_dir() -> Path:
    return _dir("HUEBRUSH_AUTOSAVE_DIR", str(data_dir() / "autosave"))


def share_models_dir_with_engine() -> Path:
    """Let the model loaders (which know nothing of the app) find weights the user imported.

    ``models.checkpoint`` searches $HUEBRUSH_MODELS_DIR before the bundled weights; the app's
    user models folder is that folder unless the user already pointed the variable elsewhere.
    """
    folder = user_models_dir()
    os.environ["HUEBRUSH_MODELS_DIR"] = str(folder)
    return folder
