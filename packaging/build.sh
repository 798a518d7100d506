#!/usr/bin/env bash
# Build the one-folder frozen Huebrush with PyInstaller, then smoke-test it (packaging/smoke.py):
# `huebrush --version`, `huebrush doctor`, then colorize a generated photo headlessly with the
# default model and with each bundled network, and check the output files have colour.
# Usage: packaging/build.sh [PYTHON]   (default: .venv/bin/python; needs `pip install -e '.[packaging]'`)
# The folder's size follows the torch in that Python: a CUDA build of torch brings its NVIDIA
# libraries, a CPU-only one (https://download.pytorch.org/whl/cpu) makes a far smaller app.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
OUT=packaging/dist
WORK=packaging/build

start=$(date +%s)
"$PY" packaging/make_icons.py >/dev/null
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$OUT" --workpath "$WORK" packaging/huebrush.spec
built=$(date +%s)

APP="$OUT/huebrush/huebrush"
[ -x "$APP" ] || APP="$OUT/huebrush/huebrush.exe"
case "$(uname -s)" in
    Linux)  # desktop integration travels with the app: huebrush/linux/install.sh
        rm -rf "$OUT/huebrush/linux"
        mkdir -p "$OUT/huebrush/linux"
        cp packaging/linux/*.desktop packaging/linux/*.xml packaging/linux/install.sh "$OUT/huebrush/linux/" ;;
esac

echo "== smoke test: $APP"
"$PY" packaging/smoke.py "$APP" --json-out "$WORK/smoke.json"
end=$(date +%s)
size=$(du -sm "$OUT/huebrush" | cut -f1)
echo "{\"build_seconds\": $((built - start)), \"smoke_seconds\": $((end - built)), \"folder_mb\": $size, \"files\": $(find "$OUT/huebrush" -type f | wc -l)}"
