"""Plain dicts of entities for --json output."""

from __future__ import annotations

from typing import Any

from softquery.domain import Model, Run, Version
from softquery.services.schedules import next_fire_time


def model_dict(model: Model, *, include_code: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": model.name,
        "description": model.description,
        "owner": model.owner,
        "source": model.source,
        "template": model.template,
        "label": model.label,
        "id_columns": model.id_columns,
        "output_table": model.target_table,
        "write_mode": model.write_mode.value,
        "deploy": model.deploy.value,
        "active_version": model.active_version,
        "schedule": model.schedule,
        "schedule_action": model.schedule_action.value if model.schedule_action else None,
        "schedule_timezone": model.schedule_timezone,
        "next_run_at": next_fire_time(model),
        "time_limit_seconds": model.time_limit_seconds,
        "memory_limit_mb": model.memory_limit_mb,
        "created_at": model.created_at,
        "updated_at": model.updated_at,
        "train_sql": model.train_sql,
        "predict_sql": model.predict_sql,
    }
    if include_code:
        data["code"] = model.code
    return data


def version_dict(version: Version) -> dict[str, Any]:
    return {
        "version": version.version,
        "active": version.active,
        "created_at": version.created_at,
        "metrics": version.metrics,
        "manifest": version.manifest,
    }


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
