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
from softquery.services import versions as svc


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
                     v.manifest.get("data", {}).get("rows"), v.manifest.get("task"), fmt_metrics(v.metrics),
                     chosen_text(v.manifest.get("selection"))])
    print_table(["active", "version", "created", "rows", "task", "holdout metrics", "chosen by search"], rows,
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
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
def export_cmd(model: str, version: int | None, fmt: str, output: Path | None) -> None:
    """Export a linear model's coefficients and preprocessing for use in other languages."""
    with service_context() as ctx:
        data = export_svc.export_json(ctx, model, version)
    if output is None:
        print_json(data)
        return
    output.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    console().print(f"Wrote {output}")


def register(cli: click.Group) -> None:
    for command in (versions_cmd, activate_cmd, export_cmd):
        cli.add_command(command)
