""".huebrush project files: round trip, safety and a moved or changed photo."""
from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest

from app.core.errors import ProjectError
from app.core.hints import Hint
from app.core.pipeline import Settings
from app.core.project import FORMAT_VERSION, HARD_MASKS_VERSION, Project, file_sha256, load_project, save_project


@pytest.fixture
def photo(tmp_path):
    p = tmp_path / "photos" / "street.png"
    p.parent.mkdir()
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 40), dtype=np.uint8)).save(p)
    return p


def _project(photo):
    mask = np.zeros((30, 40), bool)
    mask[5:20, 10:30] = True
    return Project(
        source_path=photo,
        settings=Settings(model="hints", saturation=1.3, feather=2.0, work_size=256),
        hints=[Hint.at(12, 8, "#aa2200", 4), Hint(((1, 1), (9, 9)), (0.1, 0.2, 0.9), 3)],
        mask=mask,
    )


def test_round_trip_keeps_everything_and_never_touches_the_photo(tmp_path, photo):
    before = photo.read_bytes()
    path = save_project(tmp_path / "work.huebrush", _project(photo))
    assert not list(tmp_path.glob(".*.part"))  # no temp file left behind
    back = load_project(path)
    assert back.source_path.resolve() == photo.resolve() and back.source_status == "ok" and not back.warnings
    assert back.source_sha256 == file_sha256(photo)
    assert back.settings == _project(photo).settings
    assert [(h.points, h.hex, h.radius) for h in back.hints] == [(h.points, h.hex, h.radius) for h in _project(photo).hints]
    assert np.array_equal(back.mask, _project(photo).mask)
    assert photo.read_bytes() == before
    with zipfile.ZipFile(path) as z:
        m = json.loads(z.read("manifest.json"))
        # no soft mask: written as the format older releases read
        assert m["source"]["relative"] == "photos/street.png" and m["version"] == HARD_MASKS_VERSION


def test_soft_mask_round_trips_its_coverage_and_says_it_needs_the_newer_format(tmp_path, photo):
    from app.core.mask import Mask

    p = _project(photo)
    m = Mask(*p.mask.shape)
    m.stroke([(10, 10), (30, 12)], 6, hardness=0.25)
    p.mask = m.coverage.copy()
    assert p.mask.dtype == np.uint8 and ((p.mask > 0) & (p.mask < 255)).any()
    back = load_project(save_project(tmp_path / "soft.huebrush", p))
    assert back.mask.dtype == np.uint8 and np.array_equal(back.mask, p.mask)
    with zipfile.ZipFile(tmp_path / "soft.huebrush") as z:
        assert json.loads(z.read("manifest.json"))["version"] == FORMAT_VERSION == 3


def test_moved_photo_is_found_beside_the_project(tmp_path, photo):
    proj_dir = tmp_path / "elsewhere"
    proj_dir.mkdir()
    path = save_project(proj_dir / "p.huebrush", _project(photo))
    shutil.move(photo, proj_dir / "street.png")
    back = load_project(path)
    assert back.source_status == "moved" and back.source_path == proj_dir / "street.png"
    assert "moved" in back.warnings[0]


def test_changed_and_missing_photo_are_reported(tmp_path, photo):
    path = save_project(tmp_path / "p.huebrush", _project(photo))
    photo.write_bytes(photo.read_bytes() + b"edited")
    back = load_project(path)
    assert back.source_status == "changed" and "changed" in back.warnings[0]
    photo.unlink()
    back = load_project(path)
    assert back.source_status == "missing" and back.source_path is None and "not found" in back.warnings[0]


def _write_zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _manifest(**over):
    m = {"format": "huebrush-project", "version": 1, "settings": {}, "hints": [], "source": None, "size": None}
    m.update(over)
    return json.dumps(m)


@pytest.mark.parametrize("evil", ["../evil.txt", "/etc/evil", "sub/../../evil", "extra.bin"])
def test_zip_slip_and_unexpected_members_are_refused(tmp_path, evil):
    p = tmp_path / "evil.huebrush"
    _write_zip(p, {"manifest.json": _manifest(), evil: b"x"})
    with pytest.raises(ProjectError, match="evil.huebrush"):
        load_project(p)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_newer_version_and_damaged_files_give_clear_errors(tmp_path):
    p = tmp_path / "new.huebrush"
    _write_zip(p, {"manifest.json": _manifest(version=99)})
    with pytest.raises(ProjectError, match="newer Huebrush"):
        load_project(p)
    _write_zip(p, {"manifest.json": "{broken"})
    with pytest.raises(ProjectError, match="unreadable manifest"):
        load_project(p)
    _write_zip(p, {"manifest.json": _manifest(format="something-else")})
    with pytest.raises(ProjectError, match="not a Huebrush project"):
        load_project(p)
    (tmp_path / "plain.huebrush").write_text("hello")
    with pytest.raises(ProjectError, match="plain.huebrush"):
        load_project(tmp_path / "plain.huebrush")
    with pytest.raises(ProjectError, match="does not exist"):
        load_project(tmp_path / "nope.huebrush")


def test_mask_of_the_wrong_size_is_refused(tmp_path, photo):
    path = save_project(tmp_path / "p.huebrush", _project(photo))
    with zipfile.ZipFile(path) as z:
        m = json.loads(z.read("manifest.json"))
        mask = z.read("mask.png")
    m["size"] = [10, 10]
    _write_zip(path, {"manifest.json": json.dumps(m), "mask.png": mask})
    with pytest.raises(ProjectError, match="does not match"):
        load_project(path)


def test_refuses_to_save_over_the_photo(photo):
    with pytest.raises(ProjectError, match="over its own photo"):
        save_project(photo, _project(photo))


def test_a_photo_found_through_a_relative_path_comes_back_as_a_clean_absolute_path(tmp_path):
    import numpy as np
    from PIL import Image

    from app.core.project import Project, load_project, save_project

    photos = tmp_path / "data" / "photos"
    photos.mkdir(parents=True)
    Image.fromarray(np.full((8, 10), 99, np.uint8)).save(photos / "farm.png")
    deep = tmp_path / "home" / "me" / ".local" / "share" / "Huebrush" / "autosave"
    deep.mkdir(parents=True)
    p = save_project(deep / "farm.huebrush", Project(source_path=photos / "farm.png", size=(8, 10)))
    found = load_project(p).source_path
    assert found == (photos / "farm.png").resolve() and ".." not in found.parts
