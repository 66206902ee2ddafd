"""Exact answer distributions over a closed answer set: what grammar-constrained sampling would produce.

The estimand (docs/methods.md, "Exact mode"): the distribution that grammar-constrained sampling at the
condition's temperature, without truncation, produces. Each step's next-token distribution is tempered and
renormalised over the tokens the answer grammar allows after the text so far, so an answer's probability is
the sum, over the token paths that spell it, of the product of those per-step probabilities. Once only one
answer can still be completed, the grammar forces it, and the path's whole probability is that answer's.

:func:`explore` walks those paths best first from the prompt, asking the backend at every undecided step for
the model's own next-token log-probabilities (``next_tokens``). "a finch" against "an eagle" is the case that
needs it: " a" keeps both open (" an" starts with it), so P(eagle) = P(" an") P(" eagle" | " an") + P(" a")
P("n" | " a") ... and the steps below " a" must be renormalised on their own.

Also recorded, per prompt: the probability the model itself (temperature 1, no truncation, no grammar) puts
on tokens the grammar refuses before an answer is decided (``outside_mass``: the answer set's leak, which
renormalising hides; on the embedded models counted along paths the model itself gives at least
:data:`OWN_MASS_MEASURED`), and the constrained mass on paths not followed (``unexplored_mass``: below
:data:`MIN_PATH_WEIGHT`, beyond :data:`MAX_STEPS`, or at a step where the backend knows no allowed token),
which is renormalised away. Backends that list only the top tokens of a step (llama.cpp) miss allowed
tokens ranked below them unless they are an answer's best token there (the backend forces those in); such
misses count as outside mass.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monoculture.errors import BackendError

if TYPE_CHECKING:
    from monoculture.backends._base import Decoding
    from monoculture.backends._vocabulary import Vocabulary

# A path whose constrained probability falls below this is not followed (its mass is reported as unexplored).
MIN_PATH_WEIGHT = 1e-3
# Undecided steps asked about per prompt at most: a handful suffice for article + noun answers.
MAX_STEPS = 48


@dataclass(frozen=True)
class Candidate:
    """One possible next token: its id, its text and the model's own log-probability of it."""

    token: int
    text: str
    logprob: float
    end: bool = False  # an end-of-generation token (ends the answer)


@dataclass(frozen=True)
class AnswerDistribution:
    """An exact answer distribution and what it leaves out."""

    probabilities: dict[str, float]
    outside_mass: float | None = None  # the model's own mass on what the grammar refuses (None: not measured)
    unexplored_mass: float = 0.0  # constrained mass on paths not followed, renormalised away
    steps: int = 0  # undecided steps the backend was asked about
    # An aligned twin's: the base's distribution and the reward of each answer (stored with exact samples)
    alignment: dict | None = None

    def as_json(self) -> dict:
        """The stored form (``raw_output`` of an exact-mode sample): the probabilities only."""
        return dict(sorted(self.probabilities.items()))


# next_tokens(path, continuations): the candidates for the token after the prompt and ``path``; the
# continuations are the texts the grammar still accepts from there (for the backend to make sure each has
# its best token among the candidates).
NextTokens = Callable[[tuple[Candidate, ...], tuple[str, ...]], Awaitable[Sequence[Candidate]]]


def spellings(choices: Sequence[str]) -> dict[str, str]:
    """Each accepted spelling and its answer: grammars take an answer with or without one leading space."""
    return {spelling: choice for choice in choices for spelling in (choice, " " + choice)}


def draw_answer(distribution: dict[str, float], seed: int) -> str:
    """One answer drawn from a distribution with a seeded generator (answers in sorted order, so stable): how an
    exact-mode individual, and an aligned twin's sample, gets its answer."""
    import random

    answers = sorted(distribution)
    return random.Random(seed).choices(answers, weights=[distribution[a] for a in answers])[0]


def answer_grammar(continuations: Sequence[str]) -> str:
    """GBNF accepting exactly these texts (one of them)."""
    return "root ::= " + " | ".join(json.dumps(text) for text in sorted(set(continuations))) + "\n"


