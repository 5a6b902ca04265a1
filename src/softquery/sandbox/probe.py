"""One line on how model code runs on this machine: start one isolated child and read
the warnings it printed while entering its isolation (``namespaces.enter``)."""

from __future__ import annotations

from softquery.sandbox.limits import Isolation, Limits
from softquery.sandbox.parent import Sandbox


def _probe(conn: object, payload: object) -> None:
    """Target of ``probe``: the warnings ``enter`` printed are all it needs to report."""


def probe(isolation: Isolation) -> str:
    """Start one isolated child and say, in a line, how model code runs here."""
    sandbox = Sandbox.start(_probe, None, limits=Limits(wall_seconds=30.0, isolation=isolation), name="probe")
    warnings: list[str] = []

    def note(stream: str, text: str) -> None:
        if stream == "stderr":
            warnings.append(text)

    try:
        while sandbox.next_reply(note) is not None:
            pass  # the probe sends nothing: anything else is ignored
        info = sandbox.wait()
        summary = sandbox.enforcement.get("isolation", "none")
    finally:
        sandbox.close()
    assert info is not None
    if info.status != "ok":
        return f"WARNING: an isolated job child could not start ({info.message}) " + "".join(warnings).strip()
    text = "".join(warnings).strip()
    return f"{summary}; {text}" if text else summary
