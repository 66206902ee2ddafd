"""Grammar-constrained sampling one token at a time, for llama.cpp servers and regular answer languages.

llama.cpp's own grammar sampler is slow on a large vocabulary: when the unconstrained draw is refused it checks the
grammar against every one of Gemma's 262,144 tokens, and the probability of the drawn token (which the repeats alarm
needs) costs a sort of them all; a constrained colour answer took 323 ms against 138 ms for eight free tokens
(``benchmarks/request_costs.py``). For an answer language that is a regular expression (a hex code), the tokens it
allows after each prefix are known in advance from the vocabulary (``_vocabulary``), so each step is one ordinary
one-token request:

* ``logit_bias`` raises every allowed token by :data:`ALLOWED_BIAS` and ``top_k`` keeps as many tokens as are
  allowed, so llama.cpp's own samplers keep exactly the allowed tokens, and ``post_sampling_probs`` lists them with
  their probabilities: the model's distribution at the step, tempered and renormalised over the allowed tokens,
  which is the distribution grammar-constrained sampling draws from (a uniform raise changes no ratio);
* the token is drawn from that list with the sample's own seeded generator, so the probability of every step (and
  of the answer) is known exactly, and a step two samples of a prompt share is asked once (:class:`StepCache`).

Why the raise cannot change the answer: a refused token outranks an allowed one only if its logit is more than
:data:`ALLOWED_BIAS` above it (e^-100 of it); the few that might are dropped from the list before renormalising.
The raise costs float32 precision: logits near 100 are spaced 8e-6 apart, so probabilities are exact to about 1e-5
of themselves.

Only untruncated decodings take this path: with top-k, top-p or min-p llama.cpp's grammar sampling truncates the
unconstrained distribution first and only its refusals fall back to the grammar, a mixture this would not reproduce.
Only languages where no answer begins another (a hex code, a closed answer set such as "a finch" or "an eagle") are
sampled this way: the sampler stops when the text is a whole answer, where llama.cpp would offer the end token. Once
the text can only become one answer, the rest is written without asking: its tokens could spell it in several ways,
but the text and its probability are the same, which is what is stored.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import os
import random
from array import array
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Container, Sequence
from dataclasses import dataclass
from functools import lru_cache

from monoculture.backends._base import Decoding, Generation
from monoculture.backends._vocabulary import Vocabulary

# The raise that puts every allowed token above every refused one (see the module's text).
ALLOWED_BIAS = 100.0
# Step distributions kept for reuse; the samples of one prompt share their first steps.
CACHED_STEPS = 4096

Complete = Callable[[dict], Awaitable[dict]]


class AnswerLanguage:
    """A regular answer language over a vocabulary: the tokens allowed in each state of its automaton."""

    def __init__(self, pattern: str, vocabulary: Vocabulary) -> None:
        import interegular

        fsm = interegular.parse_pattern(pattern).to_fsm()
        alphabet = {character for character in fsm.alphabet if isinstance(character, str)}
        if any(ord(character) > 0x7F for character in alphabet):
            raise ValueError(f"{pattern!r} has characters beyond ASCII (tokens that are pieces of them are not read)")
        self.pattern, self.initial = pattern, fsm.initial
        live = _live_states(fsm)
        self.finals = frozenset(fsm.finals) & live
        if any(any(target in live for target in fsm.map.get(state, {}).values()) for state in self.finals):
            raise ValueError(f"{pattern!r} has answers that begin other answers")
        spelled = {token: text for token, text in enumerate(vocabulary.texts) if text and set(text) <= alphabet}
        self.texts = spelled

        def walk(state: int, text: str) -> int | None:
            for character in text:
                state = fsm.map.get(state, {}).get(fsm.alphabet[character])
                if state is None or state not in live:
                    return None
            return state

        # state -> {allowed token: the state after it}
        self.allowed: dict[int, dict[int, int]] = {}
        for state in live:
            moves = {token: walk(state, text) for token, text in spelled.items()}
            self.allowed[state] = {token: target for token, target in moves.items() if target is not None}
        if not self.allowed.get(self.initial):
            raise ValueError(f"no token of the vocabulary starts an answer of {pattern!r}")
        self.completions = _forced_completions(fsm, live)


def _forced_completions(fsm, live: frozenset[int]) -> dict[int, str]:  # noqa: ANN001 - an interegular FSM
    """The states from which only one text completes an answer, and that text ("inch" once "a f" is written and
    "a finch" is the only answer so begun): the answer is decided there, so nothing more is asked."""
    characters: dict[int, list[str]] = {}
    for character, symbol in fsm.alphabet.items():
        if isinstance(character, str):
            characters.setdefault(symbol, []).append(character)
    completions: dict[int, str] = {state: "" for state in fsm.finals if state in live}
    changed = True
    while changed:  # from the answers' ends backwards
        changed = False
        for state in live - completions.keys():
            moves = [(symbol, target) for symbol, target in fsm.map.get(state, {}).items() if target in live]
            if len(moves) == 1 and len(characters.get(moves[0][0], ())) == 1 and moves[0][1] in completions:
                completions[state] = characters[moves[0][0]][0] + completions[moves[0][1]]
                changed = True
    return completions


def _live_states(fsm) -> frozenset[int]:  # noqa: ANN001 - an interegular FSM
    """The states from which an answer can still be completed."""
    live = set(fsm.finals)
    changed = True
    while changed:
        changed = False
        for state, moves in fsm.map.items():
            if state not in live and any(target in live for target in moves.values()):
                live.add(state)
                changed = True
    return frozenset(live)


@lru_cache(maxsize=8)
def answer_language(pattern: str, vocabulary: Vocabulary) -> AnswerLanguage:
    """The language of ``pattern`` over ``vocabulary`` (built once per pair: 0.1-0.5 s)."""
    return AnswerLanguage(pattern, vocabulary)


@dataclass(frozen=True)
class StepDistribution:
    """The allowed tokens at one step and the probability of each, in token order (for a stable seeded draw);
    arrays, since thousands are cached (a tuple of 482 Python numbers is 33 KB, these 6 KB)."""

    tokens: array
    cumulative: array

    def probabilities(self) -> list[tuple[int, float]]:
        """Each token and its probability."""
        total, below, listed = self.cumulative[-1], 0.0, []
        for token, cumulative in zip(self.tokens, self.cumulative):
            listed.append((token, (cumulative - below) / total))
            below = cumulative
        return listed

    def draw(self, uniform: float) -> tuple[int, float]:
        """The token a uniform number in [0, 1) picks, and its probability."""
        index = min(bisect.bisect_right(self.cumulative, uniform * self.cumulative[-1]), len(self.tokens) - 1)
        below = self.cumulative[index - 1] if index else 0.0
        return self.tokens[index], (self.cumulative[index] - below) / self.cumulative[-1]


class StepCache:
    """Step distributions by (prompt, path, temperature), least recently used dropped; concurrent askers of one
    step share its request."""

    def __init__(self, size: int = CACHED_STEPS) -> None:
        self.size = size
        self._steps: OrderedDict[tuple, asyncio.Future] = OrderedDict()

    async def get(self, key: tuple, compute: Callable[[], Awaitable[StepDistribution]]) -> StepDistribution:
        future = self._steps.get(key)
        if future is not None:  # a failed step is removed at once, so what is here is done or under way
            self._steps.move_to_end(key)
            return await asyncio.shield(future)
        future = asyncio.get_running_loop().create_future()
        self._steps[key] = future
        while len(self._steps) > self.size:
            self._steps.popitem(last=False)
        try:
            future.set_result(await compute())
        except BaseException as error:
            future.set_exception(error)
            self._steps.pop(key, None)
            raise
        return future.result()


def step_body(base: dict, prompt: str | list, allowed: Sequence[int], temperature: float) -> dict:
    """The one-token llama.cpp request that lists the step's allowed tokens with their constrained probabilities."""
    return {**base, "prompt": prompt, "max_tokens": 1, "temperature": temperature, "top_k": len(allowed),
            "top_p": 1.0, "min_p": 0.0, "samplers": ["top_k", "temperature"], "seed": 0,
            "n_probs": len(allowed), "post_sampling_probs": True,
            "logit_bias": [[token, ALLOWED_BIAS] for token in allowed]}


