"""The `softquery` command: a thin adapter over the service layer."""

from __future__ import annotations

import sys

if __name__ == "__main__":  # `python -m softquery.cli.main`: before the imports below
    from softquery.cli.early_start import start_ahead

    start_ahead(sys.argv[1:])

import click
from pydantic import ValidationError

from softquery import __version__
from softquery.cli import (
    audit_cmd,
    home_cmd,
    models_cmd,
    runs_cmd,
    server_cmd,
    sources_cmd,
    sql_cmd,
    tokens_cmd,
    users_cmd,
    versions_cmd,
)
from softquery.cli.command_access import Access, declare
from softquery.cli.exit_codes import BadSettings, run_with_error_handling
from softquery.cli.scheduler_cmd import register as register_scheduler
from softquery.config import Settings, settings_problems


@declare(Access.NONE, "reads the settings only; each subcommand declares its own access")
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="softquery")
@click.pass_context
def cli(click_ctx: click.Context) -> None:
    """Train, run and serve machine-learning models from SQL queries.

    Start with `softquery init`, then `softquery demo` for sample data and models.

    The command line needs no login: whoever can read the home's secret key and metadata
    DB is its local operator, an admin, recorded in the audit log as cli:<os user>. People
    using the web app and REST API log in (`softquery user …`, `softquery token …`).
    """
    try:
        click_ctx.obj = Settings()
    except ValidationError as exc:  # a bad SOFTQUERY_* variable: one line each, no traceback
        raise BadSettings(settings_problems(exc)) from None


for module in (home_cmd, sources_cmd, models_cmd, runs_cmd, versions_cmd, server_cmd, users_cmd, tokens_cmd,
               audit_cmd, sql_cmd):
    module.register(cli)
register_scheduler(cli)


def main() -> None:
    sys.exit(run_with_error_handling(cli))


if __name__ == "__main__":
    main()
