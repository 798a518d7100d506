"""Opening, saving, exporting, closing and autosave, as a mixin of the main window.

Slow work (decoding a photo, writing a project or an export) runs in a Task off the GUI thread;
every failure a user can cause ends as one sentence in the window's banner.
"""
from __future__ import annotations

import logging
import uuid
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.ui.compositor import grey_display
from app.ui.workers import Task

log = logging.getLogger(__name__)

PHOTO_FILTER = "Photos (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)"
PROJECT_FILTER = "Huebrush projects (*.huebrush)"


class FileOps:
    """Mixed into MainWindow; uses its states, banner, status, app_settings, add_state."""

    # ---- set-up -----------------------------------------------------------------------------
    def init_file_ops(self) -> None:
        self._tasks: set[Task] = set()
        self._recovering: set[Path] = set()  # photos and projects an autosave is reopening
        self._after_recovery: list = []  # paths asked for meanwhile, opened (or shown) after it
        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self._configure_autosave()

    def _configure_autosave(self) -> None:
        self.autosave_timer.stop()
        if self.app_settings.autosave:
            self.autosave_timer.start(max(5, int(self.app_settings.autosave_seconds)) * 1000)

    def stop_file_ops(self) -> None:
        self.autosave_timer.stop()
        for t in list(self._tasks):
            t.cancel()
            t.wait(30_000)

    def save_app_settings(self) -> None:
        try:
            self.app_settings.save()
        except OSError as e:
            self.status.show_error(f"Could not save the settings to {self.app_settings.file()} ({e.strerror}).")

    def run_task(self, fn, on_done, what: str) -> Task:
        """Run fn(task) in the background; on_done(result) back on the GUI thread."""
        task = Task(fn, self)
        self._tasks.add(task)
        task.done.connect(on_done)
        task.failed.connect(self.show_error)
        task.progress.connect(lambda p, text: self.status.show_info(f"{text} {p}%"))
        task.finished.connect(lambda: self._tasks.discard(task))
        self.status.show_info(what)
        task.start()
        return task

    def show_error(self, message: str) -> None:
        self.banner.show_message(message)
        self.status.show_error(message)

    # ---- opening ------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(Path(self.app_settings.recent_files[0]).parent) if self.app_settings.recent_files else ""
        paths, _ = QFileDialog.getOpenFileNames(self, "Open photos", start, f"{PHOTO_FILTER};;{PROJECT_FILTER}")
        self.open_paths(paths)

    def open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", PROJECT_FILTER)
        if path:
            self.open_project(path)

    def open_paths(self, paths) -> None:
        """Open photos and projects: decoded side by side, listed in the order given, the first shown."""
        paths = list(paths)
        waiting = [p for p in paths if _resolved(p) in self._recovering]
        if waiting:  # an autosave of it is being recovered: once it is, this only shows it
            self._after_recovery += waiting
            paths = [p for p in paths if p not in waiting]
        order = _InOrder(len(paths))
        for i, p in enumerate(paths):
            slot = order.slot(i, select=i == 0)
            if str(p).lower().endswith(".huebrush"):
                task = self.open_project(p, slot=slot)
            else:
                task = self.open_photo(p, slot=slot)
            if task is None:  # already open
                slot(None)
            else:
                task.failed.connect(lambda _m, slot=slot: slot(None))

    def fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        for p in self.app_settings.recent_files:
            menu.addAction(p, lambda p=p: self.open_paths([p]))
        if not self.app_settings.recent_files:
            menu.addAction("No recent files").setEnabled(False)

    def _already_open(self, path: Path):
        for st in self.states:
            for p in (st.document.path, st.project_path):
                if p is not None and Path(p).resolve() == path.resolve():
                    return st
        return None

    def open_photo(self, path, slot=None) -> Task | None:
        """Open a photo in the background; ``slot`` (from ``open_paths``) keeps several in order."""
        from app.core.document import load_image

        path = Path(path)
        st = self._already_open(path)
        if st is not None:
            if slot is None or slot.select:
                self.set_current(st)
            return None

        def work(task: Task):
            doc = load_image(path)
            return doc, grey_display(doc.L)

        def add(result) -> None:
            doc, grey = result
            self._remember_recent(path)
            self._add_document(doc, self.new_settings(), grey=grey, select=slot is None or slot.select)
            self.status.show_info(f"Opened {path.name}.")

        done = add if slot is None else (lambda result: slot(lambda: add(result)))
        return self.run_task(work, done, f"Opening {path.name}\u2026")

    def _add_document(self, doc, settings, *, grey=None, select: bool = True, **kw):
        from app.ui.document_state import DocumentState

        st = DocumentState(doc, settings, initial_grey=grey, **kw)
        self.add_state(st, select=select)
        return st

    def _remember_recent(self, path: Path) -> None:
        self.app_settings.add_recent_file(path)
        self.save_app_settings()

    def open_project(self, path, *, recovered_from: Path | None = None, slot=None) -> Task | None:
        from app.ui import project_io

        path = Path(path)
        if recovered_from is None:
            st = self._already_open(path)
            if st is not None:
                if slot is None or slot.select:
                    self.set_current(st)
                return None

        def work(task: Task):
            loaded = project_io.load(path)
            return loaded, grey_display(loaded.document.L)

        def add(result) -> None:
            loaded, grey = result
            st = self._add_document(
                loaded.document, loaded.settings, grey=grey, select=slot is None or slot.select,
                mask=loaded.mask, hints=loaded.hints,
                project_path=None if recovered_from else path, reference_lab=loaded.reference_lab,
                reference_path=loaded.reference_path)
            if loaded.regions:
                st.load_regions(loaded.regions)
            if recovered_from is not None:
                st.project_path = loaded.original_project
                st.mark_unsaved()
                self.status.show_info(f"Recovered {st.title} from an autosave; save it to keep it.")
            else:
                self._remember_recent(path)
                self.status.show_info(f"Opened project {path.name}.")
            if loaded.warnings:  # moved or changed photo: worth a sentence, not a refusal
                self.status.show_error(" ".join(loaded.warnings))

        done = add if slot is None else (lambda result: slot(lambda: add(result)))
        return self.run_task(work, done, f"Opening {path.name}\u2026")

    def choose_reference(self) -> None:
        from app.core.document import load_reference
        from app.core.errors import ImageLoadError

        if self.state is None:
            return
        beside = self.state.reference_path or self.state.document.path  # the last reference, else the photo
        start = str(Path(beside).parent) if beside else ""
        path, _ = QFileDialog.getOpenFileName(self, "Reference photo (colour)", start, PHOTO_FILTER)
        if not path:
            return
        try:
            ref = load_reference(path)
        except ImageLoadError as e:
            self.show_error(str(e))
            return
        self.state.set_reference(ref, path)
        self.panel.show_settings(self.state.settings, path)
        self.show_reference(ref)

    # ---- saving -------------------------------------------------------------------------------
    def save_project(self, ask: bool = False, path: Path | None = None, wait: bool = False) -> bool:
        """Save the current photo's project. The file is written in the background unless
        ``wait`` (closing the window waits for it); returns False when cancelled or failed."""
        from app.ui import project_io

        st = self.state
        if st is None:
            return False
        if path is None:
            path = st.project_path
        if path is None or ask:
            base = st.document.path.with_suffix(".huebrush") if st.document.path else Path("untitled.huebrush")
            chosen, _ = QFileDialog.getSaveFileName(self, "Save project", str(path or base), PROJECT_FILTER)
            if not chosen:
                return False
            path = Path(chosen if chosen.endswith(".huebrush") else chosen + ".huebrush")
        project = project_io.snapshot(st)
        key = (st.version, st.settings, st.undo_stack.index())

        def done(_result=None) -> None:
            if key == (st.version, st.settings, st.undo_stack.index()):
                st.mark_saved(path)
            else:  # edited while the file was written: saved, but not everything
                st.project_path = path
            self.strip.refresh(st, thumbnail=False)
            self._update_title()
            self._remember_recent(path)
            self.status.show_info(f"Saved {path.name}.")

        if not wait:
            self.run_task(lambda task: project_io.write(path, project), done, f"Saving {path.name}\u2026")
            return True
        try:
            project_io.write(path, project)
        except Exception as e:  # noqa: BLE001 - shown as one sentence
            from app.ui.preview_worker import friendly_error

            self.show_error(friendly_error(e))
            return False
        done()
        return True

    # ---- export ---------------------------------------------------------------------------------
    def suggested_export_path(self, st) -> Path:
        """Beside the photo, in the photo's own format (PNG when Huebrush cannot write that format)."""
        src = st.document.path or Path.home() / "untitled.png"
        ext = src.suffix.lower() if src.suffix.lower() in (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".webp", ".bmp") else ".png"
        return src.with_name(f"{src.stem}_colour{ext}")

    def export_dialog(self) -> None:
        from app.ui.dialogs.export_dialog import ExportDialog

        st = self.state
        if st is None:
            return
        dlg = ExportDialog(self.suggested_export_path(st), st.document.bit_depth, self, source=st.document.path)
        if dlg.exec():
            self.export_to(dlg.options())

    def export_to(self, options) -> Task | None:
        from app.ui.exporting import ExportSnapshot, export_snapshot

        st = self.state
        if st is None:
            return None
        snap = ExportSnapshot.of(st, options)
        engine_factory = self.executor._engine_factory

        def work(task: Task):
            return export_snapshot(snap, engine_factory, task.report, task.is_cancelled)

        def done(path) -> None:
            also = f" and its colour layer {options.colour_layer.name}" if options.colour_layer is not None else ""
            self.status.show_info(f"Exported {Path(path).name}{also} to {Path(path).parent}.")
            self.exported_path = Path(path)

        return self.run_task(work, done, f"Exporting {options.path.name}\u2026")

    # ---- closing ------------------------------------------------------------------------------
    def close_current(self) -> None:
        if self.state is not None and self.confirm_close([self.state]):
            self.remove_state(self.state)

    def ask_save_changes(self, dirty: list) -> str:
        """'save', 'discard' or 'cancel' (tests replace this to answer without a dialog)."""
        names = ", ".join(s.title for s in dirty)
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"Save the changes to {names} before closing?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")

    def confirm_close(self, states: list) -> bool:
        dirty = [s for s in states if s.is_dirty]
        if not dirty:
            return True
        answer = self.ask_save_changes(dirty)
        if answer == "cancel":
            return False
        if answer == "save":
            for s in dirty:
                self.set_current(s)
                if not self.save_project(wait=True):
                    return False
        return True

    # ---- autosave and recovery ----------------------------------------------------------------------
    def _autosave_path(self, st) -> Path:
        from app.core.paths import autosave_dir

        if not hasattr(st, "autosave_key"):
            st.autosave_key = uuid.uuid4().hex[:12]
        return autosave_dir() / f"{st.autosave_key}.huebrush"

    def autosave_now(self, wait: bool = False) -> int:
        """Save every photo edited since its last autosave (in the background unless ``wait``);
        returns how many were started."""
        from app.ui import project_io

        n = 0
        for st in self.states:
            if not st.changed_since_autosave or st.document.path is None:
                continue
            target, project, original = self._autosave_path(st), project_io.snapshot(st), st.project_path
            st.changed_since_autosave = False
            n += 1
            if wait:
                self._autosave_write(target, project, original)
            else:
                task = Task(lambda _t, a=(target, project, original): project_io.write(a[0], a[1], original_project=a[2]), self)
                self._tasks.add(task)
                task.failed.connect(lambda msg: self.status.show_error(f"Autosave failed: {msg} Save with Ctrl+S."))
                task.finished.connect(lambda t=task: self._tasks.discard(t))
                task.start()
        return n

    def _autosave_write(self, target: Path, project, original) -> None:
        from app.ui import project_io

        try:
            project_io.write(target, project, original_project=original)
        except Exception as e:  # noqa: BLE001 - autosave must never interrupt editing
            log.warning("autosave failed: %s", e)

    def forget_autosave(self, st) -> None:
        if hasattr(st, "autosave_key"):
            p = self._autosave_path(st)
            p.unlink(missing_ok=True)
            p.with_suffix(".json").unlink(missing_ok=True)

    def pending_autosaves(self) -> list[Path]:
        from app.core.paths import autosave_dir

        return sorted(autosave_dir().glob("*.huebrush"))

    def ask_recover(self, files: list[Path]) -> list[Path] | bool:
        """Which autosaves left by a crash to reopen: a list (or True for all, False for none);
        tests replace this to answer without the dialog."""
        from app.ui.dialogs.recovery_dialog import RecoveryDialog

        dlg = RecoveryDialog(files, self)
        return dlg.chosen() if dlg.exec() else []

    def offer_recovery(self) -> None:
        files = self.pending_autosaves()
        if not files:
            return
        answer = self.ask_recover(files)
        chosen = list(files) if answer is True else [] if answer is False else list(answer)
        for f in files:
            if f in chosen:
                task = self.open_project(f, recovered_from=f)
                if task is not None:
                    # the photos (and projects) it holds are being reopened: open_paths, called
                    # right after with the command line's photos, must not open them a second time
                    held = _recovered_paths(f)
                    self._recovering |= held
                    task.finished.connect(lambda f=f, held=held: self._recovered(f, held))
            else:
                _remove_autosave(f)

    def _recovered(self, autosave: Path, held: set[Path]) -> None:
        """An autosave's reopening ended (recovered or failed): the paths asked for meanwhile now
        show the recovered photo, or open as they are if it could not be recovered."""
        _remove_autosave(autosave)
        self._recovering -= held
        now = [p for p in self._after_recovery if _resolved(p) in held]
        self._after_recovery = [p for p in self._after_recovery if p not in now]
        if now:
            self.open_paths(now)

    # ---- dialogs -----------------------------------------------------------------------------------
    def settings_dialog(self) -> None:
        from app.ui.dialogs.settings_dialog import SettingsDialog
        from models.registry import names

        dlg = SettingsDialog(self.app_settings, names(), self)
        if dlg.exec():
            try:
                dlg.apply()
            except OSError as e:
                self.show_error(f"Could not save the settings to {self.app_settings.file()} ({e.strerror}).")
            self._configure_autosave()
            self.canvas.set_overlay(self.app_settings.overlay_colour, self.app_settings.overlay_opacity)

    def open_batch_dialog(self) -> None:
        from app.ui.dialogs.batch_dialog import open_batch_dialog

        open_batch_dialog(self)


