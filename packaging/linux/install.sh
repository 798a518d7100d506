#!/usr/bin/env bash
# Install Huebrush's desktop integration: the launcher (.desktop), the icons (hicolor PNG sizes and
# the scalable SVG), the AppStream metainfo and the MIME type of .huebrush projects, so Huebrush
# shows up in the application menu and double-clicking a project opens it.
#
# Usage: packaging/linux/install.sh [--prefix DIR] [--exec COMMAND] [--uninstall]
#   --prefix DIR    where to install (default: ${XDG_DATA_HOME:-~/.local/share}; /usr/local/share
#                   for everyone, run as root)
#   --exec COMMAND  what the launcher starts (default: the frozen build this script sits in, else
#                   `huebrush` found on PATH)
#   --uninstall     remove what an install put there
# The program itself is installed separately (pipx, a venv or the frozen folder; see README).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# From a checkout or sdist (packaging/linux/) or from a frozen build's folder (huebrush/linux/,
# which build.sh fills, with the icons in huebrush/_internal/resources/icons).
for d in "$HERE/../../resources/icons" "$HERE/../_internal/resources/icons"; do
    if [ -f "$d/huebrush.svg" ]; then ICONS=$(cd "$d" && pwd); break; fi
done
[ -n "${ICONS:-}" ] || { echo "install.sh: cannot find Huebrush's icons next to $HERE" >&2; exit 1; }
FROZEN_EXE="$HERE/../huebrush"
APP_ID=io.github.huebrush.Huebrush
PREFIX=${XDG_DATA_HOME:-$HOME/.local/share}
EXEC=""
UNINSTALL=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX=$2; shift 2 ;;
        --exec) EXEC=$2; shift 2 ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
SIZES="16 24 32 48 64 128 256 512"
targets=(
    "applications/$APP_ID.desktop"
    "metainfo/$APP_ID.metainfo.xml"
    "mime/packages/$APP_ID.xml"
    "icons/hicolor/scalable/apps/$APP_ID.svg"
)
for s in $SIZES; do targets+=("icons/hicolor/${s}x${s}/apps/$APP_ID.png"); done

refresh() {
    # Each cache tool is optional: desktops that lack one rescan the folders themselves.
    if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$PREFIX/applications" || true; fi
    if command -v update-mime-database >/dev/null; then update-mime-database "$PREFIX/mime" >/dev/null || true; fi
    if command -v gtk-update-icon-cache >/dev/null && [ -f "$PREFIX/icons/hicolor/index.theme" ]; then
        gtk-update-icon-cache -q -t -f "$PREFIX/icons/hicolor" || true
    fi
}

if [ "$UNINSTALL" = 1 ]; then
    for t in "${targets[@]}"; do rm -f "$PREFIX/$t"; done
    refresh
    echo "removed Huebrush's desktop integration from $PREFIX"
    exit 0
fi

if [ -z "$EXEC" ]; then
    if [ -x "$FROZEN_EXE" ] && [ -f "$FROZEN_EXE" ]; then
        EXEC=$(cd "$(dirname "$FROZEN_EXE")" && pwd)/huebrush
    else
        EXEC=$(command -v huebrush || echo huebrush)
    fi
fi
case "$EXEC" in
    *[[:space:]\"\'\\\`\$]*) echo "install.sh: the program path '$EXEC' has spaces or quotes; move it or make a link without them" >&2; exit 2 ;;
esac

# install FILE DEST: via a temp file in the destination folder, so a launcher is never half-written
put() {
    mkdir -p "$(dirname "$2")"
    local tmp
    tmp=$(mktemp "$(dirname "$2")/.huebrush-install.XXXXXX")
    cat "$1" >"$tmp"
    chmod 644 "$tmp"
    mv -f "$tmp" "$2"
}

desktop=$(mktemp)
trap 'rm -f "$desktop"' EXIT
sed "s|^Exec=huebrush |Exec=$EXEC |" "$HERE/$APP_ID.desktop" >"$desktop"
put "$desktop" "$PREFIX/applications/$APP_ID.desktop"
put "$HERE/$APP_ID.metainfo.xml" "$PREFIX/metainfo/$APP_ID.metainfo.xml"
put "$HERE/huebrush-mime.xml" "$PREFIX/mime/packages/$APP_ID.xml"
put "$ICONS/huebrush.svg" "$PREFIX/icons/hicolor/scalable/apps/$APP_ID.svg"
for s in $SIZES; do
    put "$ICONS/huebrush-$s.png" "$PREFIX/icons/hicolor/${s}x${s}/apps/$APP_ID.png"
done
refresh
echo "installed Huebrush's desktop integration into $PREFIX (launcher runs: $EXEC)"
