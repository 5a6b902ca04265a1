"""`softquery versions`, `activate` and `export`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from softquery.cli.command_access import Access, declare
from softquery.cli.present import chosen_text, version_dict
from softquery.cli.printing import (
    console,
    fmt_metrics,
    fmt_time,
    json_option,
    print_json,
    print_table,
)
from softquery.cli.service_context import service_context
from softquery.services import export as export_svc
from softquery.services import model_exports as exports_svc
from softquery.services import model_import as import_svc
from softquery.services import versions as svc
from softquery.services.cv_figures import key_cv_text


@declare(Access.OPERATOR, "reads any model's versions as the local operator (admin)")
@click.command("versions")
@click.argument("model")
@json_option
def versions_cmd(model: str, as_json: bool) -> None:
    """List the trained versions of MODEL."""
    with service_context() as ctx:
        versions = svc.list_versions(ctx, model)
    if as_json:
        print_json([version_dict(v) for v in versions])
        return
    rows = []
    for v in versions:
        rows.append(["*" if v.active else "", v.version, fmt_time(v.created_at),
                     v.manifest.get("data", {}).get("rows"), v.manifest.get("task"), key_cv_text(v),
                     fmt_metrics(v.metrics), chosen_text(v.manifest.get("selection"))])
    print_table(["active", "version", "created", "rows", "task", "cross-validated", "holdout metrics",
                 "chosen"], rows,
                empty=f"{model} has no versions yet. Train it with `softquery train {model}`.")


@declare(Access.OPERATOR, "activates a version of any model as the local operator (admin)")
@click.command("activate")
@click.argument("model")
@click.argument("version", type=int)
def activate_cmd(model: str, version: int) -> None:
    """Make VERSION the active version of MODEL (also for rollback)."""
    with service_context() as ctx:
        svc.activate_version(ctx, model, version)
    console().print(f"Version {version} of {model} is now active.")


@declare(Access.OPERATOR, "exports any version as the local operator (admin)")
@click.command("export")
@click.argument("model")
@click.option("--version", type=int, help="Version to export (default: the active one).")
@click.option("--format", "fmt", type=click.Choice(["json", "onnx", "mlflow"]), default="json", show_default=True,
              help="json: a linear model's coefficients; onnx: the template's pipeline as an ONNX graph; "
                   "mlflow: an MLflow model directory (pyfunc and sklearn flavours).")
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="Write to this file (json, onnx) or new directory (mlflow).")
def export_cmd(model: str, version: int | None, fmt: str, output: Path | None) -> None:
    """Export a version of MODEL: JSON coefficients, ONNX or an MLflow model directory.

    ONNX and MLflow exports are checked in a sandboxed child against the version's own
    predictions on the first rows of its train query (1e-6 relative)."""
    if fmt != "json":
        with service_context() as ctx:
            result = exports_svc.export_version(ctx, model, fmt, version)
            target = output or Path(f"{model}_v{result.version}" + (".onnx" if fmt == "onnx" else ""))
            written = exports_svc.write_export(result, target)
        console().print(f"Wrote {written} (version {result.version}; checked on {result.check.get('rows')} rows "
                        "of its train query against softquery's predictions, 1e-6 relative)")
        return
    with service_context() as ctx:
        data = export_svc.export_json(ctx, model, version)
    if output is None:
        print_json(data)
        return
    output.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    console().print(f"Wrote {output}")


@declare(Access.OPERATOR, "imports a model file, which is loaded as code: admins only")
@click.command("import")
@click.argument("model")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["mlflow"]), default="mlflow", show_default=True)
@click.option("--activate", is_flag=True, help="Make the imported version the active one.")
def import_cmd(model: str, path: Path, fmt: str, activate: bool) -> None:
    """Import an MLflow scikit-learn model directory at PATH as a new version of MODEL.

    The model file is loaded and checked only in a sandboxed child; the version gets its
    feature schema from the MLflow signature and is signed like any trained version."""
    with service_context() as ctx:
        version = import_svc.import_version(ctx, model, path, fmt, activate=activate)
    console().print(f"Imported {path} as version {version.version} of {model}"
                    + (" (active)." if version.active else f". Activate it with `softquery activate {model} "
                                                           f"{version.version}`."))


def register(cli: click.Group) -> None:
    for command in (versions_cmd, activate_cmd, export_cmd, import_cmd):
        cli.add_command(command)
