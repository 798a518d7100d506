"""Training data: zip readers, Lab conversion, training masks and hints."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from models.colour import rgb_to_lab
from training.data import ImageFolder, TinyImageNet, lab_tensors, lab_to_rgb_tensors
from training.hints import sample_hints
from training.masks import MASK_KINDS, load_bsds_masks, sample_mask

from ._fakedata import make_fake_datasets


def test_lab_tensors_match_the_numpy_colour_maths():
    rgb = torch.rand(3, 3, 9, 7)
    L, ab = lab_tensors(rgb)
    ref = rgb_to_lab(rgb.permute(0, 2, 3, 1).numpy())
    assert L.shape == (3, 1, 9, 7) and ab.shape == (3, 2, 9, 7)
    np.testing.assert_allclose(L[:, 0].numpy(), ref[..., 0], atol=1e-3)
    np.testing.assert_allclose(ab.permute(0, 2, 3, 1).numpy(), ref[..., 1:], atol=1e-3)
    torch.testing.assert_close(lab_to_rgb_tensors(L, ab), rgb, atol=1e-4, rtol=0)
    assert 0 <= L.min() and L.max() <= 100


def test_grey_has_zero_ab():
    L, ab = lab_tensors(torch.full((1, 3, 4, 4), 0.4))
    assert ab.abs().max() < 1e-3


def test_fake_shards_read_in_place_with_disjoint_holdout(tmp_path):
    root = make_fake_datasets(tmp_path, n_train=60, n_val=10, size=32)
    train = TinyImageNet(root, "train", size=32, augment=True)
    hold = TinyImageNet(root, "holdout", size=32)
    val = TinyImageNet(root, "val", size=32)
    assert len(train) + len(hold) == 60 and len(hold) == 6 and len(val) == 10
    assert not {n for _, n in train.members} & {n for _, n in hold.members}
    item = train[3]
    assert item["rgb"].shape == (3, 32, 32) and item["rgb"].dtype == torch.float32
    assert 0 <= item["rgb"].min() and item["rgb"].max() <= 1 and item["label"] in (0, 1, 2)
    u8, labels = val.preload()
    assert u8.shape == (10, 32, 32, 3) and u8.dtype == np.uint8 and len(labels) == 10
    # worker processes open their own zip handles
    loader = torch.utils.data.DataLoader(val, batch_size=5, num_workers=2)
    batches = list(loader)
    assert sum(len(b["label"]) for b in batches) == 10


def test_missing_shards_say_which_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="No train-"):
        TinyImageNet(tmp_path, "train")


def test_image_folder_crops_and_fits(tmp_path):
    for i in range(2):
        Image.fromarray((np.random.default_rng(i).random((50, 80, 3)) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "notes.txt").write_text("not a photo")
    assert len(ImageFolder(tmp_path, size=24)) == 2
    assert ImageFolder(tmp_path, size=24, augment=True)[0]["rgb"].shape == (3, 24, 24)
    assert ImageFolder(tmp_path, size=40)[1]["rgb"].shape == (3, 25, 40)


def test_mask_mix_covers_every_kind():
    rng = np.random.default_rng(0)
    bsds = [np.kron(np.arange(12, dtype=np.uint16).reshape(3, 4), np.ones((20, 20), np.uint16))]
    masks = [sample_mask(48, 64, rng, bsds) for _ in range(600)]
    assert all(m.shape == (48, 64) and m.dtype == bool for m in masks)
    full = np.mean([m.all() for m in masks])
    empty = np.mean([not m.any() for m in masks])
    partial = np.mean([0 < m.mean() < 1 for m in masks])
    assert abs(full - MASK_KINDS["whole"]) < 0.1  # whole photo is common ...
    assert 0.02 < empty < 0.12  # ... the empty mask rare but present
    assert partial > 0.4


def test_bsds_masks_come_from_real_segments(tmp_path):
    root = make_fake_datasets(tmp_path)
    maps = load_bsds_masks(root)
    assert len(maps) == 2 and maps[0].dtype == np.uint16 and set(np.unique(maps[0])) == {0, 1, 2}
    assert load_bsds_masks(tmp_path / "absent") == []


def test_hints_carry_the_local_true_colour():
    ab = torch.zeros(2, 32, 32)
    ab[0], ab[1] = 50.0, -30.0
    rng = np.random.default_rng(1)
    hab, hm = sample_hints(ab, rng, n_points=10)
    assert hm.shape == (1, 32, 32) and hab.shape == (2, 32, 32)
    assert 10 <= hm.sum() <= 10 * 5 * 9
    on = hm[0] > 0
    assert torch.allclose(hab[0][on], torch.tensor(50.0)) and torch.allclose(hab[1][on], torch.tensor(-30.0))
    assert (hab[:, ~on] == 0).all()
    # half grey: a hint's colour is a local mean, so a mix of the two colours, never invented
    ab[:, :, 16:] = 0
    hab, hm = sample_hints(ab, rng, n_points=20)
    on = hm[0] > 0
    a, b = hab[0][on], hab[1][on]
    assert (a >= -1e-4).all() and (a <= 50 + 1e-4).all() and torch.allclose(b, -0.6 * a, atol=1e-3)
    none = [sample_hints(ab, rng, p_none=1.0)[1].sum().item() for _ in range(5)]
    assert none == [0.0] * 5
    counts = [sample_hints(ab, rng, max_points=20, p_none=0.0)[1].sum().item() for _ in range(50)]
    assert min(counts) > 0
