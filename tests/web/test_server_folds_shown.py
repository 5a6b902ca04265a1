"""The server's SOFTQUERY_CV_FOLDS as the pages show it: the editor's folds placeholder is the
server's default (not a fixed 5), and with folds off the version page's note names the setting,
not the CLI flag."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from tests.web.conftest import FakeExecutor, client_for, train_now
from tests.web.html import element

from softquery.config import Settings
from softquery.services.context import ServiceContext, open_context
from softquery.services.demo import create_demo
from softquery.services.home import init_home


def _placeholder(html: str) -> str:
    match = re.search(r'<input id="cv_folds"[^>]*placeholder="([^"]*)"', html)
    assert match is not None
    return match.group(1)


@contextlib.contextmanager
def _demo(tmp_path: Path, folds: int) -> Iterator[ServiceContext]:
    """A home with the demo, on a server whose SOFTQUERY_CV_FOLDS is ``folds``."""
    settings = Settings(home=tmp_path / "home", cv_folds=folds)
    init_home(settings)
    ctx = open_context(settings)
    try:
        create_demo(ctx)
        yield ctx
    finally:
        ctx.close()


def test_the_folds_placeholder_is_the_servers_default(tmp_path: Path) -> None:
    with _demo(tmp_path, folds=3) as ctx, client_for(ctx, FakeExecutor()) as client:
        assert _placeholder(client.get("/new").text) == "3"
        assert _placeholder(client.get("/models/house_quality/edit").text) == "3"


def test_with_folds_off_the_page_says_so_in_plain_words(tmp_path: Path) -> None:
    with _demo(tmp_path, folds=0) as ctx:
        train_now(ctx, "house_quality")
        with client_for(ctx, FakeExecutor()) as client:
            assert _placeholder(client.get("/new").text) == "off"
            notes = element(client.get("/models/house_quality/versions/1").text, "cv-notes")
    assert "Cross-validation is off on this server" in notes
    assert "set the model&#39;s cross-validation folds to cross-validate it" in notes
    assert "--cv-folds" not in notes
