"""`huebrush segment` from the command line, on a generated photo."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from app.cli import main


@pytest.fixture
def photo(tmp_path):
    a = np.full((200, 300), 40, np.uint8)
    a[50:150, 100:220] = 200
    p = tmp_path / "photo.png"
    Image.fromarray(a).save(p)
    return p


def test_segment_writes_the_object_mask(photo, tmp_path, capsys):
    out = tmp_path / "mask.png"
    assert main(["segment", str(photo), "--point", "150,100", "-o", str(out)]) == 0
    m = np.asarray(Image.open(out)) > 0
    truth = np.zeros((200, 300), bool)
    truth[50:150, 100:220] = True
    assert (m & truth).sum() / (m | truth).sum() > 0.95
    report = json.loads(capsys.readouterr().out)
    assert report["segmenter"] == "builtin" and report["pixels"] == int(m.sum())
    assert not list(tmp_path.glob("*.part"))  # written atomically, nothing left behind


def test_negative_point_and_box_are_accepted(photo, tmp_path):
    out = tmp_path / "mask.png"
    rc = main(["segment", str(photo), "--box", "90,40,230,160", "--negative", "5,5", "-o", str(out)])
    assert rc == 0 and (np.asarray(Image.open(out)) > 0)[100, 150]


@pytest.mark.parametrize("args,message", [
    (["--point", "900,10"], "outside photo.png"),
    (["--point", "1;2"], "not 2 comma-separated numbers"),
    ([], "Give at least one --point"),
    (["--point", "10,10", "--segmenter", "sam"], "no sam checkpoint is installed"),
])
def test_user_mistakes_get_one_clear_sentence(photo, tmp_path, capsys, args, message):
    out = tmp_path / "mask.png"
    assert main(["segment", str(photo), *args, "-o", str(out)]) == 1
    assert message in capsys.readouterr().err and not out.exists()
