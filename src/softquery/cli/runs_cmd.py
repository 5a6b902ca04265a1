"""`softquery train`, `predict`, `runs` and `run show`."""

from __future__ import annotations

import sys

import click
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from softquery.cli.command_access import Access, declare
from softquery.cli.exit_codes import RUN_FAILED
from softquery.cli.present import run_dict
from softquery.cli.printing import (
    console,
    fmt_metrics,
    fmt_time,
    json_option,
    print_json,
    print_table,
)
from softquery.cli.service_context import service_context
from softquery.domain import Run, RunKind, RunStatus, RunTrigger
from softquery.services import job_processes
from softquery.services import runs as svc
from softquery.services.cv_figures import summary_line

wait_option = click.option("--wait", is_flag=True,
                           help="Follow progress and log lines until the run ends; exit 0 only if it succeeded.")


def _progress_display(as_json: bool) -> Progress:
    show = not as_json and sys.stderr.isatty()
    return Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
                    TextColumn("{task.fields[detail]}", markup=False), TimeElapsedColumn(),
                    console=console(), transient=True, disable=not show)


def _execute(model: str, kind: RunKind, wait: bool, as_json: bool) -> None:
    progress = _progress_display(as_json)
    with service_context() as ctx:
        executor = svc.pick_executor(ctx)
        if executor is not None:  # a server or worker runs it: no job process here
            job_processes.not_needed()
        run = svc.submit_run(ctx, model, kind, RunTrigger.CLI, executor)
        if executor is not None and not wait:
            if as_json:
                print_json(run_dict(run))
            else:
                console().print(f"Queued run {run.id} ({kind.value} {model}) on the {executor.name} executor. "
                                f"Follow it with `softquery run logs {run.id} --follow`.")
                if run.phase:  # e.g. waiting for Redis, which the submission could not reach
                    console().print(f"Now: {run.phase}.")
            return
        with progress:
            task = progress.add_task(f"{kind.value} {model}", total=1.0, detail="")

            def listener(phase: str, fraction: float | None, detail: str) -> None:
                if phase == "log":
                    if not as_json:
                        progress.console.print(detail.rstrip("\n"), markup=False, highlight=False)
                    return
                progress.update(task, description=f"{kind.value} {model}: {phase}", detail=detail,
                                completed=fraction)

            def on_update(update: svc.Update) -> None:
                for text in (update.new_stdout, update.new_stderr):
                    if text:
                        listener("log", None, text)
                listener(update.run.phase or update.run.status.value, update.run.progress, "")

            if executor is None:
                run = svc.execute_here(ctx, run.id, listener)
            else:
                run = svc.follow_run(ctx, run.id, on_update)
    if as_json:
        print_json(run_dict(run))
    else:
        _summary(run)
    if run.status is not RunStatus.SUCCEEDED:
        click.get_current_context().exit(RUN_FAILED)


def _summary(run: Run) -> None:
    out = console()
    duration = f" in {run.duration_seconds:.1f}s" if run.duration_seconds is not None else ""
    if run.status is RunStatus.CANCELLED:
        after = f" after {run.duration_seconds:.1f} s" if run.duration_seconds is not None else ""
        out.print(f"[bold]Run {run.id} was stopped{after}.[/]", markup=True)
        if run.error_message:
            out.print(run.error_message)
        out.print(f"Details: `softquery run show {run.id}`")
        return
    if run.status is not RunStatus.SUCCEEDED:
        out.print(f"[bold red]Run {run.id} failed[/]{duration} ({escape(str(run.error_code))}):", markup=True)
        out.print(run.error_message or "", markup=False)
        out.print(f"Details: `softquery run show {run.id}`")
        return
    train, predict = run.result.get("train"), run.result.get("predict")
    if train:
        state = "active" if train["activated"] else "not activated"
        metrics = fmt_metrics(train["metrics"])
        out.print(f"Trained {run.model} version {train['version']} ({train['task']}, "
                  f"{train['rows']:,} rows){duration}: {state}")
        out.print(f"  holdout metrics: {metrics}")
        out.print(f"  cross-validated: {summary_line(train.get('cv'))}", markup=False)
        for note in (train.get("cv") or {}).get("notes", []):
            out.print(f"  cross-validation note: {note}", markup=False)
        reason = (train.get("deploy") or {}).get("reason")
        if reason:
            out.print(f"  {reason}", markup=False)
    if predict:
        out.print(f"Wrote {predict['rows']:,} rows to {predict['table']} ({predict['write_mode']}) "
                  f"with version {predict['version']}{duration}.")
    cv_notes = set((train or {}).get("cv", {}).get("notes", []) if train and train.get("cv") else [])
    for note in (train or {}).get("notes", []) + (predict or {}).get("notes", []):
        if note not in cv_notes:  # printed once, above, as a cross-validation note
            out.print(f"  note: {note}")
    out.print(f"  run id: {run.id}")


