"""The reference part of ``docs/summary-schema.md``, generated from the summary's own models.

``python -m monoculture.analysis._schema > docs/summary-schema.md`` writes it; a test checks that the file is
current, so the document and the code cannot drift apart.
"""

from __future__ import annotations

from monoculture.analysis import _models
from monoculture.display import schema_sections
from monoculture.tasks import task_types

INTRODUCTION = """# summary.json

`summary.json` is a `monoculture.analysis.Summary` serialised: every number in it is recomputed from
`samples.sqlite` alone (`monoculture.open_results(folder).summary()` or `monoculture report FOLDER` rebuilds
it). The report and the terminal tables are rendered from the same object. NaN and infinity are written as null.

Layout (abridged):

```jsonc
{
  "monoculture_version": "0.2.0", "created": "2026-11-29T06:00:00+00:00",
  "study": { ... the validated study ... },
  "environment": {"python": "...", "libraries": {...}, "data": {"root": "...", "sha256": {"file": "..."}, "problems": []}},
  "n_samples_planned": 2752, "n_samples_stored": 2752, "n_samples_not_in_study": 0,
  "alarms": [Alarm, ...], "probes": {"embedded:gemma-3-270m": Probe},
  "model_info": {"embedded:gemma-3-270m": ModelRecord}, "model_versions": [ModelRecord, ...],
  "models": {
    "embedded:gemma-3-270m": {                 // model spec
      "none@default": {                        // condition: context@temperature
        "model": "...", "condition": "none@default", "kind": "base", "context": "none", "temperature": 0.8,
        "decoding": {"temperature": 0.8, "top_k": 40, "top_p": 0.95, "min_p": 0.05},
        "tasks": {
          "colour": {"result": ColourResult, "settings": "3f2a...", "accounting": {"constrained": Accounting},
                     "repeats": {"constrained": Repeats}, "model_versions": [1]},
          "concepts": {"result": ConceptResult, ...}
        }
      }
    }
  },
  "human": {"colour": ColourResult, "concepts": ConceptResult}   // the people, on the study's own items
}
```

Changes from 0.1: each task's numbers moved from `models[spec][condition][task]` to
`models[spec][condition]["tasks"][task]["result"]` (a task may take any name, even one a cell field has);
`accounting` and `repeats` are given per elicitation mode (the comparison mode of `compare_with` included,
replacing `mode_comparison.accounting`/`repeats`); `model_calls` moved into each mode's accounting;
`environment.data.sha256` holds the data checksums (the report read a key no run wrote); `human` is computed
on the study's words and targets; `model_versions`, `n_samples_not_in_study` and the `mixed_versions` alarm
are new.

## Reference

Generated from the models (`python -m monoculture.analysis._schema`); each type lists its fields.
"""


def schema_markdown() -> str:
    """The whole document: the introduction, then every type of the summary and of each registered task."""
    models = [_models.Summary, _models.Cell, _models.TaskPopulation, _models.Accounting, _models.Repeats,
              _models.Alarm, _models.Probe, _models.Environment, _models.ModelRecord,
              *(kind.Result for kind in task_types().values())]
    return "\n".join([INTRODUCTION, *schema_sections(models)]).rstrip() + "\n"


if __name__ == "__main__":
    print(schema_markdown(), end="")