def read_step(response: dict, allowed: Container[int]) -> StepDistribution:
    """The allowed tokens' probabilities from a :func:`step_body` reply (refused tokens dropped, renormalised)."""
    steps = response["choices"][0]["logprobs"]["content"]
    if not steps:
        raise ValueError("the server stopped instead of listing the step's tokens")
    listed = steps[0].get("top_probs") or steps[0].get("top_logprobs") or []
    probabilities: dict[int, float] = {}
    for entry in listed:
        token = int(entry["id"])
        probability = float(entry["prob"]) if "prob" in entry else math.exp(float(entry["logprob"]))
        if token in allowed and probability > 0:
            probabilities[token] = probability
    if not probabilities:
        raise ValueError("no allowed token came back with a probability")
    tokens = sorted(probabilities)
    return StepDistribution(array("i", tokens), array("d", itertools.accumulate(probabilities[token] for token in tokens)))


async def sample_stepwise(complete: Complete, language: AnswerLanguage, prompt_text: str, decoding: Decoding,
                          seed: int, cache: StepCache, base: dict | None = None) -> Generation:
    """One answer drawn step by step (see the module's text); ``complete`` posts a llama.cpp ``/completions`` body.

    The prompt goes as text followed by the token ids drawn so far, so every step is conditioned on exactly the
    tokens of its path. Stops at a whole answer (``finish_reason`` "stop") or after ``decoding.max_tokens`` steps
    ("length", the text then unfinished, as llama.cpp's grammar sampling would leave it).
    """
    if decoding.truncates:
        raise ValueError("step-by-step sampling reproduces untruncated decodings only")
    base = base or {}
    rng = random.Random(seed)
    state, path, text, logprob = language.initial, [], "", 0.0
    while state not in language.finals:
        if state in language.completions:  # the answer is decided: its spelling takes probability 1
            text += language.completions[state]
            break
        if len(path) >= decoding.max_tokens:
            return Generation(text=text, finish_reason="length", completion_tokens=len(path), logprob=logprob)
        allowed = language.allowed[state]
        prompt = [prompt_text, *path] if path else prompt_text
        if len(allowed) == 1:
            token, probability = next(iter(allowed)), 1.0
        else:
            async def ask(prompt=prompt, allowed=allowed) -> StepDistribution:
                return read_step(await complete(step_body(base, prompt, sorted(allowed), decoding.temperature)),
                                 allowed)

            step = await cache.get((prompt_text, tuple(path), decoding.temperature), ask)
            token, probability = step.draw(rng.random())
        path.append(token)
        text += language.texts[token]
        logprob += math.log(probability)
        state = allowed[token]
    return Generation(text=text, finish_reason="stop", completion_tokens=len(path), logprob=logprob)


