"""``summary.json``: every number derived from the store alone (STYLE principle 11).

:func:`summarize` reads the study of the store's latest run and the samples its plan names, and
recomputes every metric; nothing is carried over from the run in memory, so a reloaded store gives the
same summary as the run that wrote it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from monoculture._files import write_atomically
from monoculture.report._checks import accounting, population_alarms, probe_alarms, repeats_check
from monoculture.store import SampleRecord, Store
from monoculture.study import Study, parse_study

_SWATCH_WORDS = 6


def _checked(samples: list[SampleRecord], planned: int) -> dict:
    """What a population's estimates rest on: its accounting and its repeats check."""
    return {"accounting": accounting(samples, planned), "repeats": repeats_check(samples)}


def _colour_block(samples: list[SampleRecord], mode: str, words: tuple[str, ...], seed: int) -> dict:
    from monoculture.metrics import ColourAnswer, summarize_colour, swatches
    from monoculture.reference import colour_words

    word_types = dict(colour_words())
    answers = [ColourAnswer(str(s.individual), s.item, s.replicate, s.answer if s.valid else None) for s in samples]
    block = {"mode": mode, **summarize_colour(answers, word_types, seed=seed)}
    block["swatches"] = swatches(answers, list(words[:_SWATCH_WORDS]))
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


def _mode_comparison(samples: dict[str, list[SampleRecord]], modes: tuple[str, str], plan: dict, seed: int,
                     planned: dict[str, int]) -> dict:
    from monoculture.metrics import compare_modes

    # The exact side (if any) is the reference; a sampled side's answers are compared with it.
    reference, other = sorted(modes, key=lambda mode: mode != "exact")
    sampled = {f"{s.item}#{s.replicate}": [] for s in samples[other]}
    for s in samples[other]:
        sampled[f"{s.item}#{s.replicate}"].append(s.answer if s.valid else None)
    comparison = compare_modes(_answer_distributions(samples[reference], plan), sampled, seed=seed)
    return {"modes": [reference, other], "model_calls": {mode: model_calls(samples[mode]) for mode in modes},
            **comparison, **_checked(samples[other], planned.get(other, 0)), "checked_mode": other}


def _concept_block(samples: dict[str, list[SampleRecord]], study: Study, plan: dict, planned: dict[str, int]) -> dict:
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
                                                    spec.modes, plan, study.seed, planned)
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
    probes = store.probes()
    models: dict = {}
    alarms: list[dict] = []
    n_planned_by_model: dict[str, int] = {}
    for entry in study.models:
        planned = {sample.key: sample for sample in plan(study, entry.spec, with_contexts=False)}
        n_planned = Counter((key.condition, key.task, key.mode) for key in planned)
        n_planned_by_model[entry.spec] = len(planned)
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
                mode = study.colour.mode
                samples = by_population.get((label, "colour"), {}).get(mode, [])
                block["colour"] = _colour_block(samples, mode, words, study.seed)
                block["colour"].update(_checked(samples, n_planned[(label, "colour", mode)]))
            if study.concepts is not None:
                by_mode = by_population.get((label, "concepts"), {})
                block["concepts"] = _concept_block(
                    by_mode, study, planned, {m: n_planned[(label, "concepts", m)] for m in study.concepts.modes})
                block["concepts"].update(_checked(by_mode.get(study.concepts.mode, []),
                                                  n_planned[(label, "concepts", study.concepts.mode)]))
            for task in ("colour", "concepts"):
                if task in block:
                    alarms += population_alarms(entry.spec, label, task, block[task])
                    if "mode_comparison" in block[task]:
                        alarms += population_alarms(entry.spec, label, task, block[task]["mode_comparison"])
            conditions[label] = block
        models[entry.spec] = conditions
        if entry.spec in probes:
            alarms += probe_alarms(entry.spec, probes[entry.spec])
    return {
        "monoculture_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "study": runs[-1]["study"],
        "environment": runs[-1]["environment"],
        "n_samples_stored": store.count(),
        "n_samples_planned": sum(n_planned_by_model.values()),
        "alarms": alarms,
        "probes": {spec: probe for spec, probe in probes.items() if spec in models},
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
    write_atomically(out / "summary.json", json.dumps(summary, indent=2, allow_nan=False).encode("utf-8"))
    write_atomically(out / "report.html", render_html(summary).encode("utf-8"))
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
