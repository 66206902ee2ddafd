"""A progress bar with rate and time left, fed by the runner's observer calls."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class ProgressObserver:
    """Draws the run on the terminal: the plan, each model as it loads, a bar over the samples."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
            console=console,
        )
        self._task = None
        self.drawn = 0  # samples stored by this run
        # The models sampling now, with the samples each has still to draw: two embedded models may sample side by
        # side, and the bar names both while both draw.
        self._left: dict[str, int] = {}

    def __enter__(self) -> ProgressObserver:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def planned(self, total: int, remaining: int, expected_s: float | None) -> None:
        """State the plan before anything runs."""
        expected = ("time unknown until each model's probe has timed it" if expected_s is None
                    else f"expected about {_duration(expected_s)}")
        self.console.print(f"planned {total} samples, {total - remaining} already stored, {remaining} to draw; "
                           f"{expected}")
        self._task = self.progress.add_task("sampling", total=remaining, rate="")

    def model_started(self, info, remaining: int) -> None:
        """A model is loaded."""
        mode = ", deterministic" if info.deterministic else ""
        self.console.print(f"loaded {escape(info.spec)} ({info.kind}, {escape(str(info.runtime))}{mode}): "
                           f"{remaining} samples to draw")
        self._left = {spec: left for spec, left in self._left.items() if left > 0}
        self._left[info.spec] = remaining
        self._describe()

    def model_timed(self, info, expected_s: float | None) -> None:
        """The probe has timed the model: its own estimate."""
        if expected_s is not None:
            self.console.print(f"{escape(info.spec)}: about {_duration(expected_s)} by the probe's timing")

    def sample_stored(self, record) -> None:
        """Advance the bar."""
        self.drawn += 1
        if record.model in self._left:
            self._left[record.model] -= 1
            if self._left[record.model] <= 0 and len(self._left) > 1:  # the last model keeps its name to the end
                del self._left[record.model]
                self._describe()
        self.progress.advance(self._task)
        task = self.progress.tasks[0]
        speed = task.finished_speed or task.speed
        self.progress.update(self._task, rate=f"{speed:.1f}/s" if speed else "")

    def _describe(self) -> None:
        self.progress.update(self._task, description=" + ".join(escape(spec) for spec in self._left))


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
