"""`huebrush` command line. With no sub-command (or only photo paths) it opens the GUI.

Each sub-command lives in its own module with ``add_parser(subparsers)`` that sets
``func(args) -> int``; heavy imports (torch, Qt) happen inside ``func`` so ``--help`` is quick.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from app import __version__

# module name in app.cli -> sub-command(s) it adds
_COMMAND_MODULES = ["colorize", "info", "models_cmd", "segment", "suggest", "batch", "doctor"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="huebrush",
        description="Colourize black-and-white photographs under your control. "
        "Run without a sub-command (optionally with photo paths) to open the window.",
    )
    parser.add_argument("--version", action="version", version=f"huebrush {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"app.cli.{name}").add_parser(sub)
    parser.commands = set(sub.choices)  # type: ignore[attr-defined]  (what main() routes on)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from app.core.paths import share_models_dir_with_engine

    share_models_dir_with_engine()
    parser = build_parser()
    commands = parser.commands  # type: ignore[attr-defined]
    if not argv or (argv[0] not in commands and not argv[0].startswith("-")):
        if argv and _looks_like_a_command(argv[0]):
            import difflib

            near = difflib.get_close_matches(argv[0], sorted(commands), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            print(f"huebrush: unknown command '{argv[0]}'{hint}; see 'huebrush --help'.", file=sys.stderr)
            return 2
        return _open_gui(argv)
    args = parser.parse_args(argv)
    from app.core.logsetup import route_library_output

    route_library_output()  # decoders' warnings to the log file: a refusal reads as one sentence
    from models.types import UserError

    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"huebrush: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("huebrush: interrupted", file=sys.stderr)
        return 130


def _looks_like_a_command(word: str) -> bool:
    """A bare word (no folder, no extension) that is not a file here is a mistyped command, not a photo."""
    from pathlib import Path

    return not Path(word).exists() and "/" not in word and "\\" not in word and "." not in word


def _open_gui(paths: list[str]) -> int:
    from app.ui.main import run_gui

    return run_gui(paths)


if __name__ == "__main__":
    sys.exit(main())
