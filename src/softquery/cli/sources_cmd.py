"""`softquery source …`: named data-source connections."""

from __future__ import annotations

import click

from softquery.cli.command_access import Access, declare
from softquery.cli.printing import console, json_option, print_json, print_table
from softquery.cli.service_context import service_context
from softquery.services import sources as svc


@declare(Access.NONE, "only groups its subcommands")
@click.group("source")
def source_group() -> None:
    """Add, list, test and remove data sources (SQLAlchemy URLs)."""


@declare(Access.OPERATOR, "adds a data source as the local operator (admin)")
@source_group.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--no-test", is_flag=True, help="Save without connecting first.")
def add_cmd(name: str, url: str, no_test: bool) -> None:
    """Add source NAME at URL, e.g. sqlite:////data/shop.db or postgresql://user:pw@host/db."""
    with service_context() as ctx:
        view = svc.add_source(ctx, name, url, test=not no_test)
    console().print(f"Added source {view.name} ({view.dialect}): {view.url}")


@declare(Access.OPERATOR, "reads the data sources (masked URLs) as the local operator (admin)")
@source_group.command("list")
@json_option
def list_cmd(as_json: bool) -> None:
    """List sources (passwords are never shown)."""
    with service_context() as ctx:
        views = svc.list_sources(ctx)
    if as_json:
        print_json([v.to_dict() for v in views])
        return
    print_table(["name", "type", "url"], [[v.name, v.dialect, v.url] for v in views],
                empty="No sources yet. Add one with `softquery source add NAME URL` or run `softquery demo`.")


@declare(Access.OPERATOR, "connects to a data source as the local operator (admin)")
@source_group.command("test")
@click.argument("name")
def test_cmd(name: str) -> None:
    """Connect to source NAME and run `select 1`."""
    with service_context() as ctx:
        view = svc.test_source(ctx, name)
    console().print(f"Source {view.name} is reachable ({view.dialect}).")


@declare(Access.OPERATOR, "removes a data source as the local operator (admin)")
@source_group.command("remove")
@click.argument("name")
def remove_cmd(name: str) -> None:
    """Remove source NAME (refused while models use it)."""
    with service_context() as ctx:
        svc.remove_source(ctx, name)
    console().print(f"Removed source {name}.")


def register(cli: click.Group) -> None:
    cli.add_command(source_group)
