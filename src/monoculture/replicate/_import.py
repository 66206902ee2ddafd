"""Published answers into a store: every coded choice of a ``*-forCRP.csv`` as a sample of a ``published:`` model,
so the concept summary, families and paired statistics, the report and ``open_results`` work on them with no model
loaded.

Mapping (docs/methods.md, section 13): model ``published:<name>``; condition: the paper's prompt none / identity /
random / nonsense is monoculture's context none / persona / random / nonsense, its temperatures default, 1.5 and
2.0 stay; individual: the subject's ID (animals' subjects 0-899 as they are, politicians' 0-899 after them as
900-1799, since the paper gave the two categories different subjects); item: the target and the pair in the paper's
order; the answer: the choice's bare name, the raw output the ChoiceNumber as the file has it. A subject's pairs
absent from the file are the answers the paper found invalid: stored as invalid samples, so every validity figure
counts them. Subjects with no valid answer at all are not in the files and so not in the store (the report says how
many complete subjects each cell has). Each file's sha256 is its model version's provenance.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from monoculture.files import sha256_of
from monoculture.replicate._published import FAMILIES, PUBLISHED_CONDITIONS, PublishedFile, bare_name
from monoculture.store import SampleRecord, Store, settings_hash

__all__ = ["ImportedFile", "ReadFile", "count_published", "import_published", "plan_of", "published_settings",
           "read_published", "replication_study"]

TASK = "concepts"
MODE = "free"  # the paper's answers were free text, read by its own parser
SUBJECTS_PER_CATEGORY = 900
ABSENT = "absent from the published file: the paper found this answer invalid"
SOURCE = "Murthy, Ullman & Hu (2025), github.com/skmur/onefish-twofish at 3cf5583"


@dataclass(frozen=True)
class ReadFile:
    """One located file read once: its sha256 (checked against the manifest) and its answers per concept."""

    file: PublishedFile
    sha256: str
    inputs: dict  # concept -> CRPInput (monoculture.tasks.concepts), only the targets asked for


@dataclass(frozen=True)
class ImportedFile:
    """What one file adds: its samples and subjects."""

    file: PublishedFile
    sha256: str
    samples: int
    valid: int
    subjects: int
    complete_subjects: int


def _kind(model: str) -> str:
    """llama2 is the one base model of the ten; the others are instruction- or chat-tuned."""
    return "base" if model == "llama2" else "chat"


def _questions(target: str) -> dict[str, tuple[str, str]]:
    """The published Question text of each of a target's 36 pairs ("a finch a robin") -> the pair."""
    from monoculture.tasks.concepts import pair_items, with_article

    return {f"{with_article(a)} {with_article(b)}": (a, b) for a, b in pair_items(target)}


