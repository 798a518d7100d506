"""Segment Anything (vit_b/l/h) and MobileSAM (vit_t) sessions, labelme-style.

numpy in, frozen SegmentResult out. The slow part (the image embedding) happens in
``set_image`` and is cached per photo and model; a click then only runs the prompt encoder
and mask decoder. torch and the SAM packages are imported lazily so the app starts fast.
"""
from __future__ import annotations

import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .cache import Embedding, EmbeddingCache
from .checkpoints import CheckpointError, InstalledCheckpoint, load_state_dict, recognise
from .imageprep import image_key, to_rgb_uint8
from .types import CancelCheck, ProgressCallback, Prompts, SegmentCancelled, SegmentResult


def build_model(info_family: str, config: dict[str, Any]) -> Any:
    """An uninitialised SAM / MobileSAM network for a recognised checkpoint's config."""
    import torch

    if info_family == "mobilesam":
        try:
            from mobile_sam import build_sam_vit_t
        except ImportError as e:
            raise CheckpointError("MobileSAM needs the mobilesam-mirror and timm packages; "
                                  "install them with `pip install mobilesam-mirror timm`.") from e
        return build_sam_vit_t(None)
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    c = config
    grid = c["image_size"] // c["patch_size"]
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=c["encoder_depth"], embed_dim=c["encoder_embed_dim"], img_size=c["image_size"], mlp_ratio=c.get("mlp_ratio", 4.0),
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=c["encoder_num_heads"],
            patch_size=c["patch_size"], qkv_bias=True, use_rel_pos=True,
            global_attn_indexes=tuple(c["encoder_global_attn_indexes"]), window_size=c["window_size"],
            out_chans=c["out_chans"]),
        prompt_encoder=PromptEncoder(embed_dim=c["prompt_embed_dim"], image_embedding_size=(grid, grid),
                                     input_image_size=(c["image_size"], c["image_size"]),
                                     mask_in_chans=c["mask_in_chans"]),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=c["num_multimask_outputs"],
            transformer=TwoWayTransformer(depth=c["decoder_depth"], embedding_dim=c["prompt_embed_dim"],
                                          mlp_dim=c["decoder_mlp_dim"], num_heads=8),
            transformer_dim=c["prompt_embed_dim"], iou_head_depth=c["iou_head_depth"],
            iou_head_hidden_dim=c["iou_head_hidden_dim"]),
        pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375],
    )


def load_model(path: Path, device: str = "cpu") -> tuple[Any, str]:
    """(network in eval mode, family) from a checkpoint file; weights_only loading only."""
    state = load_state_dict(path)
    info = recognise(state, Path(path).name)
    model = build_model(info.family, info.config)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(f"{Path(path).name} does not fit the {info.model} network ({str(e)[:80]}); "
                              "import an unmodified official checkpoint.") from e
    return model.eval().to(device), info.family


