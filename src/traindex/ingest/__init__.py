"""Ingest: readers that stream dataset releases into ``RAW_SCHEMA`` batches, then
``normalise`` and the catalog. The reader registry and auto-detection live in
``traindex.ingest.detect``; the interface in ``traindex.ingest.base``."""

__all__: list[str] = []
