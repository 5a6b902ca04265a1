"""`softquery token …`: API tokens, shown once, stored hashed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from softquery.cli.command_access import Access, declare
from softquery.cli.printing import console, fmt_time, json_option, print_json, print_table
from softquery.cli.service_context import service_context
from softquery.domain.accounts import ApiToken, TokenScope
from softquery.services import tokens


def token_dict(token: ApiToken) -> dict[str, Any]:
    """Everything about a token but its secret (which is never stored)."""
    return {"id": token.id, "user": token.username, "name": token.name, "prefix": token.prefix,
            "scope": token.scope.value, "models": token.models, "created_at": token.created_at,
            "expires_at": token.expires_at, "revoked_at": token.revoked_at,
            "last_used_at": token.last_used_at}


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _models(token: ApiToken) -> str:
    if token.scope is not TokenScope.PREDICT:
        return ""
    return ", ".join(token.models) if token.models is not None else "all"


@declare(Access.NONE, "only groups the token commands")
@click.group("token")
def token_group() -> None:
    """API tokens for scripts and services: create (shown once), list, revoke.

    Send a token only as the header `Authorization: Bearer <token>`, never in a URL.
    """


@declare(Access.OPERATOR, "creates a token for any user as the local operator (admin)")
@token_group.command("create")
@click.option("--user", "username", required=True, metavar="NAME", help="Whose token it is (it acts as them).")
@click.option("--scope", type=click.Choice([s.value for s in TokenScope], case_sensitive=False),
              help="predict: online predictions only; full: all the user may do. "
                   "Default: predict with --model, else full.")
@click.option("--model", "models", multiple=True, metavar="MODEL",
              help="Limit a predict token to this model (repeat for more).")
@click.option("--days", type=int, help="Days until it expires (default: SOFTQUERY_TOKEN_DAYS, 90).")
@click.option("--name", default="", help="What the token is for, shown in `softquery token list`.")
@json_option
def create_cmd(username: str, scope: str | None, models: tuple[str, ...], days: int | None, name: str,
               as_json: bool) -> None:
    """Create an API token for --user; it is printed once and cannot be shown again."""
    chosen = tokens.parse_scope(scope) if scope else (TokenScope.PREDICT if models else TokenScope.FULL)
    with service_context() as ctx:
        new = tokens.create_token(ctx, username, name=name, scope=chosen, models=list(models) or None, days=days)
    if as_json:
        print_json({"token": new.token, **token_dict(new.info)})
        return
    info = new.info
    limited = f" for {', '.join(info.models)}" if info.models else ""
    out = console()
    out.print(f"Created {info.scope.value} token {info.id} ({info.name}) for {info.username}{limited}, "
              f"expires {fmt_time(info.expires_at)} UTC.", markup=False)
    click.echo(new.token)
    out.print("Copy it now: it cannot be shown again (only its hash is stored). Send it as the header "
              "`Authorization: Bearer <token>`, never in a URL.", markup=False)


@declare(Access.OPERATOR, "lists every user's tokens (never their secrets) as the local operator (admin)")
@token_group.command("list")
@click.option("--user", "username", metavar="NAME", help="Only this user's tokens.")
@json_option
def list_cmd(username: str | None, as_json: bool) -> None:
    """List API tokens (their public prefix, never the secret)."""
    with service_context() as ctx:
        found = tokens.list_tokens(ctx, username)
    if as_json:
        print_json([token_dict(t) for t in found])
        return
    print_table(
        ["id", "user", "name", "prefix", "scope", "models", "created", "expires", "revoked", "last used"],
        [[t.id, t.username, t.name, t.prefix, t.scope.value, _models(t),
          _date(t.created_at), _date(t.expires_at), _date(t.revoked_at),
          fmt_time(t.last_used_at) or "never"] for t in found],
        empty="No API tokens. Create one with `softquery token create --user NAME`.",
    )


@declare(Access.OPERATOR, "revokes any token as the local operator (admin)")
@token_group.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
def revoke_cmd(token_id: int) -> None:
    """Revoke token ID (see `softquery token list`); every server refuses it within SOFTQUERY_SERVING_REFRESH_SECONDS (0.5 s)."""
    with service_context() as ctx:
        token = tokens.revoke_token(ctx, token_id)
    console().print(f"Revoked token {token.id} ({token.prefix}…) of {token.username}.", markup=False)


def register(cli: click.Group) -> None:
    cli.add_command(token_group)
