"""Exact mode against grammar-constrained sampling on the concept task's eagle and ostrich questions.

    python benchmarks/exact_vs_constrained.py [--model embedded:smollm2-135m-instruct] [--target robin]
                                              [--draws 100] [--questions 4] [--temperature 1.0]

For every question of one target whose answers include "an eagle" or "an ostrich" (an article that begins
the other answer's: " a" is a prefix of " an"), the exact distribution is computed (requests and time per
prompt are printed), then the questions whose less likely answer has at least 5% get ``--draws``
constrained samples each at the same temperature with truncation off. Printed per question: exact P(first
answer), the sampled share, its z-score, the outside mass; then a pooled z over the sampled questions
(|z| < 3 is agreement within sampling noise).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from dataclasses import replace

from monoculture.backends import Decoding, GenerationRequest, ModelOptions, load_backend
from monoculture.tasks import render
from monoculture.tasks.concepts._items import pair_items
from monoculture.tasks.concepts._task import concept_question


def _requests(info, target: str, temperature: float) -> list[tuple[GenerationRequest, tuple[str, str]]]:
    decoding = Decoding(temperature=temperature, top_k=0, top_p=1.0, min_p=0.0, max_tokens=16)
    asked = []
    for first, second in pair_items(target):
        if not {"eagle", "ostrich"} & {first, second}:
            continue
        for replicate in (1, 2):
            prompt = concept_question("|".join((target, first, second)), replicate)
            rendered = render(info.kind, "", prompt.text, context_placement="user")
            grammar = 'root ::= " "? (' + " | ".join(f'"{c}"' for c in prompt.choices) + ")\n"
            asked.append((GenerationRequest(decoding=decoding, seed=0, prompt=rendered.prompt,
                                            messages=rendered.messages, grammar=grammar), prompt.choices))
    return asked


async def main(args: argparse.Namespace) -> None:
    backend = load_backend(args.model, ModelOptions())
    try:
        asked = _requests(backend.info, args.target, args.temperature)
        clock = time.perf_counter()
        exact = [await backend.answer_distribution(request, choices) for request, choices in asked]
        seconds = time.perf_counter() - clock
        steps = sum(d.steps for d in exact)
        print(f"{args.model}: {len(asked)} eagle/ostrich prompts of {args.target}, exact in {seconds:.1f} s "
              f"({seconds / len(asked):.2f} s and {steps / len(asked):.1f} undecided steps per prompt)")
        chosen = [(request, choices, d) for (request, choices), d in zip(asked, exact)
                  if min(d.probabilities.values()) >= 0.05][:args.questions]
        pooled_difference = pooled_variance = 0.0
        for request, choices, distribution in chosen:
            draws = await asyncio.gather(*(backend.generate(replace(request, seed=seed)) for seed in range(args.draws)))
            texts = [d.text.strip() for d in draws]
            first = choices[0]
            p = distribution.probabilities[first]
            share = sum(text == first for text in texts) / len(texts)
            invalid = sum(text not in choices for text in texts)
            z = (share - p) / math.sqrt(p * (1 - p) / len(texts))
            pooled_difference += len(texts) * (share - p)
            pooled_variance += len(texts) * p * (1 - p)
            print(f"  {choices[0]!r} vs {choices[1]!r}: exact {p:.3f}, sampled {share:.3f} of {len(texts)} "
                  f"(z {z:+.2f}, {invalid} invalid), outside mass {distribution.outside_mass:.3f}")
        if chosen:
            print(f"pooled z over {len(chosen)} questions: {pooled_difference / math.sqrt(pooled_variance):+.2f}")
        else:
            print("no question has both answers at 5% or more")
    finally:
        await backend.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded:smollm2-135m-instruct")
    parser.add_argument("--target", default="robin")
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--questions", type=int, default=4)
    parser.add_argument("--temperature", type=float, default=1.0)
    asyncio.run(main(parser.parse_args()))
