"""The SQL console page and the files folder page, in-process (the browser tests are in tests/e2e)."""

from __future__ import annotations

import os
import stat

from fastapi.testclient import TestClient
from tests import authkit
from tests.web.conftest import client_for

from softquery.domain.accounts import Role
from softquery.services import audit
from softquery.services.context import ServiceContext
from softquery.services.files import files_folder


def _session_client(ctx: ServiceContext, executor: object, username: str, role: Role) -> tuple[TestClient, str]:
    client = client_for(ctx, executor, auth=False)
    csrf = authkit.session(client, ctx, username, role)
    return client, csrf


def test_the_console_page_offers_the_demo_and_examples(demo_client: TestClient) -> None:
    page = demo_client.get("/sql")
    assert page.status_code == 200
    text = page.text
    assert 'data-testid="nav-sql"' in text and 'data-testid="nav-files"' in text
    assert '<option value="demo" selected>' in text
    assert "select id, price, quality from houses order by price desc limit 10" in text
    assert "/static/sql-console.js" in text and "/static/vendor/codemirror/mode/sql/sql.js" in text


def test_files_page_lists_and_an_editor_uploads(demo_ctx: ServiceContext, executor: object) -> None:
    client, csrf = _session_client(demo_ctx, executor, "ed", Role.EDITOR)
    with client:
        assert 'data-testid="files-empty"' in client.get("/files").text
        sent = client.post("/files", data={"csrf_token": csrf, "name": "data/houses.csv"},
                           files={"file": ("whatever.csv", b"id,price\n1,2.5\n", "text/csv")}, follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"] == "/files?uploaded=data/houses.csv"
        assert (files_folder(demo_ctx) / "data" / "houses.csv").read_bytes() == b"id,price\n1,2.5\n"
        page = client.get("/files?uploaded=data/houses.csv").text
        assert 'data-path="data/houses.csv"' in page and 'data-testid="upload-notice"' in page
        again = client.post("/files", data={"csrf_token": csrf, "name": "data/houses.csv"},
                            files={"file": ("x.csv", b"other", "text/csv")})
        assert again.status_code == 200 and 'data-testid="upload-error"' in again.text and "exists already" in again.text
        assert (files_folder(demo_ctx) / "data" / "houses.csv").read_bytes() == b"id,price\n1,2.5\n"
    assert any(e.action == "file.upload" and e.target == "data/houses.csv" and e.actor == "ed"
               for e in audit.list_events(demo_ctx))


def test_the_upload_notice_names_a_file_with_url_characters_whole(demo_ctx: ServiceContext, executor: object) -> None:
    client, csrf = _session_client(demo_ctx, executor, "ed", Role.EDITOR)
    with client:
        sent = client.post("/files", data={"csrf_token": csrf, "name": "q&a #1.csv"},
                           files={"file": ("x.csv", b"a\n1\n", "text/csv")}, follow_redirects=False)
        assert sent.status_code == 303
        page = client.get(sent.headers["location"]).text
        notice = page.split('data-testid="upload-notice"', 1)[1].split("</code>", 1)[0]
        assert notice.endswith("<code>q&amp;a #1.csv"), notice


def test_an_upload_name_that_leaves_the_folder_is_refused(demo_ctx: ServiceContext, executor: object) -> None:
    client, csrf = _session_client(demo_ctx, executor, "ed", Role.EDITOR)
    folder = files_folder(demo_ctx)
    with client:
        for name in ("../escape.csv", "/tmp/escape.csv", "a/../../escape.csv"):
            sent = client.post("/files", data={"csrf_token": csrf, "name": name},
                               files={"file": ("e.csv", b"x", "text/csv")})
            assert sent.status_code == 200, (name, sent.status_code)
            assert 'data-testid="upload-error"' in sent.text and "leaves the files folder" in sent.text
        # the file's own name, when it leaves the folder, is refused too
        sent = client.post("/files", data={"csrf_token": csrf}, files={"file": ("../own.csv", b"x", "text/csv")})
        assert 'data-testid="upload-error"' in sent.text
    assert not (folder.parent / "escape.csv").exists() and not (folder.parent / "own.csv").exists()
    assert not list(folder.rglob("*"))


def test_an_upload_never_reaches_softquerys_hidden_files(demo_ctx: ServiceContext, executor: object) -> None:
    """An editor may not replace the rows another user's MLSQL model trains on (.mlsql/)."""
    client, csrf = _session_client(demo_ctx, executor, "ed", Role.EDITOR)
    hidden = files_folder(demo_ctx) / ".mlsql"
    hidden.mkdir()
    (hidden / "theirs.duckdb").write_bytes(b"their rows")
    with client:
        for name in (".mlsql/theirs.duckdb", "./.mlsql/new.duckdb", ".env"):
            sent = client.post("/files", data={"csrf_token": csrf, "name": name, "overwrite": "on"},
                               files={"file": ("e.duckdb", b"poison", "application/octet-stream")})
            assert 'data-testid="upload-error"' in sent.text and "part starting with" in sent.text, name
        # control: the same upload under a visible name is written
        sent = client.post("/files", data={"csrf_token": csrf, "name": "mlsql/theirs.duckdb"},
                           files={"file": ("e.duckdb", b"mine", "application/octet-stream")},
                           follow_redirects=False)
        assert sent.status_code == 303
    assert (hidden / "theirs.duckdb").read_bytes() == b"their rows"
    assert sorted(p.name for p in hidden.iterdir()) == ["theirs.duckdb"]
    assert not (files_folder(demo_ctx) / ".env").exists()


def test_viewers_see_files_but_may_not_upload(demo_ctx: ServiceContext, executor: object) -> None:
    client, csrf = _session_client(demo_ctx, executor, "vic", Role.VIEWER)
    with client:
        page = client.get("/files").text
        assert 'data-testid="upload-form"' not in page
        sent = client.post("/files", data={"csrf_token": csrf}, files={"file": ("v.csv", b"x", "text/csv")})
        assert sent.status_code == 403
    assert not list(files_folder(demo_ctx).rglob("*"))


def test_an_upload_without_the_csrf_token_is_refused(demo_ctx: ServiceContext, executor: object) -> None:
    client, _csrf = _session_client(demo_ctx, executor, "ed", Role.EDITOR)
    with client:
        sent = client.post("/files", files={"file": ("c.csv", b"x", "text/csv")})
        assert sent.status_code == 403
    assert not list(files_folder(demo_ctx).rglob("*"))


def test_folders_an_upload_creates_are_private_like_the_home(demo_ctx: ServiceContext, executor: object) -> None:
    """REVIEW_19 #14: every folder an upload creates is 0700, also those above the last one,
    whatever the umask (022 here, the usual one)."""
    client, csrf = _session_client(demo_ctx, executor, "ed", Role.EDITOR)
    old_umask = os.umask(0o022)
    try:
        with client:
            sent = client.post("/files", data={"csrf_token": csrf, "name": "sub dir/deep/plain.csv"},
                               files={"file": ("x.csv", b"a\n1\n", "text/csv")}, follow_redirects=False)
            assert sent.status_code == 303
    finally:
        os.umask(old_umask)
    folder = files_folder(demo_ctx)
    for made in (folder / "sub dir", folder / "sub dir" / "deep"):
        assert stat.S_IMODE(made.stat().st_mode) == 0o700, made
    assert stat.S_IMODE((folder / "sub dir" / "deep" / "plain.csv").stat().st_mode) == 0o600


def test_the_files_pages_load_example_reads_the_header(demo_client: TestClient) -> None:
    """Review 19: the page's own example loaded a saved CSV with its header as a data row."""
    page = demo_client.get("/files").text
    assert "<code data-testid=\"load-example\">load csv.`houses.csv` where header='true' as t;</code>" in page
