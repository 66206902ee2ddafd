"""Grammar-constrained sampling one token at a time, for llama.cpp servers and regular answer languages.

llama.cpp's own grammar sampler is slow on a large vocabulary: when the unconstrained draw is refused it checks the
grammar against every one of Gemma's 262,144 tokens, and the probability of the drawn token (which the repeats alarm
needs) costs a sort of them all; a constrained colour answer took 323 ms against 138 ms for eight free tokens
(``benchmarks/request_costs.py``). For an answer language that is a regular expression (a hex code), the tokens it
allows after each prefix are known in advance from the vocabulary (``_vocabulary``), so each step is one ordinary
one-token request:

* ``logit_bias`` raises every allowed token by :data:`ALLOWED_BIAS` and ``top_k`` keeps as many tokens as are
  allowed (:func:`keep_raised`), so llama.cpp's own samplers keep exactly the allowed tokens, and
  ``post_sampling_probs`` lists the likeliest (:data:`LISTED_PER_STEP`) with their probabilities: the model's
  distribution at the step, tempered and renormalised over the allowed tokens, which is the distribution
  grammar-constrained sampling draws from (a uniform raise changes no ratio);
* the token is drawn from that list with the sample's own seeded generator (or, when the draw falls beyond the list,
  by the server from the rest), so the probability of every step (and of the answer) is known exactly, and a step
  two samples of a prompt share is asked once (:class:`StepCache`).

Why the raise cannot change the answer: a refused token outranks an allowed one only if its logit is more than
:data:`ALLOWED_BIAS` above it (e^-100 of it); the few that might are dropped from the list.
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
import collections
import contextlib
import itertools
import math
import os
import random
from array import array
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

from monoculture.backends._base import Decoding, Generation
from monoculture.backends._distribution import llama_prompt
from monoculture.backends._vocabulary import Vocabulary

# The raise that puts every allowed token above every refused one (see the module's text).
ALLOWED_BIAS = 100.0
# Step distributions kept for reuse; the samples of one prompt share their first steps.
CACHED_STEPS = 4096
# Allowed tokens a step lists (the most likely; the rest are drawn by the server when the draw falls among them).
# Building the list costs llama.cpp time a token: 8 hex-code steps in flight on Gemma made 57-58 steps/s listing all
# 482 allowed tokens, 77-85 listing 24 (a greedy token: 99-105); on the demo's colour prompts the 24 likeliest leave
# 3.1% of a step's probability on Gemma and 2.0% on SmolLM2 (benchmarks/step_listing.py, two runs).
LISTED_PER_STEP = 24

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
    """The most likely allowed tokens at one step and the probability of each, in token order (for a stable seeded
    draw), and the probability of the allowed tokens not listed (``unlisted``: 0 when all are); arrays, since
    thousands are cached (a tuple of 482 Python numbers is 33 KB, these 6 KB)."""

    tokens: array
    cumulative: array
    unlisted: float = 0.0

    @property
    def total(self) -> float:
        """The listed and unlisted probabilities together (1 but for rounding, or the sum of a whole list)."""
        return self.cumulative[-1] + self.unlisted

    def probabilities(self) -> list[tuple[int, float]]:
        """Each listed token and its probability."""
        total, below, listed = self.total, 0.0, []
        for token, cumulative in zip(self.tokens, self.cumulative):
            listed.append((token, (cumulative - below) / total))
            below = cumulative
        return listed

    def draw(self, uniform: float) -> tuple[int, float] | None:
        """The token a uniform number in [0, 1) picks and its probability, or None if it picks an unlisted one."""
        point = uniform * self.total
        if point >= self.cumulative[-1] and self.unlisted > 0:
            return None
        index = min(bisect.bisect_right(self.cumulative, point), len(self.tokens) - 1)
        below = self.cumulative[index - 1] if index else 0.0
        return self.tokens[index], (self.cumulative[index] - below) / self.total


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


def keep_raised(allowed: Sequence[int]) -> dict:
    """Request fields that raise the allowed tokens by :data:`ALLOWED_BIAS` and keep exactly as many tokens as are
    allowed (``top_k``), so exactly them."""
    return {"logit_bias": [[token, ALLOWED_BIAS] for token in allowed], "top_k": len(allowed), "top_p": 1.0,
            "min_p": 0.0, "samplers": ["top_k", "temperature"]}


def step_body(base: dict, prompt: str | list, allowed: Sequence[int], temperature: float,
              listed: int | None = None) -> dict:
    """The one-token llama.cpp request that lists the step's allowed tokens (all, or the ``listed`` most likely)
    with their constrained probabilities."""
    return {**base, "prompt": prompt, "max_tokens": 1, "temperature": temperature, **keep_raised(allowed), "seed": 0,
            "n_probs": min(len(allowed), listed or len(allowed)), "post_sampling_probs": True}


def read_step(response: dict, allowed: Collection[int]) -> StepDistribution:
    """The allowed tokens' probabilities from a :func:`step_body` reply (refused tokens dropped). A list of every
    allowed token is renormalised; a shorter one keeps llama.cpp's probabilities and the rest is ``unlisted``."""
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
    cumulative = array("d", itertools.accumulate(probabilities[token] for token in tokens))
    unlisted = 0.0 if len(listed) >= len(allowed) else max(0.0, 1.0 - cumulative[-1])
    return StepDistribution(array("i", tokens), cumulative, unlisted)


