"""A sample's identity, and the seed derived from it (STYLE principle 4).

Every sample is named by what it is: model, condition, task, individual, item, replicate and elicitation
mode. The seed comes from a hash of that whole identity, so no two samples share a seed by accident:
reusing one seed across items correlates them (with a shared seed, a 270M model gave the same hex code
for "cleanliness", "banana" and "wisdom"). The store's uniqueness constraint is the same key, so a
re-run never collapses two replicates into one sample nor draws one twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import astuple, dataclass

# llama.cpp reads 0xFFFFFFFF as "pick a random seed"; seeds stay below 2**31 so every backend accepts them.
_SEED_RANGE = 2**31 - 1


@dataclass(frozen=True, order=True)
class SampleKey:
    """The identity of one sample."""

    model: str
    condition: str
    task: str
    individual: int
    item: str
    replicate: int
    mode: str

    def seed(self, study_seed: int = 0) -> int:
        """A 31-bit seed derived from the full identity and the study's seed."""
        payload = json.dumps([study_seed, *astuple(self)], ensure_ascii=False).encode()
        return int.from_bytes(hashlib.sha256(payload).digest()[:8], "big") % _SEED_RANGE
