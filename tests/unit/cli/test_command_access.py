"""Every CLI command makes an explicit access decision (cli/access.py), checked here and at run time."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from softquery.cli.command_access import Access, declaration_of, declare, walk
from softquery.cli.exit_codes import run_with_error_handling
from softquery.cli.main import cli
from softquery.cli.service_context import service_context
from softquery.config import Settings
from softquery.domain.accounts import Via
from softquery.services.home import init_home

# commands that open the home; everything else must be a group or touch no home data
EXPECTED_NONE = {(), ("model",), ("run",), ("source",), ("user",), ("token",), ("templates",)}


def test_every_command_in_the_tree_declares_its_access() -> None:
    commands = walk(cli)
    assert len(commands) > 30  # the walk reaches the subcommands of groups
    missing = [" ".join(("softquery", *path)) for path, command in commands if declaration_of(command) is None]
    assert missing == [], f"commands without @declare(...) in softquery/cli: {missing}"
    for path, command in commands:
        declared = declaration_of(command)
        assert declared is not None and declared.why.strip()
        if isinstance(command, click.Group):
            assert declared.access is Access.NONE, path
    assert {path for path, c in commands if declaration_of(c).access is Access.NONE} == EXPECTED_NONE  # type: ignore[union-attr]
    servers = {path for path, c in commands if declaration_of(c).access is Access.SERVER}  # type: ignore[union-attr]
    assert servers == {("serve",), ("worker",), ("scheduler",)}


def test_the_account_commands_are_in_the_tree() -> None:
    paths = {" ".join(path) for path, _ in walk(cli)}
    for expected in ("init", "serve", "audit", "user add", "user list", "user disable", "user enable",
                     "user set-role", "user link", "user password", "token create", "token list",
                     "token revoke"):
        assert expected in paths


def test_a_command_without_a_declaration_cannot_open_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, secret_key=None)
    init_home(settings)
    seen: list[Via] = []

    @click.command("undeclared")
    @click.pass_obj
    def undeclared(_: Settings) -> None:
        with service_context() as ctx:
            seen.append(ctx.actor.via)

    @declare(Access.NONE, "claims to touch nothing")
    @click.command("claims_none")
    def claims_none() -> None:
        with service_context():
            seen.append(Via.SYSTEM)

    @declare(Access.OPERATOR, "a test command")
    @click.command("declared")
    def declared() -> None:
        with service_context() as ctx:
            seen.append(ctx.actor.via)
            assert ctx.actor.label.startswith("cli:")

    group = click.Group("t", commands=[undeclared, claims_none, declared])
    group.callback = click.pass_context(lambda c: setattr(c, "obj", settings))
    with pytest.raises(RuntimeError, match="declares no access"):
        run_with_error_handling(group, ["undeclared"])
    with pytest.raises(RuntimeError, match="Access.NONE"):
        run_with_error_handling(group, ["claims_none"])
    assert run_with_error_handling(group, ["declared"]) == 0
    assert seen == [Via.CLI]


def test_declare_needs_a_reason_and_a_command() -> None:
    with pytest.raises(ValueError):
        declare(Access.OPERATOR, " ")
    with pytest.raises(TypeError):
        declare(Access.OPERATOR, "why")(lambda: None)  # type: ignore[type-var]
