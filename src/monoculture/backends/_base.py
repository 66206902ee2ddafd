"""The backend contract: a backend faces one provider and generates text for one request.

Everything users rely on across providers (concurrency, retries, seeding, timing, storing) lives once in
:class:`monoculture.backends.Model` and the runner, not in the backends.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Literal

from monoculture.backends._distribution import AnswerDistribution
from monoculture.errors import BackendError

if TYPE_CHECKING:
    from monoculture.tasks import Prompt, Task

ModelKind = Literal["base", "chat"]


# Where temperature sits among the samplers. Temperature first (transformers, vLLM, the paper): top-k, top-p and
# min-p cut the tempered distribution, so a high temperature widens what they keep. Truncation first (llama.cpp's
# own default): they cut the model's own distribution and temperature reshapes only what is left, so T = 2 cannot
# bring back a token T = 1 cut. Without truncation (top_k 0, top_p 1, min_p 0) the two are the same.
SamplerOrder = Literal["temperature_first", "truncation_first"]
DEFAULT_ORDER: SamplerOrder = "temperature_first"


# What "default" means, on every backend: the model's own distribution, temperature 1 and nothing truncated. Runtimes
# disagree on their own defaults (llama.cpp 0.8 with top-k 40, top-p 0.95, min-p 0.05; a checkpoint's generation
# config; vLLM's cannot be read), and truncation decides how many answers a population can give, so one study gave
# other validity and diversity on another backend (docs/methods.md, section 6). The provider's own defaults are
# recorded beside it (ModelInfo.default_decoding), not used.
DEFAULT_DECODING: dict[str, float | int] = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0}


@dataclass(frozen=True)
class Decoding:
    """Fully resolved decoding parameters; every one is sent explicitly with every request."""

    temperature: float
    top_k: int
    top_p: float
    min_p: float
    max_tokens: int
    order: SamplerOrder = DEFAULT_ORDER

    @property
    def truncates(self) -> bool:
        """Whether any truncation sampler is on."""
        return self.top_k != 0 or self.top_p < 1.0 or self.min_p > 0.0

    def untruncated(self) -> Decoding:
        """The same temperature with truncation off (what exact mode computes, and stores)."""
        return Decoding(self.temperature, 0, 1.0, 0.0, self.max_tokens, self.order)

    def as_dict(self) -> dict[str, float | int | str]:
        """The parameters as a plain dict (stored with every sample)."""
        return asdict(self)


@dataclass(frozen=True)
class GenerationRequest:
    """One request: a completion ``prompt`` (base models) or chat ``messages`` (chat models)."""

    decoding: Decoding
    seed: int
    prompt: str | None = None
    messages: tuple[tuple[str, str], ...] | None = None
    grammar: str | None = None  # GBNF: constrained elicitation
    # The grammar's language as a regular expression, where the task has one whose answers never begin one another
    # (a hex code): llama.cpp backends then sample it a token at a time (backends/_stepwise.py).
    answer_pattern: str | None = None
    # What is asked, as the task sees it. Real models ignore it; the fake: models answer from it.
    asked: Asked | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Asked:
    """The task and the prompt behind a request, before any context or chat template."""

    task: Task
    prompt: Prompt


@dataclass(frozen=True)
class Generation:
    """What came back: the raw text and what the provider said about it."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    # Log-probability of the text under the distribution it was drawn from (temperature, truncation and
    # grammar applied), if the backend reports it: the duplicate-samples alarm's "own distribution".
    logprob: float | None = None


@dataclass(frozen=True)
class ModelInfo:
    """What a run records about a model so that it can be reproduced."""

    spec: str
    kind: ModelKind
    backend: str
    file: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    licence: str | None = None
    runtime: str | None = None
    # The provider's own defaults, recorded for reference: "default" means DEFAULT_DECODING on every backend.
    default_decoding: dict[str, float | int] = field(default_factory=dict)
    max_concurrency: int = 1
    # Deterministic mode: every request is decoded alone with nothing cached reused, so the same request gives
    # the same output in any run, order and concurrency (on the same machine, runtime and file).
    deterministic: bool = False


class Backend(ABC):
    """A model provider. One required method: :meth:`generate`."""

    info: ModelInfo
    # True: every prompt must have a closed answer set (an aligned twin); the run checks all before sampling.
    needs_answer_sets = False

    @abstractmethod
    async def generate(self, request: GenerationRequest) -> Generation:
        """Generate text for one request; raise :class:`TransientBackendError` for what a retry may fix."""

    async def answer_distribution(self, request: GenerationRequest, choices: tuple[str, ...]) -> AnswerDistribution:
        """The distribution grammar-constrained sampling would give over a closed answer set, without truncation,
        at the request's temperature, from token log-probabilities (``backends/_distribution``).

        ``request.grammar`` accepts exactly the choices. Backends that cannot give log-probabilities keep
        this default, which says so in one line.
        """
        raise BackendError(f"{self.info.spec} cannot give token log-probabilities, so it has no exact mode: "
                           "use mode = \"constrained\" or \"free\"")

    def check_task(self, task: Task, mode: str) -> None:
        """Raise a one-line error before any sampling if this backend cannot serve ``task`` in ``mode``."""

    async def aclose(self) -> None:
        """Release the model (weights, connections)."""


def seconds_setting(name: str, default: float, *, zero_allowed: bool) -> float:
    """A duration from the environment variable ``name`` (``default`` if unset); anything else than a finite number
    of seconds (above 0, or 0 too where ``zero_allowed``) is a one-line error."""
    import math
    import os

    from monoculture.errors import MonocultureError

    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and (seconds >= 0 if zero_allowed else seconds > 0)):
        bound = "0 or more" if zero_allowed else "above 0"
        shown = " ".join(value.split())[:40]
        raise MonocultureError(f"{name} must be a number of seconds ({bound}), got {shown!r}")
    return seconds


class TransientBackendError(Exception):
    """A failure worth retrying (timeouts, 429, 5xx, a busy slot)."""
