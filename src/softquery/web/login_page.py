"""The login page (also the answer to any page request without a login) and where to go after it."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

from softquery.web.templating import render


def safe_next(value: str | None) -> str:
    """``value`` when it is a path on this site (``/runs?model=x``), else ``/``.

    Refuses absolute URLs, scheme-relative ``//host``, backslashes (browsers read ``/\\host``
    as ``//host``) and control characters (browsers drop tabs and newlines from URLs).
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    if parts.path.rstrip("/") in ("/login", "/logout"):
        return "/"
    return value


def requested_path(request: Request) -> str:
    """Where the user was going: the page's own URL (htmx sends it as HX-Current-URL)."""
    current = request.headers.get("HX-Current-URL")
    if current:
        parts = urlsplit(current)
        if parts.netloc == request.url.netloc:
            return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    if request.method != "GET":
        return "/"
    return safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))


def login_location(next_url: str) -> str:
    next_url = safe_next(next_url)
    return "/login" if next_url == "/" else f"/login?next={quote(next_url, safe='/')}"


def render_login(request: Request, *, next_url: str = "/", message: str | None = None,
                 error: str | None = None, username: str = "", message_ok: bool = False,
                 status_code: int = 200) -> HTMLResponse:
    """The login form. ``message``: on top (why you are here); ``error``: by the password field."""
    return render(request, "login.html", {
        "nav": "login", "next": safe_next(next_url), "message": message, "error": error,
        "username": username, "message_ok": message_ok,
    }, status_code=status_code)


def render_link_login(request: Request, *, token: str, username: str) -> HTMLResponse:
    """A valid one-time login link's page: "Log in as <username>?" and a button that POSTs it."""
    return render(request, "login_link.html", {"nav": "login", "token": token, "link_username": username})
