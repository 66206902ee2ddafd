"""What the colour-terms and questions tasks cost beyond sampling: the categorical summary, the name reader, and
embedding open answers with the default embedder (cold and from the store's cache).

Run: ``python benchmarks/open_and_categorical.py``. Prints one line per figure.

- **categorical**: ``summarize_categorical`` (disagreement, bootstrap over items, 200-permutation null,
  distribution measures) of populations of 1,000 and 10,000 individuals x 20 items x 2 replicates, 11 labels.
- **reader**: ``read_colour_name`` on 10,000 model-like answers ("It is light blue.", "**Teal**", ...).
- **embedding**: the default embedder (all-MiniLM-L6-v2, int8 ONNX) on 1,000 distinct answers of 1 to 40 words,
  then the same texts through ``CachedEmbedder`` twice (first fills the store, then reads it).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path


def categorical() -> None:
    from monoculture.metrics import BASIC_TERMS, CategoricalAnswer, summarize_categorical

    for individuals in (1_000, 10_000):
        rng = random.Random(0)
        answers = [CategoricalAnswer(str(i), f"item{j}", r, rng.choice(BASIC_TERMS))
                   for i in range(individuals) for j in range(20) for r in (1, 2)]
        started = time.perf_counter()
        summarize_categorical(answers, seed=0)
        print(f"categorical summary: {individuals:,} individuals x 20 items x 2: {time.perf_counter() - started:.2f} s")


def reader() -> None:
    from monoculture.metrics import read_colour_name

    forms = ["It is {}.", "**{}**", "{}", "I would say {}, because it is calm.", "The colour {} comes to mind"]
    names = ["light blue", "teal", "white", "Dark Green", "navy", "grey", "sky blue", "burnt orange", "happiness"]
    texts = [random.Random(i).choice(forms).format(random.Random(-i).choice(names)) for i in range(10_000)]
    read_colour_name("warm-up")
    started = time.perf_counter()
    found = sum(read_colour_name(text) is not None for text in texts)
    elapsed = time.perf_counter() - started
    print(f"name reader: 10,000 answers in {elapsed:.2f} s ({10_000 / elapsed:,.0f}/s), {found:,} named a colour")


def embedding() -> None:
    from monoculture.embedders import CachedEmbedder, embedder
    from monoculture.store import Store

    rng = random.Random(1)
    words = "the a lighthouse autumn leaves falls quiet night sea storm keeper light cat name whiskers coffee".split()
    texts = sorted({" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) + f" {i}" for i in range(1_000)})
    started = time.perf_counter()
    model = embedder("default")
    model.embed(["warm-up"])
    print(f"embedder load: {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    model.embed(texts)
    elapsed = time.perf_counter() - started
    print(f"embedding: {len(texts):,} texts of 1-40 words in {elapsed:.1f} s ({len(texts) / elapsed:.0f} texts/s)")
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "samples.sqlite") as store:
        cached = CachedEmbedder(model, store)
        for label in ("cache cold", "cache warm"):
            started = time.perf_counter()
            cached.embed(texts)
            print(f"embedding through the store ({label}): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    categorical()
    reader()
    embedding()
