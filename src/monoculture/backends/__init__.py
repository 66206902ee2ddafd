"""Model backends: the contract, the user-facing wrapper and the built-in providers."""

from monoculture.backends._base import (
    Asked,
    Backend,
    Decoding,
    Generation,
    GenerationRequest,
    ModelInfo,
    ModelKind,
    TransientBackendError,
)
from monoculture.backends._model import Job, Model, Outcome
from monoculture.backends._registry import ModelOptions, load_backend, register_backend, split_spec

__all__ = [
    "Asked",
    "Backend",
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
    "load_backend",
    "register_backend",
    "split_spec",
]
