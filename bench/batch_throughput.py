"""Batch export throughput and memory: 2 MP photos, full-size PNG output. Prints JSON.

    python bench/batch_throughput.py [--count 500] [--model maskgan] [--compare 30] [--torch-threads 30]

- photos per minute of the whole batch (decode, model, chroma upsampling, composite, PNG encode);
- peak RSS after photo 50 and after the last photo (goal: grows by less than 100 MB);
- milliseconds per stage (load, request, model, upsample+composite, export) and the PNG
  encode at zlib level 3 (export's) vs level 1;
- every photo gets the same edit (a feathered ellipse mask and two hints), so the model,
  the guided upsampling and the composite all do real work;
- before/after in one run: the same photos sequentially (io_workers=0, the baseline) and with
  decode/encode overlapping inference (the default io_workers=2), as a ratio;
- ``--torch-threads N``: N photos with torch on every core vs leaving one core to decode/encode
  (what the batch does while they overlap on the CPU), as a ratio.
The model is maskgan when its weights load, else hints (the JSON says which and why).
Inputs are real photos from ../shared/datasets/historical-bw scaled to 2 MP when present (else
synthetic), linked under many names so the batch sees `count` distinct files; outputs are
deleted as they arrive so a long run needs little disk.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

W, H = 1632, 1224  # 2.0 MP


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_sources(folder: Path, distinct: int) -> tuple[list[Path], str]:
    import cv2

    data = Path(os.environ.get("HUEBRUSH_DATA", REPO.parent / "shared" / "datasets")) / "historical-bw"
    real = sorted(data.glob("*.jpg"))[:distinct] if data.is_dir() else []
    out = []
    for i in range(distinct):
        if real:
            g = cv2.imread(str(real[i % len(real)]), cv2.IMREAD_GRAYSCALE)
            g = cv2.resize(g, (W, H), interpolation=cv2.INTER_CUBIC)
        else:
            rng = np.random.default_rng(i)
            g = cv2.GaussianBlur(rng.integers(0, 255, (H, W), dtype=np.uint8), (0, 0), 6)
        p = folder / f"src{i}.png"
        cv2.imwrite(str(p), g)
        out.append(p)
    return out, ("historical-bw (scaled to 2 MP)" if real else "synthetic")


def link_photos(sources: list[Path], folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        p = folder / f"photo{i:05d}.png"
        if not p.exists():
            os.link(sources[i % len(sources)], p)
        paths.append(p)
    return paths


def pick_model(requested: str, engine) -> tuple[str, str]:
    from app.core.pipeline import Settings, make_request

    L = np.linspace(0, 100, 64 * 64, dtype=np.float32).reshape(64, 64)
    try:
        engine.colorize(make_request(L, None, [], Settings(model=requested, work_size=64)))
        return requested, ""
    except Exception as e:  # no weights yet, or the model failed: the bench still measures the pipeline
        return "hints", f"{requested} unavailable ({type(e).__name__}: {e}); measured with hints"


def the_edit() -> tuple[np.ndarray, tuple]:
    """A realistic edit: colour inside a large ellipse (feathered edge), two colour hints."""
    import cv2

    from app.core.hints import Hint

    mask = np.zeros((H, W), np.uint8)
    cv2.ellipse(mask, (W // 2, H // 2), (W * 2 // 5, H * 2 // 5), 0, 0, 360, 1, -1)
    hints = (Hint.at(W * 0.4, H * 0.5, "#b04030", 12), Hint.at(W * 0.6, H * 0.4, "#3060a0", 12))
    return mask.astype(bool), hints


def run_batch(photos: list[Path], out: Path, model: str, io_workers: int, engine, marks=()) -> dict:
    from app.core.batch import BatchJob
    from app.core.pipeline import Settings

    mask, hints = the_edit()
    job = BatchJob(inputs=photos, output_dir=out, settings=Settings(model=model), format="png",
                   io_workers=io_workers, existing="overwrite", mask_sources=("shared",),
                   shared_mask=mask, shared_hints=hints)
    seen: dict[str, float] = {}
    first_done: list[float] = []

    def progress(p) -> None:
        if p.record is None:
            return
        if p.record.output:
            Path(p.record.output).unlink(missing_ok=True)  # keep disk use flat
        if not first_done:
            first_done.append(time.perf_counter())
        if p.done in marks:
            seen[f"peak_rss_mb_at_{p.done}"] = round(_peak_mb(), 1)
            seen[f"rss_mb_at_{p.done}"] = round(_rss_mb(), 1)

    t0 = time.perf_counter()
    report = job.run(progress, engine=engine)
    dt = time.perf_counter() - t0
    c = report.counts()
    # Steady-state rate excludes the first photo (pipeline fill, lazy imports).
    steady = (c["done"] - 1) / (time.perf_counter() - first_done[0]) * 60 if first_done and c["done"] > 1 else None
    return {"photos": len(photos), "done": c["done"], "failed": c["failed"], "seconds": round(dt, 2),
            "photos_per_min": round(c["done"] / dt * 60, 1), "steady_photos_per_min": round(steady, 1) if steady else None,
            "first_failure": report.failures[0].reason if report.failures else None, **seen}


def stage_profile(photos: list[Path], model: str, engine, out: Path) -> dict:
    """Milliseconds per stage for one photo at a time (medians), and what PNG level 1 would save."""
    import cv2

    from app.core.document import load_image
    from app.core.export import export_result
    from app.core.pipeline import Settings, finish, make_request

    out.mkdir(parents=True, exist_ok=True)
    settings = Settings(model=model)
    mask, hints = the_edit()
    rows: dict[str, list[float]] = {k: [] for k in ("load", "request", "model", "finish", "export", "png_level3", "png_level1")}
    for p in photos:
        t = [time.perf_counter()]
        doc = load_image(p)
        t.append(time.perf_counter())
        req = make_request(doc.L, mask, list(hints), settings)
        t.append(time.perf_counter())
        ab = engine.colorize(req).ab
        t.append(time.perf_counter())
        ab_full = finish(doc.L, ab, mask, settings)
        t.append(time.perf_counter())
        export_result(out / "x.png", doc.L, ab_full, bit_depth=8)
        t.append(time.perf_counter())
        for k, a, b in zip(("load", "request", "model", "finish", "export"), t, t[1:]):
            rows[k].append((b - a) * 1000)
        px = cv2.imread(str(out / "x.png"), cv2.IMREAD_UNCHANGED)
        for lvl in (3, 1):
            t0 = time.perf_counter()
            cv2.imencode(".png", px, [cv2.IMWRITE_PNG_COMPRESSION, lvl])
            rows[f"png_level{lvl}"].append((time.perf_counter() - t0) * 1000)
    return {k: round(float(np.median(v)), 1) for k, v in rows.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--model", default="maskgan")
    ap.add_argument("--compare", type=int, default=30, help="photos for the before/after comparison (0: skip)")
    ap.add_argument("--distinct", type=int, default=8)
    ap.add_argument("--io-workers", type=int, default=2)
    ap.add_argument("--torch-threads", type=int, default=0, metavar="N",
                    help="photos for a before/after of leaving a core to decode/encode (0: skip)")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()

    from models.engine import get_engine

    engine = get_engine()
    model, note = pick_model(args.model, engine)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        tmp = Path(tmp)
        sources, origin = make_sources(tmp, args.distinct)
        result: dict = {"bench": "batch_throughput", "model": model, "model_note": note, "photo_size": [W, H],
                        "source": origin, "output": "png, full size", "cpu_count": os.cpu_count(),
                        "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}
        try:
            import torch

            result["torch_threads"] = torch.get_num_threads()
        except ImportError:
            pass
        result["stage_ms_median"] = stage_profile(link_photos(sources, tmp / "prof", 5), model, engine, tmp / "prof_out")
        if args.compare:
            photos = link_photos(sources, tmp / "cmp", args.compare)
            run_batch(photos[:2], tmp / "warm", model, 0, engine)  # model loaded, caches warm
            before = run_batch(photos, tmp / "before", model, 0, engine)
            after = run_batch(photos, tmp / "after", model, args.io_workers, engine)
            result["before_sequential"] = before
            result["after_overlapped"] = after
            result["speedup_after_vs_before"] = round(after["photos_per_min"] / max(before["photos_per_min"], 1e-9), 2)
        if args.torch_threads:
            from app.core.batch import runner as batch_worker

            photos = link_photos(sources, tmp / "thr", args.torch_threads)
            run_batch(photos[:2], tmp / "warm2", model, args.io_workers, engine)
            keep = batch_worker._CoreForIO.apply
            batch_worker._CoreForIO.apply = lambda self: None  # before: torch keeps all its threads
            try:
                every = run_batch(photos, tmp / "thr_before", model, args.io_workers, engine)
            finally:
                batch_worker._CoreForIO.apply = keep
            spare = run_batch(photos, tmp / "thr_after", model, args.io_workers, engine)
            result["torch_all_cores"] = every
            result["torch_leaves_a_core"] = spare
            result["speedup_leave_a_core"] = round(spare["photos_per_min"] / max(every["photos_per_min"], 1e-9), 2)
        photos = link_photos(sources, tmp / "main", args.count)
        marks = (min(50, args.count), args.count)
        main_run = run_batch(photos, tmp / "out", model, args.io_workers, engine, marks=marks)
        result["main"] = main_run
        a, b = main_run.get(f"peak_rss_mb_at_{marks[0]}"), main_run.get(f"peak_rss_mb_at_{marks[1]}")
        if a is not None and b is not None:
            result["peak_rss_growth_mb"] = round(b - a, 1)
        result["goal_photos_per_min"] = 60
        result["goal_rss_growth_mb"] = 100
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