def tempered(logprobs: Sequence[float], temperature: float) -> list[float]:
    """Probabilities proportional to p^(1/T) (T = 0: all on the first most likely)."""
    if temperature <= 0:
        best = max(range(len(logprobs)), key=lambda index: logprobs[index])
        return [float(index == best) for index in range(len(logprobs))]
    scaled = [logprob / temperature for logprob in logprobs]
    peak = max(scaled)
    weights = [math.exp(value - peak) for value in scaled]
    total = sum(weights)
    return [weight / total for weight in weights]


@dataclass(order=True)
class _Path:
    priority: float  # minus the constrained weight: the heap pops the heaviest path first
    order: int
    weight: float = field(compare=False)  # constrained probability of the path
    own_mass: float = field(compare=False)  # the model's own probability of the path (T = 1, no grammar)
    tokens: tuple[Candidate, ...] = field(compare=False)

    @property
    def text(self) -> str:
        return "".join(candidate.text for candidate in self.tokens)


def _allowed(candidates: Sequence[Candidate], text: str, open_spellings: dict[str, str]) -> list[Candidate]:
    """The candidates the grammar accepts after ``text``, each token once (end tokens only after a whole answer)."""
    continuations = [spelling[len(text):] for spelling in open_spellings]
    allowed: dict[int, Candidate] = {}
    for c in candidates:
        if c.token not in allowed and (text in open_spellings if c.end else _allows(continuations, c)):
            allowed[c.token] = c
    return list(allowed.values())


async def explore(next_tokens: NextTokens, choices: Sequence[str], temperature: float, *,
                  min_weight: float = MIN_PATH_WEIGHT, max_steps: int = MAX_STEPS) -> AnswerDistribution:
    """The constrained-sampling distribution over ``choices`` at ``temperature`` (see the module's text)."""
    accepted = spellings(choices)
    found = dict.fromkeys(choices, 0.0)
    outside = unexplored = 0.0
    steps = 0
    counter = itertools.count()
    heap = [_Path(-1.0, next(counter), 1.0, 1.0, ())]
    while heap:
        path = heapq.heappop(heap)
        text = path.text
        open_spellings = {spelling: choice for spelling, choice in accepted.items() if spelling.startswith(text)}
        open_choices = set(open_spellings.values())
        if len(open_choices) == 1:  # the grammar forces the rest
            found[open_choices.pop()] += path.weight
            continue
        if path.weight < min_weight or steps >= max_steps:
            unexplored += path.weight
            continue
        steps += 1
        continuations = tuple(spelling[len(text):] for spelling in open_spellings)
        allowed = _allowed(await next_tokens(path.tokens, continuations), text, open_spellings)
        if not allowed:
            unexplored += path.weight
            outside += path.own_mass
            continue
        own = [math.exp(candidate.logprob) for candidate in allowed]
        outside += path.own_mass * max(0.0, 1.0 - sum(own))
        for candidate, probability, own_probability in zip(allowed, tempered([c.logprob for c in allowed], temperature), own):
            if candidate.end:  # the text so far is a whole answer and the model stops there
                found[open_spellings[text]] += path.weight * probability
                continue
            if probability > 0:
                weight = path.weight * probability
                heapq.heappush(heap, _Path(-weight, next(counter), weight, path.own_mass * own_probability,
                                           (*path.tokens, candidate)))
    total = sum(found.values())
    if total <= 0:
        raise ValueError(f"no path through the answer grammar reached one of {list(choices)}")
    return AnswerDistribution({choice: value / total for choice, value in found.items()},
                              outside_mass=min(1.0, outside), unexplored_mass=unexplored, steps=steps)


def has_prefix_answers(choices: Sequence[str]) -> bool:
    """Whether one answer's spelling is a proper prefix of another's ("red" and "reddish")."""
    accepted = spellings(choices)
    return any(other != spelling and other.startswith(spelling) and accepted[other] != accepted[spelling]
               for spelling in accepted for other in accepted)


# -- llama.cpp servers (the embedded backend and llama-server over HTTP) -----------------------------------

