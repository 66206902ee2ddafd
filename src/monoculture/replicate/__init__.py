"""Replications of published results from their published data, with no model loaded: ``monoculture replicate``.

``murthy2025``: the concept-task answers of ten 7B models that Murthy, Ullman & Hu (2025) published, imported as
samples of ``published:`` models, the paper's recipe beside monoculture's, and the verdict per family.
"""

from monoculture.replicate._import import ReadFile, import_published, read_published, replication_study
from monoculture.replicate._models import FamilyVerdict, RecipeVerdict, ReplicatedCell, Replication
from monoculture.replicate._paper import PAPER_MOVES, PaperCell, paper_recipe
from monoculture.replicate._published import FAMILIES, MODELS, PublishedFile, compiled_cells, published_files
from monoculture.replicate._replication import RUN_TO_RUN_SPREAD, replicate_murthy2025

__all__ = ["FAMILIES", "MODELS", "PAPER_MOVES", "RUN_TO_RUN_SPREAD", "FamilyVerdict", "PaperCell", "PublishedFile",
           "ReadFile", "RecipeVerdict", "ReplicatedCell", "Replication", "compiled_cells", "import_published", "paper_recipe",
           "published_files", "read_published", "replicate_murthy2025", "replication_study"]