@declare(Access.OPERATOR, "runs any model as the local operator (admin)")
@click.command("train")
@click.argument("model")
@wait_option
@json_option
@click.option("--and-predict", is_flag=True, help="Predict with the new version right after training.")
def train_cmd(model: str, wait: bool, and_predict: bool, as_json: bool) -> None:
    """Train MODEL on its train query and store a new version."""
    _execute(model, RunKind.TRAIN_THEN_PREDICT if and_predict else RunKind.TRAIN, wait, as_json)


@declare(Access.OPERATOR, "runs any model as the local operator (admin)")
@click.command("predict")
@click.argument("model")
@wait_option
@json_option
def predict_cmd(model: str, wait: bool, as_json: bool) -> None:
    """Predict MODEL's predict query with the active version into its output table."""
    _execute(model, RunKind.PREDICT, wait, as_json)


@declare(Access.OPERATOR, "reads every run as the local operator (admin)")
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


@declare(Access.NONE, "only groups its subcommands")
@click.group("run")
def run_group() -> None:
    """Inspect one run."""


@declare(Access.OPERATOR, "reads any run as the local operator (admin)")
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
    out.print(f"run {run.id}: {run.kind.value} {escape(run.model)} — [bold]{run.status.value}[/]", markup=True)
    out.print(f"created {fmt_time(run.created_at)}  started {fmt_time(run.started_at)}  "
              f"finished {fmt_time(run.finished_at)}  trigger {run.trigger.value}")
    if run.error_message:
        out.print(f"[red]error ({escape(str(run.error_code))})[/]:", markup=True)
        out.print(run.error_message, markup=False)
        tb = run.error_details.get("traceback")
        if tb:
            out.print("traceback:", style="dim")
            out.print(tb, markup=False, style="dim")
    if run.result:
        _deploy_and_cv(run)
        print_json(run.result)
    for name, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        if text:
            out.print(f"--- {name} ---")
            out.print(text, markup=False)


def _deploy_and_cv(run: Run) -> None:
    """A training's cross-validated scores and its deploy decision in words, above the result."""
    train = run.result.get("train") or {}
    if not train:
        return
    out = console()
    out.print(f"cross-validated: {summary_line(train.get('cv'))}", markup=False)
    reason = (train.get("deploy") or {}).get("reason")
    if reason:
        out.print(f"deploy: {reason}", markup=False)


@declare(Access.OPERATOR, "reads any run's logs as the local operator (admin)")
@run_group.command("logs")
@click.argument("run_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the run ends.")
def logs_cmd(run_id: str, follow: bool) -> None:
    """Print the stdout and stderr of run RUN_ID."""
    with service_context() as ctx:
        if not follow:
            run = svc.get_run(ctx, run_id)
            click.echo(run.stdout, nl=False)
            click.echo(run.stderr, nl=False, err=True)
            return

        def on_update(update: svc.Update) -> None:
            click.echo(update.new_stdout, nl=False)
            click.echo(update.new_stderr, nl=False, err=True)

        run = svc.follow_run(ctx, run_id, on_update)
    if run.status is not RunStatus.SUCCEEDED:
        click.echo(f"run {run.id} {run.status.value}: {run.error_message or ''}", err=True)
        click.get_current_context().exit(RUN_FAILED)


@declare(Access.OPERATOR, "stops any run as the local operator (admin)")
@run_group.command("stop")
@click.argument("run_id")
def stop_cmd(run_id: str) -> None:
    """Stop run RUN_ID: a queued run is cancelled; a running one is ended within 2 seconds
    (a training that is already storing its version is past stopping, and says so)."""
    with service_context() as ctx:
        status, ended = svc.stop_saying(ctx, run_id, svc.pick_executor(ctx))
    if ended is not None:
        console().print(ended)
    elif status is RunStatus.RUNNING:
        console().print(f"Stop requested for run {run_id}; its job ends within 2 seconds.")
    else:
        console().print(f"Run {run_id} is {status.value}.")


def register(cli: click.Group) -> None:
    for command in (train_cmd, predict_cmd, runs_cmd, run_group):
        cli.add_command(command)