# Tokens listed per step. Listing is cheap (0.09 s for 2,000 on SmolLM2 here); a grammar request is not
# (1.8 s: llama.cpp checks the grammar against the whole vocabulary), so the list is long and grammar
# requests are kept for answers with no deciding token in it.
TOP_ALTERNATIVES = 2000
# Exact steps whose path the model itself gives less than this ask for the allowed tokens' probabilities relative to
# each other only, not also for their own total (one request instead of two): what such a step refuses would add at
# most the path's own probability to the outside mass. On Gemma's demo concept prompts (288) 462 of 1,186 steps were
# below it, and the outside mass they would have added came to 0.0007 a prompt (at most 0.001).
OWN_MASS_MEASURED = 1e-2
# Grammar requests per answer and step at most, each fetching its next most likely allowed token; made only
# while the best allowed token is within this many nats of the list's end (e^-6.9: unlisted allowed tokens
# could weigh 0.1% or more beside it).
MAX_FORCED = 4
UNLISTED_MARGIN = 6.9

Complete = Callable[[dict], Awaitable[dict]]


def llama_samplers(decoding: Decoding) -> list[str]:
    """llama.cpp's sampler chain for a decoding's order (its default puts temperature last).

    The penalty, DRY, typical-p, XTC and top-n-sigma samplers of llama.cpp's default chain are left out: at
    their neutral defaults they do nothing, and no other backend has them.
    """
    truncation = ["top_k", "top_p", "min_p"]
    return ["temperature", *truncation] if decoding.order == "temperature_first" else [*truncation, "temperature"]


def _listed(response: dict) -> tuple[Candidate | None, list[Candidate]]:
    """The chosen token and the listed alternatives of a one-token llama.cpp completion (none if it stopped)."""
    steps = response["choices"][0]["logprobs"]["content"]
    if not steps:
        return None, []
    step = steps[0]
    chosen = Candidate(int(step["id"]), str(step["token"]), float(step["logprob"]))
    return chosen, [Candidate(int(alt["id"]), str(alt["token"]), float(alt["logprob"])) for alt in step["top_logprobs"]]


def llama_prompt(prompt_text: str, prompt_tokens: Sequence[int] | None, path: Sequence[int]) -> str | list:
    """A llama.cpp prompt: the prompt's tokens (or its text, which the server then tokenizes at every request) and
    then the path's."""
    if prompt_tokens is not None:
        return [*prompt_tokens, *path]
    return [prompt_text, *path] if path else prompt_text


