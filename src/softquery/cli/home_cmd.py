"""`softquery init` and `softquery demo`."""

from __future__ import annotations

import click
from rich.markup import escape

from softquery.cli.command_access import Access, declare
from softquery.cli.home_securing import report_repairs
from softquery.cli.printing import console, json_option, print_json
from softquery.cli.service_context import service_context
from softquery.config import Settings
from softquery.services.accounts import first_admin
from softquery.services.demo import create_demo, demo_exists
from softquery.services.home import init_home


@declare(Access.OPERATOR, "creates the home, its secret key and the first admin: whoever runs it owns the home")
@click.command("init")
@click.option("--if-needed", is_flag=True,
              help="Quietly do nothing when already initialised (still creates the first admin if none).")
@click.option("--admin", "admin_name", default="admin", show_default=True, metavar="NAME",
              help="Username of the first admin, created when the home has no users yet.")
@click.pass_obj
def init_cmd(settings: Settings, if_needed: bool, admin_name: str) -> None:
    """Create (or upgrade) the softquery home: metadata DB, secret key and the first admin.

    The first admin gets no password: `softquery serve` prints a one-time login link on
    each start until someone has logged in (valid 24 h by default; open it in a browser and
    set a password); `softquery user link NAME` makes one without a server.
    """
    existed = (settings.home / "softquery.db").exists() or bool(settings.database_url)
    result = init_home(settings)
    report_repairs(result.repaired)
    with service_context() as ctx:
        created = first_admin(ctx, admin_name)
    out = console()
    if not (if_needed and existed):
        out.print(f"softquery home: {result.home}")
        out.print(f"metadata DB:    {result.database}")
        if result.created_key:
            out.print(f"secret key:     {settings.secret_key_path} (mode 0600, keep it safe)")
    if created is not None:
        out.print(f"Created the first admin [bold]{escape(created.username)}[/] (no password yet). "
                  "`softquery serve` prints a one-time login link for them when it starts.", markup=True)
    elif admin_name != "admin" and not if_needed:
        out.print(f"The home already has users, so no admin {admin_name!r} was created; "
                  f"add one with `softquery user add {admin_name} --role admin`.", markup=False)
    if not (if_needed and existed):
        out.print("Next: `softquery demo` loads sample data and example models.")


@declare(Access.OPERATOR, "adds a source and models to the home as the local operator")
@click.command("demo")
@click.option("--if-needed", is_flag=True, help="Do nothing when the demo source exists.")
@json_option
def demo_cmd(if_needed: bool, as_json: bool) -> None:
    """Create the `demo` source (SQLite, sample tables) and one example model per table."""
    with service_context() as ctx:
        if if_needed and demo_exists(ctx):
            return
        result = create_demo(ctx)
    if as_json:
        print_json(result.__dict__)
        return
    out = console()
    out.print(f"Created source [bold]demo[/] at {escape(str(result.path))}", markup=True)
    for table, rows in result.tables.items():
        out.print(f"  table {table}: {rows} rows")
    out.print(f"Example models: {', '.join(result.models)}")
    out.print("Try: `softquery train house_quality` then `softquery predict house_quality`.")


def register(cli: click.Group) -> None:
    cli.add_command(init_cmd)
    cli.add_command(demo_cmd)
