"""Per-photo-and-model SAM embedding cache: a small in-memory LRU plus an optional disk cache.

Disk entries are safetensors files (never pickle) named by the model's and the photo's
sha256, so returning to a photo, even after a restart, skips the slow image encoder.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Embedding:
    features: np.ndarray  # float32 (1, C, h, w), the image encoder's output
    original_size: tuple[int, int]  # photo (H, W)
    input_size: tuple[int, int]  # resized photo fed to the encoder (h, w)


class EmbeddingCache:
    def __init__(self, max_items: int = 4, disk_dir: Path | None = None) -> None:
        self.max_items = max_items
        self.disk_dir = Path(disk_dir) if disk_dir else None
        self._mem: OrderedDict[tuple[str, str], Embedding] = OrderedDict()
        self.hits = 0
        self.disk_hits = 0
        self.misses = 0

    def _file(self, model_sha: str, photo_key: str) -> Path | None:
        if self.disk_dir is None:
            return None
        return self.disk_dir / f"{model_sha[:16]}-{photo_key[:32]}.safetensors"

    def get(self, model_sha: str, photo_key: str) -> Embedding | None:
        key = (model_sha, photo_key)
        emb = self._mem.get(key)
        if emb is not None:
            self._mem.move_to_end(key)
            self.hits += 1
            return emb
        f = self._file(model_sha, photo_key)
        if f is not None and f.is_file():
            try:
                from safetensors import safe_open

                with safe_open(str(f), framework="np") as st:
                    meta = st.metadata() or {}
                    feats = st.get_tensor("features")
                emb = Embedding(feats.astype(np.float32),
                                tuple(int(v) for v in meta["original_size"].split(",")),  # type: ignore[arg-type]
                                tuple(int(v) for v in meta["input_size"].split(",")))  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - a damaged cache file is just a miss
                f.unlink(missing_ok=True)
            else:
                self._remember(key, emb)
                self.disk_hits += 1
                return emb
        self.misses += 1
        return None

    def put(self, model_sha: str, photo_key: str, emb: Embedding) -> None:
        self._remember((model_sha, photo_key), emb)
        f = self._file(model_sha, photo_key)
        if f is None:
            return
        from safetensors.numpy import save

        from models.fileio import atomic_write_bytes

        data = save({"features": np.ascontiguousarray(emb.features, dtype=np.float32)},
                    metadata={"original_size": ",".join(map(str, emb.original_size)),
                              "input_size": ",".join(map(str, emb.input_size))})
        try:
            f.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(f, data)
        except OSError:
            pass  # the disk cache is optional; memory still has it

    def _remember(self, key: tuple[str, str], emb: Embedding) -> None:
        self._mem[key] = emb
        self._mem.move_to_end(key)
        while len(self._mem) > self.max_items:
            self._mem.popitem(last=False)

    def __contains__(self, key: tuple[str, str]) -> bool:
        f = self._file(*key)
        return key in self._mem or (f is not None and f.is_file())
