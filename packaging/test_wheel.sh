#!/usr/bin/env bash
# Build the wheel and sdist, install the wheel (not editable) into a FRESH venv and run it like a
# user: `huebrush --version`, `huebrush doctor`, and a colorize of a generated photo whose output
# must have colour (packaging/smoke.py). Also checks that the wheel carries every package and every
# bundled resource of the checkout. Prints one JSON line with sizes and times.
# Usage: packaging/test_wheel.sh [PYTHON]   (default: .venv/bin/python; it needs the `build` package)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
BASE_PY=$("$PY" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')

tmp=$(mktemp -d "${TMPDIR:-/tmp}/huebrush-wheel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

t0=$(now)
"$PY" -m build --outdir "$tmp/dist" . >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
t1=$(now)
wheel=$(ls "$tmp"/dist/*.whl)
sdist=$(ls "$tmp"/dist/*.tar.gz)

# Everything in the checkout that must ship: every package (a folder with __init__.py under app,
# models, training, resources) and every bundled resource file.
"$PY" - "$wheel" "$sdist" <<'PYEOF'
import sys, tarfile, zipfile
from pathlib import Path

wheel, sdist = sys.argv[1], sys.argv[2]
names = set(zipfile.ZipFile(wheel).namelist())
want = [str(p.relative_to(".")) for top in ("app", "models", "training", "resources")
        for p in Path(top).rglob("__init__.py") if "__pycache__" not in p.parts]
want += [str(p) for pat in ("weights/*.safetensors", "weights/*.json", "weights/*.md", "icons/*")
         for p in Path("resources").glob(pat)]
missing = sorted(set(want) - names)
if missing:
    sys.exit(f"the wheel lacks {len(missing)} file(s) of the checkout: {missing[:10]}")
junk = sorted(n for n in names if n.endswith((".pyc", ".part", ".tmp")) or n.startswith("tests/"))
if junk:
    sys.exit(f"the wheel carries files it must not: {junk[:10]}")
root = Path(sdist).name.removesuffix(".tar.gz")
in_sdist = {n.removeprefix(root + "/") for n in tarfile.open(sdist).getnames()}
missing = sorted(set(want) - in_sdist)
if missing:
    sys.exit(f"the sdist lacks {len(missing)} file(s) of the checkout: {missing[:10]}")
print(f"wheel and sdist carry all {len(want)} package and resource files", file=sys.stderr)
PYEOF

"$BASE_PY" -m venv "$tmp/venv"
# --no-compile: skip byte-compiling all of torch (minutes on a small machine),
# and Python compiles what it imports anyway.
"$tmp/venv/bin/python" -m pip install -q --no-compile "$wheel" >"$tmp/pip.log" 2>&1 || { cat "$tmp/pip.log"; exit 1; }
t2=$(now)

# Make sure the installed copy is what runs, not the checkout.
where=$(cd "$tmp" && "$tmp/venv/bin/python" -c 'import app, models.checkpoint as c; print(app.__file__); print(c.bundled_weights_dir())')
case "$where" in
    "$tmp"/venv/*) ;;
    *) echo "the installed huebrush imports from the wrong place: $where" >&2; exit 1 ;;
esac

"$PY" packaging/smoke.py "$tmp/venv/bin/huebrush" --json-out "$tmp/smoke.json" >/dev/null
t3=$(now)

"$PY" - "$wheel" "$sdist" "$tmp/smoke.json" "$t0" "$t1" "$t2" "$t3" "$(du -sm "$tmp/venv" | cut -f1)" <<'PYEOF'
import json, os, sys
wheel, sdist, smoke, t0, t1, t2, t3, venv_mb = sys.argv[1:]
t0, t1, t2, t3 = map(float, (t0, t1, t2, t3))
print(json.dumps({
    "wheel": os.path.basename(wheel), "wheel_mb": round(os.path.getsize(wheel) / 2**20, 2),
    "sdist_mb": round(os.path.getsize(sdist) / 2**20, 2), "build_s": round(t1 - t0, 1),
    "fresh_venv_install_s": round(t2 - t1, 1), "fresh_venv_mb": int(venv_mb),
    "smoke_s": round(t3 - t2, 1), "smoke": json.load(open(smoke)),
}))
PYEOF
