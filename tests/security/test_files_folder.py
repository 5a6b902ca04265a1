"""Downloading and deleting in the files folder, attacked: ``..`` (plain and ``%2e%2e``), an
absolute path, a symlink inside the folder pointing outside, a symlinked folder, a hidden
path (``.mlsql/…``) and a viewer deleting. Each is refused on the Files page and in the API,
its target intact and its marker never served; the same requests for a normal file succeed
(the control)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from tests import authkit
from tests.api.conftest import FakeExecutor
from tests.web.conftest import client_for, open_home

from softquery.domain.accounts import Role
from softquery.errors import NotFoundError
from softquery.services import audit, files
from softquery.services.context import ServiceContext
from softquery.services.files import files_folder

MARKER = b"MARKER-do-not-leak"
NORMAL = b"id,price\n1,2.5\n"


@dataclass
class Folder:
    ctx: ServiceContext
    folder: Path
    targets: list[Path]  # what the attacks aim at: each must stay as it was
    editor_api: TestClient
    viewer_api: TestClient
    editor_web: TestClient
    editor_csrf: str
    viewer_web: TestClient
    viewer_csrf: str


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Folder]:
    """One home and its clients for the module (building them is most of the time)."""
    tmp_path = tmp_path_factory.mktemp("files-folder")
    ctx = open_home(tmp_path / "home", demo=False)
    folder = files_folder(ctx)
    executor = FakeExecutor()
    clients = [client_for(ctx, executor, auth=False) for _ in range(4)]
    for client in clients:
        client.__enter__()
    editor_api, viewer_api, editor_web, viewer_web = clients
    editor_api.headers.update(authkit.bearer(ctx, "ed", Role.EDITOR))
    viewer_api.headers.update(authkit.bearer(ctx, "vic", Role.VIEWER))
    editor_csrf = authkit.session(editor_web, ctx, "ed", Role.EDITOR)
    viewer_csrf = authkit.session(viewer_web, ctx, "vic", Role.VIEWER)
    outside = tmp_path / "outside"
    targets = [outside / "secret.txt", folder.parent / "escape.txt", folder / ".mlsql" / "theirs.duckdb",
               folder / "link.txt", folder / "linkdir"]
    try:
        yield Folder(ctx, folder, targets, editor_api, viewer_api, editor_web, editor_csrf, viewer_web, viewer_csrf)
    finally:
        for client in clients:
            client.__exit__(None, None, None)
        ctx.close()


@pytest.fixture
def world(shared: Folder) -> Folder:
    """The files folder laid out afresh: a normal file, the attacks' targets, each with a marker."""
    folder = shared.folder
    for entry in folder.iterdir():
        if entry.is_symlink() or entry.is_file():
            entry.unlink()
        else:
            shutil.rmtree(entry)
    outside = shared.targets[0].parent
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_bytes(MARKER)
    (folder.parent / "escape.txt").write_bytes(MARKER)  # the home, one `..` above the folder
    (folder / "link.txt").symlink_to(outside / "secret.txt")
    (folder / "linkdir").symlink_to(outside, target_is_directory=True)
    (folder / ".mlsql").mkdir()
    (folder / ".mlsql" / "theirs.duckdb").write_bytes(MARKER)
    (folder / "data").mkdir()
    (folder / "data" / "ok.csv").write_bytes(NORMAL)
    return shared


def _deletes(world: Folder) -> list[str]:
    return sorted(e.target for e in audit.list_events(world.ctx) if e.action == "file.delete")


def _intact(world: Folder) -> None:
    for target in world.targets:
        assert os.path.lexists(target), target
    assert (world.folder / "link.txt").is_symlink() and (world.folder / "linkdir").is_symlink()
    for marked in (world.targets[0], world.targets[1], world.targets[2]):
        assert marked.read_bytes() == MARKER, marked


