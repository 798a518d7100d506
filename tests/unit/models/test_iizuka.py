"""The Iizuka et al. 2016 network: shapes at any size, style transfer, weights round trip."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from models.iizuka import IizukaColorizer, IizukaConfig, IizukaNet, load_iizuka
from models.types import Cancelled, ColorizeRequest, ModelError

TINY = IizukaConfig(width=0.0625, num_classes=7, global_size=32)


def _net(seed: int = 0, config: IizukaConfig = TINY) -> IizukaNet:
    torch.manual_seed(seed)
    net = IizukaNet(config)
    # BatchNorm statistics from a few varied photos, so that even an untrained net's output
    # depends on its input the way a trained one's does.
    for m in net.modules():
        if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
            m.momentum = None
    with torch.no_grad():
        batch = torch.from_numpy(np.stack([_photo(32, 32, seed=s) for s in range(8)]))[:, None] / 50 - 1
        net.train()(batch * torch.linspace(0.2, 1.0, 8)[:, None, None, None])
    return net.eval()


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    return (50 + 30 * np.sin(x / 7.0 + seed) * np.cos(y / 5.0) + rng.normal(0, 5, (h, w))).clip(0, 100).astype(np.float32)


@pytest.mark.parametrize("h,w", [(37, 53), (64, 64), (101, 30)])
def test_predict_returns_ab_at_the_request_size_for_odd_sizes(h, w):
    col = IizukaColorizer(_net())
    ab = col.predict(ColorizeRequest.whole_photo(_photo(h, w)))
    assert ab.shape == (h, w, 2) and ab.dtype == np.float32
    assert np.isfinite(ab).all() and np.abs(ab).max() <= 110.0 + 1e-4


def test_paper_config_has_the_papers_layer_sizes():
    net = IizukaNet(IizukaConfig.paper())
    convs = [m.out_channels for m in net.low.modules() if isinstance(m, torch.nn.Conv2d)]
    strides = [m.stride[0] for m in net.low.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == [64, 128, 128, 256, 256, 512] and strides == [2, 1, 2, 1, 2, 1]
    assert [m.out_features for m in net.modules() if isinstance(m, torch.nn.Linear)][:3] == [1024, 512, 256]
    # 224 x 224 global input: low-level /8 and two more strides -> 7 x 7 x 512 into the first FC.
    assert net.global_fc1[0].in_features == 7 * 7 * 512


def test_width_multiplier_scales_channels():
    net = IizukaNet(IizukaConfig(width=0.5, num_classes=200, global_size=64))
    convs = [m.out_channels for m in net.low.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == [32, 64, 64, 128, 128, 256]


def test_style_transfer_reference_changes_the_colours():
    col = IizukaColorizer(_net())
    L = _photo(48, 48)
    plain = col.predict(ColorizeRequest.whole_photo(L))
    ref = np.flipud(_photo(80, 60, seed=3)) * 0.5
    styled = col.predict(ColorizeRequest.whole_photo(L, reference_L=ref))
    assert np.abs(styled - plain).mean() > 1e-3
    # The reference of the photo itself is the same as no reference.
    same = col.predict(ColorizeRequest.whole_photo(L, reference_L=L.copy()))
    np.testing.assert_allclose(same, plain, atol=1e-4)


def test_saturation_and_max_side_are_applied_at_inference():
    net = _net()
    L = _photo(64, 48)
    base = IizukaColorizer(net).predict(ColorizeRequest.whole_photo(L))
    net2 = _net()
    net2.config = IizukaConfig(**{**TINY.__dict__, "saturation": 2.0})
    np.testing.assert_allclose(IizukaColorizer(net2).predict(ColorizeRequest.whole_photo(L)), 2 * base, rtol=1e-4, atol=1e-4)
    net3 = _net()
    net3.config = IizukaConfig(**{**TINY.__dict__, "max_side": 32})
    small = IizukaColorizer(net3).predict(ColorizeRequest.whole_photo(L))
    assert small.shape == base.shape and not np.allclose(small, base)


def test_the_cast_is_added_after_the_saturation_everywhere():
    L = _photo(64, 48)
    base = IizukaColorizer(_net()).predict(ColorizeRequest.whole_photo(L))
    net = _net()
    net.config = IizukaConfig(**{**TINY.__dict__, "saturation": 1.5, "cast": (-2.0, -6.5)})
    got = IizukaColorizer(net).predict(ColorizeRequest.whole_photo(L))
    np.testing.assert_allclose(got, 1.5 * base + np.array([-2.0, -6.5], np.float32), rtol=1e-4, atol=1e-4)


def test_mean_saturation_scales_the_photos_mean_colour_and_saturation_the_rest():
    L = _photo(64, 48)
    base = IizukaColorizer(_net()).predict(ColorizeRequest.whole_photo(L))
    net = _net()
    net.config = IizukaConfig(**{**TINY.__dict__, "saturation": 2.0, "mean_saturation": 1.0})
    got = IizukaColorizer(net).predict(ColorizeRequest.whole_photo(L))
    mean = base.reshape(-1, 2).mean(0)
    # the photo is the network's own size: no resampling, so the mean is exactly the one kept
    np.testing.assert_allclose(got, mean + 2.0 * (base - mean), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(got.reshape(-1, 2).mean(0), mean, atol=1e-3)
    assert got.std() > 1.9 * base.std()
    # the same gain for both is the plain saturation
    net.config = IizukaConfig(**{**TINY.__dict__, "saturation": 1.5, "mean_saturation": 1.5})
    np.testing.assert_allclose(IizukaColorizer(net).predict(ColorizeRequest.whole_photo(L)), 1.5 * base, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("gain", [-0.5, 7.0, float("nan"), "1"])
def test_a_mean_saturation_out_of_range_is_refused(gain):
    with pytest.raises(ValueError, match="mean_saturation"):
        IizukaConfig(**{**TINY.__dict__, "mean_saturation": gain})


@pytest.mark.parametrize("cast", [(0.0, 31.0), (1.0,), (float("nan"), 0.0)])
def test_a_cast_out_of_range_is_refused_and_a_damaged_sidecar_is_one_clear_error(tmp_path, cast):
    from models.checkpoint import save_weights

    with pytest.raises(ValueError, match="cast"):
        IizukaConfig(**{**TINY.__dict__, "cast": cast})
    bad = {**TINY.to_dict(), "cast": list(cast)}
    path = save_weights(tmp_path / "iizuka.safetensors", _net().state_dict(), {"architecture": "iizuka", "config": bad})
    with pytest.raises(ModelError, match="iizuka.safetensors"):
        load_iizuka(path)


def test_cancel_raises_cancelled():
    col = IizukaColorizer(_net())
    with pytest.raises(Cancelled):
        col.predict(ColorizeRequest.whole_photo(_photo(32, 32)), cancel=lambda: True)


def test_export_and_load_round_trip(tmp_path):
    from models.checkpoint import save_weights

    net = _net(seed=1)
    path = save_weights(tmp_path / "iizuka.safetensors", net.state_dict(), {"architecture": "iizuka", "config": TINY.to_dict()})
    loaded = load_iizuka(path)
    L = _photo(40, 56)
    want = IizukaColorizer(net).predict(ColorizeRequest.whole_photo(L))
    got = loaded.predict(ColorizeRequest.whole_photo(L))
    assert loaded.config == TINY
    # fp16 storage: differences stay under a just-noticeable colour difference (~2.3 in Lab).
    assert np.abs(got - want).max() < 2.3 and np.abs(got - want).mean() < 0.3


def test_loading_weights_of_another_config_is_one_clear_error(tmp_path):
    from models.checkpoint import save_weights

    net = _net()
    other = IizukaConfig(width=0.125, num_classes=7, global_size=32).to_dict()
    path = save_weights(tmp_path / "iizuka.safetensors", net.state_dict(), {"architecture": "iizuka", "config": other})
    with pytest.raises(ModelError, match="iizuka.safetensors"):
        load_iizuka(path)


def test_config_round_trips_through_json():
    cfg = IizukaConfig(width=0.5, num_classes=200, global_size=64, max_side=128, saturation=1.4, cast=(-1.5, -4.25),
                       mean_saturation=1.15)
    assert IizukaConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
