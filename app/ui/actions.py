"""Menus, toolbar and keyboard shortcuts (photo-editor conventions). Returns name -> QAction."""
from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar


def build_menus(win) -> dict[str, QAction]:
    acts: dict[str, QAction] = {}
    bar = win.menuBar()

    def add(menu, name, text, slot=None, keys=(), checkable=False, tip=""):
        a = QAction(text, win)
        if keys:
            a.setShortcuts([QKeySequence(k) for k in keys])
        a.setCheckable(checkable)
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        if slot is not None:
            a.triggered.connect(slot)
        menu.addAction(a)
        acts[name] = a
        return a

    f = bar.addMenu("&File")
    add(f, "open", "&Open photo\u2026", win.open_dialog, [QKeySequence.StandardKey.Open])
    win.recent_menu = f.addMenu("Open &recent")
    win.recent_menu.aboutToShow.connect(win.fill_recent_menu)
    add(f, "open_project", "Open &project\u2026", win.open_project_dialog, ["Ctrl+Shift+O"])
    add(f, "open_reference", "Open &reference photo\u2026", win.choose_reference, ["Ctrl+Shift+R"],
        tip="A colour photo of the same scene beside the grey one: click in it to take a colour.")
    f.addSeparator()
    add(f, "save", "&Save project", win.save_project, [QKeySequence.StandardKey.Save])
    add(f, "save_as", "Save project &as\u2026", lambda: win.save_project(ask=True), ["Ctrl+Shift+S"])
    add(f, "export", "&Export\u2026", win.export_dialog, ["Ctrl+E"],
        tip="Write the full-size colourized photo (PNG, TIFF, JPEG, WebP or BMP).")
    add(f, "batch", "&Batch export\u2026", win.open_batch_dialog,
        tip="Colourize many photos at once.")
    f.addSeparator()
    add(f, "close", "&Close photo", win.close_current, [QKeySequence.StandardKey.Close])
    add(f, "settings", "Se&ttings\u2026", win.settings_dialog, ["Ctrl+,"])
    add(f, "quit", "&Quit", win.close, [QKeySequence.StandardKey.Quit])

    e = bar.addMenu("&Edit")
    undo = win.undo_group.createUndoAction(win, "Undo")
    undo.setShortcuts([QKeySequence("Ctrl+Z")])
    redo = win.undo_group.createRedoAction(win, "Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    e.addAction(undo)
    e.addAction(redo)
    acts["undo"], acts["redo"] = undo, redo

    m = bar.addMenu("&Mask")
    for op, text, keys in (("invert", "&Invert", ["Ctrl+I"]), ("clear", "&Clear", ["Ctrl+Shift+Backspace"]),
                           ("fill", "&Fill whole photo", []), ("grow", "&Grow by\u2026", []),
                           ("shrink", "&Shrink by\u2026", []), ("smooth", "S&mooth edge\u2026", []),
                           ("feather", "F&eather edge\u2026", [])):
        add(m, f"mask_{op}", text, lambda _=False, o=op: win.mask_operation(o), keys)

    t = bar.addMenu("&Tools")
    group = QActionGroup(win)
    toolbar = QToolBar("Tools")
    toolbar.setObjectName("tools")
    win.addToolBar(toolbar)
    for name, tool in win.canvas.tools.items():
        a = add(t, f"tool_{name}", f"{tool.title} ({tool.shortcut})",
                lambda _=False, n=name: win.canvas.set_tool(n), [tool.shortcut] if tool.shortcut else [],
                checkable=True)
        group.addAction(a)
        toolbar.addAction(a)
    acts["tool_brush"].setChecked(True)
    t.addSeparator()
    add(t, "brush_smaller", "Smaller brush ([)", lambda: win.canvas.resize_brush(1 / 1.25), ["["])
    add(t, "brush_bigger", "Bigger brush (])", lambda: win.canvas.resize_brush(1.25), ["]"])
    add(t, "brush_softer", "Softer brush (Shift+[)", lambda: win.canvas.step_brush_hardness(-0.25), ["Shift+["])
    add(t, "brush_harder", "Harder brush (Shift+])", lambda: win.canvas.step_brush_hardness(0.25), ["Shift+]"])

    v = bar.addMenu("&View")
    add(v, "zoom_in", "Zoom &in", win.canvas.zoom_in, ["+", "=", "Ctrl++", "Ctrl+="])
    add(v, "zoom_out", "Zoom &out", win.canvas.zoom_out, ["-", "Ctrl+-"])
    add(v, "fit", "&Fit to window", win.canvas.fit, ["Ctrl+0", "F"])
    add(v, "zoom_50", "Zoom &50%", lambda: win.canvas.set_zoom_percent(50))
    add(v, "actual", "&100%", win.canvas.actual_size, ["Ctrl+1"])
    add(v, "zoom_200", "Zoom &200%", lambda: win.canvas.set_zoom_percent(200), ["Ctrl+2"])
    v.addSeparator()
    sm = add(v, "show_mask", "Show &mask overlay", lambda on: win.set_view("mask", on), ["M"], checkable=True)
    sm.setChecked(True)
    add(v, "split", "&Before | after split", lambda on: win.set_view("split", on), ["Ctrl+\\"], checkable=True)
    add(v, "reference", "&Reference photo", win.set_reference_visible, checkable=True,
        tip="The colour reference photo; click in it to take a colour as the hint colour.")
    add(v, "history", "&History panel", win.set_history_visible, checkable=True,
        tip="Every edit of the current photo; click one to go back to it.")
    add(v, "next_area", "Next area (canvas, panel, photos)", win.focus_next_area, ["F6"])
    hold = QAction("Hold \\ to compare with the original", win)
    hold.setEnabled(False)
    v.addAction(hold)
    toolbar.addSeparator()
    for name in ("fit", "actual", "show_mask", "split"):
        toolbar.addAction(acts[name])

    h = bar.addMenu("&Help")
    add(h, "shortcuts", "&Keyboard and mouse…", win.show_shortcuts, ["F1", "Ctrl+/"])
    add(h, "about", "&About Huebrush", win.show_about)
    return acts
