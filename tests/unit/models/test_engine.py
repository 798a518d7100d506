"""The inference engine: device choice, caching, cancel, out-of-memory fallback."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from models import engine as engine_mod
from models import registry
from models.engine import Engine, get_engine, resolve_device, shrink_request
from models.registry import ModelInfo
from models.types import Cancelled, ColorizeRequest, ModelError

_names = itertools.count()


class FakeColorizer:
    """ab = (L / 10, -L / 10); can pretend the GPU ran out of memory."""

    def __init__(self, device: str, oom_above: int | None = None, oom_on: tuple[str, ...] = ()) -> None:
        self.name = "fake"
        self.device = device
        self.oom_above = oom_above
        self.oom_on = oom_on
        self.calls: list[tuple[int, int]] = []

    def predict(self, request, cancel=None):
        self.calls.append(request.L.shape)
        if self.device in self.oom_on or (self.oom_above and max(request.L.shape) > self.oom_above):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if cancel is not None and cancel():
            raise Cancelled()
        L = np.asarray(request.L, np.float32)
        return np.stack([L / 10, -L / 10], axis=-1)


def _register(**kw) -> tuple[str, list[FakeColorizer]]:
    name = f"fake{next(_names)}"
    made: list[FakeColorizer] = []

    def factory(device):
        c = FakeColorizer(device, **kw)
        made.append(c)
        return c

    registry.register(ModelInfo(name, "Fake", "test double", False), factory)
    return name, made


def _request(name: str, h: int = 40, w: int = 30, device: str = "auto") -> ColorizeRequest:
    L = np.linspace(0, 100, h * w, dtype=np.float32).reshape(h, w)
    return ColorizeRequest.whole_photo(L, model=name, device=device)


def test_picks_the_cpu_on_this_machine():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if expected == "cpu" and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        expected = "mps"
    assert Engine().device == expected
    assert Engine("cpu").device == "cpu"


def test_auto_prefers_cuda_then_mps_then_cpu():
    assert resolve_device("auto", {"cpu", "mps", "cuda"}) == "cuda"
    assert resolve_device("auto", {"cpu", "mps"}) == "mps"
    assert resolve_device("auto", {"cpu"}) == "cpu"


def test_missing_cuda_is_one_clear_sentence():
    with pytest.raises(ModelError, match="'cuda' is not available on this computer"):
        Engine("cuda", probe=lambda: {"cpu"})
    with pytest.raises(ModelError, match="Unknown device 'tpu'"):
        Engine("tpu")


def test_colorize_returns_ab_and_caches_the_model():
    name, made = _register()
    eng = Engine("cpu")
    r1 = eng.colorize(_request(name))
    r2 = eng.colorize(_request(name, 20, 20))
    assert len(made) == 1  # loaded once
    assert r1.ab.shape == (40, 30, 2) and r1.ab.dtype == np.float32
    assert r1.request_id != r2.request_id and r1.device == "cpu" and r1.model == name and r1.message == ""
    np.testing.assert_allclose(r1.ab[..., 0], _request(name).L / 10)


def test_cancel_raises_cancelled():
    name, made = _register()
    eng = Engine("cpu")
    with pytest.raises(Cancelled):
        eng.colorize(_request(name), cancel=lambda: True)
    # a cancel that turns true while the model runs is honoured too
    state = {"n": 0}

    def later():
        state["n"] += 1
        return state["n"] > 2

    with pytest.raises(Cancelled):
        eng.colorize(_request(name), cancel=later)


def test_out_of_memory_retries_at_a_smaller_work_size():
    name, made = _register(oom_above=32)
    res = Engine("cpu").colorize(_request(name, 48, 40))
    assert res.ab.shape == (48, 40, 2)
    assert "smaller work size (24 px)" in res.message
    assert made[0].calls == [(48, 40), (24, 20)]
    assert np.isfinite(res.ab).all()


def test_out_of_gpu_memory_falls_back_to_the_cpu():
    name, made = _register(oom_on=("cuda",))
    eng = Engine("cuda", probe=lambda: {"cpu", "cuda"})
    res = eng.colorize(_request(name))
    assert res.device == "cpu"
    assert res.message == "Out of CUDA memory: fell back to the CPU."
    assert res.ab.shape == (40, 30, 2)
    assert [c.device for c in made] == ["cuda", "cpu"]


def test_other_errors_are_not_swallowed():
    name = f"broken{next(_names)}"

    class Broken:
        name = "broken"

        def predict(self, request, cancel=None):
            raise ValueError("a bug")

    registry.register(ModelInfo(name, "Broken", "", False), lambda d: Broken())
    with pytest.raises(ValueError, match="a bug"):
        Engine("cpu").colorize(_request(name))


def test_wrong_output_shape_is_a_model_error():
    name = f"badshape{next(_names)}"

    class Bad:
        name = "bad"

        def predict(self, request, cancel=None):
            return np.zeros((3, 3, 2), np.float32)

    registry.register(ModelInfo(name, "Bad", "", False), lambda d: Bad())
    with pytest.raises(ModelError, match="returned colours of shape"):
        Engine("cpu").colorize(_request(name))


def test_request_device_overrides_the_engine_default():
    name, made = _register()
    eng = Engine("auto", probe=lambda: {"cpu", "cuda"})
    assert eng.device == "cuda"
    res = eng.colorize(_request(name, device="cpu"))
    assert res.device == "cpu" and made[0].device == "cpu"


def test_shrink_request_keeps_hint_colours():
    L = np.zeros((40, 40), np.float32)
    hint_ab = np.zeros((40, 40, 2), np.float32)
    hint_mask = np.zeros((40, 40), np.float32)
    hint_ab[10:13, 10:13] = (40, -20)
    hint_mask[10:13, 10:13] = 1
    small = shrink_request(ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hint_ab, hint_mask=hint_mask), 0.5)
    assert small.L.shape == (20, 20)
    on = small.hint_mask > 0
    assert on.any()
    np.testing.assert_allclose(small.hint_ab[on], np.tile([40, -20], (on.sum(), 1)), atol=1e-3)


def test_get_engine_is_a_singleton(monkeypatch):
    monkeypatch.setattr(engine_mod, "_engine", None)
    assert get_engine() is get_engine()


def test_registry_lists_the_networks():
    names = registry.names()
    assert {"hints", "maskgan", "iizuka"} <= set(names)
