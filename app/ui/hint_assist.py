"""The hint panel's advice at a hint's point: the colours the model finds likely there (swatches to
click) and, for the chosen colour, whether it can exist at that lightness and what will show."""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from app.ui.workers import Task

log = logging.getLogger(__name__)
SUGGESTIONS = 6


class HintAssistant(QObject):
    suggestions_ready = Signal(list)  # [Suggestion, ...] for the last point asked about
    outcome_ready = Signal(object)  # HintOutcome of the current colour at that point

    def __init__(self, win) -> None:
        super().__init__(win)
        self.win = win
        self.point: tuple[float, float] | None = None
        self._tasks: set[Task] = set()  # kept alive until each QThread has finished
        self._asked = 0

    def at_point(self, x: float, y: float) -> None:
        """A hint was placed or selected at photo pixel (x, y)."""
        self.point = (float(x), float(y))
        self.check_colour()
        self._ask_model()

    def check_colour(self, rgb=None) -> None:
        from app.core.suggest import hint_outcome

        st = self.win.state
        if st is None or self.point is None:
            return
        H, W = st.shape
        x, y = (min(max(int(v), 0), n - 1) for v, n in zip(self.point, (W, H)))
        self.outcome_ready.emit(hint_outcome(float(st.document.L[y, x]), rgb or self.win.hint_rgb))

    def prepare(self) -> None:
        """Read the current photo's colour distribution ahead of the first hint (the hint tool was
        chosen, or a photo opened with it): the model keeps it, so the first click's swatches come
        as fast as the next ones'."""
        st = self.win.state
        if st is not None and st.document is not None:
            H, W = st.shape
            self._run(lambda found: None, (W / 2.0, H / 2.0), quiet=True)

    def _ask_model(self) -> None:
        if self.win.state is None or self.point is None:
            return
        self._asked += 1
        asked = self._asked
        self._run(lambda found: self._done((asked, found)), self.point)

    def _run(self, deliver, point: tuple[float, float], quiet: bool = False) -> None:
        from app.core.suggest import suggest_at, suggesting_model

        st = self.win.state
        (x, y), L, work_size = point, st.document.L, st.settings.work_size
        factory = self.win.executor._engine_factory

        def work(task: Task):
            engine = factory()
            model = suggesting_model(lambda name: engine.colorizer(name, "cpu"))
            return suggest_at(model, L, x, y, SUGGESTIONS, work_size)

        task = Task(work)  # no Qt parent: the window closing must not destroy a running thread
        task.done.connect(deliver)
        # no model predicts a distribution (a quiet warm-up says nothing)
        task.failed.connect(lambda msg: quiet or log.info("no suggestions here: %s", msg))
        task.finished.connect(lambda t=task: self._tasks.discard(t))
        self._tasks.add(task)
        task.start()

    def _done(self, result) -> None:
        asked, found = result
        if asked == self._asked:  # an answer for an older point is dropped
            self.suggestions_ready.emit(found)

    def wait(self, ms: int = 30_000) -> None:
        """Let running suggestion threads finish (closing the window, tests)."""
        for t in list(self._tasks):
            t.wait(ms)
