"""`softquery train`, `predict`, `runs` and `run show`."""

from __future__ import annotations

import sys

import click
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from softquery.cli.context import (
    console,
    fmt_time,
    json_option,
    print_json,
    print_table,
    service_context,
)
from softquery.cli.errors import RUN_FAILED
from softquery.cli.present import run_dict
from softquery.domain import Run, RunKind, RunStatus, RunTrigger
from softquery.services import runs as svc

wait_option = click.option("--wait", is_flag=True, help="Wait for the run to finish (the default for now).")


def _execute(model: str, kind: RunKind, as_json: bool) -> None:
    show = not as_json and sys.stderr.isatty()
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                        TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                        console=console(), transient=True, disable=not show)
    with progress, service_context() as ctx:
        task = progress.add_task(f"{kind.value} {model}", total=1.0, detail="")

        def listener(phase: str, fraction: float | None, detail: str) -> None:
            progress.update(task, description=f"{kind.value} {model}: {phase}", detail=detail,
                            completed=fraction)

        run = svc.start_run(ctx, model, kind, RunTrigger.CLI, listener)
    if as_json:
        print_json(run_dict(run))
    else:
        _summary(run)
    if run.status is not RunStatus.SUCCEEDED:
        click.get_current_context().exit(RUN_FAILED)


def _summary(run: Run) -> None:
    out = console()
    duration = f" in {run.duration_seconds:.1f}s" if run.duration_seconds is not None else ""
    if run.status is not RunStatus.SUCCEEDED:
        out.print(f"[bold red]Run {run.id} failed[/]{duration} ({run.error_code}):")
        out.print(run.error_message or "", markup=False)
        out.print(f"Details: `softquery run show {run.id}`")
        return
    train, predict = run.result.get("train"), run.result.get("predict")
    if train:
        state = "active" if train["activated"] else "not activated (the active version scores better)"
        metrics = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in train["metrics"].items())
        out.print(f"Trained {run.model} version {train['version']} ({train['task']}, "
                  f"{train['rows']:,} rows){duration}: {state}")
        out.print(f"  holdout metrics: {metrics}")
    if predict:
        out.print(f"Wrote {predict['rows']:,} rows to {predict['table']} ({predict['write_mode']}) "
                  f"with version {predict['version']}{duration}.")
    for note in (train or {}).get("notes", []) + (predict or {}).get("notes", []):
        out.print(f"  note: {note}")
    out.print(f"  run id: {run.id}")


@click.command("train")
@click.argument("model")
@wait_option
@json_option
def train_cmd(model: str, wait: bool, as_json: bool) -> None:
    """Train MODEL on its train query and store a new version."""
    _execute(model, RunKind.TRAIN, as_json)


@click.command("predict")
@click.argument("model")
@wait_option
@json_option
def predict_cmd(model: str, wait: bool, as_json: bool) -> None:
    """Predict MODEL's predict query with the active version into its output table."""
    _execute(model, RunKind.PREDICT, as_json)


@click.command("runs")
@click.option("--model", help="Only runs of this model.")
@click.option("--status", type=click.Choice([s.value for s in RunStatus]))
@click.option("--limit", default=50, show_default=True)
@json_option
def runs_cmd(model: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """List recent runs, newest first."""
    with service_context() as ctx:
        runs = svc.list_runs(ctx, model, RunStatus(status) if status else None, limit)
    if as_json:
        print_json([{k: v for k, v in run_dict(r).items() if k not in ("stdout", "stderr")} for r in runs])
        return
    print_table(
        ["id", "model", "kind", "status", "started", "seconds", "error"],
        [[r.id, r.model, r.kind.value, r.status.value, fmt_time(r.started_at),
          f"{r.duration_seconds:.1f}" if r.duration_seconds is not None else "",
          (r.error_message or "").splitlines()[0][:80] if r.error_message else ""] for r in runs],
        empty="No runs yet. Train a model with `softquery train NAME`.",
    )


@click.group("run")
def run_group() -> None:
    """Inspect one run."""


@run_group.command("show")
@click.argument("run_id")
@json_option
def show_cmd(run_id: str, as_json: bool) -> None:
    """Show run RUN_ID with its result, error and output."""
    with service_context() as ctx:
        run = svc.get_run(ctx, run_id)
    if as_json:
        print_json(run_dict(run))
        return
    out = console()
    out.print(f"run {run.id}: {run.kind.value} {run.model} — [bold]{run.status.value}[/]")
    out.print(f"created {fmt_time(run.created_at)}  started {fmt_time(run.started_at)}  "
              f"finished {fmt_time(run.finished_at)}  trigger {run.trigger.value}")
    if run.error_message:
        out.print(f"[red]error ({run.error_code})[/]:")
        out.print(run.error_message, markup=False)
        tb = run.error_details.get("traceback")
        if tb:
            out.print("traceback:", style="dim")
            out.print(tb, markup=False, style="dim")
    if run.result:
        print_json(run.result)
    for name, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        if text:
            out.print(f"--- {name} ---")
            out.print(text, markup=False)


def register(cli: click.Group) -> None:
    for command in (train_cmd, predict_cmd, runs_cmd, run_group):
        cli.add_command(command)
