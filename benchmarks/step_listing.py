"""What listing a step's allowed tokens costs llama.cpp: steps per second of a constrained colour answer.

    python benchmarks/step_listing.py [--models gemma-3-270m smollm2-135m-instruct] [--steps 24]

Each of 1, 2, 4 or 8 prompts in flight keeps its own slot and asks ``--steps`` one-token steps after "#" one after
another (as a sample does), its path growing by one token a step; the figure is steps per second over all of them.
The kinds: a greedy token (no list: the floor); a step that raises the allowed hex-code tokens and keeps them with
``top_k`` (``backends/_stepwise.keep_raised``) or with a tiny ``min_p`` (1e-20: every token within 46 nats of the
best, a filter instead of a sort), listing all of them, the 24 most likely (``LISTED_PER_STEP``) or 1. Then, from
the demo's colour prompts (no context and 4 personas, 6 words), the share of a step's probability beyond its 8, 16,
24 and 32 most likely tokens: how often a list that long sends a draw to the server for the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from monoculture.backends import Decoding, GenerationRequest
from monoculture.backends._embedded import EMBEDDED_MODELS, EmbeddedBackend
from monoculture.backends._stepwise import answer_language, read_step, step_body
from monoculture.backends._vocabulary import read_vocabulary
from monoculture.tasks import render
from monoculture.tasks.colour._task import COLOUR_PROMPT

PATTERN = r" ?#[0-9a-fA-F]{6}"
UNTRUNCATED = Decoding(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, max_tokens=8)
WORDS = ("ocean", "fire", "apple", "justice", "sadness", "night")
PERSONAS = ("", "You are a nurse from Ohio.", "You are a retired farmer in Kenya.", "You are a student in Seoul.",
            "You are a lawyer from Lyon.")


def kinds(allowed: list[int]) -> list[tuple[str, dict]]:
    min_p = {"top_k": 0, "min_p": 1e-20, "samplers": ["min_p", "temperature"]}
    return [
        ("greedy token (no list)", {"max_tokens": 1, "temperature": 0.0}),
        ("top_k, all listed", step_body({}, None, allowed, 1.0)),
        ("min_p, all listed", {**step_body({}, None, allowed, 1.0), **min_p}),
        ("top_k, 24 listed", step_body({}, None, allowed, 1.0, 24)),
        ("min_p, 24 listed", {**step_body({}, None, allowed, 1.0, 24), **min_p}),
        ("top_k, 1 listed", step_body({}, None, allowed, 1.0, 1)),
    ]


def steps_per_second(server, body: dict, hash_token: int, allowed: list[int], in_flight: int, steps: int) -> float:
    def one(slot: int) -> None:
        prompt = f"Person {slot} says: the colour of the word {WORDS[slot % len(WORDS)]} is"
        path = [hash_token]
        for step in range(steps):
            reply = server.handle_completions({**body, "prompt": [prompt, *path], "seed": step, "id_slot": slot})
            if "error" in reply:
                raise SystemExit(f"llama.cpp refused a step: {reply['error']}")
            path.append(allowed[(slot * 7 + step) % len(allowed)])

    for slot in range(in_flight):  # the prompts read once, as a sample's first step would
        one_step = {**body, "prompt": f"Person {slot} says:", "seed": 0, "id_slot": slot}
        server.handle_completions(one_step)
    start = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(one, range(in_flight)))
    return in_flight * steps / (time.perf_counter() - start)


def unlisted_shares(backend: EmbeddedBackend, language, hash_token: int) -> dict[int, list[float]]:
    """The probability beyond each list length at the first three digit steps of each demo-like prompt (the path
    follows each step's likeliest token)."""
    shares: dict[int, list[float]] = {length: [] for length in (8, 16, 24, 32)}

    async def walk() -> None:
        for persona in PERSONAS:
            for word in WORDS:
                rendered = render(backend.info.kind, persona, COLOUR_PROMPT.format(word=word))
                request = GenerationRequest(decoding=UNTRUNCATED, seed=0, prompt=rendered.prompt,
                                            messages=rendered.messages)
                prompt_text, _ = await backend._prompt(request)
                state = language.allowed[language.initial][hash_token]
                path = [hash_token]
                for _ in range(3):
                    allowed = language.allowed[state]
                    step = read_step(backend._complete(step_body({}, [prompt_text, *path], sorted(allowed), 1.0)),
                                     allowed)
                    probabilities = sorted((p for _, p in step.probabilities()), reverse=True)
                    for length in shares:
                        shares[length].append(sum(probabilities[length:]))
                    best = max(step.probabilities(), key=lambda pair: pair[1])[0]
                    path.append(best)
                    state = allowed[best]

    asyncio.run(walk())
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(EMBEDDED_MODELS))
    parser.add_argument("--steps", type=int, default=24)
    args = parser.parse_args()
    for name in args.models:
        model = EMBEDDED_MODELS[name]
        backend = EmbeddedBackend(f"embedded:{name}", model.locate(), model.kind)
        vocabulary = read_vocabulary(model.locate())
        language = answer_language(PATTERN, vocabulary)
        hash_token = vocabulary.tokens_by_text["#"][0]
        allowed = sorted(language.allowed[language.allowed[language.initial][hash_token]])
        print(f"{name} ({backend.threads} threads, {len(allowed)} tokens allowed after '#'), steps per second:")
        print(f"  {'':34s} " + " ".join(f"{n:>6d} in flight" for n in (1, 2, 4, 8)))
        for label, body in kinds(allowed):
            rates = [steps_per_second(backend._server, body, hash_token, allowed, n, args.steps) for n in (1, 2, 4, 8)]
            print(f"  {label:34s} " + " ".join(f"{rate:16.1f}" for rate in rates), flush=True)
        shares = unlisted_shares(backend, language, hash_token)
        print("  probability beyond the list at a step (mean, largest over "
              f"{len(shares[8])} steps): " + "; ".join(f"{length}: {statistics.mean(values):.4f}, {max(values):.3f}"
                                                      for length, values in shares.items()))
        asyncio.run(backend.aclose())


if __name__ == "__main__":
    main()
