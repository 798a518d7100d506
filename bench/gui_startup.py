"""Cold start to a shown main window, in a fresh process (offscreen). Prints JSON.

Each run starts a new Python, builds the QApplication and the window, shows it and reports
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
import sys, time, json
from app.ui.main import create_window
app, win = create_window([], warm_up=True, recover=False)
app.processEvents()
win.repaint()
torch_at_show = "torch" in sys.modules
print(json.dumps({"shown": time.time(), "torch_at_show": torch_at_show}), flush=True)
import threading
t = time.time()
while any(th.name == "model-import" for th in threading.enumerate()) and time.time() - t < 120:
    app.processEvents(); time.sleep(0.02)
print(json.dumps({"models_ready": time.time(), "engine_loaded": "models.engine" in sys.modules,
                  "torch_loaded": "torch" in sys.modules}), flush=True)
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
            "engine_loaded": second.get("engine_loaded", False)}


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
        "engine_imported_in_background": all(r["engine_loaded"] for r in results),
        "models_loaded_in_background_s_median": round(statistics.median(r["models_loaded_s"] for r in results), 3),
        "goal_window_s": 3.0,
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
