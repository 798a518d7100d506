"""Entry point of the frozen (PyInstaller) application."""
import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # batch I/O workers and torch may start processes
    from app.cli import main

    sys.exit(main())
