"""Overfitting of maskgan-v2 run checkpoints: the colour likelihood (mean NLL of the true colour under
the network's distribution, prior restored, whole photo at 256 px, no hints) on the BSDS500 photos
every trainer holds back and on as many training photos, the pair the trainer logs as ``overfit`` at
each validation. Prints JSON, one object per checkpoint.

    python bench/overfit.py RUN/last.pt [MORE.pt ...] [--photos 20]

Result for the maskgan-v2 run (2026-12-07): training / held-back / gap at 85 min 2.913 / 3.399 /
0.487, 220 min 2.688 / 3.348 / 0.660, 300 min 2.684 / 3.386 / 0.702, 440 min 2.622 / 3.450 / 0.828.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--photos", type=int, default=20)
    args = ap.parse_args()
    import torch

    from models.maskgan_v2 import MaskGANConfig, MaskGANNet
    from training.data import BSDS_VAL_EVERY, load_photos, training_photos
    from training.maskgan_v2 import VAL_SIDE, mean_nll, with_rebalance

    # the same photos the trainer watches: the first held-back BSDS500 test photos, and as many
    # training photos drawn with seed 0 from the training set it builds from --data
    photos, _ = training_photos(str(args.data), [], None, 512, progress=False)
    files = sorted((args.data / "bsds500" / "images" / "test").glob("*.jpg"))[::BSDS_VAL_EVERY]
    heldback, _ = load_photos(files[: args.photos], VAL_SIDE)
    pick = np.random.default_rng(0).choice(len(photos), size=min(len(heldback), len(photos)), replace=False)
    seen = [photos[i] for i in sorted(pick)]
    for path in args.checkpoints:
        ck = torch.load(path, map_location="cpu", weights_only=False)  # a file our trainer wrote
        net = MaskGANNet(MaskGANConfig.from_dict(ck.get("config")), pretrained=False)
        net.load_state_dict(with_rebalance(ck["net"], ck["rebalance"]))
        tr, hb = mean_nll(net, seen), mean_nll(net, heldback)
        print(json.dumps({"checkpoint": str(path), "step": ck["state"]["step"],
                          "minutes": round(ck["state"]["seconds"] / 60, 1), "train_nll": round(tr, 4),
                          "heldback_nll": round(hb, 4), "gap": round(hb - tr, 4)}), flush=True)


if __name__ == "__main__":
    main()
