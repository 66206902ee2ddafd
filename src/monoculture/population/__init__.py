"""Simulated individuals: conditions, contexts and personas."""

from monoculture.population._contexts import CONTEXT_KINDS, contexts_for, generate_persona, paper_contexts
from monoculture.population._individual import Condition, Individual

__all__ = ["CONTEXT_KINDS", "Condition", "Individual", "contexts_for", "generate_persona", "paper_contexts"]
