"""The batch report: one record per photo, written atomically as JSON, merged across ranks."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPORT_VERSION = 1
OUTCOMES = ("done", "skipped", "failed", "cancelled")
# A batch ends "finished" (every photo handled), "cancelled" (the user stopped it) or "stopped"
# (disk full, read-only folder: nothing more could be written). Merging keeps the worst.
_STATE_RANK = {"finished": 0, "running": 1, "cancelled": 2, "stopped": 3}


@dataclass
class PhotoRecord:
    input: str
    outcome: str  # done / skipped / failed / cancelled
    reason: str = ""
    output: str | None = None
    seconds: float = 0.0
    mask_source: str = ""
    model: str = ""
    note: str = ""  # e.g. the engine's "Out of GPU memory: fell back to the CPU."


@dataclass
class BatchReport:
    state: str = "running"
    error: str = ""
    output_dir: str = ""
    started: float = field(default_factory=time.time)
    seconds: float = 0.0
    rank: int = 0
    world_size: int = 1
    photos: list[PhotoRecord] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    run_id: str = ""

    def counts(self) -> dict[str, int]:
        c = {k: 0 for k in OUTCOMES}
        for r in self.photos:
            c[r.outcome] += 1
        return c

    @property
    def failures(self) -> list[PhotoRecord]:
        return [r for r in self.photos if r.outcome == "failed"]

    def to_json(self) -> dict:
        d = asdict(self)
        d["version"] = REPORT_VERSION
        d["counts"] = self.counts()
        return d

    @classmethod
    def from_json(cls, d: dict) -> BatchReport:
        photos = [PhotoRecord(**p) for p in d.get("photos", [])]
        keep = {k: d[k] for k in ("state", "error", "output_dir", "started", "seconds", "rank", "world_size", "ignored", "run_id") if k in d}
        return cls(photos=photos, **keep)


def write_json_atomic(path: Path, data: dict) -> None:
    """A reader never sees half a report (``models.fileio.atomic_write``)."""
    from models.fileio import atomic_write_json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, data, indent=1)


def write_report(path: Path, report: BatchReport) -> None:
    write_json_atomic(path, report.to_json())


def read_report(path: Path) -> BatchReport:
    return BatchReport.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def rank_report_path(path: Path, rank: int) -> Path:
    """report.json -> report.rank3.json"""
    path = Path(path)
    return path.with_name(f"{path.stem}.rank{rank}{path.suffix or '.json'}")


def merge_reports(reports: list[BatchReport]) -> BatchReport:
    """One report for the whole run: every photo once, the worst state, the longest rank's time."""
    merged = BatchReport(
        state=max((r.state for r in reports), key=lambda s: _STATE_RANK.get(s, 0)),
        error=" ".join(sorted({r.error for r in reports if r.error})),
        output_dir=reports[0].output_dir if reports else "",
        started=min((r.started for r in reports), default=time.time()),
        seconds=max((r.seconds for r in reports), default=0.0),
        rank=0,
        world_size=len(reports),
        run_id=reports[0].run_id if reports else "",
    )
    for r in reports:
        merged.photos.extend(r.photos)
        merged.ignored.extend(r.ignored)
    merged.photos.sort(key=lambda p: p.input)
    return merged


@dataclass(frozen=True)
class BatchProgress:
    done: int  # photos handled so far (done, failed or skipped at run time)
    total: int  # photos to handle in this run
    current: str | None  # the photo the model is working on
    record: PhotoRecord | None  # the photo that just finished, if any
    elapsed: float
    eta: float | None  # seconds left, once one photo has finished
