"""Segment Anything / MobileSAM checkpoint files: recognise, import, verify, list.

A checkpoint is recognised from its tensor names and shapes alone (never its file name) and
is only ever read with ``torch.load(weights_only=True)`` (or safetensors), so a file a user
hands us cannot run code. Imported files live in ``user_models_dir()/segment`` beside a JSON
sidecar holding what was recognised and the file's sha256.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.core.errors import HuebrushError
from models.fileio import atomic_copy, atomic_write_json, sha256_file


class CheckpointError(HuebrushError):
    """A segmentation checkpoint could not be read, recognised or verified."""


# sha256 of the official files, as published alongside them and checked against several
# independent copies; MobileSAM's is not known to us with certainty, so it stays unknown.
OFFICIAL = {
    "vit_h": ("sam_vit_h_4b8939.pth", "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_h_4b8939.pth",
              "a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e"),
    "vit_l": ("sam_vit_l_0b3195.pth", "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_l_0b3195.pth",
              "3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622"),
    "vit_b": ("sam_vit_b_01ec64.pth", "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth",
              "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912"),
    "vit_t": ("mobile_sam.pt", "https://github.com/ChaoningZhang/MobileSAM/raw/master/weights/mobile_sam.pt", None),
}
_OFFICIAL_VIT = {(768, 12): "vit_b", (1024, 24): "vit_l", (1280, 32): "vit_h"}


@dataclass(frozen=True)
class CheckpointInfo:
    family: str  # "sam" (segment_anything) or "mobilesam" (mobile_sam)
    model: str  # vit_b / vit_l / vit_h / vit_t, or vit_custom for a non-official SAM shape
    config: dict[str, Any] = field(default_factory=dict)  # what the builder needs


@dataclass(frozen=True)
class InstalledCheckpoint:
    path: Path
    family: str
    model: str
    sha256: str
    official: bool | None  # True: matches the official hash; False: differs; None: none known
    size_bytes: int
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def segmenter(self) -> str:
        return self.family  # "sam" or "mobilesam", as in --segmenter

    def describe(self) -> str:
        status = {True: "official file", False: "NOT the official file", None: "no official hash known"}[self.official]
        return f"{self.name}: {self.family} {self.model}, sha256 {self.sha256[:12]}..., {status}"


def segment_models_dir() -> Path:
    from app.core.paths import user_models_dir

    d = user_models_dir() / "segment"
    d.mkdir(parents=True, exist_ok=True)
    return d


def load_state_dict(path: Path) -> dict[str, Any]:
    """Tensors of a checkpoint, without ever unpickling code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist; check the path and try again.")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return dict(load_file(str(path)))
        import torch

        sd = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure here means "not a usable checkpoint"
        raise CheckpointError(f"{path.name} is not a readable weights file ({type(e).__name__}); "
                              "download the official SAM or MobileSAM checkpoint and import that.") from e
    if isinstance(sd, dict) and "model" in sd and isinstance(sd["model"], dict):
        sd = sd["model"]  # some re-saves wrap the weights
    if not isinstance(sd, dict):
        raise CheckpointError(f"{path.name} holds no weights table; import an official SAM or MobileSAM checkpoint.")
    return sd


