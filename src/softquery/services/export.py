"""Use case: export a linear model's coefficients and preprocessing as JSON."""

from __future__ import annotations

from typing import Any

from softquery.artifacts.export_json import export_linear_model
from softquery.services.context import ServiceContext
from softquery.services.versions import get_version, load_version


def export_json(ctx: ServiceContext, model: str, version: int | None = None) -> dict[str, Any]:
    found = get_version(ctx, model, version)
    exported = export_linear_model(load_version(ctx, found))
    return {
        "model": model,
        "version": found.version,
        "created_at": found.created_at.isoformat(),
        "label": found.manifest["data"].get("label"),
        "classes": found.manifest.get("classes"),
        "code_sha256": found.manifest.get("code_sha256"),
        "data_fingerprint": found.manifest["data"].get("fingerprint"),
        **exported,
    }
