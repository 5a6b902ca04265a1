"""Users and roles: validation, duplicates, the first admin, the last admin, disable/enable."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from tests.contexts import OpenCtx
from tests.integration.services.helpers import PASSWORD

from softquery.domain.accounts import Role
from softquery.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from softquery.services import accounts
from softquery.services.context import ServiceContext
from softquery.store.tables import users


@pytest.mark.parametrize("name", ["", " ", "-lead", ".lead", "_lead", "a b", "ü", "x" * 64, "a/b", "a;b",
                                  "admin\n", "\nadmin", "a\tb", "O'Brien", "a:b"])
def test_bad_usernames_are_refused(ctx: ServiceContext, name: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        accounts.add_user(ctx, name, Role.VIEWER)
    assert "letters, digits" in err.value.message
    assert err.value.details == {"field": "username"}
    assert ctx.users.count() == 0


@pytest.mark.parametrize("name", ["a", "Z9", "ann.lee", "ann-lee", "ann_lee", "ann@example.com", "x" * 63])
def test_good_usernames(ctx: ServiceContext, name: str) -> None:
    user = accounts.add_user(ctx, name, Role.EDITOR)
    assert (user.username, user.role, user.active, user.has_password) == (name, Role.EDITOR, True, False)
    assert accounts.get_user(ctx, name) == user


def test_duplicate_username(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.VIEWER)
    with pytest.raises(AlreadyExistsError, match="'ann' already exists"):
        accounts.add_user(ctx, "ann", Role.ADMIN, PASSWORD)
    assert [u.role for u in accounts.list_users(ctx)] == [Role.VIEWER]


def test_a_short_password_creates_no_user(ctx: ServiceContext) -> None:
    with pytest.raises(InvalidInputError, match="at least"):
        accounts.add_user(ctx, "ann", Role.VIEWER, "short")
    assert ctx.users.count() == 0


def test_passwords_are_stored_hashed(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.VIEWER, PASSWORD)
    with ctx.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.get_user(ctx, "ann").has_password


def test_unknown_user(ctx: ServiceContext) -> None:
    for call in (lambda: accounts.get_user(ctx, "nobody"), lambda: accounts.set_role(ctx, "nobody", Role.ADMIN),
                 lambda: accounts.disable_user(ctx, "nobody"), lambda: accounts.new_login_link(ctx, "nobody")):
        with pytest.raises(NotFoundError, match="softquery user list"):
            call()


@pytest.mark.parametrize(("text", "role"), [("admin", Role.ADMIN), ("Editor", Role.EDITOR), ("VIEWER", Role.VIEWER)])
def test_parse_role(text: str, role: Role) -> None:
    assert accounts.parse_role(text) is role


def test_parse_role_refuses_unknown_roles() -> None:
    with pytest.raises(InvalidInputError, match="admin, editor or viewer"):
        accounts.parse_role("owner")


def test_first_admin_only_when_there_are_no_users(ctx: ServiceContext) -> None:
    admin = accounts.first_admin(ctx)
    assert admin is not None
    assert (admin.username, admin.role, admin.has_password) == ("admin", Role.ADMIN, False)
    link = accounts.first_start_link(ctx)  # the server's first start makes the one link people see
    assert link is not None and len(link) >= 40
    assert accounts.login_link_user(ctx, link).username == "admin"
    assert accounts.first_admin(ctx) is None
    assert accounts.first_admin(ctx, "root") is None
    assert [u.username for u in accounts.list_users(ctx)] == ["admin"]


def test_first_admin_does_nothing_when_someone_else_exists(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "viewer1", Role.VIEWER)
    assert accounts.first_admin(ctx) is None
    assert ctx.users.count() == 1


def test_roles_change(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "root", Role.ADMIN)
    accounts.add_user(ctx, "ann", Role.VIEWER)
    assert accounts.set_role(ctx, "ann", Role.EDITOR).role is Role.EDITOR
    assert accounts.set_role(ctx, "ann", Role.ADMIN).role is Role.ADMIN
    assert accounts.set_role(ctx, "root", Role.VIEWER).role is Role.VIEWER  # ann is admin now


def test_the_last_active_admin_cannot_be_demoted_or_disabled(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "root", Role.ADMIN)
    accounts.add_user(ctx, "ann", Role.ADMIN)
    accounts.disable_user(ctx, "ann")  # root still active
    for call in (lambda: accounts.set_role(ctx, "root", Role.EDITOR), lambda: accounts.disable_user(ctx, "root")):
        with pytest.raises(ConflictError) as err:
            call()
        assert "only active admin" in err.value.message and "make another user admin first" in err.value.message
    root = accounts.get_user(ctx, "root")
    assert (root.role, root.active) == (Role.ADMIN, True)
    assert accounts.set_role(ctx, "root", Role.ADMIN).role is Role.ADMIN  # no change is fine
    accounts.enable_user(ctx, "ann")
    assert not accounts.disable_user(ctx, "root").active  # ann is an active admin again


def test_a_disabled_admin_may_be_demoted(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "root", Role.ADMIN)
    accounts.add_user(ctx, "old", Role.ADMIN)
    accounts.disable_user(ctx, "old")
    assert accounts.set_role(ctx, "old", Role.VIEWER).role is Role.VIEWER


def test_disable_and_enable(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    disabled = accounts.disable_user(ctx, "ann")
    assert not disabled.active and disabled.disabled_at is not None
    again = accounts.disable_user(ctx, "ann")
    assert again.disabled_at == disabled.disabled_at  # disabling twice keeps when it happened
    assert accounts.enable_user(ctx, "ann").active


def test_set_password(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR)
    with pytest.raises(InvalidInputError, match="at least"):
        accounts.set_password(ctx, "ann", "short")
    assert not accounts.get_user(ctx, "ann").has_password
    accounts.set_password(ctx, "ann", PASSWORD)
    assert accounts.get_user(ctx, "ann").has_password
    assert accounts.login_with_password(ctx, "ann", PASSWORD, "10.0.0.1").user.username == "ann"


def _race(contexts: list[ServiceContext], names: tuple[str, str], change: str) -> list[BaseException]:
    """Each context removes one of ``names`` from the admins at the same moment."""
    start = threading.Barrier(len(contexts))
    errors: list[BaseException] = []

    def remove(c: ServiceContext, name: str) -> None:
        start.wait(timeout=30)
        try:
            if change == "demote":
                accounts.set_role(c, name, Role.EDITOR)
            else:
                accounts.disable_user(c, name)
        except ConflictError:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=remove, args=(c, n)) for c, n in zip(contexts, names, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.parametrize("change", ["demote", "disable"])
def test_two_admins_removing_each_other_at_once_leave_one(ctx: ServiceContext, open_ctx: OpenCtx,
                                                          change: str) -> None:
    contexts = [open_ctx(), open_ctx()]
    for round_ in range(6):
        names = (f"a{round_}", f"b{round_}")
        for name in names:
            accounts.add_user(ctx, name, Role.ADMIN)
        for other in accounts.list_users(ctx):  # only these two are active admins
            if other.role is Role.ADMIN and other.username not in names and other.active:
                accounts.set_role(ctx, other.username, Role.VIEWER)
        assert not _race(contexts, names, change)
        assert ctx.users.count_active_admins() == 1, f"round {round_}: no admin left"
