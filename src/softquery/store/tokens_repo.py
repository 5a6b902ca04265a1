"""Repository of API tokens (only their SHA-256 is stored)."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import RowMapping

from softquery.clock import as_utc, utcnow
from softquery.domain.accounts import ApiToken, TokenScope, User
from softquery.errors import NotFoundError
from softquery.store.database import write_tx
from softquery.store.tables import api_tokens, users
from softquery.store.users_repo import _user

_SELECT = select(api_tokens, users.c.username.label("owner_name")).select_from(
    api_tokens.join(users, api_tokens.c.user_id == users.c.id))


def _token(row: RowMapping) -> ApiToken:
    return ApiToken(id=row["id"], user_id=row["user_id"], username=row["owner_name"], name=row["name"],
                    prefix=row["prefix"], scope=TokenScope(row["scope"]),
                    models=list(row["models"]) if row["models"] is not None else None,
                    created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
                    expires_at=as_utc(row["expires_at"]),  # type: ignore[arg-type]
                    revoked_at=as_utc(row["revoked_at"]), last_used_at=as_utc(row["last_used_at"]),
                    parent_id=row["parent_id"])


class TokenRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, user_id: int, name: str, prefix: str, token_hash: str, scope: TokenScope,
            models: builtins.list[str] | None, expires_at: datetime, parent_id: int | None = None) -> ApiToken:
        with write_tx(self.engine) as conn:
            token_id = conn.execute(insert(api_tokens).values(
                user_id=user_id, name=name, prefix=prefix, token_hash=token_hash, scope=scope.value,
                models=models, created_at=utcnow(), expires_at=expires_at,
                parent_id=parent_id)).inserted_primary_key[0]
        return self.get(int(token_id))

    def get(self, token_id: int) -> ApiToken:
        with self.engine.connect() as conn:
            row = conn.execute(_SELECT.where(api_tokens.c.id == token_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"There is no API token with id {token_id}. See `softquery token list`.",
                                details={"token": token_id})
        return _token(row)

    def find(self, token_hash: str) -> tuple[ApiToken, User] | None:
        """The token with this hash and its user (one query: this is on every API request)."""
        query = select(api_tokens, users.c.username.label("owner_name"), users.c.role.label("u_role"),
                       users.c.created_at.label("u_created_at"), users.c.password_hash.label("u_password_hash"),
                       users.c.disabled_at.label("u_disabled_at"), users.c.last_login_at.label("u_last_login_at")
                       ).select_from(api_tokens.join(users, api_tokens.c.user_id == users.c.id)
                                     ).where(api_tokens.c.token_hash == token_hash)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        user = _user({"id": row["user_id"], "username": row["owner_name"], "role": row["u_role"],
                      "created_at": row["u_created_at"], "password_hash": row["u_password_hash"],
                      "disabled_at": row["u_disabled_at"], "last_login_at": row["u_last_login_at"]})
        return _token(row), user

    def list(self, user_id: int | None = None) -> builtins.list[ApiToken]:
        query = _SELECT.order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc())
        if user_id is not None:
            query = query.where(api_tokens.c.user_id == user_id)
        with self.engine.connect() as conn:
            return [_token(r) for r in conn.execute(query).mappings().all()]

    def revoke(self, token_id: int, at: datetime) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == token_id,
                                                  api_tokens.c.revoked_at.is_(None)).values(revoked_at=at))

    def touch(self, token_id: int, at: datetime) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at))
