"""The account page's forms: a new password, and a new API token, as typed."""

from __future__ import annotations

from dataclasses import dataclass

from softquery.auth import passwords
from softquery.domain.accounts import TokenScope
from softquery.errors import InvalidInputError
from softquery.services import accounts
from softquery.services.context import ServiceContext


@dataclass
class TokenForm:
    name: str = ""
    scope: str = TokenScope.PREDICT.value
    models: tuple[str, ...] = ()
    days: str = ""


def change_password(ctx: ServiceContext, username: str, current: str, new: str, confirm: str) -> None:
    """Set ``username``'s password; the current one is needed unless the user has none yet."""
    user = accounts.get_user(ctx, username)
    if user.has_password:
        found = ctx.users.password_hash(username)
        if not current or found is None or not passwords.verify_password(found[1], current):
            raise InvalidInputError("That is not your current password. Type it again (or log out and ask "
                                    "an admin for a login link if you forgot it).",
                                    details={"field": "current_password"})
    if new != confirm:
        raise InvalidInputError("The two new passwords differ; type the same password twice.",
                                details={"field": "confirm_password"})
    try:
        accounts.set_password(ctx, username, new)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.message, details={"field": "new_password"}) from None


def token_days(form: TokenForm, default: int) -> int:
    text = form.days.strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidInputError(f"Days must be a whole number (1 to 3660); got {text!r}.",
                                details={"field": "days"}) from None
