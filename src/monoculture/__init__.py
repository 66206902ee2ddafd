"""monoculture: measure how alignment homogenizes language models against human populations.

The public API::

    import monoculture as m

    study = m.load_study("study.toml")          # or m.Study / monoculture.study.parse_study(dict)
    summary = m.run(study, "results")            # a typed Summary; samples.sqlite, summary.json, report.html
    results = m.open_results("results")
    results.summary()                            # recomputed from the store
    results.samples()                            # a pandas DataFrame, one row per stored sample

Names load lazily, so ``import monoculture`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from monoculture.errors import (
    BackendError,
    DataError,
    ModelSpecError,
    ModelUnavailableError,
    MonocultureError,
    StudyFileError,
)

if TYPE_CHECKING:
    from monoculture._api import Results, open_results, plan, run, simulate
    from monoculture.analysis import Summary
    from monoculture.study import Study, load_study

__version__ = "0.2.0"
__all__ = [
    "BackendError",
    "DataError",
    "ModelSpecError",
    "ModelUnavailableError",
    "MonocultureError",
    "Results",
    "Study",
    "StudyFileError",
    "Summary",
    "__version__",
    "load_study",
    "open_results",
    "plan",
    "run",
    "simulate",
]
_LAZY = {"run": "monoculture._api", "simulate": "monoculture._api", "plan": "monoculture._api", "open_results": "monoculture._api", "Results": "monoculture._api",
         "Study": "monoculture.study", "load_study": "monoculture.study", "Summary": "monoculture.analysis"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
