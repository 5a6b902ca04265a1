"""Data sources, the fast Arrow reader, dataset building, schema checks, fingerprints."""

from softquery.data.connection import SourceConnection, open_source
from softquery.data.sources import SUPPORTED, dialect_of, mask_url

__all__ = ["SUPPORTED", "SourceConnection", "dialect_of", "mask_url", "open_source"]
