"""Odd and broken photos through `huebrush info` and `huebrush colorize`, counted. Prints JSON.

    python bench/odd_files.py --make DIR     # write the test files (and what each should give)
    python bench/odd_files.py DIR [--limit N]

Every file in DIR runs through ``huebrush info FILE`` and ``huebrush colorize FILE -o OUT
--model hints`` (no hints: the result is the photo's own grey, so it can be checked exactly) in
a fresh process, as a user runs them. Each file ends in one of:
  refused   exit 1, exactly one line on stderr, no output written (a file that cannot be decoded)
  right     exit 0, an output whose lightness matches what the file holds (its ``.expect.npy``,
            upright, at the file's bit depth) within one 8-bit level, and a 16-bit output for a
            16-bit source
  wrong     anything else: a traceback, several lines, exit 0 with the wrong picture, a refusal
            of a file that should open, or an output left behind by a refusal
Files made by ``--make`` cover the hardening issue's classes: every EXIF/TIFF orientation under
LZW, Deflate, PackBits, CCITT G4 and no compression, planar 16-bit LZW, 16-bit CMYK, truncated
and garbled TIFFs and PNGs, and text renamed to a photo. Any other folder (public test corpora)
works too: files without an ``.expect.npy`` count as right when they open and give a picture
(``--make`` marks its broken files with ``.expect-refusal``: those must be refused).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ORIENT = {1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
          5: lambda a: np.swapaxes(a, 0, 1), 6: lambda a: np.rot90(a, -1), 7: lambda a: np.swapaxes(a[::-1, ::-1], 0, 1),
          8: lambda a: np.rot90(a, 1)}
# the stored pixels for an orientation are the upright ones turned back
STORE = {1: ORIENT[1], 2: ORIENT[2], 3: ORIENT[3], 4: ORIENT[4], 5: ORIENT[5], 6: ORIENT[8], 7: ORIENT[7], 8: ORIENT[6]}


def _scene(h: int = 48, w: int = 64, deep: bool = False) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    grey = (xx * 3 + yy * 2) % 256
    grey[:8, :12] = 255  # an asymmetric mark: a wrong turn shows
    grey[-6:, -20:-14] = 0
    return (grey.astype(np.uint16) * 257) if deep else grey.astype(np.uint8)


def make(folder: Path) -> int:
    import tifffile
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    n = 0

    def expect(name: str, upright: np.ndarray) -> None:
        np.save(folder / f"{name}.expect.npy", upright)

    up = _scene()
    for o in range(1, 9):
        stored = np.ascontiguousarray(STORE[o](up))
        for comp in ("tiff_lzw", "tiff_adobe_deflate", "packbits", "group4", None):
            name = f"orient{o}_{comp or 'raw'}.tif"
            if comp == "group4":
                bw = (stored > 127).astype(np.uint8) * 255
                Image.fromarray(bw).convert("1").save(folder / name, compression=comp, tiffinfo={274: o})
                expect(name, ORIENT[o](bw))
            else:
                Image.fromarray(stored).save(folder / name, compression=comp, tiffinfo={274: o})
                expect(name, up)
            n += 1
    deep = _scene(deep=True)
    rgb = np.stack([deep, deep, deep], -1)
    tifffile.imwrite(folder / "planar16_lzw.tif", np.moveaxis(rgb, -1, 0), planarconfig="separate", compression="lzw", photometric="rgb")
    expect("planar16_lzw.tif", deep)
    cmyk = np.zeros(deep.shape + (4,), np.uint16)
    cmyk[..., 3] = 65535 - deep  # black ink only: the grey is exact
    tifffile.imwrite(folder / "cmyk16.tif", cmyk, photometric="separated")
    expect("cmyk16.tif", deep)
    n += 2
    good = folder / "orient1_tiff_lzw.tif"
    data = good.read_bytes()
    (folder / "truncated_lzw.tif").write_bytes(data[: len(data) // 2])
    garbled = bytearray(data)
    garbled[200:260] = b"\xff" * 60
    (folder / "garbled_lzw.tif").write_bytes(bytes(garbled))
    Image.fromarray(up).save(folder / "ok.png")
    expect("ok.png", up)
    png = (folder / "ok.png").read_bytes()
    (folder / "truncated.png").write_bytes(png[: len(png) // 2])
    (folder / "notes.jpg").write_text("this is a text file with a photo's name\n")
    for name in ("truncated_lzw.tif", "garbled_lzw.tif", "truncated.png", "notes.jpg"):
        (folder / f"{name}.expect-refusal").write_text("")
    return n + 5


def _lightness_8bit(path: Path) -> tuple[np.ndarray, int]:
    """The output's grey (R = G = B for a hints result with no hints) and its bit depth."""
    import tifffile
    from PIL import Image

    if path.suffix.lower() in (".tif", ".tiff"):
        a = tifffile.imread(path)
    else:
        import cv2

        a = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)
        if a is None:
            a = np.asarray(Image.open(path))
        elif a.ndim == 3:
            a = a[..., 2::-1]
    depth = 16 if a.dtype == np.uint16 else 8
    g = a[..., 0] if a.ndim == 3 else a
    return (g.astype(np.float64) / (257.0 if depth == 16 else 1.0)), depth


