"""`softquery user …`: accounts, roles and one-time login links."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.markup import escape

from softquery.cli.command_access import Access, declare
from softquery.cli.printing import console, fmt_time, json_option, print_json, print_table
from softquery.cli.server_urls import login_link, not_running_note
from softquery.cli.service_context import service_context
from softquery.config import Settings
from softquery.domain.accounts import Role, User
from softquery.errors import InvalidInputError
from softquery.services import accounts

ROLES = click.Choice([r.value for r in Role], case_sensitive=False)
ROLE_HELP = "admin: everything; editor: creates models and changes their own; viewer: reads."
password_stdin = click.option("--password-stdin", is_flag=True,
                              help="Read the password from standard input (first line); never from "
                                   "the command line, where other users could see it.")


def user_dict(user: User) -> dict[str, Any]:
    return {"username": user.username, "role": user.role.value, "status": _status(user),
            "last_login_at": user.last_login_at, "has_password": user.has_password,
            "created_at": user.created_at}


def _status(user: User) -> str:
    return "active" if user.active else "disabled"


def _read_password() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InvalidInputError("No password on standard input; pipe it in, e.g. "
                                "`printf '%s\\n' \"$PASSWORD\" | softquery user password NAME --password-stdin`.")
    return line


def _print_link(settings: Settings, username: str, secret: str) -> None:
    click.echo(f"Log in as {username} (one-time link, valid {settings.login_link_hours:g} h): "
               f"{login_link(settings, secret)}")
    note = not_running_note(settings)
    if note is not None:
        click.echo(note)


@declare(Access.NONE, "only groups the user commands")
@click.group("user")
def user_group() -> None:
    """People who may use the web app and API: add, list, disable, roles, login links.

    The CLI itself needs no login: whoever can read the home's secret key and metadata DB
    acts as an admin, recorded in the audit log as cli:<os user>.
    """


@declare(Access.OPERATOR, "adds an account as the local operator (admin)")
@user_group.command("add")
@click.argument("name")
@click.option("--role", type=ROLES, required=True, help=ROLE_HELP)
@password_stdin
@click.pass_obj
def add_cmd(settings: Settings, name: str, role: str, password_stdin: bool) -> None:
    """Add user NAME; without --password-stdin, prints a one-time login link to set one."""
    password = _read_password() if password_stdin else None
    with service_context() as ctx:
        user = accounts.add_user(ctx, name, accounts.parse_role(role), password)
        secret = None if password is not None else accounts.new_login_link(ctx, user.username)
    console().print(f"Added {user.role.value} [bold]{escape(user.username)}[/].", markup=True)
    if secret is not None:
        _print_link(settings, user.username, secret)
        console().print("Send them the link; it works once. They set a password after logging in.")


@declare(Access.OPERATOR, "reads the accounts as the local operator (admin)")
@user_group.command("list")
@json_option
def list_cmd(as_json: bool) -> None:
    """List users: role, status, last login and whether a password is set."""
    with service_context() as ctx:
        users = accounts.list_users(ctx)
    if as_json:
        print_json([user_dict(u) for u in users])
        return
    print_table(
        ["username", "role", "status", "last login", "password"],
        [[u.username, u.role.value, _status(u), fmt_time(u.last_login_at) or "never",
          "yes" if u.has_password else "no"] for u in users],
        empty="No users yet. `softquery init` creates the first admin; add more with `softquery user add`.",
    )


@declare(Access.OPERATOR, "disables an account as the local operator (admin)")
@user_group.command("disable")
@click.argument("name")
def disable_cmd(name: str) -> None:
    """Disable user NAME: logins fail, sessions end and API tokens stop working."""
    with service_context() as ctx:
        accounts.disable_user(ctx, name)
    console().print(f"Disabled {name}. `softquery user enable {name}` lets them back in.", markup=False)


@declare(Access.OPERATOR, "enables an account as the local operator (admin)")
@user_group.command("enable")
@click.argument("name")
def enable_cmd(name: str) -> None:
    """Enable user NAME again (their unexpired, unrevoked tokens work again)."""
    with service_context() as ctx:
        accounts.enable_user(ctx, name)
    console().print(f"Enabled {name}.", markup=False)


@declare(Access.OPERATOR, "changes a role as the local operator (admin)")
@user_group.command("set-role")
@click.argument("name")
@click.argument("role", type=ROLES)
def set_role_cmd(name: str, role: str) -> None:
    """Give user NAME the role ROLE (admin, editor or viewer)."""
    with service_context() as ctx:
        user = accounts.set_role(ctx, name, accounts.parse_role(role))
    console().print(f"{user.username} is now {user.role.value}.", markup=False)


@declare(Access.OPERATOR, "makes a login link for any user as the local operator (admin)")
@user_group.command("link")
@click.argument("name")
@click.pass_obj
def link_cmd(settings: Settings, name: str) -> None:
    """Print a new one-time login link for NAME (e.g. for a forgotten password)."""
    with service_context() as ctx:
        secret = accounts.new_login_link(ctx, name)
    _print_link(settings, name, secret)


@declare(Access.OPERATOR, "sets any user's password as the local operator (admin)")
@user_group.command("password")
@click.argument("name")
@password_stdin
def password_cmd(name: str, password_stdin: bool) -> None:
    """Set the password of NAME, read from standard input (--password-stdin)."""
    if not password_stdin:
        raise InvalidInputError("Give the password on standard input with --password-stdin "
                                f"(or send a login link: `softquery user link {name}`).")
    password = _read_password()
    with service_context() as ctx:
        accounts.set_password(ctx, name, password)
    console().print(f"Password of {name} set.", markup=False)


def register(cli: click.Group) -> None:
    cli.add_command(user_group)
