"""One error family with stable codes and messages an analyst understands."""

from __future__ import annotations

from typing import Any


class SoftqueryError(Exception):
    """Base error. ``code`` is stable; ``message`` says what to fix."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class NotInitialisedError(SoftqueryError):
    code = "not_initialised"
    http_status = 503


class NotFoundError(SoftqueryError):
    code = "not_found"
    http_status = 404


class AlreadyExistsError(SoftqueryError):
    code = "already_exists"
    http_status = 409


class InvalidInputError(SoftqueryError):
    """A value the user gave is not acceptable (name, option, URL...)."""

    code = "invalid_input"
    http_status = 422


class QueryError(SoftqueryError):
    """The database refused a query, or it returned nothing usable."""

    code = "query_error"
    http_status = 422


class DataError(SoftqueryError):
    """The rows are unusable for training/prediction (empty, bad label, types)."""

    code = "data_error"
    http_status = 422


class SchemaMismatchError(DataError):
    code = "schema_mismatch"


class ModelCodeError(SoftqueryError):
    """The model's Python code is invalid or failed while running."""

    code = "model_code_error"
    http_status = 422


class TrainingError(SoftqueryError):
    code = "training_failed"
    http_status = 422


class NoVersionError(SoftqueryError):
    code = "no_version"
    http_status = 409


class ArtifactIntegrityError(SoftqueryError):
    code = "artifact_tampered"
    http_status = 409


class SourceError(SoftqueryError):
    code = "source_error"
    http_status = 422


class InterruptedWriteError(SourceError):
    """A write to the data source was killed midway and must be undone before it can be
    read again (softquery does that at its next write to it, and at start)."""

    code = "interrupted_write"
    http_status = 409


class ConflictError(SoftqueryError):
    code = "conflict"
    http_status = 409


class RunStoppedError(SoftqueryError):
    """The run was stopped (or finished elsewhere) before its result could be stored."""

    code = "cancelled"
    http_status = 409


class LimitExceededError(SoftqueryError):
    """A job hit its time, memory, process or file-size limit."""

    code = "limit_exceeded"
    http_status = 422


class AuthenticationError(SoftqueryError):
    """No valid session or token: log in, or send ``Authorization: Bearer <token>``."""

    code = "unauthenticated"
    http_status = 401


class PermissionDeniedError(SoftqueryError):
    """Logged in, but this role, owner or token scope may not do this."""

    code = "forbidden"
    http_status = 403


class TooManyAttemptsError(SoftqueryError):
    """Too many failed logins: wait before trying again (``details.retry_after_seconds``)."""

    code = "too_many_attempts"
    http_status = 429


class InternalError(SoftqueryError):
    """softquery itself failed (a bug): said plainly, with what ran before it kept."""

    code = "internal_error"
    http_status = 500
