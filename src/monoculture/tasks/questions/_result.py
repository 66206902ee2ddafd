"""The questions task's typed result (docs/summary-schema.md, QuestionsResult)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from monoculture.tasks._categorical import CategoricalResult
from monoculture.tasks._contract import TaskResult

Interval = tuple[float, float] | None


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuestionInfo(_Frozen):
    """One question as the file gave it."""

    id: str
    question: str
    type: str
    normalise: str
    answers: list[str] | None
    has_people: bool


class OpenItem(_Frozen):
    """One open question: similarity within and between individuals, distinct answers and the Vendi score
    (each None with fewer than 2 complete individuals; definitions in :func:`monoculture.metrics.summarize_open`)."""

    item: str
    n_individuals: int
    n_complete: int
    n_valid: int
    internal_similarity: float | None
    population_similarity: float | None
    signed_difference: float | None
    mean_pairwise_similarity: float | None
    distinct: float | None
    distinct_first: float | None
    vendi_q1: float | None
    vendi_q2: float | None
    exact_duplicate_share: float | None


class OpenResult(TaskResult):
    """The open questions' measures, means over questions with bootstrap intervals over questions, beside what a
    population giving one answer to each question scores (``homogeneous``)."""

    embedder: str
    threshold: float
    n_samples: int
    n_valid: int
    valid_fraction: float | None
    n_individuals: int
    n_items: int
    n_items_excluded: int
    internal_similarity: float | None
    internal_similarity_ci: Interval
    population_similarity: float | None
    population_similarity_ci: Interval
    signed_difference: float | None
    signed_difference_ci: Interval
    mean_pairwise_similarity: float | None
    mean_pairwise_similarity_ci: Interval
    distinct: float | None
    distinct_ci: Interval
    distinct_first: float | None
    distinct_first_ci: Interval
    vendi_q1: float | None
    vendi_q1_ci: Interval
    vendi_q2: float | None
    vendi_q2_ci: Interval
    exact_duplicate_share: float | None
    exact_duplicate_share_ci: Interval
    homogeneous: dict[str, float]
    items: list[OpenItem]


class QuestionsResult(TaskResult):
    """The categorical questions' result and the open questions' result (each None when there are none)."""

    categorical: CategoricalResult | None = None
    open: OpenResult | None = None
    # Up to 6 first answers per open question, for the report (model output: escaped where shown).
    examples: dict[str, list[str]] = {}
    questions: list[QuestionInfo] = []
