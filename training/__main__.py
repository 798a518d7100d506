"""``python -m training train|evaluate ...``: the trainer's command line.

train     --model maskgan|iizuka|segmenter --data DIR --out RUN [--minutes M] [--steps N] [--batch B]
          [--size S] [--resume CKPT] [--seed S] [--export PATH]   (also under torchrun)
evaluate  forwarded to training.evaluate (metrics JSON for a registered model)
export    RUN/last.pt (or best.pt) -> shipping safetensors + sidecar (maskgan, segmenter)
grid      historical-bw photos side by side under several weights files (model cards)
ablation  the published designs (training/zoo) trained for one budget each and measured side by side
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def maskgan_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training train --model maskgan", description="Train the maskgan colorizer.")
    p.add_argument("--model", default="maskgan")
    p.add_argument("--data", required=True, help="the shared datasets folder (../shared/datasets)")
    p.add_argument("--out", required=True, help="run folder: log.jsonl, last.pt, best.pt, sample grids")
    p.add_argument("--minutes", type=float, default=None, help="wall-clock budget (the schedule follows it)")
    p.add_argument("--steps", type=int, default=None, help="stop after N steps (whichever of --minutes/--steps comes first)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=64, help="training side for Tiny ImageNet photos")
    p.add_argument("--big-size", type=int, default=128, help="side of the BSDS500 multi-scale crops")
    p.add_argument("--bsds-every", type=int, default=4, help="every Nth step is a batch of BSDS500 crops (0: never)")
    p.add_argument("--bsds-holdout-every", type=int, default=10,
                   help="hold back every Nth BSDS500 test photo to validate and calibrate on (10: 20 photos, 2: 100)")
    p.add_argument("--no-bsds-masks", dest="bsds_masks", action="store_false", help="no BSDS500 object masks")
    p.add_argument("--resume", default=None, help="a last.pt written by this trainer")
    p.add_argument("--init", default=None, help="start from the generator weights of a best.pt/last.pt (new schedule)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--export", default=None, help="write the shipping safetensors (+ .json) here at the end")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--encoder-lr-mult", type=float, default=0.3, help="the pretrained encoder learns slower")
    p.add_argument("--gan-frac", type=float, default=0.2, help="last fraction of the budget with the discriminator")
    p.add_argument("--ema", type=float, default=0.0,
                   help="keep a moving average of the generator's weights with this decay (e.g. 0.999) and ship it")
    p.add_argument("--sat-weight", type=float, default=1.0, help="saturation-aware weighting of the ab loss")
    p.add_argument("--w-mask", type=float, default=5.0)
    p.add_argument("--w-hint", type=float, default=1.0)
    p.add_argument("--w-adv", type=float, default=0.01)
    p.add_argument("--val-every", type=float, default=6.0, help="minutes between validations / checkpoints")
    p.add_argument("--val-steps", type=int, default=0, help="with --steps: also validate every N steps")
    p.add_argument("--val-count", type=int, default=1000, help="hold-out photos used for validation")
    p.add_argument("--limit", type=int, default=None, help="train on the first N photos (smoke tests)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads in total")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--no-pretrained", action="store_true", help="random encoder (tests)")
    p.add_argument("--log-every", type=float, default=30.0, help="seconds between train log lines")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _train_with(model: str, description: str, add_arguments, run, argv: list[str], minutes: float) -> int:
    """Parse a trainer's own options (``--model`` included) and run it; ``minutes`` when no budget is given."""
    p = argparse.ArgumentParser(prog=f"python -m training train --model {model}", description=description)
    add_arguments(p)
    if not any(a.dest == "model" for a in p._actions):  # the zoo's trainer has its own
        p.add_argument("--model", default=model)
    a = p.parse_args(argv)
    if a.steps is None and a.minutes is None:
        a.minutes = minutes
    print(f"run folder: {run(a)}")
    return 0


