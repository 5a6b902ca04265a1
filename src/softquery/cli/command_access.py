"""Who every CLI command acts as: an explicit, checked decision per command.

The CLI has no login. Whoever can read the home's secret key and its metadata DB
can sign artifacts and write any row, so a person at the shell is the *local
operator*: an admin, recorded in the audit log as ``cli:<os user>``. Every command
declares its access with ``@declare(...)`` (above ``@click.command``); a test walks
the whole command tree and fails when one has no declaration, and
``service_context()`` refuses to open the home for a command that did not declare
``Access.OPERATOR`` or ``Access.SERVER``.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import click

from softquery.domain.accounts import Principal


class Access(StrEnum):
    # reads or changes the home as the local operator (admin), audited as cli:<os user>
    OPERATOR = "operator"
    # starts a long-lived process for others: each HTTP request decides for its own
    # principal (http/route_policies.py), the scheduler acts as system:scheduler, and what the
    # process itself does at start (first login link) is done as the local operator
    SERVER = "server"
    # touches no data of the home (groups of subcommands, built-in lists)
    NONE = "none"


@dataclass(frozen=True)
class Declaration:
    access: Access
    why: str


_DECLARED: dict[click.Command, Declaration] = {}
C = TypeVar("C", bound=click.Command)


def declare(access: Access, why: str) -> Callable[[C], C]:
    """Record the access decision of a click command or group (put it above ``@click.command``)."""
    if not why.strip():
        raise ValueError("say why the command has this access")

    def mark(command: C) -> C:
        if not isinstance(command, click.Command):
            raise TypeError("@declare goes above @click.command / @click.group")
        _DECLARED[command] = Declaration(access, why)
        return command

    return mark


def declaration_of(command: click.Command) -> Declaration | None:
    return _DECLARED.get(command)


def walk(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command under ``command`` (itself included) with its path of names."""
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found.extend(walk(sub, (*path, name)))
    return found


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def operator_for(command: click.Command) -> Principal:
    """The principal a command acts as; refuses commands without a home-opening declaration."""
    declared = declaration_of(command)
    if declared is None or declared.access is Access.NONE:
        raise RuntimeError(  # a programming error: a new command forgot its decision
            f"command {command.name!r} opens the softquery home but declares "
            f"{'no access' if declared is None else 'Access.NONE'}; add @declare(Access.OPERATOR, ...)")
    return Principal.local_operator(os_user())