def llama_next_tokens(complete: Complete, prompt_text: str, body: dict, answers: dict[str, tuple[str, ...]],
                      vocabulary: Vocabulary | None = None, prompt_tokens: Sequence[int] | None = None) -> NextTokens:
    """``next_tokens`` for a llama.cpp server.

    ``complete`` posts a ``/completions`` body and returns the reply; ``prompt_text`` is the text the model
    continues (for a chat model, its chat template applied by the server); ``body`` carries the request's
    other fields; ``prompt_tokens``, the text's tokens as the server reads it, go instead of the text where known.
    The path goes to the server as token ids after the text (a mixed prompt), so a step is conditioned on exactly
    the tokens of its path.

    With the model's ``vocabulary`` (embedded models, read from the GGUF file) every allowed token is known, and a
    step is complete: see :func:`_vocabulary_step`. Without it (a llama-server over HTTP), one greedy token with the
    :data:`TOP_ALTERNATIVES` most likely next tokens lists the model's own log-probabilities (llama.cpp reports them
    before any sampler). When the best allowed token is near the list's end (:data:`UNLISTED_MARGIN`), an answer with
    no token in that list that leads to it alone gets its allowed tokens below the list in order of probability: a
    request whose grammar accepts only that answer's continuations, with its tokens already known banned, is forced
    onto the next most likely one, until one decides the answer (at most :data:`MAX_FORCED`). The case that needs
    it: SmolLM2 asked for "a finch" or "an eagle" ranks "a" first, which keeps both open, and "an", which decides,
    next; both far down its list.
    """
    body = {key: value for key, value in body.items()
            if key not in ("grammar", "messages", "prompt", "logprobs", "top_logprobs", "post_sampling_probs")}
    base = {**body, "max_tokens": 1, "temperature": 0.0, "n_probs": TOP_ALTERNATIVES}

    async def next_tokens(path: tuple[Candidate, ...], continuations: tuple[str, ...]) -> list[Candidate]:
        prompt = llama_prompt(prompt_text, prompt_tokens, [candidate.token for candidate in path])
        if vocabulary is not None:
            # Below OWN_MASS_MEASURED what the step refuses is not measured (the path's logprobs, own or relative,
            # bound its own probability from above).
            own = sum(candidate.logprob for candidate in path) >= math.log(OWN_MASS_MEASURED)
            return await _vocabulary_step(complete, {**body, "prompt": prompt}, vocabulary, continuations, own=own)
        text = "".join(candidate.text for candidate in path)
        _, candidates = _listed(await complete({**base, "prompt": prompt}))
        # Every token above the last one listed is known (all of them if the list is the whole vocabulary).
        unlisted_below = min((c.logprob for c in candidates), default=math.inf)
        if len(candidates) < TOP_ALTERNATIVES:
            unlisted_below = -math.inf
        for answer, answer_spellings in answers.items():
            rests = [spelling[len(text):] for spelling in answer_spellings
                     if spelling.startswith(text) and spelling[len(text):] in continuations]
            for _ in range(MAX_FORCED if rests else 0):
                best = max((c.logprob for c in candidates if _allows(continuations, c)), default=-math.inf)
                if best > unlisted_below + UNLISTED_MARGIN:  # what is unlisted is negligible beside it
                    break
                if any(_decides(text + c.text, answer, answers) for c in candidates if _allows(rests, c)):
                    break
                banned = [[c.token, False] for c in candidates if _allows(rests, c)]
                try:
                    # Only the token it is forced onto is read: one listed, not the whole list's sort and reply.
                    forced, _ = _listed(await complete({**base, "prompt": prompt, "grammar": answer_grammar(rests),
                                                        "logit_bias": banned, "n_probs": 1}))
                except BackendError:  # llama.cpp refuses when the ban leaves the grammar no token: none is left
                    break
                if forced is None or not math.isfinite(forced.logprob) or any(
                        c.token == forced.token for c in candidates):
                    break
                candidates.append(forced)
        return candidates

    return next_tokens


async def _vocabulary_step(complete: Complete, body: dict, vocabulary: Vocabulary,
                           continuations: Sequence[str], *, own: bool = True) -> list[Candidate]:
    """Every allowed token of a step with the model's own log-probability, known from the vocabulary (``own``
    False: their probabilities relative to each other, which is all the answer distribution needs, in one request).

    The allowed tokens are the vocabulary's spellings of the continuations' prefixes. Two one-token requests raise
    them all above the rest (``_stepwise.keep_raised``): one picks the best allowed token
    greedily and reports its own probability (llama.cpp reports a picked token's before any sampler), the other
    lists every allowed token's probability renormalised over them (``post_sampling_probs``), which the first scales
    back to the model's own. No allowed token is missed and no grammar request is made (68 ms on Gemma, against
    17-20 for each of these). Listing the 2,000 most likely tokens in the first request and asking the second only
    when the allowed tokens below them could matter made the demo's exact steps slower, not faster (29 ms a list on
    Gemma, and the second request was still needed at 59% of its steps).
    """
    from monoculture.backends._stepwise import keep_raised, read_step, step_body

    allowed = vocabulary.spelling_any_prefix(continuations)
    if not allowed:
        return []
    ordered = sorted(allowed)
    if not own:  # the allowed tokens' probabilities relative to each other: they sum to 1, so nothing is refused
        if len(ordered) == 1:
            return [Candidate(ordered[0], allowed[ordered[0]], 0.0)]
        listed = read_step(await complete(step_body(body, body["prompt"], ordered, 1.0)), allowed).probabilities()
        return [Candidate(token, allowed[token], math.log(probability)) for token, probability in listed]
    raised = keep_raised(ordered)
    best, _ = _listed(await complete({**body, **raised, "max_tokens": 1, "temperature": 0.0, "n_probs": 1}))
    if best is None or best.token not in allowed or not math.isfinite(best.logprob):
        return []
    if len(ordered) == 1:
        return [Candidate(best.token, allowed[best.token], best.logprob)]
    relative = dict(read_step(await complete(step_body(body, body["prompt"], ordered, 1.0)),
                              allowed).probabilities())
    if best.token not in relative:
        return [Candidate(best.token, allowed[best.token], best.logprob)]
    scale = best.logprob - math.log(relative[best.token])  # log of the allowed tokens' own total probability
    return [Candidate(token, allowed[token], math.log(probability) + scale)
            for token, probability in relative.items()]


