"""Bearer secrets: API tokens, session cookies and one-time login links.

Each is 32 random bytes; only its SHA-256 is stored (they are long and random, so a
fast hash is enough: there is nothing to brute-force). API tokens start with
``sq_`` and a short public prefix so a token in a log or a list can be recognised.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "sq_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> tuple[str, str]:
    """``(token, prefix)``: the whole token (shown once) and its public prefix."""
    prefix = TOKEN_PREFIX + secrets.token_hex(4)
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
