"""Model backends: the contract, the user-facing wrapper and the built-in providers."""

from monoculture.backends._base import (
    Asked,
    Backend,
    DEFAULT_DECODING,
    DEFAULT_ORDER,
    Decoding,
    Generation,
    GenerationRequest,
    ModelInfo,
    ModelKind,
    TransientBackendError,
)
from monoculture.backends._distribution import AnswerDistribution, Candidate, draw_answer
from monoculture.backends._embedded import default_threads
from monoculture.backends._model import Job, Model, Outcome
from monoculture.backends._twin_settings import TwinSettings, parse_twin, twin_from_entry
from monoculture.backends._registry import (
    ModelOptions,
    check_deterministic,
    load_backend,
    register_backend,
    split_spec,
)

__all__ = [
    "DEFAULT_DECODING",
    "DEFAULT_ORDER",
    "AnswerDistribution",
    "Asked",
    "Backend",
    "Candidate",
    "Decoding",
    "Generation",
    "GenerationRequest",
    "Job",
    "Model",
    "ModelInfo",
    "ModelKind",
    "ModelOptions",
    "Outcome",
    "TransientBackendError",
    "TwinSettings",
    "check_deterministic",
    "default_threads",
    "draw_answer",
    "load_backend",
    "parse_twin",
    "register_backend",
    "split_spec",
    "twin_from_entry",
]
