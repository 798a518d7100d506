#!/usr/bin/env bash
# Build the one-folder frozen Huebrush with PyInstaller, then smoke-test it:
# `huebrush --version`, then colorize a sample photo headlessly and check the output file.
# Usage: packaging/build.sh [PYTHON]   (default: .venv/bin/python; needs `pip install pyinstaller`)
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
echo "== smoke test: $APP"
"$APP" --version

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A sample greyscale photo made here (a gradient sky over a darker ground) so the smoke test
# needs nothing outside the repository.
"$PY" - "$tmp/sample.png" <<'PYEOF'
import sys
import numpy as np
from PIL import Image
h, w = 240, 320
y = np.linspace(0, 1, h)[:, None]
img = np.where(y < 0.55, 200 - 60 * y, 90 + 40 * np.sin(np.linspace(0, 9, w))[None, :] * 0.3)
img = np.broadcast_to(img, (h, w)).astype(np.uint8)
Image.fromarray(img, "L").save(sys.argv[1])
PYEOF
QT_QPA_PLATFORM=offscreen "$APP" colorize "$tmp/sample.png" -o "$tmp/sample_colour.png" \
    --hint 40,30,#4a7fd0 --hint 300,220,#3f8f3a
"$PY" - "$tmp/sample_colour.png" <<'PYEOF'
import sys
import numpy as np
from PIL import Image
rgb = np.asarray(Image.open(sys.argv[1]).convert("RGB")).astype(int)
assert rgb.shape == (240, 320, 3), rgb.shape
chroma = (rgb.max(-1) - rgb.min(-1)).mean()
assert chroma > 3, f"the frozen app wrote a grey image (mean chroma {chroma:.1f})"
print(f"smoke test passed: {sys.argv[1]} {rgb.shape[1]}x{rgb.shape[0]}, mean chroma {chroma:.1f}")
PYEOF
end=$(date +%s)
size=$(du -sm "$OUT/huebrush" | cut -f1)
echo "{\"build_seconds\": $((built - start)), \"total_seconds\": $((end - start)), \"folder_mb\": $size}"
