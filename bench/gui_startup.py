"""Cold start to a shown main window, in a fresh process (offscreen). Prints JSON.

Each run starts a new Python through the `huebrush` entry point (no sub-command), builds the
QApplication and the window, shows it and reports
the time the first paint finished, and whether torch had been imported by then (it must
not be: the networks load in a background thread after the window is up).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, time, json, threading
import app.ui.main as gm


def measured_run_gui(paths):
    # run_gui's steps, entered through the real `huebrush` command line (app.cli.main), with the
    # model warm-up started by hand right after the first paint so its end can be timed too
    app, win = gm.create_window(paths, warm_up=False, recover=False)
    app.processEvents()
    win.repaint()
    print(json.dumps({"shown": time.time(), "torch_at_show": "torch" in sys.modules}), flush=True)
    th = threading.Thread(target=gm._warm_up_models, name="model-import", daemon=True)
    th.start()
    while th.is_alive():
        app.processEvents()
        time.sleep(0.02)
    print(json.dumps({"models_ready": time.time(), "engine_loaded": "models.engine" in sys.modules,
                      "torch_loaded": "torch" in sys.modules}), flush=True)
    return 0


gm.run_gui = measured_run_gui
from app.cli import main
main([])
"""


def one_run(env: dict) -> dict:
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    first = json.loads(proc.stdout.readline())
    second = json.loads(proc.stdout.readline() or "{}")
    proc.wait(timeout=180)
    return {"window_s": first["shown"] - t0, "torch_imported_before_window": first["torch_at_show"],
            "models_loaded_s": (second.get("models_ready", float("nan")) - t0),
            "engine_loaded": second.get("engine_loaded", False) and second.get("torch_loaded", False)}


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    tmp = Path(tempfile.mkdtemp(prefix="huebrush-bench-"))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HUEBRUSH_CONFIG_DIR=str(tmp / "c"),
               HUEBRUSH_DATA_DIR=str(tmp / "d"), HUEBRUSH_CACHE_DIR=str(tmp / "k"), XDG_CONFIG_HOME=str(tmp / "x"))
    results = [one_run(env) for _ in range(runs)]
    out = {
        "runs": runs,
        "cold_start_to_window_s_median": round(statistics.median(r["window_s"] for r in results), 3),
        "cold_start_to_window_s_max": round(max(r["window_s"] for r in results), 3),
        "torch_imported_before_window": any(r["torch_imported_before_window"] for r in results),
        "torch_and_engine_imported_in_background": all(r["engine_loaded"] for r in results),
        "models_loaded_in_background_s_median": round(statistics.median(r["models_loaded_s"] for r in results), 3),
        "goal_window_s": 3.0,
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