class PromptSlots:
    """Which llama.cpp slot asks about which prompt, for requests that each decode one token after a cached prompt.

    llama.cpp gives a request the idle slot whose cache shares the longest prefix with it, even when that slot holds
    another prompt and others are empty: colour prompts share their question, so four words asked in turn all went
    to one slot and each re-read its prompt at every step (a step with 8 samples in flight re-read 30-50 prompt
    tokens 319 times in 512 requests, and ran 2.4x slower than one sample at a time). Here a prompt keeps its own
    slot (``id_slot``), and a slot takes one request at a time. A new prompt takes, of the slots no prompt in
    flight holds, the one whose last prompt shares the longest beginning with it (a persona's other questions),
    the least recently used first among equals.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._owners: OrderedDict[str, int] = OrderedDict()  # prompt -> its slot, least recently used first
        self._active: dict[int, int] = {}  # slot -> requests waiting for it or running on it
        self._locks = [asyncio.Lock() for _ in range(count)]

    def _slot(self, prompt_text: str) -> int:
        slot = self._owners.pop(prompt_text, None)
        if slot is None:
            holder = {held: owner for owner, held in self._owners.items()}  # slot -> the prompt it holds
            by_use = list(holder)
            unused = [slot for slot in range(self.count) if slot not in holder]
            free = [*unused, *(slot for slot in by_use if not self._active.get(slot))] or [*unused, *by_use]
            slot = max(free, key=lambda candidate: _shared_beginning(holder.get(candidate, ""), prompt_text))
            if slot in holder:
                del self._owners[holder[slot]]
        self._owners[prompt_text] = slot
        return slot

    def pinned(self, complete: Complete, prompt_text: str) -> Complete:
        """``complete`` for requests about ``prompt_text``: on the prompt's slot, one at a time there."""

        async def on_slot(body: dict) -> dict:
            slot = self._slot(prompt_text)
            self._active[slot] = self._active.get(slot, 0) + 1
            try:
                async with self._locks[slot]:
                    return await complete({**body, "id_slot": slot})
            finally:
                self._active[slot] -= 1

        return on_slot


def _shared_beginning(first: str, second: str) -> int:
    """How many characters two texts share from their start."""
    return len(os.path.commonprefix([first, second]))
