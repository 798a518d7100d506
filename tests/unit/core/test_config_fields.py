"""Every value a settings dict hands us is checked where it enters (projects, preferences)."""
from __future__ import annotations

import json
import math

import pytest

from app.core.errors import HuebrushError
from app.core.pipeline import Settings


@pytest.mark.parametrize("key,value", [("saturation", math.nan), ("saturation", math.inf), ("work_size", -math.inf),
                                       ("work_size", 1e400), ("work_size", 512.5), ("hint_reach", "far"),
                                       ("feather", [1]), ("model", 3), ("saturation", True)])
def test_settings_refuse_bad_values_in_one_sentence_naming_the_file_and_field(key, value):
    with pytest.raises(HuebrushError) as e:
        Settings.from_dict({key: value}, source="project /x/a.huebrush")
    msg = str(e.value)
    assert "/x/a.huebrush" in msg and f"'{key}'" in msg and "\n" not in msg


def test_settings_accept_good_values_and_ignore_unknown_keys():
    s = Settings.from_dict({"saturation": 1, "work_size": 768.0, "model": "iizuka", "from_the_future": {"x": 1}})
    assert (s.saturation, s.work_size, s.model) == (1.0, 768, "iizuka")


def test_a_wrong_type_in_the_preferences_keeps_that_default_only(tmp_path, monkeypatch, caplog):
    from app.ui.app_settings import AppSettings

    monkeypatch.setenv("HUEBRUSH_CONFIG_DIR", str(tmp_path))
    AppSettings.file().write_text(json.dumps({"autosave_seconds": "soon", "recent_files": "abc",
                                              "work_size": 1024, "default_model": "iizuka", "autosave": "yes"}))
    with caplog.at_level("WARNING"):
        s = AppSettings.load()
    assert (s.autosave_seconds, s.recent_files, s.autosave) == (60, [], True)  # defaults
    assert (s.work_size, s.default_model) == (1024, "iizuka")  # the good ones kept
    assert sum("autosave_seconds" in r.message or "recent_files" in r.message for r in caplog.records) == 2


def test_preferences_keep_only_choices_so_a_new_default_model_reaches_old_installs(tmp_path, monkeypatch):
    from app.ui.app_settings import AppSettings
    from models.registry import DEFAULT_MODEL

    monkeypatch.setenv("HUEBRUSH_CONFIG_DIR", str(tmp_path))
    # a file from before: every field written, the model the default of the day
    AppSettings.file().write_text(json.dumps({"default_model": "maskgan", "work_size": 768, "recent_files": ["/a.png"]}))
    s = AppSettings.load()
    assert (s.default_model, s.work_size, s.recent_files) == (DEFAULT_MODEL, 768, ["/a.png"])
    # another model in such a file was a choice and is kept
    AppSettings.file().write_text(json.dumps({"default_model": "iizuka"}))
    assert AppSettings.load().default_model == "iizuka"
    # saving writes the choices only, so the next default would reach this user too
    s.save()
    stored = json.loads(AppSettings.file().read_text())
    assert stored == {"version": 2, "work_size": 768, "recent_files": ["/a.png"]}
    # and a choice of maskgan saved now is kept
    s.default_model = "maskgan"
    s.save()
    assert AppSettings.load().default_model == "maskgan"
