"""Task names to task classes: the built-in tasks and those of installed plugins.

A plugin package adds a task the way backends are added: it exposes its :class:`~monoculture.tasks.Task`
subclass under the entry-point group ``monoculture.tasks``, named as the study file's table::

    [project.entry-points."monoculture.tasks"]
    my_task = "my_package.my_task:MyTask"

Entry points are read once, when the first study is validated, and only the entry points of that group.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from monoculture.errors import MonocultureError
from monoculture.tasks._contract import Task

# Built-ins load through the same path as plugins: a name and an import path.
BUILT_IN = {
    "colour": "monoculture.tasks.colour:ColourTask",
    "concepts": "monoculture.tasks.concepts:ConceptTask",
    "colour_terms": "monoculture.tasks.colour_terms:ColourTermsTask",
    "questions": "monoculture.tasks.questions:QuestionsTask",
}
ENTRY_POINT_GROUP = "monoculture.tasks"
# Study file keys a task table cannot take.
RESERVED = frozenset({"name", "seed", "models", "conditions", "contexts", "decoding"})


def _load(name: str, target: str) -> type[Task]:
    module, _, attribute = target.partition(":")
    if name in BUILT_IN:  # a built-in that fails to import is a bug: keep its traceback
        return getattr(importlib.import_module(module), attribute)
    try:
        loaded = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as error:
        # A broken plugin is the user's installation problem, named with its fix, never a silent skip.
        raise MonocultureError(f"task {name!r} ({target}) cannot be loaded ({error}): reinstall or uninstall "
                               "the package that provides it") from error
    if not (isinstance(loaded, type) and issubclass(loaded, Task)) or loaded.name != name:
        raise MonocultureError(f"task {name!r} ({target}) is not a monoculture Task named {name!r}: fix or "
                               "uninstall the package that provides it")
    return loaded


@lru_cache(maxsize=1)
def task_types() -> dict[str, type[Task]]:
    """Every available task by name: the built-ins, then the plugins' (in name order)."""
    from importlib.metadata import entry_points

    found = dict(BUILT_IN)
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda entry: entry.name):
        if entry.name in found or entry.name in RESERVED:
            raise MonocultureError(f"task plugin {entry.name!r} ({entry.value}) takes a name that is already "
                                   "used: rename it in its package's entry points")
        found[entry.name] = entry.value
    return {name: _load(name, target) for name, target in found.items()}


def task_type(name: str) -> type[Task]:
    """The task class of a name, or a one-line error listing the known tasks."""
    types = task_types()
    if name not in types:
        raise MonocultureError(f"unknown task {name!r}: the tasks are {', '.join(types)}")
    return types[name]