# -- vLLM servers ------------------------------------------------------------------------------------------

# Log-probabilities vLLM lists per token unless started with a higher --max-logprobs (its default); more are asked
# for only when a step's list comes back full with allowed mass missing, up to VLLM_MAX_LISTED.
VLLM_DEFAULT_MAX_LOGPROBS = 20
VLLM_MAX_LISTED = 256
# Tokens one request may name in logprob_token_ids (vLLM's MAX_LOGPROB_TOKEN_IDS).
VLLM_MAX_NAMED = 128
# vLLM reports a token the grammar refuses (log-probability -inf) as -9999.
VLLM_REFUSED = -9999.0
# Allowed mass a full list may leave unlisted before more tokens are asked for (float32 sums reach 1 - 3e-6).
VLLM_MISSING_MASS = 1e-4

# token_texts(ids): each token's text as it reads after other text (the server's detokenizer).
TokenTexts = Callable[[Sequence[int]], Awaitable[dict[int, str]]]


def _vllm_listed(response: dict) -> dict[int, float]:
    """The listed tokens of a one-token vLLM completion asked with ``return_tokens_as_token_ids``: id -> logprob."""
    listed = response["choices"][0]["logprobs"]["top_logprobs"][0]
    tokens: dict[int, float] = {}
    for key, value in listed.items():
        label, _, number = str(key).partition(":")
        if label != "token_id" or not number.isdigit():
            raise ValueError(f"a listed token without its id ({str(key)[:40]!r}): the server ignored "
                             "return_tokens_as_token_ids")
        tokens[int(number)] = float(value)
    return tokens


def _probability_mass(logprobs: Iterable[float]) -> float:
    """The probability that log-probabilities of distinct tokens add up to; logits (vLLM's ``raw_logits`` and
    ``processed_logits`` modes) are refused, since they cannot be told apart from log-probabilities otherwise."""
    mass = 0.0
    for logprob in logprobs:
        if not logprob <= 1e-4:
            raise ValueError(f"a log-probability above 0 ({logprob:.3g}): the server reports logits "
                             "(start vLLM with --logprobs-mode processed_logprobs or raw_logprobs)")
        mass += math.exp(logprob)
    if mass > 1 + 1e-3:
        raise ValueError(f"probabilities of distinct tokens that add up to {mass:.3g}: the server reports logits "
                         "(start vLLM with --logprobs-mode processed_logprobs or raw_logprobs)")
    return mass


