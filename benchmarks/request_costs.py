"""What one llama.cpp request of each kind costs on each embedded model: where a constrained or exact run's time goes.

    python benchmarks/request_costs.py [--models gemma-3-270m smollm2-135m-instruct] [--repeats 5]

One slot, the backend's threads, the prompt already cached (as for every request after a prompt's first); each figure
is the best of ``--repeats``. The kinds: one greedy token; one token listing the model's N most likely next tokens
(exact mode lists 2,000 a step); one token under the colour grammar; one token under a two-answer grammar with 2,000
listed (exact mode's "forced" request); 8 tokens of pure sampling (temperature 1, no truncation: the default) free
and under the colour grammar, each with and without the probability of every sampled token (``post_sampling_probs``,
which the repeats alarm needs and which makes llama.cpp sort the whole vocabulary at every token); and one step of a
constrained colour answer sampled a token at a time (``backends/_stepwise.py``: the allowed tokens raised and listed
with their constrained probabilities), which replaces about 8 tokens of "colour grammar, probabilities" with about 8
such steps. Gemma's vocabulary has 262,144 tokens, SmolLM2's 49,152: the gap between the rows is the per-token work
that grows with it.
"""

from __future__ import annotations

import argparse
import time

from monoculture.backends._embedded import EMBEDDED_MODELS, EmbeddedBackend
from monoculture.backends._stepwise import answer_language, step_body
from monoculture.backends._vocabulary import read_vocabulary

COLOUR_PROMPT = "Question: What colour do you associate with the word 'ocean'? Answer with a hex code.\nAnswer:"
COLOUR_GRAMMAR = 'root ::= " "? "#" [0-9a-fA-F]{6}\n'
CONCEPT_PROMPT = ('Question: Which is more similar to a robin, a finch or a chicken? Respond only with "a finch" or '
                  '"a chicken".\nAnswer:')
TWO_ANSWERS = 'root ::= " a finch" | " a chicken" | "a finch" | "a chicken"\n'
PURE = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
PROBABILITIES = {"n_probs": 1, "post_sampling_probs": True}

KINDS = [
    ("1 token, greedy", CONCEPT_PROMPT, {"max_tokens": 1, "temperature": 0.0}),
    ("1 token, 200 listed", CONCEPT_PROMPT, {"max_tokens": 1, "temperature": 0.0, "n_probs": 200}),
    ("1 token, 2,000 listed (an exact step)", CONCEPT_PROMPT, {"max_tokens": 1, "temperature": 0.0, "n_probs": 2000}),
    ("1 token, answer grammar, 2,000 listed (forced)", CONCEPT_PROMPT,
     {"max_tokens": 1, "temperature": 0.0, "n_probs": 2000, "grammar": TWO_ANSWERS}),
    ("1 token, colour grammar", COLOUR_PROMPT, {"max_tokens": 1, **PURE, "grammar": COLOUR_GRAMMAR}),
    ("8 tokens free", COLOUR_PROMPT, {"max_tokens": 8, **PURE}),
    ("8 tokens free, probabilities", COLOUR_PROMPT, {"max_tokens": 8, **PURE, **PROBABILITIES}),
    ("8 tokens colour grammar", COLOUR_PROMPT, {"max_tokens": 8, **PURE, "grammar": COLOUR_GRAMMAR}),
    ("8 tokens colour grammar, probabilities (constrained mode)", COLOUR_PROMPT,
     {"max_tokens": 8, **PURE, "grammar": COLOUR_GRAMMAR, **PROBABILITIES}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(EMBEDDED_MODELS))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for name in args.models:
        model = EMBEDDED_MODELS[name]
        backend = EmbeddedBackend(f"embedded:{name}", model.locate(), model.kind, parallel=1)
        server = backend._server
        print(f"{name} ({backend.threads} threads), ms per request, best of {args.repeats}:")
        vocabulary = read_vocabulary(model.locate())
        language = answer_language(r" ?#[0-9a-fA-F]{6}", vocabulary)
        after_hash = language.allowed[language.allowed[language.initial][vocabulary.tokens_by_text["#"][0]]]
        step = ("1 step of a colour answer, a token at a time (after '#')", COLOUR_PROMPT + " #",
                step_body({}, None, sorted(after_hash), 1.0))
        for label, prompt, body in [*KINDS, step]:
            server.handle_completions({**body, "prompt": prompt, "seed": 0})  # caches the prompt
            best = float("inf")
            for seed in range(args.repeats):
                start = time.perf_counter()
                reply = server.handle_completions({**body, "prompt": prompt, "seed": seed})
                best = min(best, time.perf_counter() - start)
            if "error" in reply:
                raise SystemExit(f"{name}: llama.cpp refused {label!r}: {reply['error']}")
            print(f"  {label:62s} {best * 1000:7.1f}")


if __name__ == "__main__":
    main()
