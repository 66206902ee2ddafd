"""The concept task: which of two items is more similar to a target, clustered into latent concepts.

Martí, Wu, Piantadosi & Kidd (2023) and Murthy, Ullman & Hu (2025); docs/methods.md, section 4.
"""

from monoculture.tasks.concepts._answers import ConceptAnswer, order_consistency, response_vectors, summarize_concepts
from monoculture.tasks.concepts._human import (
    CRPInput,
    HumanConceptChains,
    human_concept_block,
    human_concept_chains,
    read_crp_input,
)
from monoculture.tasks.concepts._items import (
    ANIMALS,
    CATEGORIES,
    POLITICIANS,
    PROMPT_VERSIONS,
    TARGETS,
    assign_targets,
    category_of,
    concept_prompt,
    item_id,
    pair_items,
    with_article,
)
from monoculture.tasks.concepts._result import (
    ConceptNull,
    ConceptResult,
    ModeComparison,
    PooledConcepts,
    RHat,
    TargetConcepts,
)
from monoculture.tasks.concepts._spec import ConceptSpec
from monoculture.tasks.concepts._task import ConceptTask, concept_question

__all__ = [
    "ANIMALS",
    "CATEGORIES",
    "CRPInput",
    "ConceptAnswer",
    "ConceptNull",
    "ConceptResult",
    "ConceptSpec",
    "ConceptTask",
    "HumanConceptChains",
    "ModeComparison",
    "POLITICIANS",
    "PROMPT_VERSIONS",
    "PooledConcepts",
    "RHat",
    "TARGETS",
    "TargetConcepts",
    "assign_targets",
    "category_of",
    "concept_prompt",
    "concept_question",
    "human_concept_block",
    "human_concept_chains",
    "item_id",
    "order_consistency",
    "pair_items",
    "read_crp_input",
    "response_vectors",
    "summarize_concepts",
    "with_article",
]
