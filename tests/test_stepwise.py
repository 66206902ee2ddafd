"""Constrained sampling a token at a time (backends/_stepwise.py) and the vocabulary it rests on (_vocabulary.py).

The references: gguf's own reader and llama.cpp's own detokenizer for the vocabulary, llama.cpp's own next-token
probabilities and its own grammar sampler for the draws.
"""

from __future__ import annotations

import asyncio
import collections
import json
import math
import urllib.request
from pathlib import Path

import pytest
import regex

from monoculture.backends import Decoding, GenerationRequest, ModelOptions, load_backend
from monoculture.backends._stepwise import AnswerLanguage, PromptSlots, answer_language, read_step, step_body
from monoculture.backends._vocabulary import Vocabulary, read_vocabulary
from monoculture.tasks import render
from monoculture.tasks.colour._task import COLOUR_PROMPT, ColourTask

COLOUR = ColourTask.answer_pattern(None, None)  # type: ignore[arg-type]
COLOUR_GRAMMAR = ColourTask.grammar(None, None)  # type: ignore[arg-type]
UNTRUNCATED = Decoding(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, max_tokens=16)


def _model_path(name: str) -> Path:
    from monoculture.backends._embedded import EMBEDDED_MODELS

    return EMBEDDED_MODELS[name].locate()


# -- the vocabulary --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gemma-3-270m", "smollm2-135m-instruct"])
def test_vocabulary_reads_what_gguf_reads(name):
    """Token for token, the header's strings and types as llama.cpp's own Python reader (gguf) gives them."""
    from gguf import GGUFReader

    path = _model_path(name)
    fields = GGUFReader(path).fields
    tokens = fields["tokenizer.ggml.tokens"]
    kinds = fields["tokenizer.ggml.token_type"]
    pieces = [bytes(tokens.parts[index]).decode("utf-8", "replace") for index in tokens.data]
    types = [int(kinds.parts[index][0]) for index in kinds.data]
    vocabulary = read_vocabulary(path)
    assert len(vocabulary.texts) == len(pieces) == len(types)
    for token, (piece, kind, text) in enumerate(zip(pieces, types, vocabulary.texts)):
        if kind == 3:  # control tokens never spell an answer
            assert text is None, (token, piece)
        elif text is not None and vocabulary.tokenizer == "llama" and kind != 6:
            assert text == piece.replace("\u2581", " "), (token, piece)
    assert vocabulary.tokenizer == {"gemma-3-270m": "llama", "smollm2-135m-instruct": "gpt2"}[name]


