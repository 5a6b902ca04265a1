"""One-time login links, password logins (rate-limited) and web sessions."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from tests.contexts import OpenCtx
from tests.integration.services.helpers import PASSWORD, as_user, past, set_column

from softquery.auth import credentials
from softquery.domain.accounts import Role, Via
from softquery.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    TooManyAttemptsError,
)
from softquery.services import accounts
from softquery.services.context import ServiceContext
from softquery.store.tables import login_failures, login_links, sessions

IP = "10.1.2.3"


# one-time login links
def test_a_login_link_works_once(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR)
    secret = accounts.new_login_link(ctx, "ann")
    opened = accounts.login_with_link(ctx, secret)
    assert opened.user.username == "ann"
    assert accounts.session_principal(ctx, opened.secret) is not None
    with pytest.raises(AuthenticationError) as err:
        accounts.login_with_link(ctx, secret)
    assert "already used or has expired" in err.value.message and "softquery user link" in err.value.message


def test_looking_at_a_link_does_not_use_it(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "root", Role.ADMIN)
    accounts.add_user(ctx, "ann", Role.EDITOR)
    secret = accounts.new_login_link(ctx, "ann")
    for _ in range(3):  # link previews, mail scanners
        assert accounts.login_link_user(ctx, secret).username == "ann"
    with ctx.engine.connect() as conn:
        assert conn.execute(select(login_links.c.used_at)).scalar_one() is None
        assert conn.execute(select(sessions.c.id)).first() is None
    accounts.disable_user(ctx, "ann")
    with pytest.raises(AuthenticationError, match="already used or has expired"):
        accounts.login_link_user(ctx, secret)
    accounts.enable_user(ctx, "ann")
    assert accounts.login_with_link(ctx, secret).user.username == "ann"
    with pytest.raises(AuthenticationError, match="already used or has expired"):  # used now
        accounts.login_link_user(ctx, secret)
    expiring = accounts.new_login_link(ctx, "ann")
    set_column(ctx, login_links, "expires_at", past(seconds=1))
    with pytest.raises(AuthenticationError, match="already used or has expired"):
        accounts.login_link_user(ctx, expiring)
    with pytest.raises(AuthenticationError):
        accounts.login_link_user(ctx, "not a link at all")


def test_only_the_hash_of_a_link_is_stored(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR)
    secret = accounts.new_login_link(ctx, "ann")
    with ctx.engine.connect() as conn:
        stored = conn.execute(select(login_links.c.token_hash)).scalar_one()
    assert stored == credentials.digest(secret) and secret not in stored


def test_an_expired_link_fails(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR)
    secret = accounts.new_login_link(ctx, "ann")
    set_column(ctx, login_links, "expires_at", past(seconds=1))
    with pytest.raises(AuthenticationError):
        accounts.login_with_link(ctx, secret)


def test_links_last_login_link_hours(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR)
    accounts.new_login_link(ctx, "ann")
    with ctx.engine.connect() as conn:
        created, expires = conn.execute(select(login_links.c.created_at, login_links.c.expires_at)).one()
    hours = (expires - created).total_seconds() / 3600
    assert abs(hours - ctx.settings.login_link_hours) < 0.01


@pytest.mark.parametrize("secret", ["", "x", "nonsense" * 10, "sq_abc"])
def test_unknown_links_fail(ctx: ServiceContext, secret: str) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR)
    accounts.new_login_link(ctx, "ann")
    with pytest.raises(AuthenticationError):
        accounts.login_with_link(ctx, secret)


def test_a_disabled_users_link_fails(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "root", Role.ADMIN)
    accounts.add_user(ctx, "ann", Role.EDITOR)
    secret = accounts.new_login_link(ctx, "ann")
    accounts.disable_user(ctx, "ann")
    with pytest.raises(AuthenticationError):
        accounts.login_with_link(ctx, secret)
    with pytest.raises(ConflictError, match="enable the user first"):
        accounts.new_login_link(ctx, "ann")
    accounts.enable_user(ctx, "ann")
    with pytest.raises(AuthenticationError):  # the link was spent on the refused attempt
        accounts.login_with_link(ctx, secret)
    assert accounts.login_with_link(ctx, accounts.new_login_link(ctx, "ann")).user.username == "ann"


def test_one_link_used_from_many_threads_logs_in_once(ctx: ServiceContext, open_ctx: OpenCtx) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR)
    secret = accounts.new_login_link(ctx, "ann")
    contexts = [open_ctx() for _ in range(8)]
    start = threading.Barrier(len(contexts))
    won: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def attempt(c: ServiceContext) -> None:
        start.wait(timeout=30)
        try:
            won.append(accounts.login_with_link(c, secret).secret)
        except AuthenticationError:
            refused.append("refused")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(c,)) for c in contexts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(won) == 1 and len(refused) == len(contexts) - 1
    with ctx.engine.connect() as conn:
        assert conn.execute(select(sessions.c.id)).scalars().all() == [credentials.digest(won[0])]


def test_a_new_link_replaces_the_users_earlier_unused_links(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR)
    accounts.add_user(ctx, "bob", Role.EDITOR)
    first = accounts.new_login_link(ctx, "ann")
    second = accounts.new_login_link(ctx, "ann")
    bobs = accounts.new_login_link(ctx, "bob")
    newest = accounts.new_login_link(ctx, "ann")
    for old in (first, second):
        with pytest.raises(AuthenticationError) as err:
            accounts.login_with_link(ctx, old)
        assert "already used or has expired" in err.value.message and "newer link" in err.value.message
    assert accounts.login_with_link(ctx, newest).user.username == "ann"
    assert accounts.login_with_link(ctx, bobs).user.username == "bob"  # another user's link stays valid


def test_links_made_at_once_leave_one_valid(ctx: ServiceContext, open_ctx: OpenCtx) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR)
    contexts = [open_ctx() for _ in range(6)]
    start = threading.Barrier(len(contexts))
    made: list[str] = []
    errors: list[BaseException] = []

    def issue(c: ServiceContext) -> None:
        start.wait(timeout=30)
        try:
            made.append(accounts.new_login_link(c, "ann"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(c,)) for c in contexts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(made) == len(contexts)
    with ctx.engine.connect() as conn:
        assert len(conn.execute(select(login_links.c.id)).all()) == 1
    worked = []
    for secret in made:
        try:
            worked.append(accounts.login_with_link(ctx, secret).user.username)
        except AuthenticationError:
            pass
    assert worked == ["ann"]  # the one made last


def test_login_url() -> None:
    url = accounts.login_url("http://example.test:8765/", "abc-DEF_123")
    assert url == "http://example.test:8765/login?token=abc-DEF_123"
    assert parse_qs(urlsplit(url).query) == {"token": ["abc-DEF_123"]}


def test_the_first_start_link_is_offered_until_someone_logs_in(ctx: ServiceContext) -> None:
    first = accounts.first_start_link(ctx)
    assert first is not None
    assert [(u.username, u.role) for u in accounts.list_users(ctx)] == [("admin", Role.ADMIN)]
    second = accounts.first_start_link(ctx)  # another server start, nobody logged in yet
    assert second is not None and second != first
    assert ctx.users.count() == 1
    with pytest.raises(AuthenticationError):  # only the newest printed link works
        accounts.login_with_link(ctx, first)
    assert accounts.login_with_link(ctx, second).user.username == "admin"
    assert accounts.first_start_link(ctx) is None
    assert accounts.get_user(ctx, "admin").last_login_at is not None


def test_init_makes_the_admin_and_the_link_serve_prints_is_the_one_that_works(ctx: ServiceContext) -> None:
    created = accounts.first_admin(ctx)  # `softquery init`: the admin, and no link (issue 12, item 14)
    assert created is not None and created.username == "admin" and created.role is Role.ADMIN
    assert accounts.first_admin(ctx) is None  # a second init makes nobody
    started = accounts.first_start_link(ctx)  # then `softquery serve` prints the one link
    assert started is not None
    assert accounts.login_with_link(ctx, started).user.username == "admin"


def test_the_first_start_link_goes_to_an_existing_admin(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "boss", Role.ADMIN)
    link = accounts.first_start_link(ctx)
    assert link is not None
    assert accounts.login_with_link(ctx, link).user.username == "boss"
    assert accounts.first_start_link(ctx) is None


def test_no_first_start_link_without_an_active_admin(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.VIEWER)
    assert accounts.first_start_link(ctx) is None
    assert ctx.users.count() == 1


# password logins
def test_the_right_password_opens_a_session(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    opened = accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    assert opened.user.username == "ann" and opened.csrf_token and opened.secret != opened.csrf_token
    principal = accounts.session_principal(ctx, opened.secret)
    assert principal is not None
    assert (principal.username, principal.role, principal.via, principal.user_id) == (
        "ann", Role.EDITOR, Via.SESSION, opened.user.id)
    assert principal.csrf_token == opened.csrf_token
    with ctx.engine.connect() as conn:
        stored = conn.execute(select(sessions.c.id)).scalar_one()
    assert stored == credentials.digest(opened.secret)  # the cookie's value is not in the DB
    assert accounts.get_user(ctx, "ann").last_login_at is not None


def test_sessions_follow_role_changes(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    opened = accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    accounts.set_role(ctx, "ann", Role.VIEWER)
    principal = accounts.session_principal(ctx, opened.secret)
    assert principal is not None and principal.role is Role.VIEWER


@pytest.mark.parametrize(("username", "password"), [("ann", "wrong password!"), ("nobody", PASSWORD),
                                                    ("nopass", PASSWORD), ("nopass", ""), ("ann", "")])
def test_wrong_logins_all_say_the_same(ctx: ServiceContext, username: str, password: str) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    accounts.add_user(ctx, "nopass", Role.EDITOR)
    with pytest.raises(AuthenticationError) as err:
        accounts.login_with_password(ctx, username, password, IP)
    assert err.value.message == "Wrong username or password."
    with ctx.engine.connect() as conn:
        assert conn.execute(select(sessions.c.id)).first() is None


def test_a_disabled_user_cannot_log_in(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "root", Role.ADMIN)
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    accounts.disable_user(ctx, "ann")
    with pytest.raises(AuthenticationError):
        accounts.login_with_password(ctx, "ann", PASSWORD, IP)


def test_too_many_failures_for_a_username(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    limit = ctx.settings.login_max_failures
    for n in range(limit):
        with pytest.raises(AuthenticationError):
            accounts.login_with_password(ctx, "ann", f"wrong password {n}", f"10.0.0.{n}")
    with pytest.raises(TooManyAttemptsError) as err:  # even the right password, from anywhere
        accounts.login_with_password(ctx, "ann", PASSWORD, "192.168.9.9")
    retry = err.value.details["retry_after_seconds"]
    assert 14 * 60 < retry <= 15 * 60 + 1
    assert "try again in 15 minute(s)" in err.value.message and "login link" in err.value.message
    assert err.value.http_status == 429
    # other usernames are not locked out
    accounts.add_user(ctx, "bob", Role.EDITOR, PASSWORD)
    assert accounts.login_with_password(ctx, "bob", PASSWORD, "192.168.9.9").user.username == "bob"
    # a login link still works, and the failures age out of the window
    set_column(ctx, login_failures, "at", past(minutes=15, seconds=1))
    assert accounts.login_with_password(ctx, "ann", PASSWORD, IP).user.username == "ann"


def test_retry_after_counts_from_the_oldest_failure(ctx: ServiceContext) -> None:
    limit = ctx.settings.login_max_failures
    for n in range(limit):
        ctx.users.add_failure("ann", IP, past(minutes=10 + n / 60))
    with pytest.raises(TooManyAttemptsError) as err:
        accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    retry = err.value.details["retry_after_seconds"]
    oldest = 10 * 60 + (limit - 1)
    assert 15 * 60 - oldest - 2 <= retry <= 15 * 60 - oldest + 1
    assert "try again in 5 minute(s)" in err.value.message  # 4 min 58 s: rounded up, never down


def test_success_clears_the_usernames_failures(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    limit = ctx.settings.login_max_failures
    for _ in range(limit - 1):
        with pytest.raises(AuthenticationError):
            accounts.login_with_password(ctx, "ann", "wrong password", IP)
    accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    for _ in range(limit - 1):  # a fresh allowance
        with pytest.raises(AuthenticationError):
            accounts.login_with_password(ctx, "ann", "wrong password", IP)
    assert accounts.login_with_password(ctx, "ann", PASSWORD, IP).user.username == "ann"


def test_too_many_failures_from_one_address(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    for n in range(accounts.MAX_FAILURES_PER_IP - 1):  # spread over usernames: no username limit hit
        ctx.users.add_failure(f"guess{n}", IP, past(minutes=1))
    with pytest.raises(AuthenticationError):
        accounts.login_with_password(ctx, "guess-last", "wrong password", IP)
    with pytest.raises(TooManyAttemptsError) as err:
        accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    assert err.value.details["retry_after_seconds"] > 0
    assert accounts.login_with_password(ctx, "ann", PASSWORD, "10.9.9.9").user.username == "ann"


def test_a_rehash_happens_on_login(ctx: ServiceContext) -> None:
    from argon2 import PasswordHasher

    user = accounts.add_user(ctx, "ann", Role.EDITOR)
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    ctx.users.update(user.id, password_hash=weak)
    accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    found = ctx.users.password_hash("ann")
    assert found is not None and found[1] is not None and found[1] != weak
    assert found[1].startswith("$argon2id$")
    assert accounts.login_with_password(ctx, "ann", PASSWORD, IP).user.username == "ann"


# sessions
def test_sessions_expire(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    opened = accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    hours = (opened.expires_at - accounts.get_user(ctx, "ann").last_login_at).total_seconds() / 3600  # type: ignore[operator]
    assert abs(hours - ctx.settings.session_hours) < 0.01
    set_column(ctx, sessions, "expires_at", past(seconds=1))
    assert accounts.session_principal(ctx, opened.secret) is None


@pytest.mark.parametrize("secret", ["", "x", "sq_nonsense"])
def test_unknown_sessions(ctx: ServiceContext, secret: str) -> None:
    assert accounts.session_principal(ctx, secret) is None


def test_expired_sessions_are_cleaned_up_on_the_next_login(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    old = accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    set_column(ctx, sessions, "expires_at", past(seconds=1))
    new = accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(sessions.c.id)).scalars().all() == [credentials.digest(new.secret)]
    assert accounts.session_principal(ctx, old.secret) is None


def test_logout_deletes_the_session(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    first = accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    second = accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    accounts.logout(as_user(ctx, "ann", IP), first.secret)
    assert accounts.session_principal(ctx, first.secret) is None
    assert accounts.session_principal(ctx, second.secret) is not None  # other browsers stay logged in
    accounts.logout(ctx, first.secret)  # twice: nothing happens


def test_disabling_a_user_ends_their_sessions(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "root", Role.ADMIN)
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    opened = accounts.login_with_password(ctx, "ann", PASSWORD, IP)
    accounts.disable_user(ctx, "ann")
    assert accounts.session_principal(ctx, opened.secret) is None
    accounts.enable_user(ctx, "ann")
    assert accounts.session_principal(ctx, opened.secret) is None  # ended, not paused
    with ctx.engine.connect() as conn:
        assert conn.execute(select(sessions.c.id)).first() is None


def test_parallel_guesses_get_no_more_tries_than_the_limit(ctx: ServiceContext, open_ctx: OpenCtx) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    contexts = [open_ctx() for _ in range(12)]
    start = threading.Barrier(len(contexts))
    outcomes: list[str] = []

    def guess(c: ServiceContext, n: int) -> None:
        start.wait(timeout=30)
        try:
            accounts.login_with_password(c, "ann", f"guess number {n}", f"10.0.1.{n}")
            outcomes.append("in")
        except AuthenticationError:
            outcomes.append("checked")
        except TooManyAttemptsError:
            outcomes.append("refused")
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=guess, args=(c, n)) for n, c in enumerate(contexts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == sorted(["checked"] * ctx.settings.login_max_failures
                                      + ["refused"] * (len(contexts) - ctx.settings.login_max_failures))


# changing one's own password
def test_changing_a_password_needs_the_current_one_and_is_rate_limited(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    ann = as_user(ctx, "ann", IP)
    with pytest.raises(InvalidInputError) as err:
        accounts.change_password(ann, "ann", "not it", "a brand new password")
    assert err.value.details == {"field": "current_password"}
    accounts.change_password(ann, "ann", PASSWORD, "a brand new password")
    assert accounts.login_with_password(ctx, "ann", "a brand new password", IP).user.username == "ann"
    for n in range(ctx.settings.login_max_failures):
        with pytest.raises(InvalidInputError):
            accounts.change_password(ann, "ann", f"guess {n}", "another new password")
    with pytest.raises(TooManyAttemptsError):  # even the right one, once guessing hit the limit
        accounts.change_password(ann, "ann", "a brand new password", "another new password")
    with pytest.raises(TooManyAttemptsError):  # and logins share the limit
        accounts.login_with_password(ctx, "ann", "a brand new password", IP)


def test_a_user_without_a_password_sets_one_without_a_current_one(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.EDITOR)
    accounts.change_password(ctx, "ann", None, "a brand new password")
    assert accounts.login_with_password(ctx, "ann", "a brand new password", IP).user.username == "ann"
