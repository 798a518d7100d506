"""The Qt layer: it only wires things; pixels and colours come from app.core and models.

main.py            run_gui(paths): QApplication + window; torch loads in the background after show
main_window.py     the window: canvas, photo strip, settings panel, status bar (files: file_ops.py)
actions.py         menus, toolbar, shortcuts
document_state.py  one open photo: Document, Mask, hints, settings, last colours, QUndoStack
undo_commands.py   QUndoCommands over the Mask's per-stroke history and the hints
canvas.py          zoom/pan/before-after/overlay painting from pyramid.py; pointer events -> tools/
compositor.py      keeps the displayed result in step with the mask, in small slices
preview_worker.py  one-worker preview executor: newest request wins, stale results dropped
exporting.py, project_io.py, workers.py   export, projects/autosave, background tasks
panels/, dialogs/  photo strip, settings panel; export, settings and batch dialogs
screenshot.py      renders resources/screenshot.png for the README
"""
