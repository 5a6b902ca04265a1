"""Plain dicts of entities for --json output."""

from __future__ import annotations

from typing import Any

from softquery.domain import Model, Run, Version
from softquery.services.cv_figures import cv_of, public
from softquery.services.model_settings import MODEL_SETTINGS, setting_values
from softquery.services.schedules import next_fire_time

# Settings printed on lines of their own by `softquery model show` (queries, code).
BLOCKS = frozenset(s.name for s in MODEL_SETTINGS if s.block)


def model_dict(model: Model, *, include_code: bool = False) -> dict[str, Any]:
    """The model's settings (``services.model_settings``, as the API shows them) and its state."""
    settings = setting_values(model)
    settings["output_table"] = model.target_table  # the table it writes, also when left automatic
    blocks = {name: settings.pop(name) for name in list(settings) if name in BLOCKS}  # shown last
    code = blocks.pop("code")
    data: dict[str, Any] = {
        "name": model.name,
        "owner": model.owner,
        **settings,
        "active_version": model.active_version,
        "next_run_at": next_fire_time(model),
        "created_at": model.created_at,
        "updated_at": model.updated_at,
        **blocks,
    }
    if include_code:
        data["code"] = code
    return data


def version_dict(version: Version) -> dict[str, Any]:
    return {
        "version": version.version,
        "active": version.active,
        "created_at": version.created_at,
        "metrics": version.metrics,
        "cv": public(cv_of(version.manifest)),  # null: trained before cross-validation was recorded
        "selection": version.manifest.get("selection"),  # null: not chosen by a search or AutoML
        "manifest": version.manifest,
    }


def chosen_text(selection: dict[str, Any] | None) -> str:
    """What a search or AutoML chose, in one cell: "alpha=0.1 (trial 2 of 3)", "auto → ridge_regression"
    ("" for a version that ran its code as written)."""
    if selection and selection.get("kind") == "auto":
        return f"{selection.get('auto') or 'auto'} → {selection.get('chosen')}"
    if not selection or selection.get("kind") != "search":
        return ""
    params = ", ".join(f"{k}={v}" for k, v in (selection.get("params") or {}).items())
    return f"{params} (trial {selection.get('chosen')} of {len(selection.get('trials') or [])})"


def run_dict(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "model": run.model,
        "kind": run.kind.value,
        "status": run.status.value,
        "trigger": run.trigger.value,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "phase": run.phase,
        "progress": run.progress,
        "error": None if run.error_code is None else {
            "code": run.error_code, "message": run.error_message, "details": run.error_details,
        },
        "result": run.result,
        "stdout": run.stdout,
        "stderr": run.stderr,
    }
