"""Data sources, the fast Arrow reader, dataset building, schema checks, fingerprints."""

from softquery.data.backends import open_source
from softquery.data.connection import SourceConnection
from softquery.data.dataset import (
    TrainingSet,
    build_training_set,
    check_predict_schema,
    detect_id_columns,
    detect_label,
    frame_for_prediction,
)
from softquery.data.features import FeatureSpec
from softquery.data.fingerprint import fingerprint
from softquery.data.source_urls import SUPPORTED, dialect_of, mask_url

__all__ = [
    "SUPPORTED",
    "FeatureSpec",
    "SourceConnection",
    "TrainingSet",
    "build_training_set",
    "check_predict_schema",
    "detect_id_columns",
    "detect_label",
    "dialect_of",
    "fingerprint",
    "frame_for_prediction",
    "mask_url",
    "open_source",
]
