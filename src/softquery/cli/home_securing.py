"""Make the home private before a command or server uses it, saying on stderr what changed."""

from __future__ import annotations

import click

from softquery.config import Settings
from softquery.services.home_privacy import repair_message, secure_home


def secure_home_on_start(settings: Settings) -> None:
    """Make a home that others can read private, saying so on stderr, or refuse it
    (``home_not_private``) when its files are someone else's: services/home_privacy.py."""
    report_repairs(secure_home(settings))


def report_repairs(changed: list[str]) -> None:
    if changed:
        click.echo(repair_message(changed), err=True)
