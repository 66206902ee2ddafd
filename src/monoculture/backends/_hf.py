"""The hf backend: a local Hugging Face checkpoint run in-process by transformers on torch (extra ``hf``).

Two spec forms, both local (nothing is ever downloaded; docs/methods.md, section 6):

* ``hf:/path/to/checkpoint``: a folder as ``save_pretrained`` writes it (config, weights, tokenizer);
* ``hf:/path/to/model.gguf``: a GGUF file, dequantized to float32 by transformers' GGUF loader.

Batching. :class:`monoculture.backends.Model` calls :meth:`HFBackend.generate` up to ``max_concurrency``
times at once. Requests that arrive together (within ``window_s``, up to ``batch_size``) are left-padded into
one batch and decoded together in a worker thread (torch releases the GIL), so one pass over the weights
serves every row. While a batch decodes, the next requests queue up for the following batch.

Sampling. ``model.generate`` draws every row of a batch from one random stream, so a row's text would depend on
what it was batched with. Here the decoding loop is our own: one forward pass per step over the batch with the
KV cache, then each row samples its next token with its own ``torch.Generator`` seeded by its request's seed,
after temperature, top-k, top-p and min-p (transformers' order). A row's draws therefore depend only on its
own seed and logits: the same request gives the same text alone or batched with others. (Padding changes the
logits by float32 rounding: SmolLM2's by up to 4e-5, its probabilities by up to 1e-6. A draw changes only if
its uniform number falls that close to a boundary between two tokens.)

Grammar-constrained decoding is not offered (``request.grammar`` is refused); exact answer distributions
(:meth:`HFBackend.answer_distribution`) follow every token path the answer grammar allows through the whole
vocabulary, the same estimand as the llama.cpp backends (``backends/_distribution``).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import inspect
import math
import os
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from monoculture.files import sha256_of
from monoculture.backends._base import Backend, Decoding, Generation, GenerationRequest, ModelInfo, ModelKind
from monoculture.backends._distribution import AnswerDistribution, Candidate, explore
from monoculture.errors import BackendError, ModelUnavailableError

# Rows decoded together. Decoding on a CPU is bound by reading the weights once per step, so rows are cheap:
# SmolLM2-135M in float32 here (2 idle cores, 10-token answers, pure sampling) gave 1.7 samples/s one at a
# time, 5.9 in batches of 8, 8.9 in batches of 16 and 10.4 in batches of 32. A study's `parallel` sets it.
DEFAULT_BATCH = 16
# How long the first request of a batch waits for company: requests the Model wrapper issues together
# arrive within a few event-loop turns, and a batch takes a second or more.
BATCH_WINDOW_S = 0.005
NO_GRAMMAR = ('the hf backend has no grammar-constrained decoding: use mode = "free" '
              "or an embedded/llama.cpp model")


def _import_torch() -> Any:
    """torch, imported with OpenMP's threads sleeping rather than spinning while they wait.

    With spinning threads (libgomp's default), torch on 2 cores beside a llama.cpp run slowed down 25x here:
    2.4 s per decoding step instead of 0.095 s. Sleeping costs some speed on an idle machine (0.09 s instead
    of 0.05 per step; batches of 8: 5.9 samples/s instead of 8.0), which OMP_WAIT_POLICY=ACTIVE buys back on a
    machine with nothing else to do. libgomp reads the setting once, when torch loads it, so it only applies
    if torch is not imported yet; a user's own OMP_WAIT_POLICY wins.
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    return torch


def _import_runtime() -> tuple[Any, Any]:
    try:
        torch = _import_torch()
        import transformers
    except ImportError as error:
        raise ModelUnavailableError(
            f"the hf backend needs torch and transformers ({error.name or error} is missing): "
            "pip install 'monoculture[hf]' (install torch first from the CPU index on a machine without a GPU)"
        ) from error
    return torch, transformers


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def sample_token(logits: Any, decoding: Decoding, generator: Any) -> int:
    """Draw one token id from a row's next-token ``logits`` with that row's own ``generator`` (see
    :func:`draw_token`)."""
    return draw_token(logits, decoding, generator)[0]


def draw_token(logits: Any, decoding: Decoding, generator: Any) -> tuple[int, float]:
    """Draw one token id, and its log-probability under the distribution it was drawn from.

    Temperature, then top-k, top-p and min-p (transformers' order, ``order = "temperature_first"``), or the
    truncation on the model's own probabilities and temperature on what is left (llama.cpp's default,
    ``"truncation_first"``); a parameter at its neutral value (top_k 0, top_p 1, min_p 0) does nothing, and
    temperature 0 is greedy. One uniform number is drawn per token (inverse CDF in float64), so a row consumes
    its random stream identically whatever else is batched.
    """
    torch = _import_torch()
    if decoding.temperature <= 0:
        return int(torch.argmax(logits)), 0.0
    first = decoding.order == "temperature_first"
    scores = logits.to(torch.float64) / (decoding.temperature if first else 1.0)
    if 0 < decoding.top_k < scores.numel():
        kth = torch.topk(scores, decoding.top_k).values[-1]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    if decoding.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        # Keep the smallest head whose mass reaches top_p: a token stays if the mass before it is short of it.
        before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
        drop = before >= decoding.top_p
        drop[0] = False
        probs = probs.clone()
        probs[order[drop]] = 0.0
    if decoding.min_p > 0.0:
        probs = probs.masked_fill(probs < decoding.min_p * probs.max(), 0.0)
    if not first:  # temperature on the tokens truncation kept: p^(1/T), renormalised below
        kept = probs > 0
        probs = torch.where(kept, torch.softmax(scores.masked_fill(~kept, float("-inf")) / decoding.temperature,
                                                dim=-1), probs)
    cumulative = torch.cumsum(probs, dim=-1)
    threshold = torch.rand((), generator=generator, dtype=torch.float64) * cumulative[-1]
    index = min(int(torch.searchsorted(cumulative, threshold, right=True)), probs.numel() - 1)
    return index, math.log(float(probs[index] / cumulative[-1]))


def _digest(path: Path) -> tuple[str, int]:
    """sha256 and size of a file; for a folder, the sha256 of its files' relative paths and sha256s."""
    if path.is_file():
        return sha256_of(path), path.stat().st_size
    digest, size = hashlib.sha256(), 0
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".")
                                                                          for part in p.relative_to(path).parts)):
        digest.update(f"{file.relative_to(path).as_posix()}\0{sha256_of(file)}\n".encode())
        size += file.stat().st_size
    return digest.hexdigest(), size


