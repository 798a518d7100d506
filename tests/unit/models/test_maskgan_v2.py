"""maskgan v2: the config rebuilds the network, hints stay local, suggest gives in-gamut colours."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from models.abbins import in_gamut
from models.maskgan_v2 import MaskGANColorizer, MaskGANConfig, MaskGANNet, blend_hints, fit_to_hints
from models.types import ColorizeRequest


def test_config_round_trips_and_refuses_what_it_cannot_build():
    cfg = MaskGANConfig(decoder=(64, 48, 32), temperature=0.3)
    again = MaskGANConfig.from_dict({**cfg.to_dict(), "note": "kept"})
    assert again.decoder == (64, 48, 32) and again.temperature == 0.3 and again.extra == {"note": "kept"}
    for bad in ({"out_stride": 2}, {"temperature": 0.0}, {"temperature": 5}):
        with pytest.raises(ValueError):
            MaskGANConfig.from_dict(bad)


def test_the_network_predicts_bins_at_a_quarter_of_any_size():
    net = MaskGANNet(MaskGANConfig(decoder=(16, 16, 16))).eval()
    with torch.no_grad():
        out = net(torch.zeros(1, 5, 70, 45))
    assert out.shape == (1, len(net.bins), 18, 12)


def _two_halves(h=60, w=120):
    """Left half dark, right half light, a hard edge between them."""
    L = np.full((h, w), 30.0, np.float32)
    L[:, w // 2 :] = 75.0
    return L


def test_a_hint_far_across_an_edge_changes_nothing_at_the_default_reach():
    L = _two_halves()
    h, w = L.shape
    own = np.zeros((h, w, 2), np.float32)
    own[..., 1] = 10.0  # the network's own colour: a little yellow
    hinted = np.zeros((h, w, 2), np.float32)
    hinted[..., 0] = 40.0  # with the hint, the network turns the whole photo red
    hm = np.zeros((h, w), np.float32)
    hm[28:32, 8:12] = 1.0
    hab = np.zeros((h, w, 2), np.float32)
    hab[hm > 0] = (50.0, 20.0)
    req = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hab, hint_mask=hm)
    out = blend_hints(own, hinted, req)
    assert np.allclose(out[hm > 0], (50.0, 20.0), atol=1.0)  # the hint is met
    far = out[:, w // 2 + 10 :]
    assert np.abs(far - own[:, w // 2 + 10 :]).max() < 1.0  # beyond the edge: the network's own colour
    # at reach 1 the hint speaks for the whole photo
    wide = blend_hints(own, hinted, ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hab, hint_mask=hm, hint_reach=1.0))
    assert np.abs(wide[:, w // 2 + 10 :] - own[:, w // 2 + 10 :]).mean() > 10.0


def test_colorizer_predicts_meets_hints_and_suggests_in_gamut_colours():
    torch.manual_seed(0)
    net = MaskGANNet(MaskGANConfig(decoder=(16, 16, 16)))
    with torch.no_grad():
        net.head.weight.normal_(0, 0.5)  # an untrained but opinionated network
    col = MaskGANColorizer(net, {}, "cpu")
    L = _two_halves(48, 64)
    ab = col.predict(ColorizeRequest.whole_photo(L))
    assert ab.shape == (48, 64, 2) and np.isfinite(ab).all()
    hm = np.zeros_like(L)
    hm[10, 10] = 1.0
    hab = np.zeros((48, 64, 2), np.float32)
    hab[10, 10] = (-30.0, 40.0)
    out = col.predict(ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hab, hint_mask=hm))
    assert np.allclose(out[10, 10], (-30.0, 40.0), atol=0.5)
    top = col.suggest(L, (50, 20), k=5)
    assert len(top) == 5 and all(s > 0 for _, s in top)
    labs = np.array([c for c, _ in top])
    assert in_gamut(labs).all() and np.allclose(labs[:, 0], 75.0)
    with pytest.raises(ValueError):
        col.suggest(L, (64, 0))


def test_suggestions_at_more_points_of_one_photo_run_the_network_once_and_say_the_same():
    torch.manual_seed(0)
    net = MaskGANNet(MaskGANConfig(decoder=(16, 16, 16)))
    with torch.no_grad():
        net.head.weight.normal_(0, 0.5)
    col, fresh = MaskGANColorizer(net, {}, "cpu"), MaskGANColorizer(net, {}, "cpu")
    calls = []
    net.register_forward_hook(lambda *a: calls.append(1))
    L = np.random.default_rng(1).uniform(10, 90, (48, 64)).astype(np.float32)
    points = [(5, 5), (50, 20), (30, 40)]
    first = [col.suggest(L, p) for p in points]
    assert len(calls) == 1  # the photo's distribution is kept between points
    assert first == [MaskGANColorizer(net, {}, "cpu").suggest(L, p) for p in points]  # and is the same
    calls.clear()
    other = L.copy()
    other[0, 0] += 1.0  # another photo (or an edit of this one) is read anew
    fresh.suggest(other, points[0])
    col.suggest(other, points[0])
    col.suggest(L, points[0], hint_ab=np.zeros((48, 64, 2), np.float32), hint_mask=np.ones((48, 64), np.float32))
    assert len(calls) == 3


def test_the_mirrored_pass_makes_the_colour_of_a_mirrored_photo_the_mirror_of_its_colour():
    torch.manual_seed(0)
    net = MaskGANNet(MaskGANConfig(decoder=(16, 16, 16)))
    with torch.no_grad():
        net.head.weight.normal_(0, 0.5)
    rng = np.random.default_rng(0)
    for w in (64, 70):  # a multiple of the encoder's 32, and not even of the stride 4
        L = rng.uniform(10, 90, (40, w)).astype(np.float32)
        ones = np.ones_like(L)
        plain = MaskGANColorizer(net, {}, "cpu")
        both = MaskGANColorizer(net, {}, "cpu")
        both.config = MaskGANConfig(decoder=(16, 16, 16), mirror=True)
        a, b = both.logits(L, ones), both.logits(L[:, ::-1].copy(), ones)
        assert a.shape == plain.logits(L, ones).shape == (1, len(net.bins), 10, -(-w // 4))
        if w % 32 == 0:  # on the same grid: mirror images, which one pass alone does not give
            scale = float(a.abs().max())
            assert float((a - b.flip(-1)).abs().max()) < 1e-4 * scale
            p, q = plain.logits(L, ones), plain.logits(L[:, ::-1].copy(), ones)
            assert float((p - q.flip(-1)).abs().max()) > 0.1 * scale
        assert np.isfinite(both.predict(ColorizeRequest.whole_photo(L))).all()


def test_many_hints_say_how_vivid_the_photo_is_and_its_cast_one_hint_little():
    rng = np.random.default_rng(0)
    own = rng.normal(0, 20, (40, 50, 2)).astype(np.float32)  # the network's colour: too vivid
    truth = 0.5 * own + np.array([6.0, -4.0], np.float32)  # the photo: half as vivid, a cast
    hm = np.zeros((40, 50), np.float32)
    hm[::4, ::5] = 1.0  # 100 separate one-pixel hints
    s, t = fit_to_hints(own, truth * hm[..., None], hm)
    assert abs(s - 0.5) < 0.05 and np.allclose(t, (6.0, -4.0), atol=0.6)
    one = np.zeros_like(hm)
    one[4:7, 4:7] = 1.0  # one hint, nine pixels: it counts once
    s1, t1 = fit_to_hints(own, truth * one[..., None], one)
    assert 0.3 < s1 < 1.7 and np.abs(t1).max() < 6.0
    assert fit_to_hints(own, np.zeros_like(own), np.zeros_like(hm)) == (1.0, pytest.approx(np.zeros(2)))


def test_grey_hints_on_an_orange_guess_take_the_orange_out_without_turning_it_blue():
    orange = np.array([8.0, 25.0], np.float32)
    own = np.linspace(0.3, 1.2, 100, dtype=np.float32)[None, :, None] * orange * np.ones((100, 1, 1), np.float32)
    hm = np.zeros((100, 100), np.float32)
    for y, x in ((20, 60), (50, 80), (70, 70), (30, 90)):  # four grey things, where the guess is most orange
        hm[y - 1 : y + 2, x - 1 : x + 2] = 1.0
    s, t = fit_to_hints(own, np.zeros_like(own), hm)
    along = ((s * own + t) * orange).sum(-1) / np.linalg.norm(orange)
    assert along.max() < 0.3 * (own * orange).sum(-1).max() / np.linalg.norm(orange)  # most of the orange is gone
    assert along.min() > -3.0  # and nothing went far past grey


def test_the_fit_moves_colour_far_away_only_when_hints_reach_the_whole_photo():
    torch.manual_seed(0)
    net = MaskGANNet(MaskGANConfig(decoder=(16, 16, 16)))
    with torch.no_grad():
        net.head.weight.normal_(0, 0.5)
    col = MaskGANColorizer(net, {}, "cpu")
    L = _two_halves(48, 64)
    own = col.predict(ColorizeRequest.whole_photo(L))
    hm = np.zeros_like(L)
    hm[4:40:8, 4:28:8] = 1.0  # 15 hints on the left half
    hab = np.zeros((48, 64, 2), np.float32)
    hab[hm > 0] = own[hm > 0] * 0.2 + (20.0, 0.0)
    far = (slice(None), slice(44, None))
    near = col.predict(ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hab, hint_mask=hm))
    wide = col.predict(ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hab, hint_mask=hm, hint_reach=1.0))
    assert np.abs(near[far] - own[far]).mean() < 1.0
    truth = own * 0.2 + (20.0, 0.0)  # the photo the hints come from, beyond the edge too
    assert np.abs(wide[far] - truth[far]).mean() < 0.5 * np.abs(own[far] - truth[far]).mean()
    assert np.allclose(wide[hm > 0], hab[hm > 0], atol=0.5)  # hints still met exactly