def train(argv: list[str]) -> int:
    pre = argparse.ArgumentParser(add_help=False)
    from .zoo import NAMES as ZOO

    pre.add_argument("--model", default="maskgan", choices=["maskgan", "maskgan-v1", "iizuka", "segmenter", *ZOO])
    known, _ = pre.parse_known_args(argv)
    if known.model == "segmenter":
        from .segmenter import add_arguments, train_segmenter

        return _train_with("segmenter", "Train the learned click segmenter on BSDS500 human segmentations.",
                           add_arguments, train_segmenter, argv, 40.0)
    if known.model in ZOO:
        from .zoo.loop import add_arguments as add_zoo
        from .zoo.loop import train_zoo

        return _train_with(known.model, "Train one of the published designs (see training/zoo).",
                           add_zoo, train_zoo, argv, 30.0)
    if known.model == "maskgan":
        from .maskgan_v2 import add_arguments as add_v2
        from .maskgan_v2 import train_maskgan_v2

        return _train_with("maskgan", "Train the maskgan colorizer (v2: a colour distribution per pixel).",
                           add_v2, train_maskgan_v2, argv, 60.0)
    if known.model == "iizuka":
        from .iizuka import add_arguments, train_iizuka

        p = argparse.ArgumentParser(prog="python -m training train --model iizuka")
        p.add_argument("--model", default="iizuka")
        add_arguments(p)
        return int(train_iizuka(p.parse_args(argv)) or 0)
    args = maskgan_parser().parse_args(argv)
    if args.steps is None and args.minutes is None:
        args.minutes = 60.0
    if args.val_steps == 0:
        args.val_steps = 10**12
    from .maskgan import _data_desc, train_maskgan

    out = train_maskgan(args)
    if args.export and ddp_rank() == 0:  # the export module builds on the trainer, not the other way
        from .export import export_maskgan

        export_maskgan(out / "best.pt", Path(args.export), data_desc=_data_desc(args))
    print(f"run folder: {out}")
    return 0


def ddp_rank() -> int:
    import os

    return int(os.environ.get("RANK", "0"))


def export(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m training export", description="Run checkpoint(s) -> shipping weights.")
    p.add_argument("checkpoints", nargs="+",
                   help="best.pt / last.pt of a maskgan run (or a final.pt); several v2 run files: their weights averaged "
                        "(after the first, exported maskgan-v2 weights too, e.g. the ones a --init run started from)")
    p.add_argument("--out", required=True, help="NAME.safetensors (the .json sidecar is written beside it)")
    p.add_argument("--data", default=None, help="with --calibrate: the shared datasets folder")
    p.add_argument("--calibrate", type=int, default=0,
                   help="calibrate the chroma gain, lightness curve and hint settings on N random Tiny ImageNet train photos plus the BSDS500 photos the trainer held back, and keep the best checkpoint")
    p.add_argument("--metrics", default=None, help="a JSON file from 'python -m training evaluate' to record")
    p.add_argument("--temperature", type=float, default=None,
                   help="maskgan v2: the annealed-mean temperature (default: calibrated with --data)")
    args = p.parse_args(argv)
    import json
    from pathlib import Path

    import torch

    run = torch.load(args.checkpoints[0], map_location="cpu", weights_only=False)
    if run.get("arch") == "clickseg-v1":  # a segmenter run
        from .segmenter import export_segmenter

        metrics = json.loads(Path(args.metrics).read_text()) if args.metrics else None
        print(export_segmenter(args.checkpoints[0], args.out, metrics))
        return 0
    if "net_raw" in run:  # a v2 run file
        from .export_v2 import export_v2

        try:
            path, report = export_v2([Path(c) for c in args.checkpoints], Path(args.out),
                                     Path(args.data) if args.data else None, args.temperature)
        except ValueError as e:
            print(f"export: {e}", file=sys.stderr)
            return 2
        print(json.dumps(report, indent=2))
        print(path)
        return 0
    from .export import ExportError, export_maskgan, finalize

    if args.calibrate:
        if not args.data:
            p.error("--calibrate needs --data")
        try:
            path, report = finalize([Path(c) for c in args.checkpoints], Path(args.out), Path(args.data),
                                    n_calibrate=args.calibrate, metrics_file=args.metrics)
        except ExportError as e:
            print(f"export: {e}", file=sys.stderr)
            return 2
        print(json.dumps({k: v for k, v in report.items() if k != "chroma_table"}, indent=2, default=str))
    else:
        path = export_maskgan(Path(args.checkpoints[0]), Path(args.out), metrics_file=args.metrics)
    print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "train":
        return train(rest)
    if cmd == "evaluate":
        from .evaluate import main as evaluate_main

        return int(evaluate_main(rest) or 0)
    if cmd == "export":
        return export(rest)
    if cmd == "ablation":
        from .zoo.ablation import main as ablation_main

        return ablation_main(rest)
    if cmd == "grid":
        from .grid import main as grid_main

        return grid_main(rest)
    print(f"unknown command {cmd!r}: use train, evaluate, export, grid or ablation", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
