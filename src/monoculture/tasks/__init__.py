"""Behavioural tasks: one package per task (``colour``, ``concepts``), one contract, one registry.

See :class:`Task` for the contract and ``_registry`` for how a plugin adds a task.
"""

from monoculture.tasks._contract import (
    ParsedAnswer,
    PopulationPlan,
    Prompt,
    ResultRow,
    Simulated,
    Task,
    TaskResult,
    TaskSpec,
    gbnf_literal,
    model_calls,
    quoted,
    require_distinct,
    two_replicates,
    word_list,
)
from monoculture.tasks._refusal import looks_like_refusal
from monoculture.tasks._registry import ENTRY_POINT_GROUP, task_type, task_types
from monoculture.tasks._render import CONTEXT_PLACEMENTS, RenderedPrompt, render

__all__ = [
    "CONTEXT_PLACEMENTS",
    "ENTRY_POINT_GROUP",
    "ParsedAnswer",
    "PopulationPlan",
    "Prompt",
    "RenderedPrompt",
    "ResultRow",
    "Simulated",
    "Task",
    "TaskResult",
    "TaskSpec",
    "gbnf_literal",
    "looks_like_refusal",
    "model_calls",
    "quoted",
    "require_distinct",
    "render",
    "task_type",
    "task_types",
    "two_replicates",
    "word_list",
]
