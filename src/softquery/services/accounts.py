"""People: users and roles, password and one-time-link login, web sessions.

No default password exists anywhere: ``softquery init`` creates the first admin
without one, ``softquery serve`` prints a one-time login link for them until someone
has logged in; the admin sets a password after following it. Failed password logins are rate-limited per username and per address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from softquery.auth import credentials, passwords
from softquery.clock import utcnow
from softquery.domain.accounts import Principal, Role, User, Via
from softquery.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    TooManyAttemptsError,
)
from softquery.services import audit
from softquery.services.context import ServiceContext

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$")
FAILURE_WINDOW = timedelta(minutes=15)
RESET_WINDOW = timedelta(minutes=15)  # after a link login, a new password needs no old one
MAX_FAILURES_PER_IP = 30
LINK_PATH = "/login"
LINK_REFUSED = ("This login link was already used or has expired (or a newer link for the same user replaced "
                "it). Ask an admin for a new one (`softquery user link NAME`), or log in with your password.")


@dataclass(frozen=True)
class NewSession:
    secret: str  # the cookie value (only its hash is stored)
    csrf_token: str
    expires_at: datetime
    user: User


def check_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME.fullmatch(username):  # "$" alone lets "ann\n" in
        raise InvalidInputError(
            f"{username!r} is not a valid username: use 1-63 letters, digits and _ . @ - "
            "(starting with a letter or digit).", details={"field": "username"})
    return username


def parse_role(value: str) -> Role:
    try:
        return Role(value.lower())
    except ValueError:
        raise InvalidInputError(f"{value!r} is not a role; choose admin, editor or viewer.",
                                details={"field": "role"}) from None


# users
def add_user(ctx: ServiceContext, username: str, role: Role, password: str | None = None) -> User:
    hashed = passwords.hash_password(password) if password is not None else None
    user = ctx.users.add(check_username(username), role, hashed)
    audit.record(ctx, "user.add", "user", user.username, {"role": role.value})
    return user


def list_users(ctx: ServiceContext) -> list[User]:
    return ctx.users.list()


def get_user(ctx: ServiceContext, username: str) -> User:
    return ctx.users.get(username)


def set_role(ctx: ServiceContext, username: str, role: Role) -> User:
    user = ctx.users.get(username)
    if user.role is Role.ADMIN and role is not Role.ADMIN and user.active:
        _keep_an_admin(ctx, user, role=role.value)
    else:
        ctx.users.update(user.id, role=role.value)
    audit.record(ctx, "user.set_role", "user", username, {"from": user.role.value, "to": role.value})
    return ctx.users.get(username)


def disable_user(ctx: ServiceContext, username: str) -> User:
    """Disabled users cannot log in; their sessions end and their tokens stop working."""
    user = ctx.users.get(username)
    if not user.active:
        ctx.users.delete_sessions_of(user.id)
        return user  # already disabled: keep when that happened
    if user.role is Role.ADMIN:
        _keep_an_admin(ctx, user, disabled_at=utcnow())
    else:
        ctx.users.update(user.id, disabled_at=utcnow())
    ctx.users.delete_sessions_of(user.id)
    audit.record(ctx, "user.disable", "user", username)
    return ctx.users.get(username)


def enable_user(ctx: ServiceContext, username: str) -> User:
    user = ctx.users.get(username)
    if user.active:
        return user
    ctx.users.update(user.id, disabled_at=None)
    audit.record(ctx, "user.enable", "user", username)
    return ctx.users.get(username)


def set_password(ctx: ServiceContext, username: str, password: str) -> None:
    """Set the password and end every web session of the user (a browser that changed it
    gets a fresh one: ``open_session``)."""
    user = ctx.users.get(username)
    ctx.users.update(user.id, password_hash=passwords.hash_password(password))
    ctx.users.delete_sessions_of(user.id)
    audit.record(ctx, "user.set_password", "user", username)


def open_session(ctx: ServiceContext, username: str, how: str) -> NewSession:
    """A new web session for ``username`` (after a password change ended the old ones)."""
    return _open_session(ctx, ctx.users.get(username), how, ctx.client_ip)


def _keep_an_admin(ctx: ServiceContext, user: User, **change: object) -> None:
    """Make ``change`` to an active admin only while another active admin remains (atomic)."""
    if not ctx.users.update_keeping_an_admin(user.id, **change):
        raise ConflictError(f"{user.username!r} is the only active admin; make another user admin first.",
                            details={"user": user.username})


# one-time login links
def new_login_link(ctx: ServiceContext, username: str) -> str:
    """A one-time login link's secret for ``username`` (valid ``login_link_hours``, once).

    The user's earlier unused links stop working: only the newest link printed or shown works."""
    user = ctx.users.get(username)
    if not user.active:
        raise ConflictError(f"{username!r} is disabled; enable the user first.", details={"user": username})
    secret = credentials.new_secret()
    expires = utcnow() + timedelta(hours=ctx.settings.login_link_hours)
    ctx.users.add_login_link(user.id, credentials.digest(secret), expires)
    audit.record(ctx, "user.login_link", "user", username)
    return secret


def login_url(base_url: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}{LINK_PATH}?token={secret}"


def first_admin(ctx: ServiceContext, username: str = "admin") -> User | None:
    """When there are no users yet: create the first admin (no password, no link yet: the
    server makes the one login link people see when it starts, ``first_start_link``)."""
    if ctx.users.count():
        return None
    return add_user(ctx, username, Role.ADMIN)


