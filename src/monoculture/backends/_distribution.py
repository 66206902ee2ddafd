"""Exact answer distributions over a closed answer set, from the log-probabilities of one decoding path.

Under grammar-constrained decoding, the answer is decided at the first token where the valid answers part
ways: before it every valid token keeps every answer possible, after it the grammar forces the rest. So
the constrained sampler's answer distribution is the model's next-token distribution at that step,
restricted to the tokens that lead to exactly one answer and renormalised. One request that follows the
most likely common prefix and returns the top alternatives at every step gives it.

Approximations, stated: tokens below the returned top-N at the deciding step are left out, tokens that
keep several answers open at that step are left out (renormalised away), and the common prefix is the
greedy one. Truncation samplers (top-k, top-p, min-p) are not applied: the distribution is the model's
own at the condition's temperature, restricted to valid answers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Each step: the token the request produced, and the top alternatives there as (token text, log-probability).
Step = tuple[str, Sequence[tuple[str, float]]]


def _spellings(choices: Sequence[str]) -> dict[str, str]:
    # Grammars accept each answer with or without one leading space (base prompts end in "Answer:").
    return {spelling: choice for choice in choices for spelling in (choice, " " + choice)}


def decisive_distribution(steps: Sequence[Step], choices: Sequence[str], temperature: float) -> dict[str, float]:
    """The answer distribution at the step where the decoding path chose between the answers.

    ``steps`` follow one path through the answer grammar. Raises ``ValueError`` if the path never decides
    (all answers identical) or leaves the answers' spellings.
    """
    spellings = _spellings(choices)
    generated = ""
    for chosen, alternatives in steps:
        open_choices = {choice for spelling, choice in spellings.items() if spelling.startswith(generated + chosen)}
        if len(open_choices) == 1:
            return _at_step(generated, alternatives, spellings, choices, temperature)
        if not open_choices:
            raise ValueError(f"the decoding path {generated + chosen!r} left the answers {list(choices)}")
        generated += chosen
    raise ValueError(f"the decoding path {generated!r} never decided between {list(choices)}")


def _at_step(generated: str, alternatives: Sequence[tuple[str, float]], spellings: dict[str, str],
             choices: Sequence[str], temperature: float) -> dict[str, float]:
    log_mass: dict[str, list[float]] = {choice: [] for choice in choices}
    for token, logprob in alternatives:
        if not token:
            continue
        text = generated + token
        leads_to = {choice for spelling, choice in spellings.items() if spelling.startswith(text)}
        if len(leads_to) == 1:
            log_mass[leads_to.pop()].append(logprob)
    if temperature <= 0:  # greedy: all mass on the most likely answer
        best = max(choices, key=lambda c: max(log_mass[c], default=-math.inf))
        return {choice: float(choice == best) for choice in choices}
    # Temperature scales logits: p_i^(1/T), renormalised over the tokens that decide an answer.
    scaled = {choice: [lp / temperature for lp in masses] for choice, masses in log_mass.items()}
    peak = max((lp for masses in scaled.values() for lp in masses), default=None)
    if peak is None:
        raise ValueError("no alternative at the deciding step leads to an answer")
    weights = {choice: sum(math.exp(lp - peak) for lp in masses) for choice, masses in scaled.items()}
    total = sum(weights.values())
    return {choice: weight / total for choice, weight in weights.items()}
