"""Request bodies have a limit (SOFTQUERY_MAX_BODY_BYTES), enforced before they are read.

The attack: a 150 MB ``description`` in ``POST /api/v1/models`` was read whole, stored, and
sent to every viewer of the model list. These tests offer a 150 MB body that the app has to
pull chunk by chunk (it is never built in memory here) and count how much of it was pulled;
and they send a body over a socket to a real uvicorn server.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from tests import authkit
from tests.integration.harness import wait_for

from softquery.errors import NotFoundError
from softquery.server import create_app
from softquery.services.context import ServiceContext

MB = 1024 * 1024
CHUNK = 64 * 1024
LIMIT = MB  # the default of SOFTQUERY_MAX_BODY_BYTES
HUGE = 150 * MB
MODEL = {"name": "big", "source": "demo", "template": "linear_regression",
         "train_sql": "select id, price, quality from houses where quality is not null",
         "predict_sql": "select id, price from houses where quality is null"}


def json_model(description_bytes: int) -> Iterator[bytes]:
    """A JSON model with a description of ``description_bytes``, made one chunk at a time."""
    yield json.dumps(MODEL)[:-1].encode() + b', "description": "'
    for _ in range(description_bytes // CHUNK):
        yield b"x" * CHUNK
    yield b'"}'


def form_model(description_bytes: int) -> Iterator[bytes]:
    yield b"name=big&source=demo&template=linear_regression&description="
    for _ in range(description_bytes // CHUNK):
        yield b"x" * CHUNK


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    pulled: int  # body bytes the app asked for

    def json(self) -> Any:
        return json.loads(self.body)


def post(app: FastAPI, path: str, chunks: Iterator[bytes], headers: dict[str, str]) -> Answer:
    """POST ``chunks`` to the ASGI ``app`` as a streamed body: one ``http.request`` per chunk,
    pulled only when the app asks for it."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80), "state": {}}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body, pulled)


def assert_not_created(ctx: ServiceContext) -> None:
    with pytest.raises(NotFoundError):
        ctx.models.get("big")


@pytest.fixture
def app(ctx: ServiceContext) -> FastAPI:
    return create_app(ctx, None)


@pytest.fixture
def auth(ctx: ServiceContext) -> dict[str, str]:
    return authkit.bearer(ctx)


def assert_413_envelope(answer: Answer) -> dict[str, Any]:
    assert answer.status == 413, answer.body[:500]
    error = answer.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "larger than 1,048,576 bytes (SOFTQUERY_MAX_BODY_BYTES)" in error["message"]
    assert answer.headers["connection"] == "close"
    return dict(error)


def test_a_content_length_over_the_limit_is_refused_before_one_byte_is_read(
        app: FastAPI, auth: dict[str, str], ctx: ServiceContext) -> None:
    answer = post(app, "/api/v1/models", json_model(HUGE), {
        **auth, "content-type": "application/json", "content-length": str(HUGE + 200)})
    assert assert_413_envelope(answer)["details"]["bytes"] == HUGE + 200
    assert answer.pulled == 0
    assert_not_created(ctx)


def test_a_chunked_body_is_cut_off_at_the_limit(app: FastAPI, auth: dict[str, str], ctx: ServiceContext) -> None:
    answer = post(app, "/api/v1/models", json_model(HUGE), {**auth, "content-type": "application/json"})
    assert_413_envelope(answer)
    assert LIMIT < answer.pulled <= LIMIT + 2 * CHUNK  # 1 MB and a chunk of the 150 MB, not more
    assert_not_created(ctx)


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
def test_a_web_form_over_the_limit_gets_the_error_page(app: FastAPI, auth: dict[str, str], ctx: ServiceContext,
                                                       with_length: bool) -> None:
    headers = {**auth, "content-type": "application/x-www-form-urlencoded"}
    if with_length:
        headers["content-length"] = str(HUGE)
    answer = post(app, "/new", form_model(HUGE), headers)
    assert answer.status == 413
    assert answer.headers["content-type"].startswith("text/html")
    assert b"larger than 1,048,576 bytes" in answer.body and b"Too large" in answer.body
    assert answer.pulled <= LIMIT + 2 * CHUNK
    assert_not_created(ctx)


def test_a_streamed_body_under_the_limit_still_arrives_whole(app: FastAPI, auth: dict[str, str],
                                                             ctx: ServiceContext) -> None:
    code = "# " + "a long comment " * 12_000 + "\nclass Model:\n    def train(self, X, y):\n        pass\n" \
           "    def predict(self, X):\n        return [0] * len(X)\n"
    model = {**{k: v for k, v in MODEL.items() if k != "template"}, "code": code, "description": "d" * 9_000,
             "train_sql": MODEL["train_sql"] + " /* " + "a long comment " * 6_000 + "*/"}
    body = json.dumps(model).encode()
    assert 250_000 < len(body) < LIMIT
    chunks = iter([body[i:i + CHUNK] for i in range(0, len(body), CHUNK)])
    answer = post(app, "/api/v1/models", chunks, {**auth, "content-type": "application/json"})
    assert answer.status == 201, answer.body[:500]
    assert ctx.models.get("big").code == code


@contextmanager
def real_server(app: FastAPI) -> Iterator[int]:
    """``app`` served by uvicorn (its default HTTP implementation) on a free local port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 20, "uvicorn to start")
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def exchange(port: int, head: str, body_parts: Iterator[bytes]) -> bytes:
    """Send a request head and body parts, then read the answer until the server closes.

    The server answers as soon as the limit is passed and closes without reading the rest, so
    the client stops sending once the answer is there (or once the server has closed: a reset
    while sending), and a reset after the answer arrived ends the reading."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        try:
            for part in body_parts:
                if select.select([conn], [], [], 0)[0]:
                    break  # the answer (or the close) is already here: send no more
                conn.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while the rest was on its way
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # what arrived before the reset is the answer
    return answer


def test_a_real_server_refuses_both_kinds_of_body(app: FastAPI, auth: dict[str, str], ctx: ServiceContext) -> None:
    head = (f"POST /api/v1/models HTTP/1.1\nHost: localhost\nAuthorization: {auth['Authorization']}\n"
            "Content-Type: application/json\n")
    with real_server(app) as port:
        # Content-Length of 150 MB: answered without any of the body being sent
        answer = exchange(port, head + f"Content-Length: {HUGE}\n", iter([]))
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:300]
        assert b'"code":"payload_too_large"' in answer
        # chunked: the answer comes as soon as the limit is passed (the client sends no more: what it sent
        # is all read, so closing the connection resets nothing)
        chunks = json_model(HUGE)
        parts = (b"%x\r\n%s\r\n" % (len(c), c) for c in (next(chunks) for _ in range(LIMIT // CHUNK + 1)))
        answer = exchange(port, head + "Transfer-Encoding: chunked\n", parts)
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:300]
        assert b"SOFTQUERY_MAX_BODY_BYTES" in answer
    assert_not_created(ctx)
