"""The sample store: SQLite, append-only, every sample as it came, named by its :class:`SampleKey`."""

from monoculture.store._identity import KEY_COLUMNS, SampleKey, settings_hash
from monoculture.store._sqlite import SampleRecord, Store, version_fingerprint

__all__ = ["KEY_COLUMNS", "SampleKey", "SampleRecord", "Store", "settings_hash", "version_fingerprint"]
