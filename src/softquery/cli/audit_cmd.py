"""`softquery audit`: who created, changed, trained, activated, stopped, deleted what, when."""

from __future__ import annotations

import json
from typing import Any

import click

from softquery.cli.command_access import Access, declare
from softquery.cli.printing import fmt_time, json_option, print_json, print_table
from softquery.cli.service_context import service_context
from softquery.domain.accounts import AuditEvent
from softquery.services import audit


def event_dict(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "at": event.at, "actor": event.actor, "action": event.action,
            "target_type": event.target_type, "target": event.target, "details": event.details,
            "ip": event.ip}


def _details(details: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v, default=str)}"
                     for k, v in details.items())


@declare(Access.OPERATOR, "reads the audit log as the local operator (admin)")
@click.command("audit")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True,
              help="Newest events to show.")
@click.option("--actor", metavar="WHO", help="Only events by this actor: a username, cli:<os user> or "
                                            "system:scheduler.")
@click.option("--target", metavar="NAME", help="Only events about this model, user, source, run or token.")
@click.option("--action", metavar="ACTION", help="Only this action, e.g. model.train, version.activate, user.add.")
@json_option
def audit_cmd(limit: int, actor: str | None, target: str | None, action: str | None, as_json: bool) -> None:
    """Show the audit log, newest first.

    Actors: usernames (web and API), cli:<os user> (this command line) and
    system:scheduler (scheduled runs).
    """
    with service_context() as ctx:
        events = audit.list_events(ctx, limit=limit, actor=actor, target=target, action=action)
    if as_json:
        print_json([event_dict(e) for e in events])
        return
    print_table(
        ["when (UTC)", "actor", "action", "target", "details", "from"],
        [[fmt_time(e.at), e.actor, e.action, f"{e.target_type} {e.target}",
          _details(e.details), e.ip]
         for e in events],
        empty="No audit events match. Drop a filter, or see `softquery audit --help`.",
    )


def register(cli: click.Group) -> None:
    cli.add_command(audit_cmd)