def vllm_next_tokens(complete: Complete, token_texts: TokenTexts, prompt_ids: Sequence[int],
                     body: dict) -> NextTokens:
    """``next_tokens`` for a vLLM server.

    ``complete`` posts a ``/completions`` body and returns the reply; ``prompt_ids`` are the prompt's tokens as the
    server's ``/tokenize`` gives them (for a chat model, its chat template applied); ``body`` carries the request's
    other fields. The path goes to the server as token ids after the prompt's, so a step is conditioned on exactly
    the tokens of its path. Each step is two one-token greedy requests:

    1. under the grammar of the continuations (``structured_outputs``), listing the top log-probabilities
       (``logprobs``, ``return_tokens_as_token_ids``). vLLM masks the tokens a grammar refuses before it computes
       log-probabilities (in either ``--logprobs-mode``), so the list is the allowed tokens, renormalised over them,
       then the refused ones at -9999. No more tokens can be allowed than the continuations have prefixes, and the
       list asks for that many, from vLLM's default cap of 20; a full list whose allowed mass falls short of 1 is
       asked again twice as long (up to :data:`VLLM_MAX_LISTED`, which needs the server's ``--max-logprobs``).
    2. without a grammar, naming the allowed tokens (``logprob_token_ids``): the model's own log-probabilities of
       them, before any mask, so that :func:`explore` tempers them and counts the mass the grammar refuses.

    At temperature 0 neither request is tempered or truncated, so both modes of ``--logprobs-mode`` give the model's
    own log-probabilities. Allowed tokens that still go unlisted count as outside mass, as with llama.cpp.
    """
    body = {key: value for key, value in body.items()
            if key not in ("grammar", "messages", "prompt", "logprobs", "top_logprobs", "structured_outputs",
                           "guided_grammar", "logprob_token_ids", "logit_bias")}
    base = {**body, "max_tokens": 1, "temperature": 0.0, "return_tokens_as_token_ids": True}

    async def next_tokens(path: tuple[Candidate, ...], continuations: tuple[str, ...]) -> list[Candidate]:
        prompt = [*prompt_ids, *(candidate.token for candidate in path)]
        grammar = {"grammar": answer_grammar(continuations)}
        prefixes = len({rest[:end] for rest in continuations for end in range(1, len(rest) + 1)})
        listed = min(prefixes, VLLM_DEFAULT_MAX_LOGPROBS)
        while True:
            try:
                masked = _vllm_listed(await complete({**base, "prompt": prompt, "logprobs": listed,
                                                      "structured_outputs": grammar}))
            except BackendError as error:
                if listed <= VLLM_DEFAULT_MAX_LOGPROBS:
                    raise
                raise BackendError(f"{error} (exact mode lists up to {VLLM_MAX_LISTED} tokens a step: start vLLM "
                                   f"with --max-logprobs {VLLM_MAX_LISTED})") from None
            allowed = {token: logprob for token, logprob in masked.items() if logprob > VLLM_REFUSED + 1}
            mass = _probability_mass(allowed.values())
            if len(allowed) < listed or mass >= 1 - VLLM_MISSING_MASS or listed >= VLLM_MAX_LISTED:
                break
            listed = min(2 * listed, VLLM_MAX_LISTED)
        tokens = list(allowed)
        own: dict[int, float] = {}
        size = min(VLLM_MAX_NAMED, listed)  # the server took this many
        for start in range(0, len(tokens), size):
            named = tokens[start:start + size]
            reply = _vllm_listed(await complete({**base, "prompt": prompt, "logprobs": len(named),
                                                 "logprob_token_ids": named}))
            own.update({token: reply[token] for token in named if token in reply})
        if len(own) < len(tokens):
            raise ValueError("the log-probabilities of named tokens did not come back: this vLLM ignores "
                             "logprob_token_ids (vLLM 0.32 has it)")
        _probability_mass(own.values())
        texts = await token_texts(tokens)
        return [Candidate(token, texts[token], own[token]) for token in tokens if own[token] > VLLM_REFUSED + 1]

    return next_tokens


def _allows(continuations: Sequence[str], candidate: Candidate) -> bool:
    return bool(candidate.text) and any(rest.startswith(candidate.text) for rest in continuations)


def _decides(text: str, answer: str, answers: dict[str, tuple[str, ...]]) -> bool:
    """Whether ``text`` can only become ``answer``."""
    return {choice for choice, values in answers.items() if any(v.startswith(text) for v in values)} == {answer}


def answer_spellings(choices: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each answer's accepted spellings."""
    grouped: dict[str, list[str]] = {}
    for spelling, choice in spellings(choices).items():
        grouped.setdefault(choice, []).append(spelling)
    return {choice: tuple(values) for choice, values in grouped.items()}


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


def vllm_sampled_logprob(response: dict, *, chat: bool) -> float | None:
    """The summed log-probability of a vLLM response's sampled tokens (None if it did not report them all)."""
    try:
        logprobs = response["choices"][0]["logprobs"]
        values = [step["logprob"] for step in logprobs["content"]] if chat else logprobs["token_logprobs"]
        total = 0.0
        for value in values:
            value = float(value)
            if value <= VLLM_REFUSED + 1:  # a token the distribution it was drawn from refuses: not a probability
                return None
            total += value
        return total
    except (KeyError, IndexError, TypeError, ValueError):
        return None