def _default_decoding(generation_config: Any) -> dict[str, float | int]:
    """The checkpoint's own sampling parameters, or transformers' defaults where it names none."""

    def given(name: str, default: float) -> Any:
        value = getattr(generation_config, name, None)
        return default if value is None else value

    # do_sample is recorded, not obeyed: a population is always sampled, and transformers' greedy default
    # would make every individual alike. The condition's temperature decides.
    return {"temperature": float(given("temperature", 1.0)), "top_k": int(given("top_k", 50)),
            "top_p": float(given("top_p", 1.0)), "min_p": float(given("min_p", 0.0)),
            "do_sample": bool(given("do_sample", False))}


class HFBackend(Backend):
    """A local transformers checkpoint or GGUF file in float32, decoded in micro-batches on the CPU.

    ``model`` and ``tokenizer`` are the loaded transformers objects, for users who want to go further.
    """

    def __init__(self, spec: str, path: Path, kind: ModelKind | None = None, *, batch_size: int = DEFAULT_BATCH,
                 window_s: float = BATCH_WINDOW_S) -> None:
        torch, transformers = _import_runtime()
        self._torch = torch
        path = path.expanduser()
        gguf = path.suffix.lower() == ".gguf"
        if gguf and not path.is_file():
            raise ModelUnavailableError(f"GGUF file {path} does not exist: check the path in {spec!r}")
        if not gguf and not (path / "config.json").is_file():
            raise ModelUnavailableError(f"{path} is not a transformers checkpoint folder (no config.json): "
                                        f"check the path in {spec!r} (local files only, nothing is downloaded) "
                                        "or name a .gguf file")
        if gguf and (importlib.util.find_spec("gguf") is None or importlib.util.find_spec("accelerate") is None):
            raise ModelUnavailableError(f"loading {path.name} through transformers needs gguf and accelerate: "
                                        "pip install 'monoculture[hf]'")
        folder, extra = (path.parent, {"gguf_file": path.name}) if gguf else (path, {})
        # CPUs run float32 fastest and most exactly; "dtype" replaced "torch_dtype" in transformers 4.56.
        major, minor = (int(part) for part in transformers.__version__.split(".")[:2])
        dtype_key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True, **extra)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                folder, local_files_only=True, **{dtype_key: torch.float32}, **extra)
        except (OSError, ValueError, KeyError, RuntimeError) as error:
            raise ModelUnavailableError(f"transformers could not load {path}: {_one_line(error)}") from error
        self.model.eval()
        has_template = bool(getattr(self.tokenizer, "chat_template", None))
        # A checkpoint that ships a chat template is a chat model unless the study says kind = "base".
        kind = kind or ("chat" if has_template else "base")
        if kind == "chat" and not has_template:
            raise ModelUnavailableError(f"{spec} has no chat template in its tokenizer: set kind = \"base\" for it "
                                        "in the study file, or add a chat_template to its tokenizer_config.json")
        forward = inspect.signature(self.model.forward).parameters
        # transformers 5 renamed past_key_values to cache; the output field has the argument's name.
        self._cache_arg = "cache" if "cache" in forward else "past_key_values"
        self._keep_arg = next((name for name in ("logits_to_keep", "num_logits_to_keep") if name in forward), None)
        generation_config = self.model.generation_config
        self._stop_ids = _token_ids(generation_config.eos_token_id) | _token_ids(self.tokenizer.eos_token_id)
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = generation_config.pad_token_id
        self._pad_id = pad if pad is not None else min(self._stop_ids, default=0)
        self._batch_size = max(1, batch_size)
        self._window_s = window_s
        self._waiting: deque[tuple[GenerationRequest, str, asyncio.Future[Generation]]] = deque()
        self._driver: asyncio.Task[None] | None = None
        # One thread: batches run one after another, each using every core through torch's own threads.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hf")
        self._texts_by_token: dict[str, list[int]] | None = None  # exact mode's token texts, built on first use
        sha256, size = _digest(path)
        self.info = ModelInfo(
            spec=spec, kind=kind, backend="hf", file=str(path), sha256=sha256, size_bytes=size,
            runtime=f"transformers {transformers.__version__}, torch {torch.__version__}",
            default_decoding=_default_decoding(generation_config), max_concurrency=self._batch_size,
        )

    # -- prompts -------------------------------------------------------------------------------------------

    def prompt_text(self, request: GenerationRequest) -> str:
        """The exact text the model continues: the completion prompt, or the messages through the chat template."""
        if request.messages is None:
            if request.prompt is None:
                raise BackendError(f"a request for {self.info.spec} has neither a prompt nor messages")
            return request.prompt
        if not getattr(self.tokenizer, "chat_template", None):
            raise BackendError(f"{self.info.spec} has no chat template: give it kind = \"base\" in the study file")
        messages = [{"role": role, "content": content} for role, content in request.messages]
        try:
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except Exception as error:  # jinja templates raise their own errors (e.g. "system role not supported")
            message = _one_line(error)
            raise BackendError(f"the chat template of {self.info.spec} refused the messages: {message}") from error

    def _encode(self, text: str, request: GenerationRequest) -> list[int]:
        # A chat template writes its own special tokens; a completion prompt gets the tokenizer's (e.g. BOS).
        return list(self.tokenizer(text, add_special_tokens=request.messages is None)["input_ids"])

    # -- generation ----------------------------------------------------------------------------------------

    async def generate(self, request: GenerationRequest) -> Generation:
        """Queue one request for the next batch and wait for its text."""
        if request.grammar is not None:
            raise BackendError(NO_GRAMMAR)
        text = self.prompt_text(request)  # a template's error stays with its own request
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Generation] = loop.create_future()
        self._waiting.append((request, text, future))
        if self._driver is None or self._driver.done():
            self._driver = loop.create_task(self._drive())
        return await future

    async def _drive(self) -> None:
        """Take waiting requests in batches until none wait."""
        loop = asyncio.get_running_loop()
        while self._waiting:
            if len(self._waiting) < self._batch_size:
                await asyncio.sleep(self._window_s)
            batch = []
            while self._waiting and len(batch) < self._batch_size:
                entry = self._waiting.popleft()
                if not entry[2].done():  # the Model wrapper cancels requests when a run fails
                    batch.append(entry)
            if not batch:
                continue
            try:
                generations = await loop.run_in_executor(
                    self._pool, self._generate_batch, [(request, text) for request, text, _ in batch])
            except Exception as error:  # noqa: BLE001 - handed to every waiting request, which raises it
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, _, future), generation in zip(batch, generations):
                if not future.done():
                    future.set_result(generation)

    def _left_pad(self, rows: list[list[int]]) -> tuple[Any, Any]:
        torch = self._torch
        width = max(len(row) for row in rows)
        ids = torch.full((len(rows), width), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for index, row in enumerate(rows):
            if row:
                ids[index, width - len(row):] = torch.tensor(row, dtype=torch.long)
                mask[index, width - len(row):] = 1
        return ids.to(self.model.device), mask.to(self.model.device)

    def _forward(self, ids: Any, mask: Any, positions: Any, cache: Any, keep: int) -> Any:
        arguments = {"input_ids": ids, "attention_mask": mask, "position_ids": positions,
                     self._cache_arg: cache, "use_cache": True}
        if self._keep_arg is not None:
            arguments[self._keep_arg] = keep
        return self.model(**arguments)

    def _generate_batch(self, batch: list[tuple[GenerationRequest, str]]) -> list[Generation]:
        """Decode a batch, each row sampling with its own generator (runs in the worker thread).

        The tokenizer is used only in this thread: a fast tokenizer used from two threads at once can fail
        with "Already borrowed".
        """
        torch = self._torch
        requests = [request for request, _ in batch]
        prompts = [self._encode(text, request) for request, text in batch]
        rows = len(batch)
        generators = [torch.Generator().manual_seed(request.seed) for request in requests]
        produced: list[list[int]] = [[] for _ in requests]
        logprobs = [0.0] * rows
        finish: list[str | None] = ["length" if r.decoding.max_tokens <= 0 else None for r in requests]
        with torch.inference_mode():
            ids, mask = self._left_pad(prompts)
            # Left padding: a row's positions count its own tokens only.
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            step_input, cache = ids, None
            while not all(finish):
                output = self._forward(step_input, mask, positions, cache, keep=1)
                cache = output[self._cache_arg]
                logits = output.logits[:, -1, :].cpu()  # the generators live on the CPU
                next_tokens = []
                for row, request in enumerate(requests):
                    if finish[row] is not None:
                        next_tokens.append(self._pad_id)  # a finished row idles; its output is complete
                        continue
                    token, logprob = draw_token(logits[row], request.decoding, generators[row])
                    logprobs[row] += logprob
                    next_tokens.append(token)
                    if token in self._stop_ids:
                        finish[row] = "stop"
                    else:
                        produced[row].append(token)
                        if len(produced[row]) >= request.decoding.max_tokens:
                            finish[row] = "length"
                step_input = torch.tensor(next_tokens, dtype=torch.long, device=ids.device)[:, None]
                mask = torch.cat([mask, mask.new_ones((rows, 1))], dim=1)
                positions = positions[:, -1:] + 1
        return [Generation(text=self.tokenizer.decode(tokens, skip_special_tokens=True), finish_reason=reason,
                           prompt_tokens=len(prompt), completion_tokens=len(tokens), logprob=logprob)
                for prompt, tokens, reason, logprob in zip(prompts, produced, finish, logprobs)]

    # -- exact answer distributions ------------------------------------------------------------------------

    async def choice_logprobs(self, request: GenerationRequest, choices: tuple[str, ...]) -> dict[str, float]:
        """log P(choice | prompt) for each choice: the sum of its tokens' log-probabilities by teacher forcing.

        The prompt is rendered as for :meth:`generate` (chat template or completion prompt); the choice text
        follows it directly, so a base-model choice usually wants its leading space (``" blue"``). A choice is
        tokenized as the tokenizer splits prompt and choice together (falling back to the choice alone where
        that split crosses the prompt's end), and the probability is that of this one tokenization. Values are
        the model's own distribution: the request's decoding parameters (temperature, truncation), seed and
        grammar are not applied (the choices are the answer set). All choices are scored in one batched forward
        pass. Over a set of single-token choices the exponentials sum to at most 1; the rest is the mass of every
        other continuation.
        """
        if not choices:
            return {}
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._score_choices, request, tuple(choices))

    async def answer_distribution(self, request: GenerationRequest, choices: tuple[str, ...]) -> AnswerDistribution:
        """Exact mode: the constrained-sampling distribution over the answers (``backends/_distribution``).

        The same estimand as the llama.cpp backends, computed from the whole vocabulary: at every undecided
        step every token whose text the answer grammar allows is a candidate, and the end-of-text tokens end
        an answer that is complete.
        """
        loop = asyncio.get_running_loop()
        # The tokenizer is used in the worker thread only (see _generate_batch).
        prompt_ids = await loop.run_in_executor(self._pool, lambda: self._encode(self.prompt_text(request), request))
        if not prompt_ids:
            raise BackendError(f"exact mode needs a non-empty prompt ({self.info.spec})")

        async def next_tokens(path: tuple[Candidate, ...], continuations: tuple[str, ...]) -> list[Candidate]:
            ids = prompt_ids + [candidate.token for candidate in path]
            return await loop.run_in_executor(self._pool, self._allowed_next, ids, continuations)

        return await explore(next_tokens, choices, request.decoding.temperature)

    def _token_texts(self) -> dict[str, list[int]]:
        """Every token's text (as it reads after other text) and the ids that spell it, built once."""
        if self._texts_by_token is None:
            # Decoding a token after an anchor keeps the leading space that SentencePiece drops at the start.
            anchor = self.tokenizer("a", add_special_tokens=False)["input_ids"][-1:]
            prefix = self.tokenizer.decode(anchor)
            texts: dict[str, list[int]] = {}
            for token in range(len(self.tokenizer)):
                piece = self.tokenizer.decode(anchor + [token])
                if piece.startswith(prefix) and len(piece) > len(prefix) and "\ufffd" not in piece:
                    texts.setdefault(piece[len(prefix):], []).append(token)
            self._texts_by_token = texts
        return self._texts_by_token

    def _allowed_next(self, ids: list[int], continuations: tuple[str, ...]) -> list[Candidate]:
        """The tokens that begin one of the continuations (and the end tokens), with their log-probabilities."""
        torch = self._torch
        texts = self._token_texts()
        wanted: dict[int, str] = {}
        for continuation in continuations:
            for length in range(1, len(continuation) + 1):
                for token in texts.get(continuation[:length], ()):
                    wanted[token] = continuation[:length]
        with torch.inference_mode():
            row = torch.tensor([ids], dtype=torch.long, device=self.model.device)
            output = self._forward(row, torch.ones_like(row), torch.arange(len(ids), device=row.device)[None, :],
                                   None, keep=1)
            logprobs = torch.log_softmax(output.logits[0, -1, :].to(torch.float64), dim=-1).cpu()
        candidates = [Candidate(token, text, float(logprobs[token])) for token, text in wanted.items()]
        candidates += [Candidate(token, "", float(logprobs[token]), end=True) for token in sorted(self._stop_ids)
                       if token < logprobs.numel()]
        return [candidate for candidate in candidates if math.isfinite(candidate.logprob)]

    def _continuation(self, text: str, prompt_ids: list[int], choice: str, request: GenerationRequest) -> list[int]:
        whole = self._encode(text + choice, request)
        if len(whole) > len(prompt_ids) and whole[:len(prompt_ids)] == prompt_ids:
            return whole[len(prompt_ids):]
        return list(self.tokenizer(choice, add_special_tokens=False)["input_ids"])

    def _score_choices(self, request: GenerationRequest, choices: tuple[str, ...]) -> dict[str, float]:
        torch = self._torch
        text = self.prompt_text(request)
        prompt_ids = self._encode(text, request)
        if not prompt_ids:
            raise BackendError(f"choice_logprobs needs a non-empty prompt ({self.info.spec})")
        continuations = [self._continuation(text, prompt_ids, choice, request) for choice in choices]
        for choice, tokens in zip(choices, continuations):
            if not tokens:
                raise BackendError(f"choice {choice!r} is empty once tokenized by {self.info.spec}")
        longest = max(len(tokens) for tokens in continuations)
        with torch.inference_mode():
            ids, mask = self._left_pad([prompt_ids + tokens for tokens in continuations])
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            # Left padding ends every row together: the logits that predict the choices are the last ones.
            logits = self._forward(ids, mask, positions, None, keep=longest + 1).logits[:, -(longest + 1):, :]
            logprobs = torch.log_softmax(logits.to(torch.float64), dim=-1)
        scores = {}
        for row, (choice, tokens) in enumerate(zip(choices, continuations)):
            # Token t of an n-token choice sits at -(n - t) and is predicted one position earlier.
            steps = [logprobs[row, longest - len(tokens) + t, token] for t, token in enumerate(tokens)]
            scores[choice] = float(sum(steps))
        return scores

    async def aclose(self) -> None:
        """Finish the batch in flight, stop the worker thread and drop the weights."""
        if self._driver is not None and not self._driver.done():
            await asyncio.gather(self._driver, return_exceptions=True)
        self._pool.shutdown(wait=True)
        self.model = None
        self.tokenizer = None


def _token_ids(value: int | list[int] | None) -> set[int]:
    if value is None:
        return set()
    return {value} if isinstance(value, int) else set(value)
