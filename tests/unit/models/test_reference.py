"""The weight-free reference model: colours come from a colour photo of the same scene."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from models.colour import rgb_to_lab
from models.types import ColorizeRequest, ModelError


def _scene(h=96, w=128) -> np.ndarray:
    """A red-brown left half with a texture, a blue right half with another: a scene and its colours."""
    rng = np.random.default_rng(0)
    rgb = np.zeros((h, w, 3), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    rgb[:, : w // 2] = (0.7, 0.25, 0.15)
    rgb[:, w // 2 :] = (0.2, 0.35, 0.8)
    rgb *= (0.8 + 0.2 * np.sin(xx / 3.0))[..., None] * (0.9 + 0.1 * rng.random((h, w)))[..., None]
    rgb[:, w // 2 :] *= (0.85 + 0.15 * np.sin(yy / 2.0))[:, w // 2 :, None]
    return np.clip(rgb, 0, 1)


def test_colours_come_from_the_matching_places_of_the_reference():
    from models.reference import ReferenceColorizer

    rgb = _scene()
    lab = rgb_to_lab(rgb)
    ref = rgb_to_lab(np.ascontiguousarray(rgb[8:-8, 8:-8][:, ::-1]))  # mirrored and cropped, as a second shot
    req = ColorizeRequest(L=lab[..., 0].astype(np.float32), mask=np.ones(lab.shape[:2], np.float32),
                          hint_ab=np.zeros(lab.shape[:2] + (2,), np.float32), hint_mask=np.zeros(lab.shape[:2], np.float32),
                          reference_L=ref[..., 0].astype(np.float32), reference_ab=ref[..., 1:].astype(np.float32))
    out = ReferenceColorizer().predict(req)
    left, right = out[20:-20, 10:50], out[20:-20, 78:118]
    assert left[..., 0].mean() > 10 and left[..., 1].mean() > 5  # red-brown: a > 0, b > 0
    assert right[..., 1].mean() < -15  # blue: b < 0


def test_a_large_request_is_matched_on_a_small_copy_and_keeps_its_colours():
    import cv2

    from models.reference import ReferenceColorizer

    rgb = cv2.resize(_scene(), (1024, 768), interpolation=cv2.INTER_NEAREST)  # bigger than the match size
    lab = rgb_to_lab(rgb)
    ref = rgb_to_lab(np.ascontiguousarray(_scene()[8:-8, 8:-8][:, ::-1]))
    req = ColorizeRequest(L=lab[..., 0].astype(np.float32), mask=np.ones(lab.shape[:2], np.float32),
                          hint_ab=np.zeros(lab.shape[:2] + (2,), np.float32), hint_mask=np.zeros(lab.shape[:2], np.float32),
                          reference_L=ref[..., 0].astype(np.float32), reference_ab=ref[..., 1:].astype(np.float32))
    col = ReferenceColorizer(feature_side=256)
    seen = []
    features = col._features
    col._features = lambda L: seen.append(L.shape) or features(L)
    out = col.predict(req)
    assert seen[0] == (192, 256) and out.shape == (768, 1024, 2)
    left, right = out[160:-160, 80:400], out[160:-160, 624:944]
    assert left[..., 0].mean() > 10 and left[..., 1].mean() > 5 and right[..., 1].mean() < -15


def test_without_a_colour_reference_it_says_so():
    from models.reference import ReferenceColorizer

    L = np.full((40, 50), 50, np.float32)
    col = ReferenceColorizer()
    with pytest.raises(ModelError, match="reference photo"):
        col.predict(ColorizeRequest.whole_photo(L))
    with pytest.raises(ModelError, match="no colour"):
        col.predict(ColorizeRequest.whole_photo(L, reference_L=L.copy(), reference_ab=np.zeros((40, 50, 2), np.float32)))


def test_cli_reference_model_needs_a_reference(tmp_path, capsys):
    Image.fromarray((_scene() * 255).astype(np.uint8)).convert("L").save(tmp_path / "grey.png")
    Image.fromarray((_scene() * 255).astype(np.uint8)).save(tmp_path / "colour.png")
    assert main(["colorize", str(tmp_path / "grey.png"), "-o", str(tmp_path / "o.png"), "--model", "reference"]) == 1
    assert "--reference" in capsys.readouterr().err
    assert main(["colorize", str(tmp_path / "grey.png"), "-o", str(tmp_path / "o.png"), "--model", "reference",
                 "--reference", str(tmp_path / "colour.png")]) == 0
    out = np.asarray(Image.open(tmp_path / "o.png").convert("RGB")).astype(int)
    assert out[:, :50, 0].mean() > out[:, :50, 2].mean() + 20 and out[:, 80:, 2].mean() > out[:, 80:, 0].mean() + 20
