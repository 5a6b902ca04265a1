"""`softquery init` and `softquery demo`."""

from __future__ import annotations

import click

from softquery.cli.context import console, json_option, print_json, service_context
from softquery.config import Settings
from softquery.services.demo import create_demo, demo_exists
from softquery.services.home import init_home


@click.command("init")
@click.option("--if-needed", is_flag=True, help="Quietly do nothing when already initialised.")
@click.pass_obj
def init_cmd(settings: Settings, if_needed: bool) -> None:
    """Create (or upgrade) the softquery home: metadata DB and secret key."""
    existed = (settings.home / "softquery.db").exists() or bool(settings.database_url)
    result = init_home(settings)
    if if_needed and existed:
        return
    out = console()
    out.print(f"softquery home: {result.home}")
    out.print(f"metadata DB:    {result.database}")
    if result.created_key:
        out.print(f"secret key:     {settings.secret_key_path} (mode 0600, keep it safe)")
    out.print("Next: `softquery demo` loads sample data and example models.")


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
    out.print(f"Created source [bold]demo[/] at {result.path}")
    for table, rows in result.tables.items():
        out.print(f"  table {table}: {rows} rows")
    out.print(f"Example models: {', '.join(result.models)}")
    out.print("Try: `softquery train house_quality` then `softquery predict house_quality`.")


def register(cli: click.Group) -> None:
    cli.add_command(init_cmd)
    cli.add_command(demo_cmd)
