"""The sample store: SQLite, append-only, every sample as it came."""

from monoculture.store._sqlite import SampleRecord, Store

__all__ = ["SampleRecord", "Store"]