# (what, the path as sent in a URL, the path as typed into the delete form)
ATTACKS = [
    ("dot-dot, encoded", "%2e%2e/escape.txt", "../escape.txt"),
    ("dot-dot, upper-case encoding and an encoded slash", "data%2F%2E%2E%2F%2E%2E%2Fescape.txt",
     "data/../../escape.txt"),
    ("absolute path outside", "{outside}", "{outside}"),
    ("symlink inside pointing outside", "link.txt", "link.txt"),
    ("symlinked folder", "linkdir/secret.txt", "linkdir/secret.txt"),
    ("hidden path", ".mlsql/theirs.duckdb", ".mlsql/theirs.duckdb"),
    ("hidden path behind ./", "./.mlsql/theirs.duckdb", "./.mlsql/theirs.duckdb"),
]


def _paths(world: Folder, in_url: str, in_form: str) -> tuple[str, str]:
    outside = str(world.targets[0])
    return in_url.replace("{outside}", quote(outside, safe="")), in_form.replace("{outside}", outside)


@pytest.mark.parametrize(("what", "in_url", "in_form"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_an_attack_is_refused_and_its_target_intact(world: Folder, what: str, in_url: str, in_form: str) -> None:
    in_url, in_form = _paths(world, in_url, in_form)
    deletes = _deletes(world)
    answers = [
        world.editor_api.get(f"/api/v1/files/{in_url}"),
        world.editor_web.get(f"/files/download/{in_url}"),
        world.viewer_web.get(f"/files/download/{in_url}"),
        world.editor_api.delete(f"/api/v1/files/{in_url}"),
        world.editor_web.post("/files/delete", data={"csrf_token": world.editor_csrf, "path": in_form}),
    ]
    for answer in answers:
        assert answer.status_code in (404, 422), (what, answer.request.url, answer.status_code)
        assert MARKER not in answer.content, (what, answer.request.url)
        assert "attachment" not in answer.headers.get("content-disposition", "")
    assert "data-testid=\"delete-error\"" in answers[-1].text  # the page says why, nothing was deleted
    _intact(world)
    assert (world.folder / "data" / "ok.csv").read_bytes() == NORMAL
    assert _deletes(world) == deletes


def test_the_same_requests_for_a_normal_file_succeed(world: Folder) -> None:
    """The control: download on the page and in the API, then delete (the empty folder goes too)."""
    for answer in (world.viewer_api.get("/api/v1/files/data/ok.csv"), world.viewer_web.get("/files/download/data/ok.csv"),
                   world.editor_api.get("/api/v1/files/data%2Fok.csv")):
        assert answer.status_code == 200, answer.text
        assert answer.content == NORMAL
        assert answer.headers["content-disposition"] == "attachment; filename=\"ok.csv\"; filename*=UTF-8''ok.csv"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-type"].startswith("text/csv")
    listed = world.viewer_api.get("/api/v1/files").json()
    assert [f["path"] for f in listed] == ["data/ok.csv"]  # no hidden file, no symlink
    assert listed[0]["size"] == len(NORMAL)
    sent = world.editor_web.post("/files/delete", data={"csrf_token": world.editor_csrf, "path": "data/ok.csv"})
    assert sent.status_code == 303 and sent.headers["location"] == "/files?deleted=data/ok.csv"
    assert "Deleted <code>data/ok.csv</code>." in world.editor_web.get(sent.headers["location"]).text
    assert not (world.folder / "data").exists()  # the folder it left empty is gone
    (world.folder / "data").mkdir()
    (world.folder / "data" / "again.csv").write_bytes(NORMAL)
    assert world.editor_api.delete("/api/v1/files/data/again.csv").status_code == 204
    assert not (world.folder / "data").exists()
    assert world.folder.is_dir()  # never the files folder itself
    assert _deletes(world) == ["data/again.csv", "data/ok.csv"]
    _intact(world)


def test_a_viewer_may_download_but_not_delete(world: Folder) -> None:
    page = world.viewer_web.get("/files").text
    assert 'data-testid="file-download"' in page and 'data-testid="file-delete"' not in page
    assert 'data-testid="file-delete"' in world.editor_web.get("/files").text
    refused = [world.viewer_api.delete("/api/v1/files/data/ok.csv"),
               world.viewer_web.post("/files/delete", data={"csrf_token": world.viewer_csrf, "path": "data/ok.csv"})]
    assert [r.status_code for r in refused] == [403, 403]
    assert (world.folder / "data" / "ok.csv").read_bytes() == NORMAL
    # and an editor's delete without the CSRF field is refused too
    assert world.editor_web.post("/files/delete", data={"path": "data/ok.csv"}).status_code == 403
    assert (world.folder / "data" / "ok.csv").read_bytes() == NORMAL


@pytest.mark.parametrize("name", ["page.html", "image.svg", "code.js", "noext"])
def test_a_download_is_never_rendered(world: Folder, name: str) -> None:
    (world.folder / name).write_bytes(b"<script>alert(1)</script>")
    answer = world.viewer_web.get(f"/files/download/{name}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_strange_file_name_is_made_safe_for_the_header(world: Folder) -> None:
    name = 'we"ird;\u00e9t\u00e9 name.csv'
    (world.folder / name).write_bytes(NORMAL)
    answer = world.viewer_api.get("/api/v1/files/" + quote(name))
    assert answer.status_code == 200 and answer.content == NORMAL
    assert answer.headers["content-disposition"] == (
        "attachment; filename=\"we_ird_t_name.csv\"; filename*=UTF-8''we%22ird%3B%C3%A9t%C3%A9%20name.csv")


@pytest.mark.parametrize("in_url", ["a" * 5000, "a/" * 3000 + "b", "%00", "data", "data/", "%2e", ".", "nothing.csv",
                                    "data/ok.csv/more", "%5C..%5Cescape.txt"])
def test_odd_paths_are_a_4xx_never_a_5xx(world: Folder, in_url: str) -> None:
    if in_url == ".":  # a client sends it as the folder's own address (the list); the form sends it as is
        sent = world.editor_web.post("/files/delete", data={"csrf_token": world.editor_csrf, "path": "."})
        assert sent.status_code == 404 and world.folder.is_dir()
        return
    for answer in (world.viewer_api.get(f"/api/v1/files/{in_url}"), world.editor_api.delete(f"/api/v1/files/{in_url}"),
                   world.editor_web.get(f"/files/download/{in_url}"),
                   world.editor_web.post("/files/delete", data={"csrf_token": world.editor_csrf, "path": in_url})):
        assert 400 <= answer.status_code < 500, (in_url[:40], answer.request.method, answer.status_code)
    assert (world.folder / "data" / "ok.csv").read_bytes() == NORMAL
    _intact(world)


@pytest.mark.parametrize("path", ["link.txt", "linkdir/secret.txt"])
def test_a_symlink_swapped_in_after_the_check_is_not_followed(world: Folder, path: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening and deleting go part by part with O_NOFOLLOW: even when the path check has passed
    (a folder or file replaced by a symlink between check and use), nothing outside is read or deleted."""
    monkeypatch.setattr(files, "resolve_file", lambda _ctx, p, **_kw: world.folder / p)  # the check, passed
    with pytest.raises(NotFoundError):
        files.open_for_reading(world.ctx, path)
    with pytest.raises(NotFoundError):
        files.delete_file(world.ctx, path)
    _intact(world)


def test_a_named_pipe_is_not_a_file_and_does_not_hang(world: Folder) -> None:
    os.mkfifo(world.folder / "pipe")
    for answer in (world.viewer_api.get("/api/v1/files/pipe"), world.editor_api.delete("/api/v1/files/pipe")):
        assert answer.status_code == 404, answer.text
    assert (world.folder / "pipe").exists()
