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


def model_calls(samples: list[SampleRecord]) -> int:
    """Requests a population cost: one per sample, but one per distinct prompt in exact mode."""
    if samples and samples[0].mode == "exact":
        return len({(s.prompt, json.dumps(s.decoding, sort_keys=True)) for s in samples})
    return len(samples)


def _answer_distributions(samples: list[SampleRecord], plan: dict) -> dict[str, list[dict[str, float]]]:
    """Per item and order, every individual's answer distribution in the task's answer values."""
    by_item: dict[str, list[dict[str, float]]] = {}
    for s in samples:
        if s.mode == "exact":
            planned = plan[s.key]
            distribution: dict[str, float] = {}
            for choice, probability in json.loads(s.raw_output).items():
                value = planned.task.parse(planned.prompt, choice).value
                distribution[value] = distribution.get(value, 0.0) + probability
        elif s.valid:
            distribution = {s.answer: 1.0}
        else:
            continue
        by_item.setdefault(f"{s.item}#{s.replicate}", []).append(distribution)
    return by_item


def _mode_comparison(samples: dict[str, list[SampleRecord]], modes: tuple[str, str], plan: dict, seed: int) -> dict:
    from monoculture.metrics import compare_modes

    # The exact side (if any) is the reference; a sampled side's answers are compared with it.
    reference, other = sorted(modes, key=lambda mode: mode != "exact")
    sampled = {f"{s.item}#{s.replicate}": [] for s in samples[other]}
    for s in samples[other]:
        sampled[f"{s.item}#{s.replicate}"].append(s.answer if s.valid else None)
    comparison = compare_modes(_answer_distributions(samples[reference], plan), sampled, seed=seed)
    return {"modes": [reference, other], "model_calls": {mode: model_calls(samples[mode]) for mode in modes},
            **comparison}


def _concept_block(samples: dict[str, list[SampleRecord]], study: Study, plan: dict) -> dict:
    from monoculture.tasks import ConceptAnswer, summarize_concepts

    spec = study.concepts
    main = samples.get(spec.mode, [])
    answers = [ConceptAnswer(str(s.individual), s.target or "", s.item, s.replicate, s.answer if s.valid else None)
               for s in main]
    block = {"mode": spec.mode, **summarize_concepts(answers, sweeps=spec.sweeps, burn_in=spec.burn_in,
                                                      chains=spec.chains, seed=study.seed)}
    block["model_calls"] = model_calls(main)
    if spec.compare_with is not None:
        block["mode_comparison"] = _mode_comparison({mode: samples.get(mode, []) for mode in spec.modes},
                                                    spec.modes, plan, study.seed)
    block["invalid_examples"] = _invalid_examples(main)
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
        planned = {sample.key: sample for sample in plan(study, entry.spec, with_contexts=False)}
        by_population: dict[tuple[str, str], dict[str, list[SampleRecord]]] = {}
        for sample in store.samples(model=entry.spec):
            if sample.key in planned:
                population = by_population.setdefault((sample.condition, sample.task), {})
                population.setdefault(sample.mode, []).append(sample)
        conditions: dict = {}
        for condition_entry in study.conditions:
            label = condition_entry.condition().label
            block: dict = {"kind": model_info.get(entry.spec, {}).get("kind"), "context": condition_entry.context}
            first = next((samples[0] for (cond, _), by_mode in by_population.items() if cond == label
                          for samples in by_mode.values()), None)
            if first is not None:
                block["temperature"] = first.decoding["temperature"]
                block["decoding"] = {k: v for k, v in first.decoding.items() if k != "max_tokens"}
            if study.colour is not None:
                samples = by_population.get((label, "colour"), {}).get(study.colour.mode, [])
                block["colour"] = _colour_block(samples, study.colour.mode, words, study.seed)
            if study.concepts is not None:
                block["concepts"] = _concept_block(by_population.get((label, "concepts"), {}), study, planned)
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
