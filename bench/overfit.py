"""Overfitting of maskgan-v2 run checkpoints: the colour likelihood (mean NLL of the true colour under
the network's distribution, prior restored, whole photo at 256 px, no hints) on the BSDS500 photos
every trainer holds back and on as many training photos, the pair the trainer logs as ``overfit`` at
each validation. Prints JSON, one object per checkpoint.

    python bench/overfit.py RUN/last.pt [MORE.pt ...] [--photos 20]
    python bench/overfit.py resources/weights/maskgan-v2.safetensors   # shipped weights too

Result for the maskgan-v2 run (2026-12-07): training / held-back / gap at 85 min 2.913 / 3.399 /
0.487, 220 min 2.688 / 3.348 / 0.660, 300 min 2.684 / 3.386 / 0.702, 440 min 2.622 / 3.450 / 0.828.
Soups (a checkpoint file whose ``net`` is the mean of several runs' EMA weights, 2026-12-07):
220 + 300 min 2.678 / 3.363, 220 + 300 + 440 2.657 / 3.366, the frozen-encoder branch alone 2.796 /
3.372, branch + 300 2.713 / 3.317, branch + 220 + 300 2.686 / 3.312, branch + 220 2.714 / **3.302**
(shipped for an hour). After a frozen encoder kept its batch-norm statistics too, a new branch from
85 minutes (15 minutes, ``runs/v2u`` at 100 min) alone 2.805 / 3.314, with 220 min 2.732 / **3.273** (shipped:
``python -m training export`` with both run files averages them), with 220 + the old branch 3.282.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _load(path: Path) -> dict:
    """A run file our trainer wrote, or shipped weights (.safetensors + sidecar) in the same shape."""
    import torch

    from training.export_v2 import weights_as_run_file

    if path.suffix == ".safetensors":
        return weights_as_run_file(path)
    return torch.load(path, map_location="cpu", weights_only=False)  # a file our trainer wrote


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--photos", type=int, default=20)
    args = ap.parse_args()

    from models.maskgan_v2 import MaskGANConfig, MaskGANNet
    from training.data import training_photos
    from training.maskgan_v2 import mean_nll, overfit_photos, with_rebalance

    # the photos the trainer watches, from the training set it builds from --data
    # a run that held photos-large photos back did not train on them: they are not "training photos"
    first = _load(args.checkpoints[0])
    every = int(first.get("args", {}).get("hold_back_large") or 0)
    seen, heldback = overfit_photos(args.data, training_photos(str(args.data), [], None, 512, hold_back_large=every)[0],
                                    args.photos)
    for path in args.checkpoints:
        ck = _load(path)
        net = MaskGANNet(MaskGANConfig.from_dict(ck.get("config")), pretrained=False)
        net.load_state_dict(with_rebalance(ck["net"], ck["rebalance"]))
        tr, hb = mean_nll(net, seen), mean_nll(net, heldback)
        print(json.dumps({"checkpoint": str(path), "step": ck["state"]["step"],
                          "minutes": round(ck["state"]["seconds"] / 60, 1), "train_nll": round(tr, 4),
                          "heldback_nll": round(hb, 4), "gap": round(hb - tr, 4)}), flush=True)


if __name__ == "__main__":
    main()
