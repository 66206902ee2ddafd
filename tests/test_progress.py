"""The progress bar names the models sampling now: both of a pair sampling side by side, then the one left."""

import io
from types import SimpleNamespace

from rich.console import Console

from monoculture.cli._progress import ProgressObserver


def _model(spec: str) -> SimpleNamespace:
    return SimpleNamespace(spec=spec, kind="chat", runtime="llama.cpp", deterministic=False)


def _sample(spec: str) -> SimpleNamespace:
    return SimpleNamespace(model=spec)


def test_the_bar_names_both_models_of_a_pair_then_the_one_still_drawing():
    console = Console(file=io.StringIO(), width=200)
    with ProgressObserver(console) as observer:
        observer.planned(total=7, remaining=7, expected_s=None)
        label = lambda: observer.progress.tasks[0].description  # noqa: E731
        observer.model_started(_model("embedded:gemma-3-270m-it"), 2)
        observer.model_started(_model("embedded:smollm2-135m-instruct"), 3)
        assert label() == "embedded:gemma-3-270m-it + embedded:smollm2-135m-instruct"
        observer.sample_stored(_sample("embedded:gemma-3-270m-it"))
        observer.sample_stored(_sample("embedded:smollm2-135m-instruct"))
        assert label() == "embedded:gemma-3-270m-it + embedded:smollm2-135m-instruct"
        observer.sample_stored(_sample("embedded:gemma-3-270m-it"))  # Gemma's last
        assert label() == "embedded:smollm2-135m-instruct"
        observer.sample_stored(_sample("embedded:smollm2-135m-instruct"))
        observer.sample_stored(_sample("embedded:smollm2-135m-instruct"))  # the last model keeps its name
        assert label() == "embedded:smollm2-135m-instruct"
        observer.model_started(_model("fake:[bold]x"), 2)  # the next model alone; its name is escaped markup
        assert label() == r"fake:\[bold]x"
        assert observer.drawn == 5
        assert observer.progress.tasks[0].completed == 5
