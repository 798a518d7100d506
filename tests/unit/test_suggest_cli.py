"""`huebrush suggest PHOTO --point X,Y`: the likeliest colours at a point, as a user runs it."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

from app.cli import main
from models.abbins import in_gamut
from models.colour import hex_to_rgb, rgb_to_lab
from tests.v2weights import install_v2_weights


def test_suggest_prints_k_colours_that_exist_at_the_point(tmp_path, capsys):
    install_v2_weights()
    grey = np.full((60, 80), 200, np.uint8)
    grey[:, :40] = 60
    Image.fromarray(grey).save(tmp_path / "photo.png")
    assert main(["suggest", str(tmp_path / "photo.png"), "--point", "10,30", "--count", "4", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4
    shares = [r["share"] for r in rows]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0001
    L_point = rgb_to_lab(np.array([[60 / 255] * 3], np.float32))[0, 0]
    for r in rows:
        lab = rgb_to_lab(np.array([hex_to_rgb(r["color"])], np.float32))[0]
        assert abs(lab[0] - L_point) < 3.0  # the photo's own lightness there
    labs = np.array([rgb_to_lab(np.array([hex_to_rgb(r["color"])], np.float32))[0] for r in rows])
    assert in_gamut(labs, tol=0.01).all()
    # text output: one colour per line
    assert main(["suggest", str(tmp_path / "photo.png"), "--point", "70,5"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith("#") and line.endswith("%") for line in lines)


def test_suggest_refuses_a_point_outside_the_photo_in_one_sentence(tmp_path, capsys):
    install_v2_weights()
    Image.fromarray(np.full((20, 30), 128, np.uint8)).save(tmp_path / "p.png")
    for point in ("30,0", "1,nan", "abc"):
        assert main(["suggest", str(tmp_path / "p.png"), "--point", point]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("huebrush: ") and "--point" in err and "Traceback" not in err