async def _draw_unlisted(complete: Complete, body: dict, step: StepDistribution, allowed: Collection[int],
                         seed: int) -> tuple[int, float]:
    """A token drawn by the server from the allowed tokens a step did not list, renormalised over them, and its
    probability at the step (the server's share of it times the unlisted mass)."""
    listed = set(step.tokens)
    rest = sorted(token for token in allowed if token not in listed)
    reply = await complete({**step_body(body, body["prompt"], rest, body["temperature"], 1), "seed": seed})
    drawn = reply["choices"][0]["logprobs"]["content"]
    token = int(drawn[0]["id"]) if drawn else -1
    if token not in rest:
        raise ValueError("the server drew a token outside the step's unlisted allowed tokens")
    return token, float(drawn[0]["prob"]) * step.unlisted / step.total


async def sample_stepwise(complete: Complete, language: AnswerLanguage, prompt_text: str, decoding: Decoding,
                          seed: int, cache: StepCache, base: dict | None = None,
                          listed: int | None = LISTED_PER_STEP,
                          prompt_tokens: Sequence[int] | None = None) -> Generation:
    """One answer drawn step by step (see the module's text); ``complete`` posts a llama.cpp ``/completions`` body.

    The prompt goes as its tokens (``prompt_tokens``, as llama.cpp reads ``prompt_text``; else the text) followed by
    the token ids drawn so far, so every step is conditioned on exactly the tokens of its path. Stops at a whole
    answer (``finish_reason`` "stop") or after ``decoding.max_tokens`` steps ("length", the text then unfinished, as
    llama.cpp's grammar sampling would leave it). A step lists its
    ``listed`` most likely allowed tokens (None: all); when the draw falls beyond them, the server draws from the
    rest (one more request, not cached), so the answer and its probability are still exact.
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
        prompt = llama_prompt(prompt_text, prompt_tokens, path)
        if len(allowed) == 1:
            token, probability = next(iter(allowed)), 1.0
        else:
            body = step_body(base, prompt, sorted(allowed), decoding.temperature, listed)

            async def ask(body=body, allowed=allowed) -> StepDistribution:
                return read_step(await complete(body), allowed)

            step = await cache.get((prompt_text, tuple(path), decoding.temperature, listed), ask)
            drawn = step.draw(rng.random())
            if drawn is None:
                drawn = await _draw_unlisted(complete, body, step, allowed, rng.getrandbits(32))
            token, probability = drawn
        path.append(token)
        text += language.texts[token]
        logprob += math.log(probability)
        state = allowed[token]
    return Generation(text=text, finish_reason="stop", completion_tokens=len(path), logprob=logprob)


class PromptSlots:
    """Which llama.cpp slot a sample (or an exact distribution) asks its one-token requests on, one at a time.

    llama.cpp gives a request the idle slot whose cache shares the longest prefix with it, even when that slot holds
    another prompt and others are empty: colour prompts share their question, so four words asked in turn all went
    to one slot and each re-read its prompt at every step. So a sample reserves a slot (``id_slot``) for all its
    requests. Two rules keep what a slot has read useful:

    * samples of one prompt queue for the slot that holds it rather than take turns on it: two replicates taking
      turns re-read their diverging paths at every step (13,355 of the demo's 37,496 colour prompt tokens), and a
      second slot would re-read the whole prompt;
    * a new prompt takes, of the free slots no waiting sample wants, the one whose last prompt shares the longest
      beginning with it (a persona's other questions), the least recently used first among equals.

    A prompt with more samples waiting than slots holding it spreads to a free slot, so many samples of one prompt
    in flight do not queue behind one slot.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._held: OrderedDict[int, str] = OrderedDict()  # slot -> the prompt it last read, least recently used first
        self._busy: set[int] = set()
        self._waiting: collections.Counter[str] = collections.Counter()  # prompt -> its samples waiting for a slot
        self._changed: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @contextlib.asynccontextmanager
    async def reserved(self, complete: Complete, prompt_text: str) -> AsyncIterator[Complete]:
        """``complete`` on a slot reserved for one sample of ``prompt_text`` (whose requests go one at a time)."""
        if self._changed is None or self._loop is not asyncio.get_running_loop():  # a condition serves one loop
            self._changed, self._loop = asyncio.Condition(), asyncio.get_running_loop()
        async with self._changed:
            self._waiting[prompt_text] += 1
            try:
                while (slot := self._pick(prompt_text)) is None:
                    await self._changed.wait()
            finally:
                self._waiting[prompt_text] -= 1
                if not self._waiting[prompt_text]:
                    del self._waiting[prompt_text]
            self._busy.add(slot)
            self._held.pop(slot, None)
            self._held[slot] = prompt_text

        async def on_slot(body: dict) -> dict:
            return await complete({**body, "id_slot": slot})

        try:
            yield on_slot
        finally:
            async with self._changed:
                self._busy.discard(slot)
                self._changed.notify_all()

    def _pick(self, prompt_text: str) -> int | None:
        """The slot for a waiting sample of ``prompt_text`` now, or None to wait for one to be released."""
        own = [slot for slot, held in self._held.items() if held == prompt_text]
        free_own = [slot for slot in own if slot not in self._busy]
        if free_own:
            return free_own[0]
        if own and self._waiting[prompt_text] <= len(own):  # each waiting sample has one of the prompt's slots next
            return None
        wanted = set(self._waiting)
        unused = [slot for slot in range(self.count) if slot not in self._held]
        free = [slot for slot in (*unused, *self._held)
                if slot not in self._busy and self._held.get(slot) not in wanted]
        if not free:
            return None
        return max(free, key=lambda slot: _shared_beginning(self._held.get(slot, ""), prompt_text))


def _shared_beginning(first: str, second: str) -> int:
    """How many characters two texts share from their start."""
    return len(os.path.commonprefix([first, second]))
