"""Shipping weights: fp16 safetensors + sidecar, checked before loading, never unpickled."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from models import checkpoint
from models.checkpoint import find_weights, list_weights, load_weights, save_weights, sidecar_path
from models.fileio import sha256_file
from models.types import ModelError


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))


def _save(tmp_path: Path, arch: str = "toy-v1") -> tuple[Path, dict]:
    sd = _net().state_dict()
    path = save_weights(tmp_path / "toy.safetensors", sd, {"architecture": arch, "config": {"width": 4}, "steps": 12})
    return path, sd


def test_round_trip_keeps_weights_and_metadata(tmp_path):
    path, sd = _save(tmp_path)
    state, meta = load_weights(path, "toy-v1")
    assert set(state) == set(sd)
    for k, v in sd.items():
        if v.is_floating_point():
            assert state[k].dtype == torch.float32  # handed back as float32 ...
            torch.testing.assert_close(state[k], v, atol=1e-3, rtol=1e-3)  # ... from fp16 storage
        else:
            assert torch.equal(state[k], v)
    assert meta["config"] == {"width": 4} and meta["steps"] == 12
    assert meta["sha256"] == sha256_file(path)
    assert meta["dtype"] == "float16"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # atomic writes left nothing
    assert path.stat().st_mode & 0o044 == 0o044  # readable by others (installed, shared weights)


def test_weights_are_stored_half_precision(tmp_path):
    big = {"w": torch.randn(256, 256)}
    path = save_weights(tmp_path / "big.safetensors", big, {"architecture": "x"})
    assert path.stat().st_size < 256 * 256 * 2 + 1024


def test_changed_byte_is_a_checksum_error(tmp_path):
    path, _ = _save(tmp_path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"toy\.safetensors.*checksum"):
        load_weights(path, "toy-v1")


def test_truncated_file_is_refused_even_with_matching_hash(tmp_path):
    path, _ = _save(tmp_path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ModelError, match="checksum"):
        load_weights(path, "toy-v1")
    # someone "fixed" the sidecar hash: the parser must still refuse it with one sentence
    side = sidecar_path(path)
    meta = json.loads(side.read_text())
    meta["sha256"] = sha256_file(path)
    side.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="cannot be read as safetensors"):
        load_weights(path, "toy-v1")


def test_foreign_architecture_is_named(tmp_path):
    path, _ = _save(tmp_path, arch="other-net")
    with pytest.raises(ModelError, match="'other-net' network, not 'toy-v1'"):
        load_weights(path, "toy-v1")


class _Trap:
    """Unpickling this would create a marker file: proof that pickle was executed."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_pickle_renamed_to_safetensors_is_never_executed(tmp_path):
    marker = tmp_path / "pickle_was_loaded"
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"w": _Trap(str(marker))}))
    sidecar_path(path).write_text(json.dumps({"architecture": "toy-v1", "sha256": sha256_file(path)}))
    with pytest.raises(ModelError, match="evil.safetensors"):
        load_weights(path, "toy-v1")
    assert not marker.exists()


def test_torch_save_file_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    torch.save(_net().state_dict(), path)
    sidecar_path(path).write_text(json.dumps({"architecture": "toy-v1", "sha256": sha256_file(path)}))
    with pytest.raises(ModelError, match="cannot be read as safetensors"):
        load_weights(path, "toy-v1")


def test_missing_sidecar_and_missing_file_say_what_to_do(tmp_path):
    path, _ = _save(tmp_path)
    sidecar_path(path).unlink()
    with pytest.raises(ModelError, match="no toy.json beside it"):
        load_weights(path, "toy-v1")
    with pytest.raises(ModelError, match="does not exist"):
        load_weights(tmp_path / "nothing.safetensors", "toy-v1")
    other = tmp_path / "w.pt"
    other.write_bytes(b"x")
    with pytest.raises(ModelError, match="not a .safetensors file"):
        load_weights(other, "toy-v1")


def test_user_folders_come_before_bundled_weights(tmp_path, monkeypatch):
    bundled, user, env = tmp_path / "bundled", tmp_path / "user", tmp_path / "env"
    for d in (bundled, user, env):
        d.mkdir()
    monkeypatch.setattr(checkpoint, "bundled_weights_dir", lambda: bundled)
    monkeypatch.setenv("HUEBRUSH_MODELS_DIR", str(env))
    sd = _net().state_dict()
    save_weights(bundled / "toy.safetensors", sd, {"architecture": "toy-v1"})
    assert find_weights("toy") == bundled / "toy.safetensors"
    save_weights(env / "toy.safetensors", sd, {"architecture": "toy-v1"})
    assert find_weights("toy") == env / "toy.safetensors"
    save_weights(user / "toy.safetensors", sd, {"architecture": "toy-v1"})
    assert find_weights("toy", [user]) == user / "toy.safetensors"
    assert find_weights("absent", [user]) is None
    assert list_weights([user]) == [user / "toy.safetensors", env / "toy.safetensors", bundled / "toy.safetensors"]


def test_bundled_dir_is_the_package_resources_folder():
    d = checkpoint.bundled_weights_dir()
    assert d.name == "weights" and d.parent.name == "resources" and d.is_dir()
