"""``monoculture replicate murthy2025``: the published answers into a store, the paper's recipe beside
monoculture's, and the verdict per family (README, "The paper's result, replicated"; docs/methods.md, 13)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from monoculture.errors import DataError, StoreError, StudyFileError
from monoculture.replicate._import import (
    count_published,
    import_published,
    plan_of,
    read_published,
    replication_study,
)
from monoculture.replicate._fixed_n import FIXED_N, cell_means, fixed_n_recipe
from monoculture.replicate._models import FamilyVerdict, ReplicatedCell, Replication
from monoculture.replicate._paper import PaperCell, paper_recipe
from monoculture.replicate._published import (
    FAMILIES,
    MODELS,
    PublishedFile,
    bare_name,
    compiled_cells,
    published_files,
)
from monoculture.replicate._verdict import pooled_verdict, verdict_words, family_verdict

__all__ = ["RUN_TO_RUN_SPREAD", "replicate_murthy2025"]

# The allowed distance between one run of the paper's recipe and the paper's own (itself one run): the 95th
# percentile over cells of |a − b| between two seeds, measured by benchmarks/replicate_paper.py (4 seeds on the
# 50 files CI holds: median 0.0033, 90th percentile 0.0203, 95th 0.0275, largest 0.0585).
RUN_TO_RUN_SPREAD = 0.0275
STUDY_NAME = "murthy2025-replication"


def _check_folder(out: Path) -> None:
    from monoculture.store import Store

    path = out / "samples.sqlite"
    if not path.is_file():
        return
    with Store(path) as store:
        names = {run["study"].get("name") for run in store.runs()}
    if names - {STUDY_NAME}:
        raise StoreError(f"{out} holds the samples of another study ({', '.join(sorted(map(str, names)))}): "
                         "choose another --out for the replication")


def _cells(paper: Sequence[PaperCell], published: dict, summary, human, valid: dict, subset: bool,
           fixed: dict[tuple[str, str, str], tuple[float, int]]) -> list[ReplicatedCell]:
    cells = []
    for cell in paper:
        family = next(f for f, (b, a, _) in FAMILIES.items() if cell.model in (b, a))
        label = PublishedFile(cell.model, cell.prompt, cell.temperature, None).condition
        own = summary.models.get(f"published:{cell.model}", {}).get(label)
        result = own.tasks["concepts"].result if own is not None and "concepts" in own.tasks else None
        block = result.by_category.get(cell.category) if result is not None else None
        people = human.by_category.get(cell.category) if human is not None else None
        key = (cell.model, cell.prompt, cell.temperature, cell.category)
        value = published.get(key)
        # A subset of concepts averages other concepts than the paper's cell: not compared.
        within = (None if value is None or cell.p_multiple_concepts is None or subset
                  else abs(cell.p_multiple_concepts - value) <= RUN_TO_RUN_SPREAD)
        in_file = sum(cell.complete_subjects.values()) + sum(cell.incomplete_subjects.values())
        at_fixed_n, concepts_at_fixed_n = fixed.get((cell.model, label, cell.category), (None, 0))
        cells.append(ReplicatedCell(
            model=cell.model, family=family, aligned=FAMILIES[family][1] == cell.model, prompt=cell.prompt,
            temperature=cell.temperature, condition=label, category=cell.category,
            paper_recipe=cell.p_multiple_concepts, published=value, within_run_to_run_spread=within,
            monoculture=block.p_multiple_concepts if block else None,
            monoculture_unbiased=block.p_multiple_concepts_unbiased if block else None,
            monoculture_fixed_n=at_fixed_n, concepts_at_fixed_n=concepts_at_fixed_n,
            monoculture_ci=block.p_multiple_concepts_bootstrap_ci if block else None,
            homogeneous_null=block.null.null_mean if block and block.null else None,
            people=people.p_multiple_concepts if people else None,
            complete_subjects=sum(cell.complete_subjects.values()), subjects_in_file=in_file,
            concepts_with_complete_subjects=sum(n > 0 for n in cell.complete_subjects.values()),
            valid_fraction=valid.get((cell.model, cell.prompt, cell.temperature))))
    return cells


def _means(cells: Sequence[ReplicatedCell], field: str) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, aligned in (("non_aligned", False), ("aligned", True)):
        values = [getattr(c, field) for c in cells if c.aligned == aligned and getattr(c, field) is not None]
        out[name] = statistics.fmean(values) if values else None
    return out


def replicate_murthy2025(out: str | Path, *, root: str | Path | None = None, seed: int = 0,
                         models: Sequence[str] | None = None, targets: Sequence[str] | None = None,
                         workers: int | None = None, fixed_n: int = FIXED_N,
                         progress: Callable[[str], None] | None = None) -> Replication:
    """Import the paper's published concept answers into ``out`` and compare the recipes (see the module; ``fixed_n``:
    the complete subjects per concept of the fixed-N recipe); writes ``samples.sqlite``, ``summary.json``, ``report.html``, ``replication.json`` and ``replication.html``."""
    from monoculture._run import environment
    from monoculture.files import write_atomically
    from monoculture.reference import data_root
    from monoculture.report import write_outputs
    from monoculture.store import Store
    from monoculture.study import parse_study

    say = progress or (lambda message: None)
    out = Path(out)
    root = Path(root) if root is not None else Path(data_root())
    from monoculture.tasks.concepts import TARGETS

    unknown = sorted(set(models or ()) - set(MODELS))
    if unknown:
        raise StudyFileError(f"unknown published model(s) {', '.join(unknown)}: choose among {', '.join(MODELS)}")
    strange = sorted(set(targets or ()) - set(TARGETS))
    if strange:
        raise StudyFileError(f"unknown concept(s) {', '.join(strange)}: choose among {', '.join(TARGETS)}")
    files = [f for f in published_files(root) if models is None or f.model in models]
    present = [f for f in files if f.path is not None]
    missing = [f.name for f in files if f.path is None]
    if not present:
        raise DataError(f"none of the paper's published answer files is under {root}: run `monoculture data fetch "
                        "--group published-answers`")
    if missing:
        say(f"{len(missing)} of {len(files)} published files are missing ({', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}); `monoculture data fetch --group published-answers` gets them")
    _check_folder(out)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    read = read_published(files, targets)
    study = parse_study(replication_study(files, seed=seed, targets=targets), source="replication study")
    with Store(out / "samples.sqlite") as store:
        run_id = store.start_run(study.model_dump(mode="json"), environment(), plan_of(count_published(read), targets))
        imported = import_published(read, store, run_id)
        store.finish_run(run_id)
        seconds["import"] = time.perf_counter() - started
        say(f"imported {sum(i.samples for i in imported):,} answers of {len(imported)} files "
            f"in {seconds['import']:.0f} s; the paper's recipe next")
        started = time.perf_counter()
        paper = paper_recipe(files, seed=seed, workers=workers, targets=targets,
                             inputs={one.file.name: one.inputs for one in read})
        seconds["paper_recipe"] = time.perf_counter() - started
        say(f"the paper's recipe: {seconds['paper_recipe']:.0f} s; monoculture's at {fixed_n} subjects next")
        started = time.perf_counter()
        fixed = fixed_n_recipe(read, n=fixed_n, seed=seed, workers=workers)
        seconds["fixed_n"] = time.perf_counter() - started
        say(f"monoculture's at {fixed_n} subjects: {seconds['fixed_n']:.0f} s; its summary of everything next")
        started = time.perf_counter()
        summary = write_outputs(store, out, workers=workers or len(os.sched_getaffinity(0)))
        seconds["summary"] = time.perf_counter() - started
    human = summary.human.get("concepts")
    published = compiled_cells(root)
    valid = {(i.file.model, i.file.prompt, i.file.temperature): i.valid / i.samples if i.samples else None
             for i in imported}
    cells = _cells(paper, published, summary, human, valid, subset=targets is not None, fixed=cell_means(fixed))

    recipes = {"paper": {}, "monoculture": {}, "monoculture_unbiased": {}, "monoculture_fixed_n": fixed}
    for cell in paper:
        label = PublishedFile(cell.model, cell.prompt, cell.temperature, None).condition
        for concept, value in cell.by_concept.items():
            recipes["paper"][(cell.model, label, bare_name(concept))] = value
    for spec, by_condition in summary.models.items():
        for label, own in by_condition.items():
            if "concepts" not in own.tasks:
                continue
            for target, stats in own.tasks["concepts"].result.by_target.items():
                model = spec.removeprefix("published:")
                if stats.p_multiple_concepts is not None:
                    recipes["monoculture"][(model, label, target)] = stats.p_multiple_concepts
                if stats.p_multiple_concepts_unbiased is not None:
                    recipes["monoculture_unbiased"][(model, label, target)] = stats.p_multiple_concepts_unbiased
    families = []
    for family, (base, aligned, method) in FAMILIES.items():
        if not any(f.model in (base, aligned) for f in present):
            continue
        verdicts = family_verdict(family, recipes, seed)
        families.append(FamilyVerdict(family=family, base=base, aligned=aligned, method=method, recipes=verdicts,
                                      sentence=f"{aligned} ({method} on {base}): the paper's conclusion "
                                               f"{verdict_words(verdicts)}."))
    pooled = pooled_verdict(recipes, seed)
    compared = [c for c in cells if c.within_run_to_run_spread is not None]
    replication = Replication(
        source="Murthy, Ullman & Hu (2025), One fish, two fish, but not the whole sea (NAACL); "
               "github.com/skmur/onefish-twofish at 3cf5583",
        files_present=[f.name for f in present], files_missing=missing, run_to_run_spread=RUN_TO_RUN_SPREAD,
        cells_within_spread=sum(bool(c.within_run_to_run_spread) for c in compared), cells_compared=len(compared),
        pooled_means={"paper_recipe": _means(cells, "paper_recipe"), "published": _means(cells, "published"),
                      "monoculture": _means(cells, "monoculture"),
                      "monoculture_unbiased": _means(cells, "monoculture_unbiased"),
                      "monoculture_fixed_n": _means(cells, "monoculture_fixed_n")},
        fixed_n=fixed_n, cells=cells, families=families, pooled=pooled,
        pooled_sentence=f"All families but llama2: aligned models are less diverse than their bases: the "
                        f"conclusion {verdict_words(pooled)}.",
        comparison_sentences=[sentence for family in summary.families for sentence in family.sentences],
        seconds={name: round(value, 1) for name, value in seconds.items()},
        notes=([f"{len(missing)} of {len(files)} published files missing: {', '.join(missing)}"] if missing else [])
        + ([f"only the concepts {', '.join(targets)}: cells are not compared with the paper's, which average all 20"]
           if targets is not None else []))
    from monoculture.replicate._show import replication_page

    write_atomically(out / "replication.json", replication.model_dump_json(indent=1).encode("utf-8"))
    write_atomically(out / "replication.html", replication_page(replication).encode("utf-8"))
    return replication