class SamSegmenter:
    """Click-to-segment with a SAM or MobileSAM checkpoint."""

    def __init__(self, checkpoint: InstalledCheckpoint, *, device: str = "cpu",
                 cache: EmbeddingCache | None = None, disk_cache: bool = True) -> None:
        self.checkpoint = checkpoint
        self.name = checkpoint.family
        self.device = device
        if cache is None:
            disk = None
            if disk_cache:
                from app.core.paths import cache_dir

                disk = cache_dir() / "sam-embeddings"
            cache = EmbeddingCache(disk_dir=disk)
        self.cache = cache
        self._model: Any = None
        self._predictor: Any = None
        self._lock = threading.Lock()  # the embedding worker and a click must not interleave
        self._image: np.ndarray | None = None
        self._key: str | None = None

    def _ensure_model(self) -> Any:
        if self._predictor is None:
            model, family = load_model(self.checkpoint.path, self.device)
            if family == "mobilesam":
                from mobile_sam import SamPredictor
            else:
                from segment_anything import SamPredictor
            self._model, self._predictor = model, SamPredictor(model)
        return self._predictor

    def set_image(self, image: np.ndarray, key: str | None = None,
                  progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> None:
        import torch

        key = key or image_key(image)
        with self._lock:
            if progress:
                progress(0.0, "loading the segmentation model")
            predictor = self._ensure_model()
            if cancel and cancel():
                raise SegmentCancelled()
            emb = self.cache.get(self.checkpoint.sha256, key)
            rgb = to_rgb_uint8(image)
            if emb is None:
                if progress:
                    progress(0.1, "reading the photo (embedding)")
                with torch.inference_mode():
                    predictor.set_image(rgb)
                if cancel and cancel():
                    predictor.reset_image()
                    raise SegmentCancelled()
                emb = Embedding(predictor.features.detach().cpu().numpy().astype(np.float32),
                                tuple(predictor.original_size), tuple(predictor.input_size))
                self.cache.put(self.checkpoint.sha256, key, emb)
            else:
                predictor.reset_image()
                predictor.features = torch.from_numpy(emb.features).to(self.device)
                predictor.original_size = emb.original_size
                predictor.input_size = emb.input_size
                predictor.is_image_set = True
            self._image, self._key = rgb, key
            if progress:
                progress(1.0, "ready")

    def segment(self, prompts: Prompts) -> SegmentResult:
        import torch

        t0 = time.perf_counter()
        if self._image is None:
            raise RuntimeError("call set_image before segment")
        H, W = self._image.shape[:2]
        if prompts.is_empty:
            return SegmentResult((np.zeros((H, W), bool),), (0.0,), 0, self.name, 0.0, prompts)
        pts = [*prompts.include, *prompts.exclude]
        coords = np.asarray(pts, dtype=np.float32) if pts else None
        labels = np.asarray([1] * len(prompts.include) + [0] * len(prompts.exclude)) if pts else None
        box = np.asarray(prompts.box, dtype=np.float32) if prompts.box is not None else None
        # The decoder is small: on a busy 2-core CPU one thread answers a click ~20x faster than
        # several competing with other work (measured 16 ms vs 350 ms with the tiny test SAM).
        threads = torch.get_num_threads()
        with self._lock, torch.inference_mode():
            torch.set_num_threads(1)
            try:
                return self._decode(prompts, coords, labels, box, len(pts), t0)
            finally:
                torch.set_num_threads(threads)

    def _decode(self, prompts: Prompts, coords, labels, box, n_points: int, t0: float) -> SegmentResult:
        masks, scores, _ = self._predictor.predict(point_coords=coords, point_labels=labels, box=box,
                                                   multimask_output=True)
        order = list(np.argsort(-scores))
        out_m = [masks[i] for i in order]
        out_s = [float(scores[i]) for i in order]
        if n_points + (box is not None) > 1:
            # several prompts are not ambiguous: SAM's single answer leads, its alternatives follow
            m1, s1, _ = self._predictor.predict(point_coords=coords, point_labels=labels, box=box,
                                                multimask_output=False)
            out_m.insert(0, m1[0])
            out_s.insert(0, float(s1[0]))
        return SegmentResult(tuple(out_m), tuple(out_s), 0, self.name, time.perf_counter() - t0, prompts)

    def everything(self, cancel: CancelCheck | None = None, points_per_side: int = 16) -> list[np.ndarray]:
        """SAM's automatic mask generator over the current photo, largest region first."""
        if self._image is None:
            raise RuntimeError("call set_image before everything")
        if self.name == "mobilesam":
            from mobile_sam import SamAutomaticMaskGenerator
        else:
            from segment_anything import SamAutomaticMaskGenerator
        import torch

        with self._lock, torch.inference_mode():
            gen = SamAutomaticMaskGenerator(self._model, points_per_side=points_per_side)
            if cancel and cancel():
                raise SegmentCancelled()
            anns = gen.generate(self._image)
        anns.sort(key=lambda a: -a["area"])
        return [np.asarray(a["segmentation"], dtype=bool) for a in anns]
