"""Access control: the ONE dependency every /api/v1 route (except health) goes through.

Issue 6 (accounts, tokens, permissions) fills ``require_access``: it will read the
session cookie or ``Authorization: Bearer`` token, answer 401/403 in the error
envelope, and record who is asking. Until then it lets every request through.
"""

from __future__ import annotations


async def require_access() -> None:
    """No-op until issue 6: every protected router is included with this dependency.

    ``async`` so that it costs no threadpool hop per request (online predictions are
    measured in milliseconds); keep it async when it reads sessions and tokens.
    """
    return None