def _resolved(p) -> Path | None:
    try:
        return Path(p).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def _recovered_paths(autosave: Path) -> set[Path]:
    """The photo an autosave was made for and the project the user was working on, resolved."""
    import json

    from app.core.project import peek_photo

    found = set()
    photo = peek_photo(autosave)
    if photo and Path(photo).is_absolute():
        found.add(_resolved(photo))
    try:
        project = json.loads(autosave.with_suffix(".json").read_text(encoding="utf-8")).get("project")
    except (OSError, ValueError, AttributeError):
        project = None
    if isinstance(project, str) and project:
        found.add(_resolved(project))
    return found - {None}


def _remove_autosave(f: Path) -> None:
    f.unlink(missing_ok=True)
    f.with_suffix(".json").unlink(missing_ok=True)


class _InOrder:
    """Runs the photos' "add it to the window" steps in the order they were asked for, whatever
    order their decoding finishes in: slot ``i`` holds its step (None for a failure or a photo
    already open) until every earlier slot has run."""

    def __init__(self, n: int) -> None:
        self._steps: list = [_InOrder._WAIT] * n
        self._next = 0

    _WAIT = object()

    def slot(self, i: int, select: bool):
        def ready(step) -> None:
            self._steps[i] = step
            while self._next < len(self._steps) and self._steps[self._next] is not _InOrder._WAIT:
                step, self._steps[self._next] = self._steps[self._next], None
                self._next += 1
                if step is not None:
                    step()

        ready.select = select
        return ready
