"""monoculture: measure how alignment homogenizes language models against human populations."""

__version__ = "0.1.0"
