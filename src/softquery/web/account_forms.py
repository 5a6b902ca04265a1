"""The account page's forms: a new password, and a new API token, as typed."""

from __future__ import annotations

from dataclasses import dataclass

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
    if new != confirm:
        raise InvalidInputError("The two new passwords differ; type the same password twice.",
                                details={"field": "confirm_password"})
    try:
        accounts.change_password(ctx, username, current, new)
    except InvalidInputError as exc:
        if exc.details.get("field") == "current_password":
            raise
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
