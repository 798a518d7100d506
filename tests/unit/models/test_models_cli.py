"""`huebrush models list | import | verify` on weights made in the test."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from app.cli import main
from models import checkpoint
from models.checkpoint import save_weights, sidecar_path
from models.maskgan import ARCH, MaskGANGenerator, default_config


@pytest.fixture
def no_bundled(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "bundled_weights_dir", lambda: tmp_path / "bundled-none")


def _weights(folder: Path) -> Path:
    torch.manual_seed(0)
    return save_weights(folder / "mine.safetensors", MaskGANGenerator().state_dict(),
                        {"architecture": ARCH, "config": default_config()})


def test_import_then_list_and_verify(tmp_path, capsys, no_bundled):
    src = _weights(tmp_path)
    assert main(["models", "import", str(src)]) == 0
    user = Path(os.environ["HUEBRUSH_MODELS_DIR"])
    assert (user / "maskgan.safetensors").is_file() and (user / "maskgan.json").is_file()
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert str(user / "maskgan.safetensors") in out
    assert main(["models", "verify"]) == 0
    assert "ok" in capsys.readouterr().out
    # damage the installed copy: verify names it and fails
    p = user / "maskgan.safetensors"
    p.write_bytes(p.read_bytes()[:-10])
    assert main(["models", "verify"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_import_without_sidecar_is_one_line(tmp_path, capsys, no_bundled):
    src = _weights(tmp_path)
    sidecar_path(src).unlink()
    assert main(["models", "import", str(src)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("huebrush: mine.safetensors has no mine.json beside it") and "\n" not in err


def test_unknown_architecture_is_refused(tmp_path, capsys, no_bundled):
    src = save_weights(tmp_path / "x.safetensors", {"w": torch.zeros(2)}, {"architecture": "somebody-elses-net"})
    assert main(["models", "import", str(src)]) == 1
    assert "unknown architecture 'somebody-elses-net'" in capsys.readouterr().err


def test_a_maskgan_v2_file_installs_as_the_default_model(tmp_path, capsys, no_bundled):
    from models.maskgan_v2 import ARCH as ARCH_V2
    from models.maskgan_v2 import MaskGANConfig, MaskGANNet
    from models.registry import DEFAULT_MODEL

    cfg = MaskGANConfig(decoder=(16, 16, 16))
    src = save_weights(tmp_path / "mine.safetensors", MaskGANNet(cfg).state_dict(), {"architecture": ARCH_V2, "config": cfg.to_dict()})
    assert main(["models", "import", str(src)]) == 0
    user = Path(os.environ["HUEBRUSH_MODELS_DIR"])
    assert DEFAULT_MODEL == "maskgan-v2" and (user / "maskgan-v2.safetensors").is_file()
    assert "installed maskgan-v2 weights" in capsys.readouterr().out


def test_verify_checks_every_bundled_file_the_segmenter_too(capsys):
    """The files Huebrush ships all verify, the built-in segmenter's included (it was reported as an
    unknown architecture, exit 1, on a fresh install)."""
    from models.checkpoint import bundled_weights_dir

    assert main(["models", "verify"]) == 0
    out = capsys.readouterr().out
    for name in ("clickseg", "iizuka", "maskgan", "maskgan-v2"):
        assert f"ok      {bundled_weights_dir() / (name + '.safetensors')}" in out
    assert "FAILED" not in out
