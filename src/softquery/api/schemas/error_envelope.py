"""The one error envelope, as a schema for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="Stable error code, e.g. unauthenticated, forbidden, not_found.")
    message: str = Field(description="What went wrong and what to do next.")
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    """Every error of the API has this shape: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorBody
