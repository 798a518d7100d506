"""`huebrush batch`: colourize a folder or a list of photos; the same job the batch dialog runs.

Under `torchrun --nproc_per_node N` (or any launcher that sets RANK and WORLD_SIZE) each process
takes every N-th photo of the sorted list, writes its own outputs and report.rank{r}.json, and
rank 0 merges the reports once all ranks are done.
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="colourize many photos (a folder or a list) into an output folder",
        description="Colourize many photos. Each photo's mask comes from the first source that has one "
        "(--mask-source order): its .huebrush project, a mask PNG in --masks, a shared mask, or the whole photo.",
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INDIR|FILE", help="photos and/or folders of photos")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUTDIR", help="output folder")
    p.add_argument("--recursive", action="store_true", help="also take photos in sub-folders (mirrored in OUTDIR)")
    p.add_argument("--mask-source", default=None, metavar="LIST",
                   help="comma list tried in order from project,masks,shared,whole "
                   "(default project,masks,whole; shared when --shared-mask/--shared-project is given)")
    p.add_argument("--projects", type=Path, metavar="DIR", help="folder with NAME.huebrush projects (default: beside each photo)")
    p.add_argument("--masks", type=Path, metavar="DIR", help="folder with NAME.png or NAME_mask.png masks")
    p.add_argument("--shared-mask", type=Path, metavar="PNG", help="one mask for every photo, scaled to each")
    p.add_argument("--shared-project", type=Path, metavar="FILE", help="a .huebrush whose mask and hints apply to every photo")
    p.add_argument("--hints", type=Path, metavar="FILE.json", help="shared hints (pixels of the shared mask's photo)")
    p.add_argument("--name-template", default="{name}_colour.{ext}", metavar="T",
                   help="output name; fields {name} {ext} {src_ext} (default %(default)s)")
    p.add_argument("--format", default="png", choices=["png", "tif", "jpg", "webp", "bmp", "ora", "same"], help="output format (default png)")
    p.add_argument("--bit-depth", type=int, choices=[8, 16], default=None, help="default: the source's")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality 1-100 (default 95)")
    p.add_argument("--long-side", type=int, default=None, metavar="N", help="shrink so the long side is at most N px")
    ex = p.add_mutually_exclusive_group()
    ex.add_argument("--skip-existing", dest="existing", action="store_const", const="skip",
                    help="leave existing outputs alone (the default; resumes an interrupted batch)")
    ex.add_argument("--overwrite", dest="existing", action="store_const", const="overwrite",
                    help="replace existing outputs (never an input photo)")
    ex.add_argument("--number", dest="existing", action="store_const", const="number", help="write NAME_2.png etc.")
    p.add_argument("--no-metadata", action="store_true", help="do not copy ICC profile and EXIF")
    p.add_argument("--colour-layers", action="store_true",
                   help="also write the colour alone with alpha beside each output (NAME_layer.tif, the photo's bit "
                        "depth), for a Color-mode layer in Photoshop")
    p.add_argument("--apply-changed", action="store_true",
                   help="apply a photo's project even if the photo changed since the project was saved (default: skip it)")
    p.add_argument("--io-workers", type=int, default=2, metavar="N", help="decode/encode threads (default 2; 0 = none)")
    p.add_argument("--report", type=Path, metavar="FILE", help="JSON report (default OUTDIR/huebrush-batch-report.json)")
    p.add_argument("--model", default=None, help="override every photo's model")
    p.add_argument("--saturation", type=float, default=None, metavar="S", help="override: 0 grey .. 1 as predicted .. 2")
    p.add_argument("--warmth", type=float, default=None, metavar="B", help="override: colour balance, + yellower .. - bluer (-30..30)")
    p.add_argument("--tint", type=float, default=None, metavar="A", help="override: colour balance, + more magenta .. - greener (-30..30)")
    p.add_argument("--feather", type=float, default=None, metavar="PX", help="override: soft mask edge in pixels")
    p.add_argument("--hint-reach", type=float, default=None, metavar="R", help="override: 0 near a hint .. 1 the whole photo")
    p.add_argument("--work-size", type=int, default=None, metavar="PX", help="override: long side the colours are computed at")
    p.add_argument("--device", default=None, metavar="auto|cpu|cuda|mps", help="where the model runs (default auto)")
    p.add_argument("--dry-run", action="store_true", help="only say what would be done and skipped")
    p.add_argument("--merge-timeout", type=float, default=24 * 3600, metavar="S",
                   help="with several ranks: how long rank 0 waits for the others (default one day)")
    p.set_defaults(func=run, existing="skip")


def build_job(args: argparse.Namespace):
    from app.core.batch import BatchJob
    from app.core.batch.plan import BatchError
    from app.core.pipeline import Settings

    overrides = Settings.check_overrides({k: v for k, v in (("model", args.model), ("saturation", args.saturation),
                                                            ("feather", args.feather), ("work_size", args.work_size),
                                                            ("device", args.device), ("hint_reach", args.hint_reach),
                                                            ("warmth", args.warmth), ("tint", args.tint))
                                          if v is not None})
    if args.model is not None:
        from models.registry import names

        if args.model not in names():
            raise BatchError(f"Unknown model '{args.model}': choose one of {', '.join(sorted(names()))} (see `huebrush models list`).")
    shared_mask, shared_hints, shared_shape, shared_regions = None, (), None, ()
    if args.shared_project:
        from app.core.batch.project_source import shared_from_project

        shared_mask, shared_hints, shared_shape, shared_regions = shared_from_project(args.shared_project)
    if args.shared_mask:
        from app.core.mask import read_mask_png

        shared_mask = read_mask_png(args.shared_mask)
        shared_shape, shared_regions = shared_mask.shape, ()  # a mask file replaces the project's regions
    if args.hints:
        from app.core.hints import load_hints_file

        shared_hints = tuple(load_hints_file(args.hints))
    if args.model is not None:
        from app.core.hints import unused_hints_note

        if note := unused_hints_note(args.model, len(shared_hints), "shared ones"):
            print(f"huebrush: note: {note}", file=sys.stderr)
    has_shared = shared_mask is not None or bool(shared_hints)
    if args.mask_source:
        sources = tuple(s.strip() for s in args.mask_source.split(",") if s.strip())
    else:
        sources = ("shared",) if has_shared else ("project", "masks", "whole")
    return BatchJob(
        inputs=args.inputs, output_dir=args.output, recursive=args.recursive, mask_sources=sources,
        projects_dir=args.projects, masks_dir=args.masks, shared_mask=shared_mask, shared_hints=shared_hints,
        shared_shape=shared_shape, shared_regions=shared_regions, overrides=overrides, format=args.format, bit_depth=args.bit_depth,
        quality=args.quality, long_side=args.long_side, name_template=args.name_template, existing=args.existing,
        keep_metadata=not args.no_metadata, colour_layers=args.colour_layers, apply_changed=args.apply_changed, io_workers=max(0, args.io_workers), device=args.device or "auto",
    )


def run(args: argparse.Namespace) -> int:
    from app.core.batch.dist import finish_ranks, ranks_from_env, start_ranks
    from app.core.batch.report import rank_report_path

    job = build_job(args)
    plan = job.plan()
    if args.dry_run:
        env = ranks_from_env()
        _print_plan(plan.shard(env.rank, env.world_size) if env.world_size > 1 else plan)
        return 0
    dist = start_ranks(timeout_s=args.merge_timeout)
    mine = plan.shard(dist.rank, dist.world_size) if dist.world_size > 1 else plan
    report_path = args.report or job.output_dir / "huebrush-batch-report.json"
    my_report = rank_report_path(report_path, dist.rank) if dist.world_size > 1 else report_path

    bar = _progress_bar(len(mine.todo), dist.rank, dist.world_size)
    cancel = _CtrlC()
    try:
        # job.run takes this rank's share of the full plan, so every rank numbers photos alike.
        report = job.run(bar.update if bar else None, cancel, plan=plan, report_path=my_report,
                         rank=dist.rank, world_size=dist.world_size, run_id=dist.run_id)
    finally:
        cancel.restore()
        if bar:
            bar.close()
    if dist.world_size > 1:
        merged = finish_ranks(dist, report_path, report, timeout_s=args.merge_timeout)
        if merged is None:  # ranks other than 0 leave the summary to rank 0
            return 1 if report.failures or report.state != "finished" else 0
        report = merged
    _print_summary(report, report_path)
    if report.state == "stopped":
        print(f"huebrush: {report.error}", file=sys.stderr)
        return 1
    if report.state == "cancelled":
        return 130
    return 1 if report.failures else 0


class _CtrlC:
    """First Ctrl-C: finish the photos in flight and stop (outputs stay whole). Second: stop now."""

    def __init__(self) -> None:
        self.flag = False
        self._old = None
        try:
            self._old = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread (tests calling run() from a thread)
            self._old = None

    def _handle(self, signum, frame) -> None:
        if self.flag:
            raise KeyboardInterrupt
        self.flag = True
        print("\nhuebrush: stopping after the photos in flight (Ctrl-C again to stop now)", file=sys.stderr)

    def __call__(self) -> bool:
        return self.flag

    def restore(self) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


class _Bar:
    def __init__(self, total: int, rank: int, world: int) -> None:
        from tqdm import tqdm

        desc = f"rank {rank}" if world > 1 else "colourizing"
        self.t = tqdm(total=total, unit="photo", desc=desc, position=rank if world > 1 else None, dynamic_ncols=True)

    def update(self, p) -> None:
        if p.record is not None:
            self.t.update(1)
            if p.record.outcome == "failed":
                self.t.write(f"failed: {p.record.input}: {p.record.reason}")
        elif p.current:
            self.t.set_postfix_str(Path(p.current).name, refresh=True)

    def close(self) -> None:
        self.t.close()


def _progress_bar(total: int, rank: int, world: int) -> _Bar | None:
    if not sys.stderr.isatty() or total == 0:
        return None
    return _Bar(total, rank, world)


def _print_plan(plan) -> None:
    print(f"{len(plan.todo)} to colourize, {len(plan.skipped)} to skip, {len(plan.ignored)} other files ignored")
    for item in plan.skipped:
        print(f"  skip {item.source}: {item.reason}")
    for item in plan.todo:
        print(f"  {item.source} -> {item.output} (mask: {item.mask_source})")


def _print_summary(report, report_path: Path) -> None:
    c = report.counts()
    print(f"{c['done']} done, {c['skipped']} skipped, {c['failed']} failed, {c['cancelled']} cancelled "
          f"in {report.seconds:.1f} s ({report.state}); report: {report_path}")
    if report.failures:
        print("Failed:")
        for r in report.failures:
            print(f"  {r.input}: {r.reason}")
