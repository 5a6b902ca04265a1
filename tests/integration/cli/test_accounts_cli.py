"""Accounts through the CLI: first admin and login links, users, API tokens, audit log, owners."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI

from softquery.cli.command_access import os_user
from softquery.config import Settings
from softquery.domain.accounts import Role, TokenScope
from softquery.errors import AuthenticationError
from softquery.services import accounts, server_address, tokens
from softquery.services.context import ServiceContext, open_context

LINK = re.compile(r"Log in as (\S+) \(one-time link, valid 24 h\): (http://127\.0\.0\.1:8765/login\?token=(\S+))$",
                  re.MULTILINE)
PASSWORD = "a long enough password"


@pytest.fixture
def ctx(sq: SoftqueryCLI) -> Iterator[ServiceContext]:
    context = open_context(Settings())
    try:
        yield context
    finally:
        context.close()


def link_secret(out: str, username: str) -> str:
    found = LINK.findall(out)
    assert len(found) == 1, out
    assert found[0][0] == username
    return str(found[0][2])


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


# init and the first admin
def test_init_creates_the_first_admin_without_password_and_leaves_the_link_to_serve(
        home: object, capsys: pytest.CaptureFixture[str]) -> None:
    sq = SoftqueryCLI(capsys, home)  # type: ignore[arg-type]
    first = sq("init")
    # no link here: `softquery serve` prints the one that works (a link printed now would be
    # replaced by the server's, and it knows the address and port people use)
    assert "/login?token=" not in first.out + first.err
    assert "`softquery serve` prints a one-time login link" in first.out
    assert "password" not in first.out.lower().replace("no password yet", "")
    context = open_context(Settings())
    try:
        admin = accounts.get_user(context, "admin")
        assert admin.role is Role.ADMIN and admin.active and not admin.has_password
        secret = accounts.first_start_link(context)
        assert secret is not None
        opened = accounts.login_with_link(context, secret)
        assert opened.user.username == "admin"
        with pytest.raises(AuthenticationError, match="already used or has expired"):
            accounts.login_with_link(context, secret)
        # a wrong password never works for a user without one (no default password)
        for guess in ("admin", "password", "changeme", ""):
            with pytest.raises(AuthenticationError):
                accounts.login_with_password(context, "admin", guess, "127.0.0.1")
    finally:
        context.close()
    again = sq("init")
    assert "/login?token=" not in again.out  # the home has users: no new admin
    assert sq("init", "--if-needed").out == ""


def test_init_if_needed_names_the_admin(home: object, capsys: pytest.CaptureFixture[str]) -> None:
    sq = SoftqueryCLI(capsys, home)  # type: ignore[arg-type]
    out = sq("init", "--if-needed", "--admin", "boss").out
    assert "Created the first admin boss" in out and "/login?token=" not in out
    assert sq("user", "list", "--json").json()[0]["username"] == "boss"


def test_init_refuses_a_bad_admin_name(home: object, capsys: pytest.CaptureFixture[str]) -> None:
    failed = SoftqueryCLI(capsys, home)("init", "--admin", "no spaces", ok=False)  # type: ignore[arg-type]
    assert failed.code == 2 and "not a valid username" in failed.err


# users
def test_user_add_list_disable_enable_set_role(sq: SoftqueryCLI, ctx: ServiceContext,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    added = sq("user", "add", "bob", "--role", "editor")
    bob_link = link_secret(added.out, "bob")
    assert "works once" in added.out
    stdin(monkeypatch, PASSWORD + "\n")
    carl = sq("user", "add", "carl", "--role", "VIEWER", "--password-stdin")
    assert "/login?token=" not in carl.out
    assert accounts.login_with_password(ctx, "carl", PASSWORD, "127.0.0.1").user.role is Role.VIEWER
    assert accounts.login_with_link(ctx, bob_link).user.username == "bob"

    listed = {u["username"]: u for u in sq("user", "list", "--json").json()}
    assert set(listed) == {"admin", "bob", "carl"}
    assert listed["carl"] == {**listed["carl"], "role": "viewer", "status": "active", "has_password": True}
    assert listed["bob"]["last_login_at"] is not None and listed["admin"]["last_login_at"] is None
    assert listed["admin"]["has_password"] is False
    table = sq("user", "list").out
    assert "carl" in table and "never" in table

    sq("user", "disable", "carl")
    assert sq("user", "list", "--json").json()[2]["status"] == "disabled"
    with pytest.raises(AuthenticationError):
        accounts.login_with_password(ctx, "carl", PASSWORD, "127.0.0.1")
    refused = sq("user", "link", "carl", ok=False)
    assert refused.code == 5 and "enable the user first" in refused.err
    sq("user", "enable", "carl")
    assert accounts.login_with_password(ctx, "carl", PASSWORD, "127.0.0.1").user.active

    sq("user", "set-role", "carl", "editor")
    assert accounts.get_user(ctx, "carl").role is Role.EDITOR
    bad = sq("user", "set-role", "carl", "owner", ok=False)
    assert bad.code == 2 and "admin" in bad.err
    assert sq("user", "add", "bob", "--role", "viewer", ok=False).code == 5
    assert sq("user", "disable", "nobody", ok=False).code == 4


def test_the_last_active_admin_cannot_be_disabled_or_demoted(sq: SoftqueryCLI, ctx: ServiceContext) -> None:
    for args in (("user", "disable", "admin"), ("user", "set-role", "admin", "viewer")):
        refused = sq(*args, ok=False)
        assert refused.code == 5
        assert "only active admin" in refused.err and "make another user admin first" in refused.err
    assert accounts.get_user(ctx, "admin").role is Role.ADMIN and accounts.get_user(ctx, "admin").active
    sq("user", "add", "ann", "--role", "admin")
    sq("user", "set-role", "admin", "editor")
    assert accounts.get_user(ctx, "admin").role is Role.EDITOR
    assert sq("user", "disable", "ann", ok=False).code == 5  # ann is now the only admin


def test_user_link_and_password(sq: SoftqueryCLI, ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = link_secret(sq("user", "link", "admin").out, "admin")
    assert accounts.login_with_link(ctx, secret).user.username == "admin"
    refused = sq("user", "password", "admin", ok=False)
    assert refused.code == 2 and "--password-stdin" in refused.err
    stdin(monkeypatch, "")
    assert "No password on standard input" in sq("user", "password", "admin", "--password-stdin", ok=False).err
    stdin(monkeypatch, "short\n")
    assert "at least 10 characters" in sq("user", "password", "admin", "--password-stdin", ok=False).err
    stdin(monkeypatch, PASSWORD + "\n")
    sq("user", "password", "admin", "--password-stdin")
    assert accounts.login_with_password(ctx, "admin", PASSWORD, "127.0.0.1").user.has_password


# API tokens
def test_token_is_shown_once_and_never_listed(sq: SoftqueryCLI, ctx: ServiceContext) -> None:
    sq("user", "add", "bob", "--role", "editor")
    created = sq("token", "create", "--user", "bob", "--name", "nightly job", "--days", "7")
    secrets_printed = re.findall(r"sq_\w+_[\w-]{20,}", created.out)
    assert len(secrets_printed) == 1
    token = secrets_printed[0]
    assert created.out.count(token) == 1
    assert "cannot be shown again" in created.out and "Authorization: Bearer" in created.out
    principal = tokens.token_principal(ctx, token)
    assert principal is not None and principal.username == "bob" and principal.scope is TokenScope.FULL

    as_json = sq("token", "create", "--user", "admin", "--json").json()
    assert as_json["token"].startswith("sq_") and as_json["user"] == "admin"

    for listing in (sq("token", "list"), sq("token", "list", "--json"), sq("token", "list", "--user", "bob")):
        assert token not in listing.out and as_json["token"] not in listing.out
        assert token[len("sq_") + 8:] not in listing.out  # not even the secret part
    listed = sq("token", "list", "--user", "bob", "--json").json()
    assert len(listed) == 1
    entry = listed[0]
    assert {"id", "user", "name", "prefix", "scope", "models", "created_at", "expires_at", "revoked_at",
            "last_used_at"} <= set(entry)
    assert entry["name"] == "nightly job" and entry["scope"] == "full" and token.startswith(entry["prefix"])
    assert entry["last_used_at"] is not None  # token_principal above used it
    assert len(sq("token", "list", "--json").json()) == 2

    sq("token", "revoke", str(entry["id"]))
    assert tokens.token_principal(ctx, token) is None
    assert sq("token", "list", "--user", "bob", "--json").json()[0]["revoked_at"] is not None
    assert sq("token", "revoke", "999", ok=False).code == 4


def test_predict_tokens_limited_to_models(sq: SoftqueryCLI, ctx: ServiceContext,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    sq("demo")  # models to limit tokens to
    x, a, b = "iris_species", "cancer_diagnosis", "house_quality"
    explicit = sq("token", "create", "--user", "admin", "--scope", "predict", "--model", x, "--json").json()
    assert explicit["scope"] == "predict" and explicit["models"] == [x]
    principal = tokens.token_principal(ctx, explicit["token"])
    assert principal is not None and principal.scope is TokenScope.PREDICT and principal.models == {x}
    implied = sq("token", "create", "--user", "admin", "--model", b, "--model", a, "--json").json()
    assert implied["scope"] == "predict" and implied["models"] == [a, b]
    unlimited = sq("token", "create", "--user", "admin", "--scope", "predict", "--json").json()
    assert unlimited["models"] is None
    refused = sq("token", "create", "--user", "admin", "--scope", "full", "--model", "x", ok=False)
    assert refused.code == 2 and "Only a `predict` token" in refused.err
    assert sq("token", "create", "--user", "admin", "--days", "0", ok=False).code == 2
    assert sq("token", "create", "--user", "nobody", ok=False).code == 4
    unknown = sq("token", "create", "--user", "admin", "--model", x, "--model", "typo_model", ok=False)
    assert unknown.code == 4 and "'typo_model'" in unknown.err and x not in unknown.err
    assert "sq_" not in unknown.out and len(sq("token", "list", "--json").json()) == 3  # nothing created
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: no cell is cut short
    table = sq("token", "list").out
    assert "predict" in table and f"{a}, {b}" in table and "never" in table


# audit log and owners
def test_audit_shows_create_train_delete_by_the_local_operator(sq: SoftqueryCLI) -> None:
    actor = f"cli:{os_user()}"
    sq("demo")
    sq("train", "house_quality")
    sq("model", "delete", "house_quality", "--yes")
    events = sq("audit", "--target", "house_quality", "--json").json()
    assert [e["action"] for e in events][:3] == ["model.delete", "model.train", "model.create"]
    assert {e["actor"] for e in events} == {actor}
    assert events[1]["details"]["trigger"] == "cli"
    assert [e["action"] for e in sq("audit", "--action", "model.train", "--json").json()] == ["model.train"]
    assert sq("audit", "--actor", "someone-else", "--json").json() == []
    assert len(sq("audit", "--limit", "2", "--json").json()) == 2
    table = sq("audit", "--target", "house_quality").out
    assert "model.delete" in table and actor in table
    assert "No audit events match" in sq("audit", "--actor", "nobody").out
    assert sq("audit", "--limit", "0", ok=False).code == 2


def test_model_owner_from_the_cli(sq: SoftqueryCLI) -> None:
    sq("demo")
    sq("user", "add", "bob", "--role", "editor")
    assert sq("model", "show", "house_quality", "--json").json()["owner"] is None  # CLI-made: admins only
    sq("model", "update", "house_quality", "--owner", "bob")
    assert sq("model", "show", "house_quality", "--json").json()["owner"] == "bob"
    assert "bob" in sq("model", "list").out
    sq("model", "duplicate", "house_quality", "hq_copy", "--owner", "admin")
    assert sq("model", "show", "hq_copy", "--json").json()["owner"] == "admin"
    sq("model", "duplicate", "house_quality", "hq_plain")
    assert sq("model", "show", "hq_plain", "--json").json()["owner"] is None
    sq("model", "update", "house_quality", "--owner", "", "--description", "no owner")
    shown = sq("model", "show", "house_quality", "--json").json()
    assert shown["owner"] is None and shown["description"] == "no owner"
    refused = sq("model", "duplicate", "house_quality", "hq_nobody", "--owner", "nobody", ok=False)
    assert refused.code == 4
    assert sq("model", "show", "hq_nobody", ok=False).code == 4  # nothing half-made
    code = sq("model", "show", "house_quality", "--json").json()
    sq("model", "create", "owned", "--source", "demo", "--template", "linear_regression",
       "--train-sql", code["train_sql"], "--predict-sql", code["predict_sql"], "--owner", "bob")
    assert sq("model", "show", "owned", "--json").json()["owner"] == "bob"
    changes = sq("audit", "--action", "model.set_owner", "--json").json()
    assert [e["details"]["to"] for e in changes] == ["bob", None, "admin", "bob"]
    assert "--owner" in sq("model", "create", "--help").out and "only admins" in sq("model", "create", "--help").out


def test_a_link_printed_with_no_server_running_says_so(sq: SoftqueryCLI, home: Path) -> None:
    """REVIEW_19 #17: with no `softquery serve` for this home, `user add`/`user link` say under
    the link that none runs and where the link works once it does; with one running, they don't."""
    for args in (("user", "add", "carl", "--role", "viewer"), ("user", "link", "carl")):
        out = sq(*args).out
        link_secret(out, "carl")
        lines = out.splitlines()
        below = lines[next(i for i, line in enumerate(lines) if line.startswith("Log in as carl")) + 1]
        assert below == (f"No softquery server is running for this home ({home}): the link works once "
                         "`softquery serve` runs at http://127.0.0.1:8765."), out
    server_address.record(home, "http://127.0.0.1:8999")  # this (living) process "serves" the home
    try:
        out = sq("user", "link", "carl").out
    finally:
        server_address.forget(home)
    assert "http://127.0.0.1:8999/login?token=" in out and "No softquery server is running" not in out, out
