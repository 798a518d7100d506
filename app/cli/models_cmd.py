"""`huebrush models list | import PATH | verify`: the colorizers and their installed weights."""
from __future__ import annotations

import argparse
from pathlib import Path

from app.core.errors import HuebrushError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("models", help="list, import or verify colorization models and their weights")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    sub.add_parser("list", help="the models you can choose and where their weights are").set_defaults(func=run_list)
    imp = sub.add_parser("import", help="install a .safetensors weights file (with its .json) into your models folder")
    imp.add_argument("path", help="NAME.safetensors; NAME.json must be beside it")
    imp.set_defaults(func=run_import)
    sub.add_parser("verify", help="check every installed weights file (checksum, architecture, loading)").set_defaults(func=run_verify)
    p.set_defaults(func=run_list)


def _loaders() -> dict:
    """architecture -> (model name, loader(path, device)): the colorizers and the built-in segmenter
    (``python -m training train --model segmenter`` weights import as ``clickseg``)."""
    from models import clickseg, iizuka, maskgan, maskgan_v2

    return {maskgan.ARCH: ("maskgan", maskgan.load_maskgan), maskgan_v2.ARCH: ("maskgan-v2", maskgan.load_maskgan),
            iizuka.ARCH: ("iizuka", iizuka.load_iizuka), clickseg.ARCH: ("clickseg", clickseg.load_clickseg)}


def _user_dir() -> Path:
    from app.core.paths import user_models_dir

    return user_models_dir()


def run_list(args: argparse.Namespace) -> int:
    from models.checkpoint import find_weights, list_weights
    from models.registry import available

    extra = [_user_dir()]
    print("models:")
    for info in available():
        if info.needs_weights:
            path = find_weights(info.name, extra)
            where = str(path) if path else "MISSING (run 'huebrush models import NAME.safetensors')"
        else:
            where = "no weights needed"
        print(f"  {info.name:10s} {info.title}\n             {where}")
    files = list_weights(extra)
    if files:
        print("weights files:")
        for f in files:
            print(f"  {f}  ({f.stat().st_size / 1e6:.1f} MB)")
    print(f"your models folder: {_user_dir()}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from models.checkpoint import read_meta, sidecar_path

    src = Path(args.path)
    meta = read_meta(src)  # ModelError (one sentence) when the .json is missing or broken
    loaders = _loaders()
    arch = meta.get("architecture")
    if arch not in loaders:
        raise HuebrushError(f"{src.name} holds an unknown architecture '{arch}': Huebrush can import {', '.join(sorted(loaders))}.")
    name, load = loaders[arch]
    load(src, "cpu")  # the full check: checksum, safetensors parse, the network accepts every tensor
    dest_dir = _user_dir()
    dest = dest_dir / f"{name}.safetensors"
    if dest.resolve() == src.resolve():
        print(f"{src} is already installed")
        return 0
    # sidecar first, weights last: a half-finished import never looks complete
    for s, d in ((sidecar_path(src), sidecar_path(dest)), (src, dest)):
        _atomic_copy(s, d)
    print(f"installed {name} weights: {dest}")
    return 0


def _atomic_copy(src: Path, dest: Path) -> None:
    from models.fileio import atomic_copy

    atomic_copy(src, dest)


def run_verify(args: argparse.Namespace) -> int:
    from models.checkpoint import list_weights, read_meta
    from models.types import ModelError

    loaders = _loaders()
    files = list_weights([_user_dir()])
    if not files:
        print("no weights files installed")
        return 1
    bad = 0
    for f in files:
        try:
            arch = read_meta(f).get("architecture")
            if arch not in loaders:
                raise ModelError(f"{f.name} holds an unknown architecture '{arch}'.")
            loaders[arch][1](f, "cpu")
            print(f"ok      {f}")
        except ModelError as e:
            bad += 1
            print(f"FAILED  {f}: {e}")
    return 1 if bad else 0
