"""Where people reach the server: its URL and the login links printed for them."""

from __future__ import annotations

from softquery.config import Settings
from softquery.services.accounts import login_url
from softquery.services.server_address import running_url


def server_url(host: str, port: int) -> str:
    """``http://HOST:PORT`` (IPv6 addresses in brackets)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def base_url(settings: Settings, host: str | None = None, port: int | None = None) -> str:
    """Where people reach the server: SOFTQUERY_PUBLIC_URL, else http://HOST:PORT; without
    them, the address the home's running server took, else the configured one."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if host is None and port is None and (running := running_url(settings.home)) is not None:
        return running
    return server_url(host or settings.host, settings.port if port is None else port)


def login_link(settings: Settings, secret: str, host: str | None = None, port: int | None = None) -> str:
    return login_url(base_url(settings, host, port), secret)


def not_running_note(settings: Settings) -> str | None:
    """What to say under a printed login link when no ``softquery serve`` runs for this home
    (the link would not open yet); None when one runs."""
    if running_url(settings.home) is not None:
        return None
    return (f"No softquery server is running for this home ({settings.home}): the link works once "
            f"`softquery serve` runs at {base_url(settings)}.")
