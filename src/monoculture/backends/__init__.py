"""Model backends: the contract, the user-facing wrapper and the built-in providers."""

from monoculture.backends._base import (
    Asked,
    Backend,
    DEFAULT_ORDER,
    Decoding,
    Generation,
    GenerationRequest,
    ModelInfo,
    ModelKind,
    TransientBackendError,
)
from monoculture.backends._distribution import AnswerDistribution, Candidate
from monoculture.backends._model import Job, Model, Outcome
from monoculture.backends._registry import (
    ModelOptions,
    check_deterministic,
    load_backend,
    register_backend,
    split_spec,
)

__all__ = [
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
    "check_deterministic",
    "load_backend",
    "register_backend",
    "split_spec",
]