def replication_study(files: Sequence[PublishedFile], *, seed: int = 0, targets: Sequence[str] | None = None) -> dict:
    """The study the imported answers belong to: the models present as families of base and aligned stages, the
    conditions present, the concept task on all 20 targets (its CRP settings are monoculture's defaults)."""
    present = [f for f in files if f.path is not None]
    models = []
    for family, (base, aligned, method) in FAMILIES.items():
        for model, stage in ((base, "base"), (aligned, "aligned")):
            if any(f.model == model for f in present):
                models.append({"spec": f"published:{model}", "family": family, "stage": stage,
                               "kind": _kind(model)})
    conditions = []
    for (prompt, temperature), (context, value) in PUBLISHED_CONDITIONS.items():
        if any((f.prompt, f.temperature) == (prompt, temperature) for f in present):
            conditions.append({"context": context, "temperature": "default" if value is None else value})
    return {"name": "murthy2025-replication", "seed": seed, "models": models, "conditions": conditions,
            "concepts": {"targets": "all" if targets is None else list(targets),
                         "individuals_per_target": SUBJECTS_PER_CATEGORY // 10, "mode": MODE}}


def read_published(files: Sequence[PublishedFile], targets: Sequence[str] | None = None) -> list[ReadFile]:
    """Every located file read and hashed once (on ``targets``, default all 20); a file whose sha256 is not the
    manifest's is refused in one line, before anything is stored."""
    from monoculture.errors import DataError
    from monoculture.reference import manifest
    from monoculture.tasks.concepts import read_crp_input

    expected = {Path(entry.path).name: entry.sha256 for entry in manifest(None) if entry.path.endswith("-forCRP.csv")}
    read = []
    for file in files:
        if file.path is None:
            continue
        sha256 = sha256_of(file.path)
        if expected.get(file.name) not in (None, sha256):
            raise DataError(f"{file.path} is not the file the paper published (sha256 {sha256[:12]}…, expected "
                            f"{expected[file.name][:12]}…): run `monoculture data fetch --group published-answers`")
        inputs = {concept: given for concept, given in read_crp_input(file.path).items()
                  if targets is None or bare_name(concept) in targets}
        read.append(ReadFile(file, sha256, inputs))
    return read


def _records(read: ReadFile, version: int, run_id: int, settings: str) -> Iterator[SampleRecord]:
    from monoculture.tasks.concepts import category_of, item_id

    file = read.file
    _, temperature = PUBLISHED_CONDITIONS[(file.prompt, file.temperature)]
    decoding = {} if temperature is None else {"temperature": temperature}  # default: the paper's, unrecorded
    model, condition = f"published:{file.model}", file.condition
    for concept, given in read.inputs.items():
        target = bare_name(concept)
        items = [(question, item_id(target, first, second), (first, second))
                 for question, (first, second) in _questions(target).items()]
        offset = 0 if category_of(target) == "animals" else SUBJECTS_PER_CATEGORY
        answers = {person: dict(zip(given.questions, row.tolist())) for person, row in zip(given.ids, given.responses)}
        answers.update(given.incomplete)
        for person, chosen in answers.items():
            individual = offset + int(person)
            for question, item, pair in items:
                choice = chosen.get(question)
                yield SampleRecord(
                    model=model, condition=condition, task=TASK, individual=individual, item=item, replicate=1,
                    mode=MODE, settings=settings, target=target, context=file.prompt, prompt="",
                    raw_output="" if choice is None else str(choice), answer=None if choice is None else pair[choice],
                    valid=choice is not None, invalid_reason=None if choice is not None else ABSENT, seed=0,
                    decoding=decoding, finish_reason=None, started_at=0.0, latency_s=0.0, run_id=run_id,
                    model_version=version)


def import_published(read: Sequence[ReadFile], store: Store, run_id: int) -> list[ImportedFile]:
    """Every read file's answers into ``store`` under run ``run_id``, one transaction per file (see the module);
    already imported samples are kept, not doubled."""
    imported = []
    for one in read:
        file = one.file
        info = {"kind": _kind(file.model), "backend": "published", "file": file.name,
                "sha256": one.sha256, "size_bytes": file.path.stat().st_size if file.path else None,
                "licence": "none found in the source repository (see its PROVENANCE.md)", "runtime": SOURCE,
                "default_decoding": {}, "max_concurrency": 1}
        version = store.put_model_version(f"published:{file.model}", info, run_id)
        store.add_many(_records(one, version, run_id, published_settings(one.sha256)))
        imported.append(count_published([one])[0])
    return imported


def count_published(read: Sequence[ReadFile]) -> list[ImportedFile]:
    """What :func:`import_published` adds per file, counted from the answers without building a sample: every
    subject in the file gets its target's 36 pairs, valid where the file has the pair."""
    counted = []
    for one in read:
        samples = valid = subjects = complete = 0
        for concept, given in one.inputs.items():
            questions = _questions(bare_name(concept))
            people = len(given.ids) + len(given.incomplete)
            subjects += people
            complete += len(given.ids)
            samples += people * len(questions)
            valid += len(given.ids) * len(questions) + sum(
                sum(question in questions for question in chosen) for chosen in given.incomplete.values())
        counted.append(ImportedFile(one.file, one.sha256, samples, valid, subjects, complete))
    return counted


def published_settings(sha256: str) -> str:
    """A published population's settings hash: the file it came from is everything that made it."""
    return settings_hash({"published": sha256})


def plan_of(imported: Sequence[ImportedFile], targets: Sequence[str] | None = None) -> dict:
    """The run record's plan: per file one population of exactly the samples it holds."""
    populations = [{"model": f"published:{i.file.model}", "condition": i.file.condition, "task": TASK, "mode": MODE,
                    "settings": published_settings(i.sha256), "planned": i.samples,
                    "settings_detail": {"published": i.file.name, "sha256": i.sha256}} for i in imported]
    from monoculture.tasks.concepts import TARGETS, item_id, pair_items

    items = sorted(item_id(t, a, b) for t in (targets or TARGETS) for a, b in pair_items(t))
    return {"populations": populations,
            "tasks": {TASK: {"individuals": 2 * SUBJECTS_PER_CATEGORY, "items": items}},
            "seed_collisions": {}, "deterministic": {}}