@pytest.mark.model
@pytest.mark.parametrize("name", ["gemma-3-270m", "smollm2-135m-instruct"])
def test_colour_tokens_read_as_llama_cpp_spells_them(name):
    """Every token the colour language allows anywhere reads as llama.cpp's detokenizer spells it (so the allowed sets
    are the ones llama.cpp's grammar would compute), and no token that spells a hex digit is left out."""
    backend = load_backend(f"embedded:{name}", ModelOptions(parallel=1))
    try:
        vocabulary = read_vocabulary(_model_path(name))
        language = answer_language(COLOUR, vocabulary)
        allowed = {token for moves in language.allowed.values() for token in moves}
        address = backend._server.listening_address
        for token in sorted(allowed):
            call = urllib.request.Request(f"{address}/detokenize", data=json.dumps({"tokens": [token]}).encode(),
                                          headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(call, timeout=30) as reply:
                spelled = json.loads(reply.read())["content"]
            assert spelled == vocabulary.texts[token], (token, spelled, vocabulary.texts[token])
        for digit in "0123456789abcdefABCDEF":  # each digit alone is allowed right after "#"
            after_hash = language.allowed[language.allowed[language.initial][vocabulary.tokens_by_text["#"][0]]]
            assert any(vocabulary.texts[token] == digit for token in after_hash), digit
    finally:
        asyncio.run(backend.aclose())


def test_prefix_spellings_find_every_token_of_every_prefix():
    vocabulary = Vocabulary("gpt2", (None, " a", "a", " an", "n", " eagle", "e", " ", None, "a"))
    assert vocabulary.spelling_any_prefix([" an eagle"]) == {1: " a", 3: " an", 7: " "}
    assert vocabulary.spelling_any_prefix(["a finch"]) == {2: "a", 9: "a"}
    assert vocabulary.spelling_any_prefix([]) == {}


# -- the answer language ---------------------------------------------------------------------------------------


def _toy_vocabulary() -> Vocabulary:
    return Vocabulary("gpt2", ("#", " #", " ", "ab", "abc", "0", "z", "#a", "ff", "1234567", None, "g"))


def test_colour_language_allows_exactly_the_prefixes_of_a_code():
    """Each state's allowed tokens are those that keep the text a prefix of ' ?#[0-9a-fA-F]{6}' (checked with the
    regex module's partial matching, independently of the automaton)."""
    vocabulary = _toy_vocabulary()
    language = AnswerLanguage(COLOUR, vocabulary)
    pattern = regex.compile(COLOUR)
    texts = {"": language.initial}
    frontier = [""]
    while frontier:  # every reachable text, each spelled one way
        text = frontier.pop()
        state = texts[text]
        for token, spelled in enumerate(vocabulary.texts):
            if not spelled:
                continue
            accepted = pattern.fullmatch(text + spelled, partial=True) is not None
            assert (token in language.allowed.get(state, {})) == accepted, (text, spelled)
            if accepted and text + spelled not in texts:
                texts[text + spelled] = language.allowed[state][token]
                frontier.append(text + spelled)
    finals = [text for text, state in texts.items() if state in language.finals]
    assert finals and all(pattern.fullmatch(text) for text in finals)
    assert "#abcab0" in finals and " #ff0abc" in finals and len(finals) > 20


def test_languages_the_step_sampler_refuses():
    vocabulary = _toy_vocabulary()
    with pytest.raises(ValueError, match="begin other answers"):
        AnswerLanguage("red|reddish", Vocabulary("gpt2", ("red", "dish")))
    with pytest.raises(ValueError, match="beyond ASCII"):
        AnswerLanguage("café", vocabulary)
    with pytest.raises(ValueError, match="no token"):
        AnswerLanguage("xyz", vocabulary)


# -- the slots -------------------------------------------------------------------------------------------------


def _recording_slots(count: int):
    """PromptSlots and a fake ``complete`` that records (prompt, slot) and the most requests a slot ever ran at once."""
    slots = PromptSlots(count)
    running: collections.Counter = collections.Counter()
    seen: list[tuple[str, int]] = []
    most = collections.Counter()

    async def complete(body: dict) -> dict:
        running[body["id_slot"]] += 1
        most[body["id_slot"]] = max(most[body["id_slot"]], running[body["id_slot"]])
        seen.append((body["prompt"], body["id_slot"]))
        await asyncio.sleep(0.001)
        running[body["id_slot"]] -= 1
        return {}

    async def ask(prompt: str, times: int) -> None:
        async with slots.reserved(complete, prompt) as on_slot:
            for _ in range(times):
                await on_slot({"prompt": prompt})

    return ask, seen, most


def test_samples_of_a_prompt_queue_for_its_slot_and_a_new_prompt_takes_the_least_recently_used():
    ask, seen, most = _recording_slots(2)

    async def main() -> None:
        await asyncio.gather(ask("A", 3), ask("A", 3), ask("B", 3))
        await ask("A", 1)
        await ask("C", 1)  # B's prompt is the least recently used: its slot goes to C
        await ask("B", 1)  # and B takes A's, now the least recently used

    asyncio.run(main())
    slot_of = collections.defaultdict(set)
    for prompt, slot in seen[:9]:
        slot_of[prompt].add(slot)
    assert len(slot_of["A"]) == len(slot_of["B"]) == 1 and slot_of["A"] != slot_of["B"]
    assert max(most.values()) == 1  # never two requests on one slot at once
    # the second sample of A waited for the first to finish instead of taking turns with it
    order = [index for index, (prompt, _) in enumerate(seen[:9]) if prompt == "A"]
    assert order == sorted(order) and len(order) == 6
    assert [slot for _, slot in seen[-2:]] == [*slot_of["B"], *slot_of["A"]]


def test_a_prompt_with_more_samples_waiting_than_slots_spreads_to_a_free_one():
    ask, seen, _ = _recording_slots(3)

    async def main() -> None:
        await asyncio.gather(ask("A", 2), ask("A", 2), ask("A", 2))

    asyncio.run(main())
    assert len({slot for _, slot in seen}) == 2  # the second waits for the first's slot, the third takes another


# -- sampling on the real models ---------------------------------------------------------------------------------


def _prompt_text(backend, word: str) -> tuple[str, GenerationRequest]:
    rendered = render(backend.info.kind, "", COLOUR_PROMPT.format(word=word))
    request = GenerationRequest(decoding=UNTRUNCATED, seed=0, prompt=rendered.prompt, messages=rendered.messages,
                                grammar=COLOUR_GRAMMAR, answer_pattern=COLOUR)
    return backend._prompt_text(request), request


@pytest.mark.model
@pytest.mark.parametrize("name", ["gemma-3-270m", "smollm2-135m-instruct"])
def test_a_step_is_the_models_own_distribution_renormalised_over_the_allowed_tokens(name):
    """At the first steps of a colour answer, each allowed token's probability is its own next-token probability
    (llama.cpp's list before any sampler, 5,000 long) divided by the allowed tokens' total, to 1e-4. Deterministic
    (one slot, nothing cached), so both requests see the same logits."""
    backend = load_backend(f"embedded:{name}", ModelOptions(deterministic=True))
    try:
        language = answer_language(COLOUR, read_vocabulary(_model_path(name)))
        prompt_text, _ = _prompt_text(backend, "ocean")
        path, state = [], language.initial
        for _ in range(4):
            allowed = language.allowed[state]
            prompt = [prompt_text, *path] if path else prompt_text
            step = dict(read_step(backend._complete(step_body({"cache_prompt": False}, prompt, sorted(allowed), 1.0)),
                                  allowed).probabilities())
            listed = backend._complete({"prompt": prompt, "max_tokens": 1, "temperature": 0.0, "n_probs": 5000,
                                        "cache_prompt": False})["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
            own = {entry["id"]: math.exp(entry["logprob"]) for entry in listed if entry["id"] in allowed}
            assert sum(step.values()) == pytest.approx(1.0)
            mass = sum(step[token] for token in own)  # the allowed tokens listed: nearly all of the step
            assert mass > 0.99
            total = sum(own.values())
            for token, probability in own.items():
                if probability / total > 1e-3:
                    assert step[token] / mass == pytest.approx(probability / total, rel=1e-4), language.texts[token]
            best = max(step, key=step.get)
            path.append(best)
            state = allowed[best]
    finally:
        asyncio.run(backend.aclose())


@pytest.mark.model
def test_step_sampling_draws_as_llama_cpps_grammar_sampler_does(data_root):
    """The first two tokens of a constrained colour answer (SmolLM2: "#" and a first digit), drawn 400 times step by
    step and 400 times by llama.cpp's own grammar sampler: the same distribution (a two-sample chi-square test at
    p = 0.001), every text a prefix of a code, and the step sampler's reported probability of "#1" within noise of
    how often it comes."""
    from scipy.stats import chi2_contingency

    draws = 400
    backend = load_backend("embedded:smollm2-135m-instruct", ModelOptions())
    short = Decoding(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, max_tokens=2)
    try:
        _, request = _prompt_text(backend, "ocean")
        request = GenerationRequest(decoding=short, seed=0, messages=request.messages, grammar=COLOUR_GRAMMAR,
                                    answer_pattern=COLOUR)
        from dataclasses import replace

        async def both():
            stepwise = await asyncio.gather(*(backend.generate(replace(request, seed=seed)) for seed in range(draws)))
            grammar = await asyncio.gather(*(backend.generate(replace(request, seed=seed, answer_pattern=None))
                                             for seed in range(draws)))
            return stepwise, grammar

        stepwise, grammar = asyncio.run(both())
    finally:
        asyncio.run(backend.aclose())
    pattern = regex.compile(COLOUR)
    for generation in (*stepwise, *grammar):
        assert pattern.fullmatch(generation.text, partial=True), generation.text
    assert all(g.completion_tokens <= 2 for g in stepwise)
    counts = [collections.Counter(g.text.lstrip() for g in sample) for sample in (stepwise, grammar)]
    common = sorted(text for text in set(counts[0]) | set(counts[1]) if counts[0][text] + counts[1][text] >= 10)
    table = [[c[text] for text in common] + [draws - sum(c[text] for text in common)] for c in counts]
    assert len(common) >= 4
    _, p_value, _, _ = chi2_contingency(table)
    assert p_value > 0.001, (p_value, table)
    # The probability the sampler reports for a text is how often it comes (binomial noise, 4 standard errors), for
    # the commonest text that one token path spells (all its draws report one probability).
    reported = collections.defaultdict(set)
    for generation in stepwise:
        reported[generation.text].add(round(generation.logprob, 9))
    raw = collections.Counter(g.text for g in stepwise)
    text = max((t for t in reported if len(reported[t]) == 1), key=raw.__getitem__)
    expected = math.exp(reported[text].pop())
    assert 0.05 < expected < 0.95
    assert abs(raw[text] / draws - expected) < 4 * math.sqrt(expected * (1 - expected) / draws)


@pytest.mark.model
def test_step_sampling_is_seeded_and_falls_back_to_the_grammar_when_the_decoding_truncates(data_root):
    from dataclasses import replace

    backend = load_backend("embedded:gemma-3-270m", ModelOptions())
    try:
        _, request = _prompt_text(backend, "fire")

        async def draw():
            same = [await backend.generate(request) for _ in range(2)]
            others = await asyncio.gather(*(backend.generate(replace(request, seed=seed)) for seed in range(1, 9)))
            truncated = await backend.generate(replace(request, decoding=replace(UNTRUNCATED, top_k=40)))
            return same, others, truncated

        same, others, truncated = asyncio.run(draw())
    finally:
        asyncio.run(backend.aclose())
    pattern = regex.compile(COLOUR)
    assert same[0].text == same[1].text and same[0].logprob == same[1].logprob
    assert len({g.text for g in others}) > 4
    for generation in (*same, *others):
        assert pattern.fullmatch(generation.text) and generation.finish_reason == "stop"
        assert generation.logprob is not None and generation.logprob < 0
    # top_k = 40: llama.cpp's grammar sampler (which truncates first), still a whole code
    assert pattern.fullmatch(truncated.text.rstrip()), truncated.text


def test_a_short_list_keeps_the_servers_probabilities_and_leaves_the_rest_unlisted():
    """Listed tokens keep the probabilities llama.cpp gives (renormalised over every allowed token), a draw beyond
    them is None, and a whole list is renormalised as before."""
    reply = {"choices": [{"logprobs": {"content": [{"top_probs": [
        {"id": 7, "prob": 0.5}, {"id": 3, "prob": 0.3}, {"id": 99, "prob": 0.05}]}]}}]}  # 99: refused
    short = read_step(reply, {3, 7, 8, 9})
    assert short.unlisted == pytest.approx(0.2) and dict(short.probabilities()) == pytest.approx({3: 0.3, 7: 0.5})
    assert short.draw(0.1) == (3, pytest.approx(0.3)) and short.draw(0.5) == (7, pytest.approx(0.5))
    assert short.draw(0.85) is None
    whole = read_step(reply, {3, 7})
    assert whole.unlisted == 0 and dict(whole.probabilities()) == pytest.approx({3: 0.375, 7: 0.625})
    assert whole.draw(0.999) == (7, pytest.approx(0.625))


def _draw_two_tokens(backend, seeds, listed):
    """The first two tokens of constrained colour answers to "ocean", drawn a step at a time listing ``listed``."""
    from monoculture.backends._stepwise import StepCache, sample_stepwise

    short = Decoding(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, max_tokens=2)
    _, request = _prompt_text(backend, "ocean")
    language = answer_language(COLOUR, read_vocabulary(_model_path("smollm2-135m-instruct")))
    base = {"cache_prompt": False} if backend.info.deterministic else {}

    async def one(seed: int, cache: StepCache):
        prompt_text, prompt_tokens = await backend._prompt(request)
        async with backend._slots.reserved(backend._complete_async, prompt_text) as complete:
            return await sample_stepwise(complete, language, prompt_text, short, seed, cache, base, listed=listed,
                                         prompt_tokens=prompt_tokens)

    async def all_seeds():
        cache = StepCache()
        return await asyncio.gather(*(one(seed, cache) for seed in seeds))

    return asyncio.run(all_seeds())


@pytest.mark.model
def test_steps_listing_a_few_tokens_draw_the_rest_exactly(data_root):
    """SmolLM2's first digit of a code has 197 allowed tokens. Listing 2 a step (so many draws fall beyond the list
    and the server draws from the rest) against listing all: 300 draws each of the first two tokens, the same
    distribution (two-sample chi-square, p > 0.001); and, one slot without cached prompts (the same logits for
    both), each text reported with the same probability, its path's, to 1e-5."""
    from scipy.stats import chi2_contingency

    draws = 300
    backend = load_backend("embedded:smollm2-135m-instruct", ModelOptions())
    try:
        few, every = (_draw_two_tokens(backend, range(draws), listed) for listed in (2, None))
    finally:
        asyncio.run(backend.aclose())
    counts = [collections.Counter(g.text.lstrip() for g in sample) for sample in (few, every)]
    # a fifth or more of the draws fall beyond the two likeliest texts, so the server's draws from the rest count
    assert sum(count for _, count in counts[1].most_common(2)) < draws * 0.8
    common = sorted(text for text in set(counts[0]) | set(counts[1]) if counts[0][text] + counts[1][text] >= 10)
    table = [[c[text] for text in common] + [draws - sum(c[text] for text in common)] for c in counts]
    assert len(common) >= 4
    _, p_value, _, _ = chi2_contingency(table)
    assert p_value > 0.001, (p_value, table)

    backend = load_backend("embedded:smollm2-135m-instruct", ModelOptions(deterministic=True))
    try:
        few, every = (_draw_two_tokens(backend, range(16), listed) for listed in (2, None))
    finally:
        asyncio.run(backend.aclose())
    reported = {g.text: g.logprob for g in every}
    compared = [(math.exp(g.logprob), math.exp(reported[g.text])) for g in few if g.text in reported]
    assert len(compared) >= 4
    for mine, theirs in compared:
        assert mine == pytest.approx(theirs, rel=1e-5)
    assert len({g.text for g in few} - set(reported)) >= 2  # texts only the draws beyond the list reached


def test_a_decided_answer_is_written_out_without_asking():
    vocabulary = Vocabulary("gpt2", (" a", " an", " f", "inch", "in", "ch", " eagle", "n", "a", " "))
    language = AnswerLanguage(" ?(?:a\\ finch|an\\ eagle)", vocabulary)
    after_f = language.allowed[language.allowed[language.initial][0]][2]  # " a", then " f"
    assert language.completions[after_f] == "inch"
    assert language.completions[language.allowed[language.initial][1]] == " eagle"  # " an" decides it
    assert language.initial not in language.completions and language.allowed[language.initial][0] not in \
        language.completions  # " a" keeps both open


def test_the_default_pattern_follows_the_default_grammar():
    from monoculture.tasks import Prompt
    from monoculture.tasks.concepts._task import ConceptTask

    concepts = ConceptTask.__new__(ConceptTask)  # the pattern needs no spec
    prompt = Prompt(item="robin|finch|eagle", replicate=1, text="?", choices=("a finch", "an eagle"))
    pattern = regex.compile(concepts.answer_pattern(prompt))
    assert pattern.fullmatch(" an eagle") and pattern.fullmatch("a finch") and not pattern.fullmatch("a  finch")
    assert concepts.answer_pattern(Prompt(item="x", replicate=1, text="?")) is None
    colour = ColourTask.__new__(ColourTask)  # its own grammar, its own pattern
    assert colour.answer_pattern(prompt) == COLOUR


@pytest.mark.model
def test_step_sampling_of_a_closed_answer_set_matches_its_exact_distribution(data_root):
    """The eagle question (SmolLM2), 300 constrained answers drawn a token at a time against exact mode's distribution
    of the same prompt (computed from llama.cpp's probabilities by another path, backends/_distribution): within 4
    standard errors."""
    from dataclasses import replace

    from monoculture.tasks.concepts._items import pair_items
    from monoculture.tasks.concepts._task import ConceptTask, concept_question

    first, second = next(pair for pair in pair_items("robin") if set(pair) == {"eagle", "finch"})
    prompt = concept_question(f"robin|{first}|{second}", 1)
    task = ConceptTask.__new__(ConceptTask)
    rendered = render("chat", "", prompt.text)
    request = GenerationRequest(decoding=UNTRUNCATED, seed=0, messages=rendered.messages,
                                grammar=task.grammar(prompt), answer_pattern=task.answer_pattern(prompt))
    draws = 300
    backend = load_backend("embedded:smollm2-135m-instruct", ModelOptions())
    try:
        async def both():
            exact = await backend.answer_distribution(request, prompt.choices)
            texts = await asyncio.gather(*(backend.generate(replace(request, seed=seed)) for seed in range(draws)))
            return exact, texts

        exact, generations = asyncio.run(both())
    finally:
        asyncio.run(backend.aclose())
    texts = [g.text.strip() for g in generations]
    assert set(texts) <= set(prompt.choices)
    p = exact.probabilities["an eagle"]
    assert 0.1 < p < 0.9
    assert abs(texts.count("an eagle") - draws * p) < 4 * math.sqrt(draws * p * (1 - p))
    # Each draw reports the probability of its token path, at most its answer's (which sums the paths that spell it,
    # " a" + " finch" and "a" + " finch" ...); the commonest paths carry nearly all of it.
    for generation in generations:
        assert math.exp(generation.logprob) <= exact.probabilities[generation.text.strip()] * 1.01
    best = {text.strip(): 0.0 for text in texts}
    for generation in generations:
        best[generation.text.strip()] = max(best[generation.text.strip()], math.exp(generation.logprob))
    for answer, probability in best.items():
        assert probability > 0.9 * exact.probabilities[answer]


def test_a_new_prompt_takes_the_free_slot_that_shares_its_beginning():
    """A persona's next question goes where its last one was read, not to the least recently used slot."""
    ask, seen, _ = _recording_slots(2)

    async def main() -> None:
        for prompt in ("You are Ann, a nurse. Q1", "Unrelated", "You are Ann, a nurse. Q1", "You are Ann, a nurse. Q2"):
            await ask(prompt, 1)

    asyncio.run(main())
    slots = [slot for _, slot in seen]
    assert slots[0] != slots[1] and slots[2] == slots[0]
    assert slots[3] == slots[0]  # least recently used would have been the other slot


@pytest.mark.model
def test_exact_steps_from_the_vocabulary_agree_with_listing_and_grammar_requests(data_root):
    """Exact mode's two ways on llama.cpp (backends/_distribution): from the vocabulary (embedded models) and from a
    2,000-token list with grammar requests for what it misses (llama-servers over HTTP). Gemma, one slot without cached
    prompts (both see the same logits), four concept prompts: the same distributions to 1e-3 (the list's own
    approximation), and no grammar request from the vocabulary."""
    from monoculture.backends._distribution import answer_spellings, explore, llama_next_tokens
    from monoculture.tasks.concepts._items import pair_items
    from monoculture.tasks.concepts._task import concept_question

    backend = load_backend("embedded:gemma-3-270m", ModelOptions(deterministic=True))
    vocabulary = read_vocabulary(_model_path("gemma-3-270m"))
    grammar_requests = collections.Counter()

    async def complete(body: dict) -> dict:
        grammar_requests["grammar" in body] += 1
        return backend._complete(body)

    async def both(prompt):
        text = render("base", "", prompt.text).prompt
        body = {"seed": 0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "cache_prompt": False}
        found = []
        for known in (vocabulary, None):
            grammar_requests.clear()
            next_tokens = llama_next_tokens(complete, text, body, answer_spellings(prompt.choices), known)
            found.append((await explore(next_tokens, prompt.choices, 1.0), dict(grammar_requests)))
        return found

    try:
        for pair in list(pair_items("robin"))[:4]:
            prompt = concept_question(f"robin|{pair[0]}|{pair[1]}", 1)
            (new, new_requests), (old, _) = asyncio.run(both(prompt))
            assert new_requests.get(True, 0) == 0 and new_requests[False] >= new.steps
            for answer in prompt.choices:
                assert new.probabilities[answer] == pytest.approx(old.probabilities[answer], abs=1e-3), prompt.item
            # what the list missed counts as outside there; here it is found, so the outside mass is no larger
            assert new.outside_mass <= old.outside_mass + 1e-3
    finally:
        asyncio.run(backend.aclose())
