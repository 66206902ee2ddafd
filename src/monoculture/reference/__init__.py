"""The human data: where it lives, how to fetch it from its public sources and verify it.

The numbers computed from it belong to the tasks (``monoculture.tasks.colour``, ``monoculture.tasks.concepts``).
"""

from monoculture.reference._fetch import GITHUB_RAW, fetch, verify
from monoculture.reference._locate import ENV_VAR, UNVERIFIED_VAR, data_file, data_root, unverified_allowed
from monoculture.reference._manifest import DEFAULT_GROUPS, GROUPS, ManifestEntry, manifest

__all__ = ["DEFAULT_GROUPS", "ENV_VAR", "GROUPS", "GITHUB_RAW", "UNVERIFIED_VAR", "unverified_allowed", "ManifestEntry", "data_file", "data_root", "fetch", "manifest", "verify"]