def first_start_link(ctx: ServiceContext) -> str | None:
    """Until anyone has logged in, each server start prints a fresh one-time link for an admin
    (the only link printed on a first start: it replaces any earlier unused one)."""
    if ctx.users.any_login_ever():
        return None
    admins = [u for u in ctx.users.list() if u.role is Role.ADMIN and u.active]
    if not admins:
        created = first_admin(ctx)
        if created is None:
            return None
        admins = [created]
    return new_login_link(ctx, admins[0].username)


def login_link_user(ctx: ServiceContext, secret: str) -> User:
    """Whose valid link this is, without using it: opening a link (a GET, which link previews
    and mail scanners make too) only asks; ``login_with_link`` uses it."""
    user_id = ctx.users.login_link_user(credentials.digest(secret), utcnow())
    user = ctx.users.get_by_id(user_id) if user_id is not None else None
    if user is None or not user.active:
        raise AuthenticationError(LINK_REFUSED)
    return user


def login_with_link(ctx: ServiceContext, secret: str) -> NewSession:
    """Use a one-time link (once) and open a session; the session may set a new password
    without the old one for ``RESET_WINDOW``."""
    user_id = ctx.users.use_login_link(credentials.digest(secret), utcnow())
    user = ctx.users.get_by_id(user_id) if user_id is not None else None
    if user is None or not user.active:
        raise AuthenticationError(LINK_REFUSED)
    return _open_session(ctx, user, "link")


# password login (rate-limited)
def _count_attempt(ctx: ServiceContext, username: str, ip: str) -> None:
    """Count a password attempt before checking it (so parallel guesses cannot pass the limit)."""
    now = utcnow()
    blocked_since = ctx.users.begin_attempt(username, ip, now, now - FAILURE_WINDOW,
                                            max_per_username=ctx.settings.login_max_failures,
                                            max_per_ip=MAX_FAILURES_PER_IP)
    if blocked_since is not None:
        wait = max(1, int((blocked_since + FAILURE_WINDOW - now).total_seconds()) + 1)
        raise TooManyAttemptsError(
            f"Too many failed logins; try again in {-(-wait // 60)} minute(s), "  # rounded up
            "or ask an admin for a login link.", details={"retry_after_seconds": wait})


def change_password(ctx: ServiceContext, username: str, current: str | None, new: str) -> None:
    """Set one's own password: the current one is needed once a password exists, and wrong
    guesses count against the same rate limit as logins."""
    user = ctx.users.get(username)
    resetting = ctx.actor.password_reset and ctx.actor.username == username
    if user.has_password and not resetting:
        _count_attempt(ctx, username, ctx.client_ip or "unknown")
        found = ctx.users.password_hash(username)
        if not current or found is None or not passwords.verify_password(found[1], current):
            raise InvalidInputError("That is not your current password. Type it again (or log out and ask "
                                    "an admin for a login link if you forgot it).",
                                    details={"field": "current_password"})
        ctx.users.clear_failures(username)
    set_password(ctx, username, new)


def login_with_password(ctx: ServiceContext, username: str, password: str, ip: str) -> NewSession:
    _count_attempt(ctx, username, ip)
    found = ctx.users.password_hash(username)
    user, stored = found if found is not None else (None, None)
    if not passwords.verify_password(stored, password) or user is None or not user.active:
        raise AuthenticationError("Wrong username or password.")  # the attempt stays counted
    ctx.users.clear_failures(username)
    if stored and passwords.needs_rehash(stored):
        ctx.users.update(user.id, password_hash=passwords.hash_password(password))
    return _open_session(ctx, user, "password", ip)


def _open_session(ctx: ServiceContext, user: User, how: str, ip: str | None = None) -> NewSession:
    now = utcnow()
    secret, csrf = credentials.new_secret(), credentials.new_secret()
    expires = now + timedelta(hours=ctx.settings.session_hours)
    ctx.users.delete_expired(now)
    ctx.users.add_session(credentials.digest(secret), user.id, csrf, expires, how)
    ctx.users.update(user.id, last_login_at=now)
    principal = Principal(username=user.username, role=user.role, via=Via.SESSION, user_id=user.id)
    audit.record(ctx.acting_as(principal, ip or ctx.client_ip), "session.login", "user", user.username,
                 {"with": how})
    return NewSession(secret, csrf, expires, user)


def session_principal(ctx: ServiceContext, secret: str) -> Principal | None:
    found = ctx.users.session(credentials.digest(secret))
    if found is None:
        return None
    user, csrf, expires = found
    now = utcnow()
    if expires <= now or not user.active:
        return None
    started = ctx.users.link_session_started(credentials.digest(secret))
    return Principal(username=user.username, role=user.role, via=Via.SESSION, user_id=user.id,
                     csrf_token=csrf, password_reset=started is not None and now - started < RESET_WINDOW)


def logout(ctx: ServiceContext, secret: str) -> None:
    """End this session. The log names the session's user (a logout route may be public, so
    ``ctx`` need not act for anyone); an unknown or already ended session logs nothing."""
    session_id = credentials.digest(secret)
    found = ctx.users.session(session_id)
    if found is None or not ctx.users.delete_session(session_id):
        return
    user = found[0]
    principal = Principal(username=user.username, role=user.role, via=Via.SESSION, user_id=user.id)
    audit.record(ctx.acting_as(principal, ctx.client_ip), "session.logout", "user", user.username)
