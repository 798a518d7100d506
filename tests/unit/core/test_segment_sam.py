"""SAM plumbing end to end with a tiny randomly initialised SAM: import, recognise, verify,
embed, decode, cache hit. Quality is not asserted; the path a real checkpoint takes is."""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("segment_anything")

from app.core.segment.cache import EmbeddingCache  # noqa: E402
from app.core.segment.checkpoints import (  # noqa: E402
    CheckpointError,
    find_checkpoint,
    import_checkpoint,
    list_checkpoints,
    official_status,
    recognise,
    verify_checkpoint,
)
from app.core.segment.factory import create_segmenter  # noqa: E402
from app.core.segment.sam import SamSegmenter  # noqa: E402
from app.core.segment.types import Prompts  # noqa: E402


def tiny_sam():
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    torch.manual_seed(0)
    return Sam(
        image_encoder=ImageEncoderViT(img_size=128, patch_size=16, embed_dim=32, depth=2, num_heads=2,
                                      mlp_ratio=2, out_chans=32, qkv_bias=True, use_rel_pos=True,
                                      norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
                                      window_size=4, global_attn_indexes=(1,)),
        prompt_encoder=PromptEncoder(embed_dim=32, image_embedding_size=(8, 8), input_image_size=(128, 128),
                                     mask_in_chans=8),
        mask_decoder=MaskDecoder(num_multimask_outputs=3,
                                 transformer=TwoWayTransformer(depth=1, embedding_dim=32, mlp_dim=64, num_heads=8),
                                 transformer_dim=32, iou_head_depth=2, iou_head_hidden_dim=32),
    ).eval()


@pytest.fixture
def tiny_ckpt(tmp_path):
    p = tmp_path / "my_tiny_sam.pth"
    torch.save(tiny_sam().state_dict(), p)
    return p


def photo(h=90, w=120):
    L = np.full((h, w), 30.0, np.float32)
    L[20:60, 30:80] = 80.0
    return L


def test_import_recognises_and_lists_tiny_sam(tiny_ckpt):
    ck = import_checkpoint(tiny_ckpt)
    assert ck.family == "sam" and ck.model == "vit_custom"
    assert ck.config["encoder_embed_dim"] == 32 and ck.config["encoder_depth"] == 2
    assert ck.config["encoder_global_attn_indexes"] == [1] and ck.config["window_size"] == 4
    assert ck.official is None  # no official hash for a custom shape: "unknown", not "ok"
    assert ck.path.parent.name == "segment" and ck.path.is_file() and ck.path != tiny_ckpt
    assert [c.sha256 for c in list_checkpoints()] == [ck.sha256]
    assert find_checkpoint("auto") == ck and find_checkpoint("mobilesam") is None
    assert verify_checkpoint(ck) == ck
    with open(ck.path, "ab") as f:
        f.write(b"tampered")
    with pytest.raises(CheckpointError, match="changed since it was imported"):
        verify_checkpoint(ck)


def test_official_hash_table_distinguishes_official_copies():
    assert official_status("vit_b", "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912") is True
    assert official_status("vit_b", "0" * 64) is False
    assert official_status("vit_t", "0" * 64) is None


def test_non_sam_files_are_refused_with_a_clear_message(tmp_path):
    p = tmp_path / "colorizer.pth"
    torch.save({"conv.weight": torch.zeros(3, 3)}, p)
    with pytest.raises(CheckpointError, match="colorizer.pth is not a Segment Anything checkpoint"):
        import_checkpoint(p)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a zip or pickle")
    with pytest.raises(CheckpointError, match="junk.pth is not a readable weights file"):
        import_checkpoint(junk)


def test_pickled_code_is_never_run(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('ran code from a checkpoint')",))

    p = tmp_path / "evil.pth"
    torch.save({"x": Boom()}, p)
    with pytest.raises(CheckpointError):  # weights_only refuses it; exec never runs
        import_checkpoint(p)


def test_embed_decode_alternatives_and_cache_hits(tiny_ckpt, tmp_path):
    ck = import_checkpoint(tiny_ckpt)
    cache = EmbeddingCache(max_items=2, disk_dir=tmp_path / "emb")
    seg = SamSegmenter(ck, cache=cache)
    L = photo()
    seg.set_image(L, key="photo-a")
    assert cache.misses == 1 and cache.hits == 0
    res = seg.segment(Prompts(include=((50, 40),)))
    assert res.count == 3 and res.segmenter == "sam"
    assert all(m.shape == L.shape and m.dtype == bool for m in res.masks)
    assert list(res.scores) == sorted(res.scores, reverse=True)
    assert res.next_alternative().chosen == 1 and res.next_alternative().next_alternative().next_alternative().chosen == 0
    res2 = seg.segment(Prompts(include=((50, 40),), exclude=((5, 5),), box=(20, 10, 100, 70)))
    assert res2.count == 4  # the single answer for several prompts, then three alternatives

    seg.set_image(L, key="photo-a")
    assert cache.hits == 1  # returning to the photo skips the encoder
    again = seg.segment(Prompts(include=((50, 40),)))
    assert all(np.array_equal(a, b) for a, b in zip(res.masks, again.masks))

    # a fresh session (new app run) finds the embedding on disk
    cache2 = EmbeddingCache(disk_dir=tmp_path / "emb")
    seg2 = SamSegmenter(ck, cache=cache2)
    seg2.set_image(L, key="photo-a")
    assert cache2.disk_hits == 1
    assert list((tmp_path / "emb").glob("*.safetensors")) and not list((tmp_path / "emb").glob("*.pkl"))
    assert np.array_equal(seg2.segment(Prompts(include=((50, 40),))).mask, res.mask)


def test_factory_prefers_an_imported_checkpoint(tiny_ckpt):
    assert create_segmenter("auto").name == "builtin"
    with pytest.raises(CheckpointError, match="no sam checkpoint is installed"):
        create_segmenter("sam")
    import_checkpoint(tiny_ckpt)
    assert create_segmenter("auto").name == "sam"
    with pytest.raises(CheckpointError, match="not mobilesam"):
        create_segmenter("mobilesam", checkpoint=tiny_ckpt)


def test_recognise_refuses_decoder_without_known_encoder():
    state = tiny_sam().state_dict()
    state = {k: v for k, v in state.items() if not k.startswith("image_encoder.")}
    with pytest.raises(CheckpointError, match="image encoder we do not know"):
        recognise(state, "odd.pth")


@pytest.mark.slow
@pytest.mark.parametrize("builder,family,model", [("segment_anything:build_sam_vit_b", "sam", "vit_b"),
                                                   ("mobile_sam:build_sam_vit_t", "mobilesam", "vit_t")])
def test_real_architectures_are_recognised_and_rebuilt(builder, family, model):
    from app.core.segment.sam import build_model

    mod, fn = builder.split(":")
    net = getattr(pytest.importorskip(mod), fn)(None)
    state = net.state_dict()
    info = recognise(state, f"{model}.pth")
    assert (info.family, info.model) == (family, model)
    build_model(info.family, info.config).load_state_dict(state)  # strict: every tensor fits
