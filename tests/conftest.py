"""Test-wide set-up: no display, isolated settings and user folders, the shared datasets."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# Qt must never need a display in tests, and nothing may touch the real user's folders.
os.environ["QT_QPA_PLATFORM"] = "offscreen"  # forced: a developer's DISPLAY must not open windows

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    return Path(os.environ.get("HUEBRUSH_DATA", REPO.parent / "shared" / "datasets"))


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("userhome")
    monkeypatch.setenv("HUEBRUSH_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("HUEBRUSH_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("HUEBRUSH_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("HUEBRUSH_MODELS_DIR", str(home / "data" / "models"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    yield


@pytest.fixture
def datasets_dir() -> Path:
    root = data_root()
    if not root.is_dir():
        pytest.skip(f"shared datasets not found at {root}")
    return root
