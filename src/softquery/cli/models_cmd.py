"""`softquery model …` and `softquery templates`: model definitions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.markup import escape

from softquery.cli.command_access import Access, declare
from softquery.cli.present import BLOCKS, model_dict
from softquery.cli.printing import console, fmt_time, json_option, print_json, print_table
from softquery.cli.service_context import service_context
from softquery.errors import InvalidInputError
from softquery.services import code as code_svc
from softquery.services import models as svc
from softquery.services.accounts import get_user
from softquery.services.model_selection import (
    OBJECTIVE_NAMES,
    search_from_options,
    search_text,
    updated_search,
)
from softquery.services.model_settings import MODEL_SETTINGS, SETTINGS, ModelSetting, names_of
from softquery.services.models import ModelSpec, SavedModel


def _option(setting: ModelSetting) -> Callable[[Any], Any]:
    assert setting.flag is not None
    kind: Any = None
    if setting.kind in ("limit", "number"):
        kind = int
    elif setting.choices:
        kind = click.Choice(list(setting.choices))
    return click.option(setting.flag, setting.name, type=kind, metavar=setting.metavar, help=setting.cli_help())


# The hyperparameter search (setting "search"): read into one search object by the service.
_SEARCH_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--search", "search", type=click.Choice(["grid", "random", "bayes"]),
                 help=SETTINGS["search"].cli_help()),
    click.option("--param", "search_params", multiple=True, metavar="NAME=V1,V2|NAME=LOW:HIGH[:log]",
                 help="A parameter to search (repeatable): values to try, or a range (log: drawn on a log "
                      "scale); NAME alone takes its default values. `softquery templates` lists them."),
    click.option("--trials", "search_trials", type=int, metavar="N", help="Try at most N configurations "
                 "(random and bayes: default 10)."),
    click.option("--objective", "search_objective", metavar="METRIC", help="The cross-validation metric the "
                 f"search chooses by: {', '.join(OBJECTIVE_NAMES)} (default: the task's key metric, r2, f1 "
                 "or silhouette)."),
]
_CODE_FILE = click.option("--code-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                          help="Python file with class Model (train/predict).")
# The model's settings (services.model_settings), --code-file where the code setting stands.
_OPTIONS: list[Callable[[Any], Any]] = [
    _CODE_FILE if s.name == "code" else _option(s) for s in MODEL_SETTINGS if s.flag or s.name == "code"
] + _SEARCH_OPTIONS


owner_option = click.option(
    "--owner", metavar="USER",
    help="The user who owns the model: an editor may change only models they own. Without it a "
         "model made here has no owner, and over the web and API only admins may change it "
         "(give --owner '' on update to remove the owner).")


def model_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_OPTIONS):
        fn = option(fn)
    return fn


def _spec(kw: dict[str, Any]) -> ModelSpec:
    code_file: Path | None = kw.pop("code_file")
    id_columns = kw.pop("id_columns")
    no_schedule: bool = kw.pop("no_schedule", False)
    no_search: bool = kw.pop("no_search", False)
    search = search_from_options(kw.pop("search"), kw.pop("search_params"), kw.pop("search_trials"),
                                 kw.pop("search_objective"))
    spec = ModelSpec(**kw, search=search)
    if no_schedule:
        spec.clear.add("schedule")
    if no_search:
        if search is not None:
            raise InvalidInputError("Give either --no-search or a search (--search/--param/--trials/--objective), "
                                    "not both.",
                                    details={"field": "search"})
        spec.clear.add("search")
    if code_file is not None:
        try:
            spec.code = code_file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{code_file} is not a UTF-8 text file.") from exc
    if id_columns is not None:
        spec.id_columns = names_of(id_columns)
    return spec


def _field(out: Console, key: str, value: str) -> None:
    """``key: value`` with the key in bold and the value printed as it is."""
    out.print(f"[bold]{key}[/]: {escape(value)}", markup=True)


def _report(saved: SavedModel, verb: str) -> None:
    out = console()
    out.print(f"{verb} model [bold]{escape(saved.model.name)}[/].", markup=True)
    for warning in saved.warnings:
        where = f"line {warning.line}: " if warning.line else ""
        out.print(f"[yellow]warning[/] {escape(where + warning.message)}", markup=True)


@declare(Access.NONE, "only groups the model commands")
@click.group("model")
def model_group() -> None:
    """Create, change, inspect and delete models."""


@declare(Access.OPERATOR, "creates a model as the local operator (admin)")
@model_group.command("create")
@click.argument("name")
@model_options
@owner_option
def create_cmd(name: str, owner: str | None, **kw: Any) -> None:
    """Create model NAME from a source, code and two SQL queries.

    Without --owner the model has no owner: over the web and API only admins may change it.
    """
    with service_context() as ctx:
        if owner:
            get_user(ctx, owner)  # an unknown owner is refused before the model is made
        saved = svc.create_model(ctx, name, _spec(kw))
        if owner:
            saved.model = svc.set_owner(ctx, name, owner)
    _report(saved, "Created")


@declare(Access.OPERATOR, "changes any model as the local operator (admin)")
@model_group.command("update")
@click.argument("name")
@model_options
@click.option("--no-schedule", is_flag=True, help="Remove the schedule.")
@click.option("--no-search", is_flag=True, help="Remove the hyperparameter search (train the code as written).")
@owner_option
def update_cmd(name: str, owner: str | None, **kw: Any) -> None:
    """Change fields of model NAME (give --label '' to go back to automatic)."""
    with service_context() as ctx:
        if owner:
            get_user(ctx, owner)  # an unknown owner is refused before anything changes
        if owner is None or _changes(kw):
            spec = _spec(kw)
            if spec.search is not None:  # only what is given changes (--trials or --objective alone keeps the parameters)
                spec.search = updated_search(svc.get_model(ctx, name).search, spec.search)
            saved = svc.update_model(ctx, name, spec)
        else:
            saved = SavedModel(svc.get_model(ctx, name), [])
        if owner is not None:
            saved.model = svc.set_owner(ctx, name, owner or None)
    _report(saved, "Updated")


def _changes(kw: dict[str, Any]) -> bool:
    return any(v not in (None, False) for v in kw.values())


@declare(Access.OPERATOR, "reads any model as the local operator (admin)")
@model_group.command("show")
@click.argument("name")
@json_option
def show_cmd(name: str, as_json: bool) -> None:
    """Show model NAME: its definition and active version."""
    with service_context() as ctx:
        model = svc.get_model(ctx, name)
    data = model_dict(model, include_code=True)
    if as_json:
        print_json(data)
        return
    out = console()
    for key, value in data.items():
        if key in BLOCKS:
            out.print(f"[bold]{key}[/]:", markup=True)
            out.print(str(value))
        elif key == "next_run_at" and value is not None:
            _field(out, key, _fire_time(value, model.schedule_timezone))
        elif key == "search":
            _field(out, key, search_text(value) or "none")
        elif key == "schedule" and value is None:
            _field(out, key, "none (set one with --schedule)")
        else:
            _field(out, key, "" if value is None else str(value))


def _fire_time(value: datetime, timezone: str | None) -> str:
    utc = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not timezone or timezone == "UTC":
        return utc
    local = value.astimezone(ZoneInfo(timezone))
    return f"{utc} ({local.strftime('%Y-%m-%d %H:%M')} {timezone})"


@declare(Access.OPERATOR, "reads every model as the local operator (admin)")
@model_group.command("list")
@json_option
def list_cmd(as_json: bool) -> None:
    """List models."""
    with service_context() as ctx:
        models = svc.list_models(ctx)
    if as_json:
        print_json([model_dict(m) for m in models])
        return
    print_table(
        ["name", "source", "template", "owner", "active version", "output table", "updated"],
        [[m.name, m.source, m.template or "custom", m.owner or "", m.active_version, m.target_table,
          fmt_time(m.updated_at)]
         for m in models],
        empty="No models yet. Create one with `softquery model create`, or load examples with `softquery demo`.",
    )


@declare(Access.OPERATOR, "deletes any model as the local operator (admin)")
@model_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_cmd(name: str, yes: bool) -> None:
    """Delete model NAME with its versions and runs (its output table stays)."""
    if not yes:
        click.confirm(f"Delete model {name} and all its versions?", abort=True)
    with service_context() as ctx:
        svc.delete_model(ctx, name)
    console().print(f"Deleted model {name}.")


@declare(Access.OPERATOR, "copies any model as the local operator (admin)")
@model_group.command("duplicate")
@click.argument("name")
@click.argument("new_name")
@owner_option
def duplicate_cmd(name: str, new_name: str, owner: str | None) -> None:
    """Copy the definition of NAME to NEW_NAME (no versions are copied)."""
    with service_context() as ctx:
        if owner:
            get_user(ctx, owner)  # an unknown owner is refused before the copy is made
        svc.duplicate_model(ctx, name, new_name)
        if owner:
            svc.set_owner(ctx, new_name, owner)
    console().print(f"Created model {new_name} as a copy of {name}.")


@declare(Access.NONE, "lists the built-in templates; opens no home")
@click.command("templates")
@json_option
def templates_cmd(as_json: bool) -> None:
    """List the model code templates."""
    templates = code_svc.templates()
    if as_json:
        print_json([{**t.__dict__, "search_parameters": code_svc.search_parameters(t.name)} for t in templates])
        return
    print_table(["name", "task", "title", "search parameters (--param)"],
                [[t.name, t.task, t.title, ", ".join(str(p["name"]) for p in code_svc.search_parameters(t.name))]
                 for t in templates], empty="")


def register(cli: click.Group) -> None:
    cli.add_command(model_group)
    cli.add_command(templates_cmd)
