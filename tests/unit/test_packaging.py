"""Installing Huebrush like an application: desktop files, icons, the desktop installer, opening a
project from a file manager, and `huebrush doctor`.

The wheel (its contents, then a fresh-venv install that runs --version, doctor and a colorize) is
checked by packaging/test_wheel.sh, a step of .ci/run rather than a test here: it builds a venv of
several GB, which no one wants on every `pytest -q`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.cli import main

REPO = Path(__file__).resolve().parents[2]
LINUX = REPO / "packaging" / "linux"
ICONS = REPO / "resources" / "icons"
APP_ID = "io.github.huebrush.Huebrush"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
MIME = LINUX / "huebrush-mime.xml"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def _desktop_entries() -> dict[str, str]:
    lines = DESKTOP.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


# ---------------------------------------------------------------- desktop files and icons

@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-validate is not installed")
def test_desktop_file_validates():
    r = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert r.returncode == 0 and "error:" not in r.stdout, r.stdout + r.stderr


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli is not installed")
def test_metainfo_validates():
    r = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_desktop_file_metainfo_and_mime_type_agree():
    entries = _desktop_entries()
    mime = ET.parse(MIME).getroot().find(f"{MIME_NS}mime-type")
    project_type = mime.get("type")
    globs = [g.get("pattern") for g in mime.findall(f"{MIME_NS}glob")]
    assert "*.huebrush" in globs
    assert project_type in entries["MimeType"].split(";")  # double-click on a project -> Huebrush
    assert "%F" in entries["Exec"] or "%f" in entries["Exec"]  # the file manager passes the paths
    assert entries["Icon"] == APP_ID
    meta = ET.parse(METAINFO).getroot()
    assert meta.findtext("id") == APP_ID
    assert meta.findtext("launchable") == DESKTOP.name
    assert project_type in [m.text for m in meta.iter("mediatype")]
    # the release the metainfo announces is the version a user installs
    from app import __version__

    assert meta.find("releases/release").get("version") == __version__


def test_icon_pngs_have_every_size():
    for s in PNG_SIZES:
        with Image.open(ICONS / f"huebrush-{s}.png") as im:
            assert im.size == (s, s) and im.mode == "RGBA", f"huebrush-{s}.png is {im.size} {im.mode}"
            alpha = np.asarray(im)[..., 3]
            assert alpha[0, 0] == 0 and alpha.max() == 255  # transparent corner, a drawn icon
    with Image.open(ICONS / "huebrush.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(ICONS / "huebrush.icns") as icns:
        assert icns.size[0] >= 256
    assert ET.parse(ICONS / "huebrush.svg").getroot().tag.endswith("svg")


# ---------------------------------------------------------------- packaging/linux/install.sh

def _install_sh(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(LINUX / "install.sh"), *args], capture_output=True, text=True,
                          env=env or dict(os.environ))


def test_install_sh_puts_launcher_icons_metainfo_and_mime_type_in_place(tmp_path):
    prefix = tmp_path / "share"
    r = _install_sh("--prefix", str(prefix), "--exec", "/opt/huebrush/huebrush")
    assert r.returncode == 0, r.stderr
    desktop = prefix / "applications" / f"{APP_ID}.desktop"
    assert "Exec=/opt/huebrush/huebrush %F" in desktop.read_text().splitlines()
    assert (prefix / "metainfo" / f"{APP_ID}.metainfo.xml").read_bytes() == METAINFO.read_bytes()
    assert (prefix / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg").is_file()
    for s in PNG_SIZES:
        with Image.open(prefix / f"icons/hicolor/{s}x{s}/apps/{APP_ID}.png") as im:
            assert im.size == (s, s)
    assert (prefix / "mime/packages" / f"{APP_ID}.xml").is_file()
    if shutil.which("update-mime-database"):  # the shared MIME database now knows .huebrush
        assert "application/x-huebrush-project:*.huebrush" in (prefix / "mime/globs2").read_text()
    if shutil.which("update-desktop-database"):  # ... and which program opens it
        cache = (prefix / "applications/mimeinfo.cache").read_text()
        assert f"application/x-huebrush-project={APP_ID}.desktop;" in cache
    if shutil.which("desktop-file-validate"):
        v = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
        assert v.returncode == 0, v.stdout

    r = _install_sh("--prefix", str(prefix), "--uninstall")
    assert r.returncode == 0, r.stderr
    assert not desktop.exists()
    assert not list(prefix.glob(f"icons/**/{APP_ID}.*"))


def test_install_sh_refuses_a_program_path_with_spaces(tmp_path):
    r = _install_sh("--prefix", str(tmp_path), "--exec", "/home/me/My Apps/huebrush")
    assert r.returncode == 2 and "spaces" in r.stderr
    assert not (tmp_path / "applications").exists()


# ---------------------------------------------------------------- double-clicking a project

def test_a_project_path_on_the_command_line_opens_the_window_with_it(monkeypatch, tmp_path):
    pytest.importorskip("app.ui.main")
    import app.ui.main as ui_main

    seen = []
    monkeypatch.setattr(ui_main, "run_gui", lambda paths: seen.append(list(paths)) or 0)
    project = str(tmp_path / "Grandma 1952.huebrush")
    assert main([project]) == 0  # what the launcher's `Exec=huebrush %F` runs
    assert seen == [[project]]


@pytest.mark.gui
def test_window_opened_with_a_project_path_loads_the_project(qtbot, tmp_path):
    from app.core.project import Project, save_project
    from app.ui.main import create_window

    photo = tmp_path / "street.png"
    Image.fromarray(np.tile(np.linspace(40, 220, 160, dtype=np.uint8), (120, 1))).save(photo)
    mask = np.zeros((120, 160), bool)
    mask[30:90, 40:120] = True
    project = save_project(tmp_path / "street.huebrush", Project(source_path=photo, mask=mask))

    _app, win = create_window([str(project)], warm_up=False, recover=False)
    qtbot.addWidget(win)
    win.ask_save_changes = lambda dirty: "discard"
    qtbot.waitUntil(lambda: len(win.states) == 1, timeout=20_000)
    st = win.states[0]
    assert Path(st.project_path) == project
    np.testing.assert_array_equal(st.mask.data, mask)


# ---------------------------------------------------------------- huebrush doctor

def _tiny_weights(folder: Path, name: str = "maskgan") -> Path:
    import torch

    from models.checkpoint import save_weights

    return save_weights(folder / f"{name}.safetensors", {"w": torch.ones(4, 4)}, {"architecture": "test-arch-v1"})


def _doctor_json(capsys) -> dict:
    assert main(["doctor", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_doctor_json_names_the_device_folders_and_weights(tmp_path, monkeypatch, capsys):
    models_dir = tmp_path / "my-models"
    monkeypatch.setenv("HUEBRUSH_MODELS_DIR", str(models_dir))
    good = _tiny_weights(models_dir)
    report = _doctor_json(capsys)

    assert report["device"]["device"] in ("cpu", "cuda", "mps")
    assert report["device"]["torch_cuda_build"]
    assert report["packages"]["torch"] not in ("", "not installed")
    assert report["qt"]["qt"].startswith("6.")
    if sys.platform.startswith("linux"):  # whether Qt's X11 plugin finds its system libraries
        assert report["qt"]["x11_plugin"] == "loads" or "is missing" in report["qt"]["x11_plugin"]
    assert report["folders"]["user_models"] == str(models_dir)
    assert report["folders"]["settings"] == os.environ["HUEBRUSH_CONFIG_DIR"]
    mine = [w for w in report["weights"] if w["file"] == str(good)]
    assert mine and mine[0]["verified"] is True and mine[0]["architecture"] == "test-arch-v1"
    # the bundled weights are listed too, and every one of them verifies
    bundled = sorted(Path(report["folders"]["bundled_weights"]).glob("*.safetensors"))
    listed = {w["file"]: w for w in report["weights"]}
    for p in bundled:
        assert listed[str(p)]["verified"], f"bundled weights {p.name} fail their checksum"
    assert isinstance(report["sam_checkpoints"], list)
    # each file says what it is for: the click segmenter's network is no --model choice
    assert mine[0]["role"] == "colorizer"
    roles = {Path(f).stem: w["role"] for f, w in listed.items()}
    if "clickseg" in roles:
        assert roles["clickseg"] == "segmenter"


def test_smoke_test_colorizes_with_colorizer_weights_only():
    import importlib.util

    spec = importlib.util.spec_from_file_location("smoke", REPO / "packaging" / "smoke.py")
    smoke = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(smoke)
    doctor = {"weights": [{"file": "/w/maskgan.safetensors", "role": "colorizer"},
                          {"file": "/w/clickseg.safetensors", "role": "segmenter"},
                          {"file": "/u/iizuka.safetensors", "role": "colorizer"}]}
    assert smoke.bundled_models(doctor) == ["iizuka", "maskgan"]


def test_doctor_reports_damaged_weights(tmp_path, monkeypatch, capsys):
    models_dir = tmp_path / "my-models"
    monkeypatch.setenv("HUEBRUSH_MODELS_DIR", str(models_dir))
    bad = _tiny_weights(models_dir, "iizuka")
    data = bytearray(bad.read_bytes())
    data[-1] ^= 0xFF
    bad.write_bytes(bytes(data))
    orphan = models_dir / "lonely.safetensors"
    orphan.write_bytes(b"\0" * 16)  # no .json beside it

    report = _doctor_json(capsys)
    # keyed by folder too: the bundled weights of the same name are listed beside the user's
    rows = {(Path(w["file"]).parent, Path(w["file"]).name): w for w in report["weights"]}
    assert rows[(models_dir, "iizuka.safetensors")]["verified"] is False
    lonely = rows[(models_dir, "lonely.safetensors")]
    assert lonely["verified"] is False and "lonely.json" in lonely["problem"]

    assert main(["doctor"]) == 0
    text = capsys.readouterr().out
    assert "CHECKSUM FAILED" in text and str(models_dir) in text and "Device:" in text

