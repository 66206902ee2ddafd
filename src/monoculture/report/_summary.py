"""``summary.json``: every number derived from the store alone (STYLE principle 11).

:func:`summarize` reads the study of the store's latest run and the samples its plan names, and
recomputes every metric; nothing is carried over from the run in memory, so a reloaded store gives the
same summary as the run that wrote it.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

from monoculture.store import SampleRecord, Store
from monoculture.study import Study, parse_study

_SWATCH_WORDS = 6
_INVALID_EXAMPLES = 5


def _invalid_examples(samples: list[SampleRecord]) -> list[dict]:
    return [{"item": s.item, "output": s.raw_output[:300], "reason": s.invalid_reason}
            for s in samples if not s.valid][:_INVALID_EXAMPLES]


def _colour_block(samples: list[SampleRecord], mode: str, words: tuple[str, ...], seed: int) -> dict:
    from monoculture.metrics import ColourAnswer, summarize_colour, swatches
    from monoculture.reference import colour_words

    word_types = dict(colour_words())
    answers = [ColourAnswer(str(s.individual), s.item, s.replicate, s.answer if s.valid else None) for s in samples]
    block = {"mode": mode, **summarize_colour(answers, word_types, seed=seed)}
    block["swatches"] = swatches(answers, list(words[:_SWATCH_WORDS]))
    block["invalid_examples"] = _invalid_examples(samples)
    return block


def _concept_block(samples: list[SampleRecord], mode: str, study: Study) -> dict:
    from monoculture.tasks import ConceptAnswer, summarize_concepts

    spec = study.concepts
    answers = [ConceptAnswer(str(s.individual), s.target or "", s.item, s.replicate, s.answer if s.valid else None)
               for s in samples]
    block = {"mode": mode, **summarize_concepts(answers, sweeps=spec.sweeps, burn_in=spec.burn_in,
                                                 chains=spec.chains, seed=study.seed)}
    block["invalid_examples"] = _invalid_examples(samples)
    return block


def _human(study: Study, words: tuple[str, ...]) -> dict:
    from monoculture import reference

    human: dict = {}
    if study.colour is not None:
        human["colour"] = reference.human_colour_block()
        human["colour"]["swatches"] = reference.human_swatches(list(words[:_SWATCH_WORDS]))
    if study.concepts is not None:
        human["concepts"] = reference.human_concept_block()
    return human


def summarize(store: Store) -> dict:
    """The summary of the store's latest study, recomputed from its samples."""
    from monoculture import __version__
    from monoculture._plan import colour_task, plan

    runs = store.runs()
    if not runs:
        raise ValueError("the store holds no run")
    study = parse_study(runs[-1]["study"], source="stored study")
    words = colour_task(study).words if study.colour is not None else ()
    model_info = store.models()
    models: dict = {}
    for entry in study.models:
        wanted = {sample.key for sample in plan(study, entry.spec, with_contexts=False)}
        by_population: dict[tuple[str, str], list[SampleRecord]] = {}
        for sample in store.samples(model=entry.spec):
            if sample.key in wanted:
                by_population.setdefault((sample.condition, sample.task), []).append(sample)
        conditions: dict = {}
        for condition_entry in study.conditions:
            label = condition_entry.condition().label
            block: dict = {"kind": model_info.get(entry.spec, {}).get("kind"), "context": condition_entry.context}
            first = next((samples[0] for (cond, _), samples in by_population.items() if cond == label), None)
            if first is not None:
                block["temperature"] = first.decoding["temperature"]
                block["decoding"] = {k: v for k, v in first.decoding.items() if k != "max_tokens"}
            if study.colour is not None:
                samples = by_population.get((label, "colour"), [])
                block["colour"] = _colour_block(samples, study.colour.mode, words, study.seed)
            if study.concepts is not None:
                samples = by_population.get((label, "concepts"), [])
                block["concepts"] = _concept_block(samples, study.concepts.mode, study)
            conditions[label] = block
        models[entry.spec] = conditions
    return {
        "monoculture_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "study": runs[-1]["study"],
        "environment": runs[-1]["environment"],
        "n_samples_stored": store.count(),
        "model_info": {spec: info for spec, info in model_info.items() if spec in models},
        "models": models,
        "human": _human(study, words),
    }


def write_outputs(store: Store, out_dir: str | Path) -> dict:
    """Write ``summary.json`` and ``report.html`` next to the store; returns the summary."""
    from monoculture.report._html import render_html

    out = Path(out_dir)
    summary = summarize(store)
    summary = json_safe(summary)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False), encoding="utf-8")
    (out / "report.html").write_text(render_html(summary), encoding="utf-8")
    return summary


def json_safe(value: object) -> object:
    """Plain JSON values: numpy scalars become Python numbers and NaN or infinity becomes null."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
