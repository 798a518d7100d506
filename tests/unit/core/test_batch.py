"""Batch export job: plan, run, faults, resume, naming, masks, bit depth, report."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.batch import BatchJob
from app.core.batch.plan import BatchError
from app.core.batch.report import BatchReport, PhotoRecord, merge_reports, read_report
from app.core.errors import ExportError
from models.registry import ModelInfo, register

FAKE = "batch-test-fake"
FAKE_AB = (40.0, 25.0)


class _FakeColorizer:
    """Predicts one strong colour everywhere; counts loads and photos so tests can see both."""

    loads = 0
    photos = 0
    name = FAKE

    def __init__(self) -> None:
        type(self).loads += 1

    def predict(self, request, cancel=None):
        type(self).photos += 1
        h, w = request.L.shape
        ab = np.empty((h, w, 2), np.float32)
        ab[...] = FAKE_AB
        return ab


register(ModelInfo(FAKE, "fake", "test colorizer", False), lambda device: _FakeColorizer())


@pytest.fixture(autouse=True)
def _count():
    _FakeColorizer.loads = 0
    _FakeColorizer.photos = 0


def _settings(**kw):
    from app.core.pipeline import Settings

    kw = {"model": FAKE, "device": "cpu", "work_size": 64, "feather": 0.0, **kw}
    return Settings(**kw)


def _photo(path: Path, w: int = 64, h: int = 48, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    grey = (np.linspace(30, 220, w)[None, :] + rng.integers(0, 20, (h, w))).clip(0, 255).astype(np.uint8)
    Image.fromarray(grey, "L").save(path)
    return path


def _job(inputs, out, **kw) -> BatchJob:
    kw.setdefault("settings", _settings())
    kw.setdefault("io_workers", 2)
    return BatchJob(inputs=list(inputs) if isinstance(inputs, (list, tuple)) else [inputs], output_dir=out, **kw)


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def _by_name(report: BatchReport) -> dict[str, PhotoRecord]:
    return {Path(r.input).name: r for r in report.photos}


@pytest.fixture
def photos(tmp_path) -> Path:
    d = tmp_path / "photos"
    d.mkdir()
    for i in range(5):
        _photo(d / f"p{i}.png", seed=i)
    return d


def test_plan_counts_todo_skip_and_ignored_before_running(photos, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "p1_colour.png").write_bytes(b"earlier result")
    (photos / "notes.txt").write_text("not a photo")
    plan = _job(photos, out).plan()
    assert [p.source.name for p in plan.todo] == ["p0.png", "p2.png", "p3.png", "p4.png"]
    assert [(p.source.name, p.reason) for p in plan.skipped] == [("p1.png", "output exists (skip existing)")]
    assert [p.name for p in plan.ignored] == ["notes.txt"]
    assert _FakeColorizer.photos == 0  # planning decodes nothing


def test_corrupt_and_non_image_files_are_recorded_and_the_batch_goes_on(photos, tmp_path):
    good = Path(photos / "p0.png").read_bytes()
    (photos / "truncated.png").write_bytes(good[: len(good) // 3])
    (photos / "letter.jpg").write_text("Dear reader, I am not a JPEG.")
    (photos / "empty.tif").write_bytes(b"")
    (photos / "readme.md").write_text("ignored")
    out = tmp_path / "out"
    report = _job(photos, out).run(report_path=out / "report.json")
    rec = _by_name(report)
    assert report.state == "finished"
    assert {n for n, r in rec.items() if r.outcome == "done"} == {f"p{i}.png" for i in range(5)}
    for bad in ("truncated.png", "letter.jpg", "empty.tif"):
        assert rec[bad].outcome == "failed" and bad in rec[bad].reason
        assert not list(out.glob(Path(bad).stem + "*"))
    assert "readme.md" not in rec and report.ignored == [str(photos / "readme.md")]
    for i in range(5):
        assert _rgb(out / f"p{i}_colour.png").shape == (48, 64, 3)
    assert _FakeColorizer.loads == 1  # the model is loaded once for the whole batch


def test_report_lists_every_photo_with_outcome_reason_output_and_time(photos, tmp_path):
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "out"
    (out).mkdir()
    (out / "p4_colour.png").write_bytes(b"x")
    _job(photos, out).run(report_path=tmp_path / "r" / "report.json")
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert data["state"] == "finished" and data["counts"] == {"done": 4, "skipped": 1, "failed": 1, "cancelled": 0}
    rows = {Path(p["input"]).name: p for p in data["photos"]}
    assert len(data["photos"]) == 6
    assert rows["p0.png"]["outcome"] == "done" and rows["p0.png"]["output"] == str(out / "p0_colour.png")
    assert rows["p0.png"]["seconds"] > 0 and rows["p0.png"]["model"] == FAKE and rows["p0.png"]["mask_source"] == "whole"
    assert rows["p4.png"]["outcome"] == "skipped" and "exists" in rows["p4.png"]["reason"]
    assert rows["broken.png"]["outcome"] == "failed" and rows["broken.png"]["output"] is None
    assert "broken.png" in rows["broken.png"]["reason"]
    assert not list((tmp_path / "r").glob("*.tmp"))


@pytest.mark.parametrize("io_workers", [0, 2])
def test_cancel_then_resume_with_skip_existing_does_each_photo_once(photos, tmp_path, io_workers):
    for i in range(5, 10):
        _photo(photos / f"p{i}.png", seed=i)
    out = tmp_path / "out"
    stop = threading.Event()
    finished: list[str] = []

    def progress(p):
        if p.record is not None:
            finished.append(p.record.input)
            if len(finished) == 3:
                stop.set()  # the user presses Cancel after the third photo

    first = _job(photos, out, io_workers=io_workers).run(progress, stop)
    c = first.counts()
    assert first.state == "cancelled"
    assert 3 <= c["done"] < 10 and c["done"] + c["cancelled"] == 10
    done_first = {r.output for r in first.photos if r.outcome == "done"}
    assert {str(p) for p in out.glob("*.png")} == done_first  # whole files only
    assert not [p for p in out.iterdir() if p.name.endswith(".part") or p.name.startswith(".")]
    mtimes = {p: os.stat(p).st_mtime_ns for p in done_first}

    photos_before = _FakeColorizer.photos
    second = _job(photos, out, io_workers=io_workers).run()
    c2 = second.counts()
    assert second.state == "finished"
    assert c2["skipped"] == c["done"] and c2["done"] == 10 - c["done"] and c2["failed"] == 0
    assert _FakeColorizer.photos - photos_before == 10 - c["done"]  # nothing colourized twice
    assert len(list(out.glob("*_colour.png"))) == 10
    assert all(os.stat(p).st_mtime_ns == t for p, t in mtimes.items())


def test_stale_temp_files_from_a_killed_run_are_removed_on_resume(photos, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".p2_colour.png.k3j4h5g6.part"
    stale.write_bytes(b"half a png")
    other = out / ".someone_else.png.abcdefgh.part"
    other.write_bytes(b"not ours")
    _job(photos, out).run()
    assert not stale.exists() and other.exists()


def test_name_collisions_get_distinct_outputs(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    _photo(d / "a.png", seed=1)
    _photo(d / "a.jpg", seed=2)
    out = tmp_path / "out"
    report = _job(d, out).run()
    outputs = sorted(Path(r.output).name for r in report.photos)
    assert report.counts()["done"] == 2 and outputs == ["a_colour.png", "a_colour_2.png"]
    # with {src_ext} in the template the names say which photo they came from
    report = _job(d, tmp_path / "out2", name_template="{name}_{src_ext}_colour.{ext}").run()
    assert sorted(Path(r.output).name for r in report.photos) == ["a_jpg_colour.png", "a_png_colour.png"]
    # resuming keeps the same assignment: both are skipped, none is done twice
    again = _job(d, out).run()
    assert again.counts() == {"done": 0, "skipped": 2, "failed": 0, "cancelled": 0}


def test_existing_outputs_numbered_or_overwritten(photos, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "p0_colour.png").write_bytes(b"keep me")
    rep = _job([photos / "p0.png"], out, existing="number").run()
    assert rep.photos[0].output == str(out / "p0_colour_2.png")
    assert (out / "p0_colour.png").read_bytes() == b"keep me"
    rep = _job([photos / "p0.png"], out, existing="overwrite").run()
    assert rep.photos[0].outcome == "done" and _rgb(out / "p0_colour.png").shape == (48, 64, 3)


def _make_read_only(folder: Path) -> Callable[[], None] | None:
    """Make a folder unwritable even for root (chmod, else the immutable flag); None if impossible."""
    folder.chmod(0o555)
    if not os.access(folder, os.W_OK):
        return lambda: folder.chmod(0o755)
    folder.chmod(0o755)
    if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
        return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)
    return None


def test_read_only_output_folder_stops_the_batch_with_one_sentence(photos, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    undo = _make_read_only(out)
    if undo is None:
        pytest.skip("cannot make a folder read-only here (root without chattr)")
    try:
        report = _job(photos, out).run(report_path=out / "report.json")
    finally:
        undo()
    assert report.state == "stopped" and "read-only" in report.error and str(out) in report.error
    assert "report.json could not be written" in report.error  # said, not crashed
    assert report.counts()["cancelled"] == 5 and _FakeColorizer.photos == 0
    assert not list(out.iterdir())


def test_output_folder_turning_read_only_mid_batch_stops_it(photos, tmp_path):
    out = tmp_path / "out"
    undo: list = []

    def progress(p):
        if p.record is not None and p.record.outcome == "done" and not undo:
            fix = _make_read_only(out)
            if fix is None:
                pytest.skip("cannot make a folder read-only here (root without chattr)")
            undo.append(fix)

    try:
        report = _job(photos, out, io_workers=0).run(progress)
    finally:
        for fix in undo:
            fix()
    c = report.counts()
    assert report.state == "stopped" and "read-only" in report.error
    assert c["done"] == 1 and c["failed"] == 1 and c["cancelled"] == 3
    assert [p.name for p in out.iterdir()] == ["p0_colour.png"]


def test_disk_full_stops_the_batch_and_keeps_what_was_written(photos, tmp_path, monkeypatch):
    from app.core import export

    real = export.export_result
    calls = []

    def filling_up(path, *a, **kw):
        calls.append(path)
        if len(calls) > 1:
            try:
                raise OSError(errno.ENOSPC, "No space left on device")
            except OSError:
                raise ExportError(f"The disk is full, so {path} was not written; free some space.") from None
        return real(path, *a, **kw)

    monkeypatch.setattr(export, "export_result", filling_up)
    out = tmp_path / "out"
    report = _job(photos, out, io_workers=0).run(report_path=out / "report.json")
    c = report.counts()
    assert report.state == "stopped" and "full" in report.error and str(out) in report.error
    assert c["done"] == 1 and c["failed"] == 1 and c["cancelled"] == 3
    assert len(calls) == 2  # nothing more was tried after the disk filled up
    assert read_report(out / "report.json").state == "stopped"


def test_sixteen_bit_tiff_in_gives_sixteen_bit_tiff_out(tmp_path):
    import tifffile

    d = tmp_path / "in"
    d.mkdir()
    grey16 = (np.linspace(0, 65535, 80 * 60).reshape(60, 80)).astype(np.uint16)
    tifffile.imwrite(d / "scan.tif", grey16)
    out = tmp_path / "out"
    report = _job(d, out, format="same").run()
    assert report.counts()["done"] == 1
    res = tifffile.imread(out / "scan_colour.tif")
    assert res.dtype == np.uint16 and res.shape == (60, 80, 3)
    assert len(np.unique(res[..., 1])) > 256  # the tonal depth survived, not 8-bit values scaled up
    # an 8-bit override is honoured
    _job(d, tmp_path / "o8", format="tif", bit_depth=8).run()
    assert tifffile.imread(tmp_path / "o8" / "scan_colour.tif").dtype == np.uint8


def test_mask_from_masks_folder_colours_only_inside(photos, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    m = np.zeros((48, 64), np.uint8)
    m[:, :32] = 255
    Image.fromarray(m).save(masks / "p0.png")  # name.png
    Image.fromarray(255 - m).save(masks / "p1_mask.png")  # name_mask.png
    out = tmp_path / "out"
    report = _job([photos / "p0.png", photos / "p1.png", photos / "p2.png"], out, masks_dir=masks).run()
    rec = _by_name(report)
    assert [rec[f"p{i}.png"].mask_source for i in range(3)] == ["masks", "masks", "whole"]
    for name, inside in (("p0", np.s_[:, :30]), ("p1", np.s_[:, 34:])):
        rgb = _rgb(out / f"{name}_colour.png")
        colour = np.zeros((48, 64), bool)
        colour[inside] = True
        chroma = rgb.max(-1) - rgb.min(-1)
        assert (chroma[colour] > 10).all()  # the fake model's strong colour, inside the mask
        grey_part = np.s_[:, 32:] if name == "p0" else np.s_[:, :32]
        assert (chroma[grey_part] == 0).all()  # outside: exactly neutral grey
    assert (np.ptp(_rgb(out / "p2_colour.png"), -1) > 10).all()  # no mask file: the whole photo


def test_mask_sources_fall_back_in_order_and_skip_when_none_fits(photos, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(np.full((48, 64), 255, np.uint8)).save(masks / "p0.png")
    plan = _job(photos, tmp_path / "out", masks_dir=masks, mask_sources=("project", "masks")).plan()
    assert [p.source.name for p in plan.todo] == ["p0.png"]
    assert len(plan.skipped) == 4
    p1 = plan.skipped[0]
    assert p1.source.name == "p1.png" and "no mask" in p1.reason and "p1_mask.png" in p1.reason


def test_shared_mask_and_hints_are_scaled_to_each_photo(tmp_path):
    from app.core.hints import Hint

    d = tmp_path / "in"
    d.mkdir()
    _photo(d / "small.png", 64, 48)
    _photo(d / "big.png", 128, 96)
    ref = np.zeros((24, 32), bool)
    ref[:12, :] = True  # top half of the reference frame
    hint = Hint.at(16, 6, "#2050ff", radius=2)
    out = tmp_path / "out"
    report = _job(d, out, mask_sources=("shared",), shared_mask=ref, shared_hints=(hint,)).run()
    assert report.counts()["done"] == 2
    for name, h in (("small", 48), ("big", 96)):
        chroma = np.ptp(_rgb(out / f"{name}_colour.png"), -1)
        assert (chroma[: h // 2 - 1] > 10).all() and (chroma[h // 2 + 1:] == 0).all()


def test_shared_colour_regions_are_fitted_to_each_photo(tmp_path):
    from app.core.project import Project, save_project
    from app.core.regions import Region

    d = tmp_path / "in"
    d.mkdir()
    _photo(d / "small.png", 64, 48)
    _photo(d / "big.png", 128, 96)
    top = np.zeros((24, 32), bool)
    top[:8] = True  # the top third of the reference frame: the network's colour
    door = np.zeros((24, 32), bool)
    door[12:20, 8:24] = True  # a blue door lower down
    ref = save_project(tmp_path / "ref.huebrush", Project(source_path=None, size=(24, 32), regions=[
        Region("sky", top), Region("door", door, "tint", "#2050ff")]))
    from app.core.batch.project_source import shared_from_project

    _, _, shape, regions = shared_from_project(ref)
    assert shape == (24, 32) and [r.name for r in regions] == ["sky", "door"]
    out = tmp_path / "out"
    report = _job(d, out, mask_sources=("shared",), shared_regions=regions).run()
    assert report.counts()["done"] == 2
    for name, h, w in (("small", 48, 64), ("big", 96, 128)):
        rgb = _rgb(out / f"{name}_colour.png")
        chroma = np.ptp(rgb, -1)
        s = h // 24
        assert (chroma[1 : 8 * s - 1] > 10).all()  # the sky region
        inner = rgb[12 * s + 1 : 20 * s - 1, 8 * s + 1 : 24 * s - 1]
        assert (inner[..., 2] > inner[..., 0] + 20).all()  # the door is blue
        assert (chroma[8 * s + 1 : 12 * s - 1] == 0).all() and (chroma[20 * s + 1 :] == 0).all()  # grey between


def test_long_side_shrinks_the_output(photos, tmp_path):
    rep = _job([photos / "p0.png"], tmp_path / "out", long_side=32).run()
    assert rep.counts()["done"] == 1 and _rgb(Path(rep.photos[0].output)).shape == (24, 32, 3)


def test_recursive_folders_are_mirrored_and_outputs_inside_the_input_are_not_inputs(tmp_path):
    d = tmp_path / "archive"
    (d / "1921").mkdir(parents=True)
    _photo(d / "top.png")
    _photo(d / "1921" / "wedding.png")
    out = d / "colour"
    first = _job(d, out, recursive=True).run()
    assert first.counts()["done"] == 2
    assert (out / "top_colour.png").is_file() and (out / "1921" / "wedding_colour.png").is_file()
    plan = _job(d, out, recursive=True).plan()
    assert len(plan.items) == 2 and not plan.todo  # its own outputs are not picked up as photos
    assert len(_job(d, out).plan().items) == 1  # not recursive: the top folder only


def test_output_never_overwrites_an_input(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    _photo(d / "x.png")
    before = (d / "x.png").read_bytes()
    rep = _job(d, d, name_template="{name}.{ext}", existing="overwrite").run()
    assert rep.counts()["done"] == 0 and (d / "x.png").read_bytes() == before
    assert "input photo" in rep.photos[0].reason


def test_bad_options_are_refused_with_a_sentence(tmp_path):
    with pytest.raises(BatchError, match="unknown field"):
        _job(tmp_path, tmp_path / "o", name_template="{stem}.{ext}")
    with pytest.raises(BatchError, match="must contain"):
        _job(tmp_path, tmp_path / "o", name_template="out.{ext}")
    with pytest.raises(BatchError, match="mask source"):
        _job(tmp_path, tmp_path / "o", mask_sources=("magic",))
    with pytest.raises(BatchError, match="does not exist"):
        _job(tmp_path / "nowhere", tmp_path / "o").plan()


def test_shards_cover_every_photo_once_and_merge(photos, tmp_path):
    plan = _job(photos, tmp_path / "out").plan()
    shards = [plan.shard(r, 3) for r in range(3)]
    names = sorted(str(p.source) for s in shards for p in s.items)
    assert names == sorted(str(p.source) for p in plan.items)
    reports = [_job(photos, tmp_path / "out").run(plan=plan, rank=r, world_size=3) for r in range(3)]
    merged = merge_reports(reports)
    assert merged.counts()["done"] == 5 and len({r.input for r in merged.photos}) == 5
    assert merged.state == "finished" and merged.world_size == 3


def _save_project(photo: Path, mask: np.ndarray, settings, hints=(), where: Path | None = None) -> Path:
    from app.core.project import Project, save_project

    path = (where or photo.parent) / (photo.stem + ".huebrush")
    return save_project(path, Project(source_path=photo, settings=settings, hints=list(hints), mask=mask))


def test_project_beside_the_photo_gives_mask_hints_and_settings(photos, tmp_path):
    top = np.zeros((48, 64), bool)
    top[:24] = True
    _save_project(photos / "p0.png", top, _settings(saturation=0.0))  # saturation 0: grey
    projects = tmp_path / "projects"
    projects.mkdir()
    _save_project(photos / "p1.png", top, _settings(), where=projects)
    out = tmp_path / "out"
    report = _job(photos, out, projects_dir=projects).run()
    rec = _by_name(report)
    assert rec["p0.png"].mask_source == "project" and rec["p1.png"].mask_source == "project"
    assert rec["p2.png"].mask_source == "whole"
    assert np.ptp(_rgb(out / "p0_colour.png"), -1).max() == 0  # the project's own saturation 0 was used
    chroma = np.ptp(_rgb(out / "p1_colour.png"), -1)
    assert (chroma[:22] > 10).all() and (chroma[26:] == 0).all()
    # an override beats the project's settings
    again = _job([photos / "p0.png"], tmp_path / "o2", overrides={"saturation": 1.0}).run()
    assert again.counts()["done"] == 1 and (np.ptp(_rgb(tmp_path / "o2" / "p0_colour.png"), -1)[:22] > 10).all()


def test_a_projects_soft_mask_colours_partially_in_batch_at_full_and_reduced_size(photos, tmp_path):
    import cv2

    from app.core.mask import Mask

    m = Mask(48, 64)
    m.stroke([(32, 24)], 16, hardness=0.0)
    cover = m.coverage.copy()
    _save_project(photos / "p1.png", cover, _settings())
    for long_side, sub in ((None, 1), (32, 2)):
        out = tmp_path / f"out{sub}"
        assert _job([photos / "p1.png"], out, long_side=long_side).run().counts()["done"] == 1
        chroma = np.ptp(_rgb(out / "p1_colour.png"), -1).astype(int)
        c = cv2.resize(cover, (64 // sub, 48 // sub), interpolation=cv2.INTER_AREA) if sub > 1 else cover
        assert chroma[24 // sub, 32 // sub] > 10 and (chroma[c == 0] == 0).all()
        edge = (c > 0) & (c < 128)  # the soft fall-off: some colour, less than the centre's
        assert (chroma[edge] < chroma[24 // sub, 32 // sub]).all() and chroma[edge].max() > 0


def test_a_shared_soft_mask_keeps_its_coverage_on_every_photo(tmp_path):
    from app.core.mask import Mask

    d = tmp_path / "in"
    d.mkdir()
    _photo(d / "small.png", 64, 48)
    _photo(d / "big.png", 128, 96)
    m = Mask(48, 64)
    m.stroke([(32, 24)], 16, hardness=0.0)
    out = tmp_path / "out"
    report = _job(d, out, mask_sources=("shared",), shared_mask=m.coverage.copy()).run()
    assert report.counts()["done"] == 2
    for name, s in (("small", 1), ("big", 2)):
        chroma = np.ptp(_rgb(out / f"{name}_colour.png"), -1)
        centre, edge = chroma[24 * s, 32 * s], chroma[24 * s, (32 + 13) * s]
        assert centre > 10 and 0 < edge < centre and chroma[2 * s, 2 * s] == 0


def test_project_for_a_differently_shaped_photo_fails_that_photo_only(photos, tmp_path):
    _save_project(photos / "p0.png", np.ones((64, 64), bool), _settings())
    report = _job(photos, tmp_path / "out").run()
    rec = _by_name(report)
    assert rec["p0.png"].outcome == "failed" and "p0.huebrush" in rec["p0.png"].reason and "64x48" in rec["p0.png"].reason
    assert report.counts()["done"] == 4 and report.state == "finished"


def test_rank_zero_waits_for_the_other_ranks_reports_of_the_same_run(tmp_path):
    from app.core.batch.dist import Ranks, finish_ranks
    from app.core.batch.report import rank_report_path, write_report

    path = tmp_path / "report.json"
    mine = BatchReport(state="finished", photos=[PhotoRecord("/a.png", "done")], run_id="run-7")
    stale = BatchReport(state="finished", photos=[PhotoRecord("/old.png", "done")], run_id="run-6")
    write_report(rank_report_path(path, 1), stale)  # left over from an earlier run
    fresh = BatchReport(state="cancelled", rank=1, photos=[PhotoRecord("/b.png", "cancelled")], run_id="run-7")
    timer = threading.Timer(0.7, write_report, (rank_report_path(path, 1), fresh))
    timer.start()
    merged = finish_ranks(Ranks(0, 2, "run-7"), path, mine, timeout_s=20)
    timer.join()
    assert [p.input for p in merged.photos] == ["/a.png", "/b.png"] and merged.state == "cancelled"
    assert read_report(path).counts() == {"done": 1, "skipped": 0, "failed": 0, "cancelled": 1}
    assert finish_ranks(Ranks(1, 2, "run-7"), path, fresh) is None  # only rank 0 merges
    with pytest.raises(BatchError, match="did not arrive"):
        finish_ranks(Ranks(0, 2, "run-8"), path, mine, timeout_s=0.6)


class _HungryColorizer(_FakeColorizer):
    """Runs out of memory above 40 px, like a GPU too small for the work size."""

    name = "batch-test-hungry"

    def predict(self, request, cancel=None):
        if max(request.L.shape) > 40:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return super().predict(request, cancel)


register(ModelInfo("batch-test-hungry", "hungry", "test colorizer", False), lambda device: _HungryColorizer())


def test_out_of_memory_falls_back_as_the_engine_does_and_the_report_says_so(photos, tmp_path):
    report = _job([photos / "p0.png", photos / "p1.png"], tmp_path / "out", settings=_settings(model="batch-test-hungry")).run()
    assert report.counts()["done"] == 2
    assert all("memory" in r.note and "smaller work size" in r.note for r in report.photos)
    assert (np.ptp(_rgb(tmp_path / "out" / "p0_colour.png"), -1) > 10).all()


def test_outputs_written_beside_the_photos_are_not_taken_for_new_photos(photos, tmp_path):
    first = _job(photos, photos).run()
    assert first.counts()["done"] == 5
    plan = _job(photos, photos).plan()  # p0_colour.png etc. now sit in the photo folder
    assert sorted(p.source.name for p in plan.items) == [f"p{i}.png" for i in range(5)]
    assert not plan.todo


def test_overlapping_io_leaves_a_core_and_gives_it_back(monkeypatch):
    import types

    torch = pytest.importorskip("torch")
    from app.core.batch import runner as batch_worker

    monkeypatch.setattr(batch_worker.os, "cpu_count", lambda: 2)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        cpu, gpu = types.SimpleNamespace(device="cpu"), types.SimpleNamespace(device="cuda")
        t = batch_worker._CoreForIO(cpu, io_workers=2)
        t.apply()
        assert torch.get_num_threads() == 1
        t.apply()  # once only
        t.restore()
        assert torch.get_num_threads() == 2
        for engine, io in ((gpu, 2), (cpu, 0)):  # on a GPU, or with nothing overlapping: untouched
            t = batch_worker._CoreForIO(engine, io_workers=io)
            t.apply()
            assert torch.get_num_threads() == 2
            t.restore()
    finally:
        torch.set_num_threads(before)


def test_a_photo_changed_since_its_project_was_saved_is_skipped_with_a_sentence_unless_forced(photos, tmp_path):
    top = np.zeros((48, 64), bool)
    top[:24] = True
    _save_project(photos / "p0.png", top, _settings())
    arr = np.asarray(Image.open(photos / "p0.png")).copy()
    arr[0, 0] = 255 - arr[0, 0]  # same name and size, other content
    Image.fromarray(arr).save(photos / "p0.png")
    report = _job([photos / "p0.png"], tmp_path / "out").run()
    (rec,) = report.photos
    assert rec.outcome == "failed" and "changed since the project p0.huebrush was saved" in rec.reason
    assert "--apply-changed" in rec.reason and not (tmp_path / "out" / "p0_colour.png").exists()
    forced = _job([photos / "p0.png"], tmp_path / "out2", apply_changed=True).run()
    (rec,) = forced.photos
    assert rec.outcome == "done" and "changed" in rec.note and (tmp_path / "out2" / "p0_colour.png").exists()


@pytest.mark.parametrize("settings,hints,words", [
    ({"saturation": float("nan")}, [], "'saturation'"),
    ({"work_size": float("inf")}, [], "'work_size'"),
    ({}, [{"points": [[5, 5]], "color": "#ff0000", "radius": 1e30}], "radius"),
    ({}, [{"points": [[float("nan"), float("nan")]], "color": "#ff0000"}], "finite"),
])
def test_a_project_with_bad_values_fails_its_photo_with_the_clis_sentence(photos, tmp_path, settings, hints, words):
    import zipfile

    from app.core.project import FORMAT

    manifest = {"format": FORMAT, "version": 1, "size": [48, 64], "settings": settings, "hints": hints}
    with zipfile.ZipFile(photos / "p0.huebrush", "w") as z:
        z.writestr("manifest.json", json.dumps(manifest))  # json writes NaN / Infinity as a careless tool would
    report = _job([photos / "p0.png"], tmp_path / "out").run()
    (rec,) = report.photos
    assert rec.outcome == "failed" and words in rec.reason and "p0.huebrush" in rec.reason
    assert not any(w in rec.reason for w in ("Error:", "Traceback", "overload"))
