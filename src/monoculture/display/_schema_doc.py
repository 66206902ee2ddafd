"""Markdown reference sections generated from pydantic models (``docs/summary-schema.md``,
``docs/replication-schema.md``): each type's docstring and fields, nested types once each."""

from __future__ import annotations

import inspect
import re
import typing

from pydantic import BaseModel

__all__ = ["schema_sections"]


def _type_name(annotation: object) -> str:
    text = str(annotation) if not isinstance(annotation, type) else annotation.__name__
    text = text.replace("typing.", "").replace("monoculture.analysis._models.", "")
    for name in ("NoneType",):
        text = text.replace(name, "None")
    return re.sub(r"monoculture\.[\w.]+\.(\w+)", r"\1", text)


def _section(model: type[BaseModel]) -> list[str]:
    lines = [f"### {model.__name__}", "", inspect.cleandoc(model.__doc__ or ""), "", "| field | type |", "| --- | --- |"]
    hints = typing.get_type_hints(model, include_extras=False)
    for name in model.model_fields:
        shown = _type_name(hints.get(name, model.model_fields[name].annotation)).replace("|", "\\|")
        lines.append(f"| `{name}` | `{shown}` |")
    return [*lines, ""]


def _nested(model: type[BaseModel], seen: list[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.append(model)
    for field in model.model_fields.values():
        for inner in typing.get_args(field.annotation) or (field.annotation,):
            for candidate in (typing.get_args(inner) or (inner,)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    _nested(candidate, seen)


def schema_sections(models: typing.Sequence[type[BaseModel]]) -> list[str]:
    """Markdown sections for these models and every model nested in their fields, each once."""
    seen: list[type[BaseModel]] = []
    for model in models:
        _nested(model, seen)
    return [line for model in seen for line in _section(model)]
