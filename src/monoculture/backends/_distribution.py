"""Exact answer distributions over a closed answer set, from the log-probabilities of one decoding path.

Under grammar-constrained decoding, the answer is decided at the first token where the valid answers part
ways: before it every valid token keeps every answer possible, after it the grammar forces the rest. So
the constrained sampler's answer distribution is the model's next-token distribution at that step,
restricted to the tokens that lead to exactly one answer and renormalised. One request that follows the
most likely common prefix and returns the top alternatives at every step gives it.

An answer with no token among the returned top-N at the deciding step (the model ranks it very low) is
looked up with one more request whose grammar allows only that answer. Approximations, stated: tokens below
the top-N are left out, tokens that keep several answers open at that step are left out (renormalised
away), and the common prefix is the greedy one. Truncation samplers (top-k, top-p, min-p) are not applied: the distribution is the model's
own at the condition's temperature, restricted to valid answers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Sequence

# Alternatives asked for per step; the deciding token is nearly always among them.
TOP_ALTERNATIVES = 50
# Tokens decoded before giving up on a short path: "a" + " fin" decides between "a finch" and "a chicken".
DECIDING_TOKENS = 4

# Each step: the token the request produced, its log-probability, and the top alternatives there as
# (token text, log-probability).
Step = tuple[str, float, Sequence[tuple[str, float]]]


def _spellings(choices: Sequence[str]) -> dict[str, str]:
    # Grammars accept each answer with or without one leading space (base prompts end in "Answer:").
    return {spelling: choice for choice in choices for spelling in (choice, " " + choice)}


def deciding_step(steps: Sequence[Step], choices: Sequence[str]) -> tuple[str, list[tuple[str, float]]]:
    """The text before the step where the path chose its answer, and the alternatives there.

    The token the path took is among the alternatives even when the top-N list left it out (a grammar
    can force a token the model ranks low). Raises ``ValueError`` if the path never decides between the
    answers or leaves their spellings.
    """
    spellings = _spellings(choices)
    generated = ""
    for chosen, chosen_logprob, alternatives in steps:
        open_choices = {choice for spelling, choice in spellings.items() if spelling.startswith(generated + chosen)}
        if len(open_choices) == 1:
            listed = list(alternatives)
            if all(token != chosen for token, _ in listed):
                listed.append((chosen, chosen_logprob))
            return generated, listed
        if not open_choices:
            raise ValueError(f"the decoding path {generated + chosen!r} left the answers {list(choices)}")
        generated += chosen
    raise ValueError(f"the decoding path {generated!r} never decided between {list(choices)}")


def log_masses(generated: str, alternatives: Sequence[tuple[str, float]],
               choices: Sequence[str]) -> dict[str, list[float]]:
    """Per answer, the log-probabilities of the alternatives that lead to it alone."""
    spellings = _spellings(choices)
    masses: dict[str, list[float]] = {choice: [] for choice in choices}
    for token, logprob in alternatives:
        if not token:
            continue
        leads_to = {choice for spelling, choice in spellings.items() if spelling.startswith(generated + token)}
        if len(leads_to) == 1:
            masses[leads_to.pop()].append(logprob)
    return masses


def normalise(masses: dict[str, list[float]], temperature: float) -> dict[str, float]:
    """The distribution over answers at a temperature: p_i^(1/T) renormalised (T = 0: the most likely)."""
    if not any(masses.values()):
        raise ValueError("no alternative at the deciding step leads to an answer")
    if temperature <= 0:
        best = max(masses, key=lambda choice: max(masses[choice], default=-math.inf))
        return {choice: float(choice == best) for choice in masses}
    scaled = {choice: [lp / temperature for lp in values] for choice, values in masses.items()}
    peak = max(lp for values in scaled.values() for lp in values)
    weights = {choice: sum(math.exp(lp - peak) for lp in values) for choice, values in scaled.items()}
    total = sum(weights.values())
    return {choice: weight / total for choice, weight in weights.items()}


def decisive_distribution(steps: Sequence[Step], choices: Sequence[str], temperature: float) -> dict[str, float]:
    """The answer distribution at the step where one decoding path chose between the answers."""
    return normalise(log_masses(*deciding_step(steps, choices), choices), temperature)


def single_answer_grammar(choice: str) -> str:
    """GBNF that accepts exactly one answer (with an optional leading space)."""
    return f"root ::= \" \"? {json.dumps(choice)}\n"


def greedy_path_body(body: dict, grammar: str, max_tokens: int, *, chat: bool) -> dict:
    """A llama.cpp request body for the greedy path through ``grammar`` with the top alternatives per step."""
    body = {**body, "temperature": 0.0, "n_probs": TOP_ALTERNATIVES, "grammar": grammar, "max_tokens": max_tokens}
    if chat:
        body.update(logprobs=True, top_logprobs=TOP_ALTERNATIVES)
    return body


def path_steps(response: dict) -> list[Step]:
    """The steps of a llama.cpp (OpenAI-format) response's log-probabilities."""
    return [(step["token"], step["logprob"], [(alt["token"], alt["logprob"]) for alt in step["top_logprobs"]])
            for step in response["choices"][0]["logprobs"]["content"]]


def with_sampled_probabilities(body: dict, *, chat: bool) -> dict:
    """A llama.cpp request body that also returns the probability of every sampled token.

    ``post_sampling_probs`` gives each token's probability after temperature and truncation, i.e. under the
    distribution it was drawn from; the duplicate-samples alarm compares repeats with these probabilities.
    """
    body = {**body, "n_probs": 1, "post_sampling_probs": True}
    if chat:
        body.update(logprobs=True, top_logprobs=1)
    return body


def sampled_logprob(response: dict) -> float | None:
    """The summed log-probability of a llama.cpp response's sampled tokens (None if it did not report them)."""
    try:
        steps = response["choices"][0]["logprobs"]["content"]
        total = 0.0
        for step in steps:
            total += math.log(step["prob"]) if "prob" in step else float(step["logprob"])
        return total
    except (KeyError, IndexError, TypeError, ValueError):
        return None


PathFunction = Callable[[str, int], Awaitable[list[Step]]]


async def distribution_from_paths(path: PathFunction, grammar: str, choices: Sequence[str], temperature: float,
                                  max_tokens: int) -> dict[str, float]:
    """The exact answer distribution from greedy paths: ``path(grammar, max_tokens)`` decodes one.

    The first path follows the answer grammar; an answer ranked below the top alternatives at the deciding
    step gets one more path forced onto it. Paths are short first and decoded in full only if undecided.
    """
    async def decide(path_grammar: str) -> tuple[str, list[tuple[str, float]]]:
        try:
            return deciding_step(await path(path_grammar, DECIDING_TOKENS), choices)
        except ValueError:
            return deciding_step(await path(path_grammar, max_tokens), choices)

    masses = log_masses(*await decide(grammar), choices)
    for choice in [choice for choice, values in masses.items() if not values]:
        masses[choice] = log_masses(*await decide(single_answer_grammar(choice)), choices)[choice]
    return normalise(masses, temperature)