def recognise(state: dict[str, Any], source: str = "the file") -> CheckpointInfo:
    """Which model a state dict is, from tensor names and shapes."""
    keys = set(state)
    needed = ("prompt_encoder.pe_layer.positional_encoding_gaussian_matrix", "mask_decoder.iou_token.weight")
    if not all(k in keys for k in needed):
        raise CheckpointError(f"{source} is not a Segment Anything checkpoint (no prompt encoder or mask decoder "
                              "tensors); import an official SAM (vit_b/l/h) or MobileSAM (vit_t) file.")
    dec = _decoder_config(state)
    if "image_encoder.patch_embed.seq.0.c.weight" in keys:  # TinyViT: MobileSAM
        return CheckpointInfo("mobilesam", "vit_t", dec)
    if "image_encoder.patch_embed.proj.weight" not in keys:
        raise CheckpointError(f"{source} has a Segment Anything decoder but an image encoder we do not know; "
                              "import an official SAM or MobileSAM file.")
    embed, _, patch, _ = state["image_encoder.patch_embed.proj.weight"].shape
    grid = state["image_encoder.pos_embed"].shape[1]
    blocks = sorted({int(m.group(1)) for k in keys if (m := re.match(r"image_encoder\.blocks\.(\d+)\.", k))})
    depth = len(blocks)
    rel = [state[f"image_encoder.blocks.{i}.attn.rel_pos_h"] for i in blocks]
    head_dim = rel[0].shape[1]
    global_idx = [i for i, r in zip(blocks, rel) if r.shape[0] == 2 * grid - 1]
    window = next(((r.shape[0] + 1) // 2 for r in rel if r.shape[0] != 2 * grid - 1), 14)
    enc = {"encoder_embed_dim": int(embed), "encoder_depth": depth, "encoder_num_heads": int(embed // head_dim),
           "encoder_global_attn_indexes": global_idx, "patch_size": int(patch), "image_size": int(grid * patch),
           "window_size": int(window),
           "mlp_ratio": float(state["image_encoder.blocks.0.mlp.lin1.weight"].shape[0] / embed), "out_chans": int(state["image_encoder.neck.0.weight"].shape[0])}
    model = _OFFICIAL_VIT.get((int(embed), depth), "vit_custom")
    if model != "vit_custom" and enc["image_size"] != 1024:
        model = "vit_custom"
    return CheckpointInfo("sam", model, {**enc, **dec})


def _decoder_config(state: dict[str, Any]) -> dict[str, Any]:
    layers = {int(m.group(1)) for k in state if (m := re.match(r"mask_decoder\.transformer\.layers\.(\d+)\.", k))}
    iou_layers = {int(m.group(1)) for k in state if (m := re.match(r"mask_decoder\.iou_prediction_head\.layers\.(\d+)\.", k))}
    return {
        "prompt_embed_dim": int(state["mask_decoder.iou_token.weight"].shape[1]),
        "mask_in_chans": int(state["prompt_encoder.mask_downscaling.3.weight"].shape[0]),
        "decoder_depth": len(layers),
        "decoder_mlp_dim": int(state["mask_decoder.transformer.layers.0.mlp.lin1.weight"].shape[0]),
        "num_multimask_outputs": int(state["mask_decoder.mask_tokens.weight"].shape[0]) - 1,
        "iou_head_depth": len(iou_layers),
        "iou_head_hidden_dim": int(state["mask_decoder.iou_prediction_head.layers.0.weight"].shape[0]),
    }


def official_status(model: str, sha256: str) -> bool | None:
    known = OFFICIAL.get(model, (None, None, None))[2]
    return None if known is None else known == sha256


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    atomic_write_json(path, data, indent=1)


def import_checkpoint(path: str | Path, *, sha256: str | None = None) -> InstalledCheckpoint:
    """Recognise ``path`` and copy it into the segmentation models folder (atomically).

    Raises CheckpointError (one sentence, names the file) when it is not a SAM/MobileSAM file.
    """
    src = Path(path).expanduser()
    info = recognise(load_state_dict(src), src.name)
    digest = sha256 or sha256_file(src)
    dest_dir = segment_models_dir()
    dest = dest_dir / _safe_name(src.name)
    if dest.exists() and src.resolve() != dest.resolve() and sha256_file(dest) != digest:
        dest = dest_dir / f"{dest.stem}-{digest[:8]}{dest.suffix}"
    if src.resolve() != dest.resolve():
        try:
            atomic_copy(src, dest)
        except OSError as e:
            raise CheckpointError(f"could not copy {src.name} into {dest_dir} ({e.strerror}); "
                                  "free some disk space and import it again.") from e
    installed = InstalledCheckpoint(dest, info.family, info.model, digest, official_status(info.model, digest),
                                    dest.stat().st_size, info.config)
    meta = asdict(installed)
    meta["path"] = dest.name
    meta["source"] = str(src)
    _write_json_atomic(_sidecar(dest), meta)
    return installed


def _safe_name(name: str) -> str:
    # keep the file inside the models folder whatever the user's file was called
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name).lstrip(".")
    return clean or "checkpoint.pth"


def list_checkpoints() -> list[InstalledCheckpoint]:
    """Imported segmentation checkpoints, best first (SAM vit_h > l > b > MobileSAM > custom)."""
    out = []
    for side in sorted(segment_models_dir().glob("*.json")):
        try:
            meta = json.loads(side.read_text())
            p = side.with_name(meta["path"])
            if not p.is_file():
                continue
            out.append(InstalledCheckpoint(p, meta["family"], meta["model"], meta["sha256"], meta.get("official"),
                                           int(meta["size_bytes"]), dict(meta.get("config", {}))))
        except (OSError, ValueError, KeyError):
            continue  # a damaged sidecar hides that file; re-importing it repairs the entry
    rank = {"vit_h": 0, "vit_l": 1, "vit_b": 2, "vit_t": 3}
    return sorted(out, key=lambda c: (rank.get(c.model, 9), c.name))


def find_checkpoint(segmenter: str = "auto") -> InstalledCheckpoint | None:
    """The checkpoint ``--segmenter`` means: auto = best installed; sam / mobilesam = that family."""
    for c in list_checkpoints():
        if segmenter in ("auto", c.family):
            return c
    return None


def verify_checkpoint(ckpt: InstalledCheckpoint) -> InstalledCheckpoint:
    """Re-hash the file: raises CheckpointError if it changed since import."""
    if not ckpt.path.is_file():
        raise CheckpointError(f"{ckpt.path} is missing; import the checkpoint again.")
    digest = sha256_file(ckpt.path)
    if digest != ckpt.sha256:
        raise CheckpointError(f"{ckpt.name} changed since it was imported (sha256 differs); "
                              "delete it and import or download it again.")
    return ckpt


def installed_from_file(path: str | Path) -> InstalledCheckpoint:
    """Describe a checkpoint in place (for --checkpoint PATH) without importing it."""
    p = Path(path).expanduser()
    info = recognise(load_state_dict(p), p.name)
    digest = sha256_file(p)
    return InstalledCheckpoint(p, info.family, info.model, digest, official_status(info.model, digest),
                               p.stat().st_size, info.config)
