"""The maskgan network and its colorizer (tiny inputs, CPU)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from models import checkpoint
from models import maskgan as maskgan_module
from models.checkpoint import save_weights
from models.encoder import IN_CHANNELS, LiteEncoder
from models.hintprop import propagate_coarse, reach_lambda
from models.maskgan import (
    AB_SCALE,
    ARCH,
    MaskGANGenerator,
    PatchDiscriminator,
    apply_chroma_curve,
    count_hints,
    default_config,
    lightness_factor,
    load_maskgan,
    normalise_inputs,
)
from models.types import DEFAULT_HINT_REACH, Cancelled, ColorizeRequest, ModelError


@pytest.fixture(scope="module")
def net() -> MaskGANGenerator:
    torch.manual_seed(0)
    g = MaskGANGenerator(pretrained=False).eval()
    with torch.no_grad():  # a non-trivial head so outputs are not all ~0
        g.head.weight.normal_(0, 0.3)
    return g


@pytest.mark.parametrize("hw", [(37, 50), (64, 64), (33, 97)])
def test_any_size_in_gives_same_size_out(net, hw):
    x = normalise_inputs(torch.rand(1, 1, *hw) * 100, torch.ones(1, 1, *hw), torch.zeros(1, 2, *hw), torch.zeros(1, 1, *hw))
    with torch.no_grad():
        ab = net(x)
    assert ab.shape == (1, 2, *hw)
    assert ab.abs().max() <= AB_SCALE


def test_stem_starts_from_the_pretrained_rgb_filters():
    from models.encoder import pretrained_path

    enc = LiteEncoder(pretrained=True)

    rgb = torch.load(pretrained_path(), map_location="cpu", weights_only=True)["_conv_stem.weight"]
    assert enc.stem.weight.shape[1] == IN_CHANNELS
    torch.testing.assert_close(enc.stem.weight[:, 0], rgb.sum(dim=1))
    assert torch.count_nonzero(enc.stem.weight[:, 1:]) == 0  # mask and hints start switched off


def test_generator_fits_the_size_budget(net):
    n = sum(p.numel() for p in net.state_dict().values())
    assert n * 2 < 30e6  # fp16 bytes


def test_discriminator_scores_patches():
    d = PatchDiscriminator()
    out = d(torch.rand(2, 1, 64, 64) * 100, torch.ones(2, 1, 64, 64), torch.zeros(2, 2, 64, 64))
    assert out.shape[0] == 2 and out.shape[1] == 1 and out.shape[2] > 1


def _export(tmp_path, net, gain=1.0, **cfg_extra):
    cfg = default_config()
    cfg["chroma_gain"] = gain
    cfg.update(cfg_extra)
    return save_weights(tmp_path / "maskgan.safetensors", net.state_dict(), {"architecture": ARCH, "config": cfg})


def test_colorizer_matches_the_network_and_applies_the_gain(tmp_path, net):
    path = _export(tmp_path, net, gain=1.5)
    col = load_maskgan(path, "cpu")
    rng = np.random.default_rng(0)
    L = (rng.random((40, 56)) * 100).astype(np.float32)
    req = ColorizeRequest.whole_photo(L)
    ab = col.predict(req)
    assert ab.shape == (40, 56, 2) and ab.dtype == np.float32
    x = normalise_inputs(torch.tensor(L)[None, None], torch.ones(1, 1, 40, 56), torch.zeros(1, 2, 40, 56), torch.zeros(1, 1, 40, 56))
    with torch.no_grad():
        ref = apply_chroma_curve(net(x)[0], 1.5).permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ab, ref, atol=0.5)  # fp16 weights


def test_hints_change_the_input(tmp_path, net):
    col = load_maskgan(_export(tmp_path, net), "cpu")
    L = np.full((32, 32), 50, np.float32)
    plain = col.predict(ColorizeRequest.whole_photo(L))
    hint_ab = np.zeros((32, 32, 2), np.float32)
    hint_mask = np.zeros((32, 32), np.float32)
    hint_ab[10:14, 10:14] = (60, -40)
    hint_mask[10:14, 10:14] = 1
    # the untrained stem ignores hints (zero filters) but the decoder sees the raw inputs
    hinted = col.predict(ColorizeRequest(L=L, mask=np.ones((32, 32), np.float32), hint_ab=hint_ab, hint_mask=hint_mask))
    assert np.abs(hinted - plain).max() > 0


def test_chroma_curve_keeps_hue_and_boosts_strong_colours():
    ab = torch.tensor([[[3.0]], [[4.0]]]).repeat(1, 1, 2)  # |ab| = 5
    ab[:, 0, 1] = torch.tensor([30.0, 40.0])  # |ab| = 50
    out = apply_chroma_curve(ab, 1.2, 0.3)
    ratio = out.norm(dim=0) / ab.norm(dim=0)
    assert ratio[0, 1] > ratio[0, 0] > 0  # strong colours scaled more than weak ones
    torch.testing.assert_close(out[0] / out[1], ab[0] / ab[1])  # hue kept
    assert apply_chroma_curve(ab * 10, 3.0).norm(dim=0).max() <= AB_SCALE + 1e-3
    assert apply_chroma_curve(ab, 1.0, 0.0) is ab


def test_lightness_factor_interpolates_and_holds_beyond_the_table():
    table = [[5, 0.3], [55, 1.0], [95, 1.5]]
    f = lightness_factor(np.array([0.0, 5.0, 30.0, 55.0, 75.0, 100.0]), table)
    np.testing.assert_allclose(f.numpy(), [0.3, 0.3, 0.65, 1.0, 1.25, 1.5], rtol=1e-6)
    assert lightness_factor(np.zeros(3), []) is None


def test_colorizer_scales_each_pixel_by_its_lightness(tmp_path, net):
    """Dark pixels get less chroma than light ones by the configured table, hue unchanged."""
    L = np.tile(np.linspace(0, 100, 48, dtype=np.float32), (32, 1))
    table = [[5, 0.25], [50, 1.0], [95, 2.0]]
    (tmp_path / "flat").mkdir(), (tmp_path / "curved").mkdir()
    flat = load_maskgan(_export(tmp_path / "flat", net, gain=1.0), "cpu").predict(ColorizeRequest.whole_photo(L))
    curved = load_maskgan(_export(tmp_path / "curved", net, gain=1.0, chroma_by_lightness=table), "cpu").predict(
        ColorizeRequest.whole_photo(L))
    c_flat, c_curved = np.hypot(*np.moveaxis(flat, -1, 0)), np.hypot(*np.moveaxis(curved, -1, 0))
    want = np.minimum(c_flat * np.interp(L, *zip(*table)), AB_SCALE)
    np.testing.assert_allclose(c_curved, want, rtol=1e-4, atol=1e-3)
    dark, light = L < 5, L > 95
    assert (c_curved[dark] < c_flat[dark]).all() and (c_curved[light] > c_flat[light]).all()
    strong = c_flat > 1
    np.testing.assert_allclose(np.arctan2(curved[..., 1], curved[..., 0])[strong],
                               np.arctan2(flat[..., 1], flat[..., 0])[strong], atol=1e-4)


def test_lightness_curve_weight_follows_the_work_size(tmp_path, net):
    col = load_maskgan(_export(tmp_path, net, chroma_by_lightness=[[5, 0.5], [95, 1.5]],
                               chroma_by_lightness_weight_by_size=[[64, 0.0], [256, 1.0]]), "cpu")
    dark = np.full((64, 64), 5.0, np.float32)
    assert col.lightness_factor_for(dark) is None  # none of it at 64 px
    assert float(col.lightness_factor_for(np.full((256, 200), 5.0, np.float32)).max()) == pytest.approx(0.5)
    half = col.lightness_factor_for(np.full((128, 100), 5.0, np.float32))  # halfway in log size
    assert float(half.max()) == pytest.approx(0.75, abs=1e-4)


def test_gain_follows_the_work_size(tmp_path, net):
    col = load_maskgan(_export(tmp_path, net, chroma_gain_by_size=[[64, 1.1], [256, 0.8]]), "cpu")
    assert col.gain_for(32) == 1.1 and col.gain_for(64) == 1.1
    assert col.gain_for(512) == 0.8
    assert col.gain_for(128) == pytest.approx(0.95)  # halfway in log size
    small = col.predict(ColorizeRequest.whole_photo(np.full((32, 48), 50, np.float32)))
    big = col.predict(ColorizeRequest.whole_photo(np.full((300, 200), 50, np.float32)))
    assert small.shape == (32, 48, 2) and big.shape == (300, 200, 2)


def test_residual_hint_mode_honours_hints_exactly(tmp_path, net):
    col = load_maskgan(_export(tmp_path, net, hint_residual=True), "cpu")
    L = np.full((24, 24), 60, np.float32)
    L[:, 12:] = 30  # two regions
    hint_ab = np.zeros((24, 24, 2), np.float32)
    hint_mask = np.zeros((24, 24), np.float32)
    hint_ab[5, 3] = (50, 20)
    hint_mask[5, 3] = 1
    req = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hint_ab, hint_mask=hint_mask)
    ab = col.predict(req)
    np.testing.assert_allclose(ab[5, 3], (50, 20), atol=1e-3)
    plain = col.predict(ColorizeRequest.whole_photo(L))
    moved = np.abs(ab - plain).sum(-1)
    assert moved[:, :12].mean() > 5 * moved[:, 12:].mean()  # the hint spreads within its region


def test_hint_trust_scales_the_network_by_hint_count(tmp_path, net):
    trust = [[1, 0.9], [10, 0.5]]
    col = load_maskgan(_export(tmp_path, net, hint_residual=True, hint_input=False, hint_trust_by_count=trust), "cpu")
    assert col.trust_for(0) == 0.9 and col.trust_for(1) == 0.9 and col.trust_for(40) == 0.5
    assert col.trust_for(3) == pytest.approx(0.9 - 0.4 * np.log(3) / np.log(10))
    L = np.full((24, 24), 60, np.float32)
    L[:, 12:] = 30
    hint_ab = np.zeros((24, 24, 2), np.float32)
    hint_mask = np.zeros((24, 24), np.float32)
    for i, y in enumerate(range(1, 21, 2)):  # ten separate hints, all in the left region
        hint_ab[y, 2 + i % 3] = (40, 10)
        hint_mask[y, 2 + i % 3] = 1
    assert count_hints(hint_mask) == 10
    req = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hint_ab, hint_mask=hint_mask, hint_reach=1.0)
    plain = col.predict(ColorizeRequest.whole_photo(L))
    out = col.predict(req)
    np.testing.assert_allclose(out[hint_mask > 0], np.tile([40, 10], (10, 1)), atol=1e-3)
    # in the hints' region, with the whole photo in reach: half of the network's colour (10
    # hints: trust 0.5), then the hints' residual spread
    half = 0.5 * plain
    wide = half + propagate_coarse(L, (hint_ab - half) * hint_mask[..., None], hint_mask, lam=reach_lambda(1.0))
    np.testing.assert_allclose(out[:, :12], wide[:, :12], atol=0.05)
    trusting = load_maskgan(_export(tmp_path, net, hint_residual=True, hint_input=False, hint_trust_by_count=[[1, 1.0]]), "cpu")
    full = trusting.predict(req)
    assert np.abs(full - wide)[:, :12].max() > 10 * np.abs(out - wide)[:, :12].max()  # the trust made the difference


def test_trust_follows_the_hint_reach_it_was_calibrated_at(tmp_path, net):
    by_reach = [[0.1, [[1, 0.8], [10, 0.6]]], [1.0, [[1, 0.4], [10, 0.2]]]]
    col = load_maskgan(_export(tmp_path, net, hint_residual=True, hint_input=False, hint_trust_by_count=[[1, 0.8]],
                               hint_trust_by_reach=by_reach), "cpu")
    assert col.trust_for(1, 0.1) == 0.8 and col.trust_for(10, 1.0) == 0.2
    assert col.trust_for(1, 0.0) == 0.8 and col.trust_for(1, 0.55) == pytest.approx(0.6)
    assert col.trust_for(1) == 0.8  # no reach given: the table by count alone


def test_near_hints_leave_the_rest_of_the_photo_to_the_network(tmp_path, net):
    col = load_maskgan(_export(tmp_path, net, hint_residual=True, hint_input=False, hint_trust_by_count=[[1, 0.4]]), "cpu")
    L = np.full((96, 256), 55, np.float32)  # one flat region: only distance limits a hint
    L += np.linspace(0, 5, 256, dtype=np.float32)[None]
    hint_ab = np.zeros((96, 256, 2), np.float32)
    hint_mask = np.zeros((96, 256), np.float32)
    hint_ab[44:52, 4:12] = (-20, -45)  # one blue hint at the left edge
    hint_mask[44:52, 4:12] = 1
    plain = col.predict(ColorizeRequest.whole_photo(L))
    out = {}
    for reach in (DEFAULT_HINT_REACH, 1.0):
        req = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hint_ab, hint_mask=hint_mask, hint_reach=reach)
        out[reach] = col.predict(req)
        np.testing.assert_allclose(out[reach][hint_mask > 0], np.tile([-20, -45], (64, 1)), atol=1e-3)
        assert np.abs(out[reach][40:56, 14:24] - (-20, -45)).mean() < 10  # right beside it: near the hint colour
    far = np.s_[:, 200:]
    moved = {r: np.abs(o[far] - plain[far]).mean() for r, o in out.items()}
    assert moved[DEFAULT_HINT_REACH] < 3.0  # the default reach: the far side keeps the network's colour
    assert moved[1.0] > 5 * moved[DEFAULT_HINT_REACH] and moved[1.0] > 10  # whole-photo reach: it follows the hint


def test_scales_average_the_network_at_the_work_size_and_half_of_it(tmp_path, net):
    from models.upsample import upsample_ab

    multi = load_maskgan(_export(tmp_path, net, scales=[1.0, 0.5]), "cpu")
    single = load_maskgan(_export(tmp_path, net), "cpu")
    assert single.scales == [1.0] and multi.scales_for(300) == [1.0, 0.5]
    assert multi.scales_for(200) == [1.0]  # half of it would be under MIN_SCALE_SIDE (128)
    rng = np.random.default_rng(1)
    L = cv2.GaussianBlur((rng.random((160, 300)) * 100).astype(np.float32), (0, 0), 3)
    ones = np.ones_like(L)
    full = single.raw_ab(L, ones)
    half = single.raw_ab(cv2.resize(L, (150, 80), interpolation=cv2.INTER_AREA), np.ones((80, 150), np.float32))
    np.testing.assert_allclose(multi.raw_ab(L, ones), (full + upsample_ab(half, L)) / 2, atol=1e-4)
    out = multi.predict(ColorizeRequest.whole_photo(L))
    assert out.shape == (160, 300, 2) and not np.allclose(out, single.predict(ColorizeRequest.whole_photo(L)))
    small = np.full((64, 96), 40, np.float32)  # too small for a second scale: identical to one scale
    np.testing.assert_array_equal(multi.predict(ColorizeRequest.whole_photo(small)),
                                  single.predict(ColorizeRequest.whole_photo(small)))


def test_cancel_before_running_raises(tmp_path, net):
    col = load_maskgan(_export(tmp_path, net), "cpu")
    with pytest.raises(Cancelled):
        col.predict(ColorizeRequest.whole_photo(np.zeros((16, 16), np.float32)), cancel=lambda: True)


def test_no_weights_anywhere_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "bundled_weights_dir", lambda: tmp_path / "none")
    monkeypatch.setenv("HUEBRUSH_MODELS_DIR", str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="No maskgan weights found"):
        load_maskgan(None, "cpu")


def test_weights_of_another_network_are_refused(tmp_path):
    path = save_weights(tmp_path / "maskgan.safetensors", {"w": torch.zeros(3)}, {"architecture": ARCH})
    with pytest.raises(ModelError, match="does not fit the maskgan network"):
        load_maskgan(path, "cpu")


BUNDLED = checkpoint.bundled_weights_dir() / "maskgan.safetensors"


@pytest.mark.skipif(not BUNDLED.is_file(), reason="no bundled maskgan weights yet")
def test_bundled_weights_colour_inside_the_mask_only():
    from models.colour import rgb_to_lab

    col = load_maskgan(BUNDLED, "cpu")
    assert BUNDLED.stat().st_size < 30e6
    # a natural-looking scene: blue sky over green grass
    rgb = np.zeros((96, 96, 3), np.float32)
    rgb[:48] = (0.35, 0.55, 0.9)
    rgb[48:] = (0.25, 0.6, 0.2)
    L = rgb_to_lab(rgb)[..., 0]
    whole = col.predict(ColorizeRequest.whole_photo(L))
    assert np.hypot(whole[..., 0], whole[..., 1]).mean() > 3.0  # it colours
    empty = ColorizeRequest(L=L, mask=np.zeros_like(L), hint_ab=np.zeros((96, 96, 2), np.float32), hint_mask=np.zeros_like(L))
    assert np.hypot(*np.moveaxis(col.predict(empty), -1, 0)).mean() < 3.0  # trained: nothing outside the mask


def test_flip_averages_the_mirrored_photo_in_from_its_work_size_up(tmp_path, net):
    flip = load_maskgan(_export(tmp_path, net, scales=[1.0, 0.5], flip_min_side=128, hint_residual=True), "cpu")
    plain = load_maskgan(_export(tmp_path, net, scales=[1.0, 0.5]), "cpu")
    assert plain.flip_min_side is None and not plain.flips_at(10_000)
    assert flip.flips_at(128) and not flip.flips_at(127)
    rng = np.random.default_rng(2)
    L = cv2.GaussianBlur((rng.random((160, 300)) * 100).astype(np.float32), (0, 0), 3)
    ones = np.ones_like(L)
    mirrored = plain.raw_ab(np.ascontiguousarray(L[:, ::-1]), ones)[:, ::-1]
    # both passes at every scale: the mean of the photo's and the mirrored photo's colour (to float
    # rounding: the mirrored tensor's memory layout changes the order of the convolutions' sums)
    np.testing.assert_allclose(flip.raw_ab(L, ones), (plain.raw_ab(L, ones) + mirrored) / 2, atol=2e-3)
    batched = flip.raw_ab(L, ones)  # small enough for one batch of two; above the limit, one pass after the other
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(maskgan_module, "FLIP_BATCH_MAX_PIXELS", 0)
        np.testing.assert_allclose(flip.raw_ab(L, ones), batched, atol=2e-3)
    sym = np.concatenate([L[:, :150], L[:, :150][:, ::-1]], axis=1)  # a left-right symmetric photo stays symmetric
    out = flip.raw_ab(sym, ones)
    np.testing.assert_allclose(out, out[:, ::-1], atol=1e-4)
    small = np.ascontiguousarray(L[:100, :120])  # under the threshold: no mirrored pass
    np.testing.assert_array_equal(flip.raw_ab(small, np.ones_like(small)), plain.raw_ab(small, np.ones_like(small)))
    hint_ab = np.zeros((160, 300, 2), np.float32)
    hint_mask = np.zeros((160, 300), np.float32)
    hint_ab[40:44, 20:24] = (30, -40)
    hint_mask[40:44, 20:24] = 1
    m = lambda a: np.ascontiguousarray(a[:, ::-1])  # noqa: E731
    both = (plain.raw_ab(L, ones, hint_ab, hint_mask) + plain.raw_ab(m(L), ones, m(hint_ab), m(hint_mask))[:, ::-1]) / 2
    np.testing.assert_allclose(flip.raw_ab(L, ones, hint_ab, hint_mask), both, atol=2e-3)  # the hints are mirrored too
    req = ColorizeRequest(L=L, mask=ones, hint_ab=hint_ab, hint_mask=hint_mask)
    np.testing.assert_allclose(flip.predict(req)[hint_mask > 0], np.tile([30, -40], (16, 1)), atol=1e-3)


def test_net_max_side_runs_the_network_at_most_that_large_and_upsamples_guided_by_L(tmp_path, net):
    from models.upsample import upsample_ab

    capped = load_maskgan(_export(tmp_path, net, scales=[1.0, 0.5], net_max_side=150, gain=1.3,
                                  chroma_gain_by_size=[[64, 2.0], [256, 1.0]]), "cpu")
    free = load_maskgan(_export(tmp_path, net, scales=[1.0, 0.5], gain=1.3, chroma_gain_by_size=[[64, 2.0], [256, 1.0]]), "cpu")
    assert capped.net_side(300) == 150 and capped.net_side(120) == 120 and free.net_side(300) == 300
    rng = np.random.default_rng(4)
    L = cv2.GaussianBlur((rng.random((160, 300)) * 100).astype(np.float32), (0, 0), 3)
    ones = np.ones_like(L)
    small = cv2.resize(L, (150, 80), interpolation=cv2.INTER_AREA)
    expect = upsample_ab(free.raw_ab(small, np.ones_like(small)), L)  # both scales at 150 px, then up
    np.testing.assert_allclose(capped.raw_ab(L, ones), expect, atol=1e-4)
    out = capped.predict(ColorizeRequest.whole_photo(L))
    # the gain is the one calibrated for the size the network ran at (150 px), not the work size
    np.testing.assert_allclose(out, expect * capped.gain_for(150), atol=1e-3)
    assert capped.gain_for(150) != capped.gain_for(300)
    at_cap = np.ascontiguousarray(L[:80, :150])  # at or under the cap: exactly as without it
    np.testing.assert_array_equal(capped.predict(ColorizeRequest.whole_photo(at_cap)),
                                  free.predict(ColorizeRequest.whole_photo(at_cap)))
