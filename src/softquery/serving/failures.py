"""Errors of online prediction, in the one error family (stable codes, HTTP status)."""

from __future__ import annotations

from softquery.errors import SoftqueryError


class WorkerUnavailableError(SoftqueryError):
    """The serving worker died (or was stopped) while answering; retrying is safe."""

    code = "serving_worker_failed"
    http_status = 503


class PayloadTooLargeError(SoftqueryError):
    code = "payload_too_large"
    http_status = 413


class PredictionFailedError(SoftqueryError):
    """The model's own code raised while predicting these rows."""

    code = "prediction_failed"
    http_status = 422


class ModelLoadError(SoftqueryError):
    """A verified artifact could not be loaded in the serving worker."""

    code = "model_load_failed"
    http_status = 503
