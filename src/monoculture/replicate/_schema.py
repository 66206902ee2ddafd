"""``docs/replication-schema.md``, generated from the replication's models.

``python -m monoculture.replicate._schema > docs/replication-schema.md`` writes it; a test checks it is current.
"""

from __future__ import annotations

from monoculture.display import schema_sections
from monoculture.replicate._models import Replication

INTRODUCTION = """# replication.json

`monoculture replicate murthy2025 --out DIR` writes `replication.json` (a `monoculture.replicate.Replication`)
beside the usual `samples.sqlite`, `summary.json` and `report.html` of the imported answers, and
`replication.html`, which shows it. The summary is the ordinary one (`docs/summary-schema.md`): the published
models are `published:<name>` with `family` and `stage`, so `families` and `mixed_models` hold monoculture's paired
statistics per condition. `replication.json` adds the paper's own recipe, the paper's compiled values, and the
verdicts. Recipes: `paper` (sweep 499 of one Gibbs chain on the first 25/50/75/100 complete subjects, averaged),
`monoculture` (the converged sampler's posterior mean of P(multiple concepts) per concept),
`monoculture_unbiased` (its N/(N − 1) form) and `monoculture_fixed_n` (the N/(N − 1) form on the first `fixed_n`
complete subjects of each concept that has them: every model judged on as many people). docs/methods.md, section 13.

## Reference

Generated from the models (`python -m monoculture.replicate._schema`); each type lists its fields.
"""


def schema_markdown() -> str:
    """The whole document."""
    return "\n".join([INTRODUCTION, *schema_sections([Replication])]).rstrip() + "\n"


if __name__ == "__main__":
    print(schema_markdown(), end="")