def run_one(path: Path, out_dir: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    exp_file = path.with_name(path.name + ".expect.npy")
    expected = np.load(exp_file) if exp_file.is_file() else None
    deep = expected is not None and expected.dtype == np.uint16
    out = out_dir / (path.name.replace(".", "_") + (".tif" if deep else ".png"))
    rec: dict = {"file": path.name}
    for cmd in ("info", "colorize"):
        args = [sys.executable, "-m", "app", cmd, str(path)] + (["-o", str(out), "--model", "hints"] if cmd == "colorize" else [])
        r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
        lines = [x for x in r.stderr.splitlines() if x.strip() and not x.startswith("huebrush: note:")]
        rec[cmd] = {"rc": r.returncode, "stderr_lines": len(lines), "traceback": "Traceback" in r.stderr}
        if r.returncode != 0:
            rec[cmd]["message"] = lines[-1] if lines else ""
    c = rec["colorize"]
    if c["rc"] == 1 and c["stderr_lines"] == 1 and not c["traceback"] and not out.exists() and rec["info"]["rc"] == 1 \
            and expected is None:
        rec["outcome"] = "refused"
        return rec
    if c["rc"] != 0 or rec["info"]["rc"] != 0 or c["traceback"] or not out.exists():
        rec["outcome"] = "wrong"
        rec["why"] = "refused a file that should open" if expected is not None else "not a clean refusal"
        return rec
    grey, depth = _lightness_8bit(out)
    if path.with_name(path.name + ".expect-refusal").exists():
        rec["outcome"], rec["why"] = "wrong", "a broken file came out as a picture"
        return rec
    if expected is None:
        rec["outcome"] = "right"
        return rec
    want = expected.astype(np.float64) / (257.0 if deep else 1.0)
    if grey.shape != want.shape:
        rec["outcome"], rec["why"] = "wrong", f"shape {grey.shape} instead of {want.shape}"
    elif np.abs(grey - want).max() > 1.0:
        rec["outcome"], rec["why"] = "wrong", f"pixels differ by up to {np.abs(grey - want).max():.1f} levels"
    elif deep and depth != 16:
        rec["outcome"], rec["why"] = "wrong", "16-bit source written at 8 bits"
    else:
        rec["outcome"] = "right"
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--make", action="store_true", help="write the test files into FOLDER and stop")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--details", action="store_true", help="list every file's outcome")
    args = ap.parse_args()
    if args.make:
        print(json.dumps({"made": make(args.folder), "folder": str(args.folder)}))
        return
    files = sorted(p for p in args.folder.iterdir()
                   if p.is_file() and not p.name.endswith((".expect.npy", ".expect-refusal")))[: args.limit]
    with tempfile.TemporaryDirectory() as d:
        home = Path(d)
        os.environ.setdefault("HUEBRUSH_CACHE_DIR", str(home / "cache"))
        os.environ.setdefault("HUEBRUSH_CONFIG_DIR", str(home / "config"))
        recs = [run_one(p, home) for p in files]
    counts = {k: sum(r["outcome"] == k for r in recs) for k in ("refused", "right", "wrong")}
    result = {"files": len(recs), "counts": counts, "wrong": [r for r in recs if r["outcome"] == "wrong"]}
    if args.details:
        result["details"] = recs
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
