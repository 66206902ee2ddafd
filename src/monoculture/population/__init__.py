"""Simulated individuals: contexts, personas, conditions."""

from monoculture.population._individual import Condition, Individual

__all__ = ["Condition", "Individual"]
