"""What the tasks with categorical answers share: their typed result, its report section and terminal table."""

from monoculture.tasks._categorical._result import (
    CategoricalNull,
    CategoricalResult,
    ItemStats,
    categorical_frontier,
    categorical_item_measures,
)
from monoculture.tasks._categorical._show import categorical_section, categorical_table

__all__ = ["CategoricalNull", "CategoricalResult", "ItemStats", "categorical_frontier", "categorical_item_measures",
           "categorical_section", "categorical_table"]
