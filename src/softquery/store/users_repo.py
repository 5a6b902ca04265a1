"""Repository of users, their one-time login links, web sessions and failed logins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from softquery.clock import as_utc, utcnow
from softquery.domain.accounts import Role, User
from softquery.errors import AlreadyExistsError, NotFoundError
from softquery.store.database import write_tx
from softquery.store.tables import login_failures, login_links, sessions, users


def _user(row: RowMapping | dict[str, Any]) -> User:
    return User(id=row["id"], username=row["username"], role=Role(row["role"]),
                created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
                has_password=row["password_hash"] is not None,
                disabled_at=as_utc(row["disabled_at"]), last_login_at=as_utc(row["last_login_at"]))


class UserRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    # users
    def add(self, username: str, role: Role, password_hash: str | None) -> User:
        try:
            with write_tx(self.engine) as conn:
                conn.execute(insert(users).values(username=username, role=role.value,
                                                  password_hash=password_hash, created_at=utcnow()))
        except IntegrityError as exc:
            raise AlreadyExistsError(f"A user named {username!r} already exists.",
                                     details={"user": username}) from exc
        return self.get(username)

    def get(self, username: str) -> User:
        row = self._row(users.c.username == username)
        if row is None:
            raise NotFoundError(f"There is no user named {username!r}. See `softquery user list`.",
                                details={"user": username})
        return _user(row)

    def get_by_id(self, user_id: int) -> User | None:
        row = self._row(users.c.id == user_id)
        return _user(row) if row is not None else None

    def password_hash(self, username: str) -> tuple[User, str | None] | None:
        row = self._row(users.c.username == username)
        return (_user(row), row["password_hash"]) if row is not None else None

    def list(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.username)).mappings().all()
        return [_user(r) for r in rows]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(users)).scalar_one())

    def count_active_admins(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(users).where(
                users.c.role == Role.ADMIN.value, users.c.disabled_at.is_(None))).scalar_one())

    def update_keeping_an_admin(self, user_id: int, **values: object) -> bool:
        """Apply ``values`` (which take ``user_id`` out of the active admins) only while another
        active admin remains; two admins removing each other at once cannot both succeed.
        False: refused, nothing changed."""
        with write_tx(self.engine) as conn:  # SQLite: BEGIN IMMEDIATE already serialises these
            if conn.dialect.name == "postgresql":
                conn.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
            others = conn.execute(select(func.count()).select_from(users).where(
                users.c.role == Role.ADMIN.value, users.c.disabled_at.is_(None), users.c.id != user_id)).scalar_one()
            if not others:
                return False
            conn.execute(update(users).where(users.c.id == user_id).values(**values))
        return True

    def update(self, user_id: int, **values: object) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(**values))

    def _row(self, where: object) -> RowMapping | None:
        with self.engine.connect() as conn:
            return conn.execute(select(users).where(where)).mappings().first()  # type: ignore[arg-type]

    # one-time login links
    def add_login_link(self, user_id: int, token_hash: str, expires_at: datetime) -> None:
        """Add a link for the user; their earlier unused links stop working (are deleted).

        The user's row is locked first (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
        writers), so links made at once for one user still leave only the last one."""
        with write_tx(self.engine) as conn:
            conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
            conn.execute(delete(login_links).where(login_links.c.user_id == user_id,
                                                   login_links.c.used_at.is_(None)))
            conn.execute(insert(login_links).values(user_id=user_id, token_hash=token_hash,
                                                    created_at=utcnow(), expires_at=expires_at))

    def login_link_user(self, token_hash: str, now: datetime) -> int | None:
        """The user id of an unused, unexpired link, without using it (only looks)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(login_links.c.user_id, login_links.c.expires_at).where(
                login_links.c.token_hash == token_hash, login_links.c.used_at.is_(None))).first()
        if row is None or as_utc(row.expires_at) <= now:  # type: ignore[operator]
            return None
        return int(row.user_id)

    def use_login_link(self, token_hash: str, now: datetime) -> int | None:
        """Mark an unused, unexpired link used (once, even under races); its user id or None."""
        with write_tx(self.engine) as conn:
            row = conn.execute(select(login_links).where(login_links.c.token_hash == token_hash)).mappings().first()
            if row is None or row["used_at"] is not None or as_utc(row["expires_at"]) <= now:  # type: ignore[operator]
                return None
            done = conn.execute(update(login_links).where(login_links.c.id == row["id"],
                                                          login_links.c.used_at.is_(None)).values(used_at=now))
            return int(row["user_id"]) if done.rowcount == 1 else None

    def any_login_ever(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(users.c.id).where(users.c.last_login_at.is_not(None)).limit(1)).first() is not None

    # sessions
    def add_session(self, session_id: str, user_id: int, csrf_token: str, expires_at: datetime,
                    how: str | None = None) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(insert(sessions).values(id=session_id, user_id=user_id, csrf_token=csrf_token,
                                                 created_at=utcnow(), expires_at=expires_at, how=how))

    def link_session_started(self, session_id: str) -> datetime | None:
        """When the session began, if a one-time login link opened it."""
        with self.engine.connect() as conn:
            started = conn.execute(select(sessions.c.created_at).where(
                sessions.c.id == session_id, sessions.c.how == "link")).scalar()
        return as_utc(started)

    def session(self, session_id: str) -> tuple[User, str, datetime] | None:
        """``(user, csrf_token, expires_at)`` of a session."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users, sessions.c.csrf_token, sessions.c.expires_at.label("session_expires"))
                .select_from(sessions.join(users, sessions.c.user_id == users.c.id))
                .where(sessions.c.id == session_id)).mappings().first()
        if row is None:
            return None
        return _user(row), row["csrf_token"], as_utc(row["session_expires"])  # type: ignore[return-value]

    def delete_session(self, session_id: str) -> bool:
        """True when the session existed (and is now gone)."""
        with write_tx(self.engine) as conn:
            return bool(conn.execute(delete(sessions).where(sessions.c.id == session_id)).rowcount == 1)

    def delete_sessions_of(self, user_id: int) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(delete(sessions).where(sessions.c.user_id == user_id))

    def delete_expired(self, now: datetime) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
            conn.execute(delete(login_links).where(login_links.c.expires_at <= now))

    # failed logins (rate limit)
    def add_failure(self, username: str, ip: str, at: datetime) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(insert(login_failures).values(username=username[:63], ip=ip[:64], at=at))

    def failures_since(self, since: datetime, *, username: str | None = None, ip: str | None = None) -> tuple[int, datetime | None]:
        """How many failures since ``since`` (for the username or the ip), and the oldest one."""
        where = [login_failures.c.at > since]
        if username is not None:
            where.append(login_failures.c.username == username[:63])
        if ip is not None:
            where.append(login_failures.c.ip == ip[:64])
        with self.engine.connect() as conn:
            count, oldest = conn.execute(select(func.count(), func.min(login_failures.c.at)).where(*where)).one()
        return int(count), as_utc(oldest)

    def begin_attempt(self, username: str, ip: str, now: datetime, since: datetime, *,
                      max_per_username: int, max_per_ip: int) -> datetime | None:
        """Count a password attempt as a failure before it is checked, unless the username or the
        address already has its limit of failures since ``since``: then the oldest of those
        (the attempt is refused and not counted). One attempt at a time decides, so parallel
        guesses cannot all slip past the limit. A successful login clears it (``clear_failures``)."""
        rules = ((login_failures.c.username == username[:63], max_per_username),
                 (login_failures.c.ip == ip[:64], max_per_ip))
        with write_tx(self.engine) as conn:  # SQLite: BEGIN IMMEDIATE already serialises these
            if conn.dialect.name == "postgresql":
                conn.execute(text("LOCK TABLE login_failures IN SHARE ROW EXCLUSIVE MODE"))
            for where, limit in rules:
                count, oldest = conn.execute(select(func.count(), func.min(login_failures.c.at)).where(
                    login_failures.c.at > since, where)).one()
                if count >= limit:
                    return as_utc(oldest) or now
            conn.execute(insert(login_failures).values(username=username[:63], ip=ip[:64], at=now))
        return None

    def clear_failures(self, username: str) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(delete(login_failures).where(login_failures.c.username == username[:63]))
