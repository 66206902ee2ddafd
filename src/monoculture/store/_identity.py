"""A sample's identity, and the seed derived from it.

Every sample is named by what it is: model, condition, task, individual, item, replicate, elicitation mode
and the settings it was drawn under. The seed comes from a hash of that identity (the settings aside), so no
two samples share a seed by accident: reusing one seed across items correlates them (with a shared seed, a
270M model gave the same hex code for "cleanliness", "banana" and "wisdom"). The store's uniqueness
constraint is the same key, so a re-run never collapses two replicates into one sample nor draws one twice.

``settings`` is a short hash of everything in the study that changes what is asked or how it is sampled (see
docs/methods.md, section 9): a study changed between two runs into one folder draws new samples instead of
passing old ones off as new. The seed leaves it out on purpose: the same individual under changed settings
reuses its random numbers, which makes comparisons between settings less noisy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import astuple, dataclass, fields

# Every backend takes an unsigned 32-bit seed, and llama.cpp reads 0xFFFFFFFF as "pick a random seed": seeds are
# 0 .. 2**32 - 2. (31 bits gave about 0.8 expected pairs of samples sharing a seed in a 59,700-sample population;
# 32 bits give 0.4, and the plan counts them: see seed_collisions.)
_SEED_RANGE = 2**32 - 1


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
    settings: str = ""

    def seed(self, study_seed: int = 0) -> int:
        """A 32-bit seed derived from the identity (without ``settings``) and the study's seed."""
        payload = json.dumps([study_seed, *astuple(self)[:-1]], ensure_ascii=False).encode()
        return int.from_bytes(hashlib.sha256(payload).digest()[:8], "big") % _SEED_RANGE


# The store's identity columns, in key order: derived here once, never typed out again.
KEY_COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(SampleKey))


def settings_hash(settings: dict) -> str:
    """The 12-hex-digit hash of a settings dict (keys sorted, so dict order never matters)."""
    payload = json.dumps(settings, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(payload).hexdigest()[:12]
