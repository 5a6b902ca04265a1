"""Process behaviour against a real `softquery serve`: hot swap under load, a killed
serving worker, a tampered artifact; LRU unloading in-process."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests import authkit
from tests.predictions_equal import assert_predictions_equal
from tests.serving.conftest import Server, lin_row, start_server, stop_server, train_now, wait_for

from softquery.config import Settings
from softquery.server import create_app
from softquery.services.context import open_context
from softquery.services.models import ModelSpec, create_model
from softquery.services.versions import activate_version

URL = "/api/v1/models/lin/predict"
SLOW_CODE = '''
import time
from sklearn.linear_model import LinearRegression


class Model:
    task = "regression"

    def __init__(self):
        self.m = LinearRegression()

    def train(self, X, y):
        self.m.fit(X.fillna(0), y)

    def predict(self, X):
        time.sleep(0.15)
        return self.m.predict(X.fillna(0))
'''


class Load:
    """A few threads posting one-row requests in a loop; every answer is recorded in order."""

    def __init__(self, server: Server, url: str, threads: int = 3):
        self.url, self.server = url, server
        self.results: list[list[tuple[float, float, int, Any]]] = [[] for _ in range(threads)]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self, index: int) -> None:
        with self.server.client() as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    response = client.post(self.url, json={"rows": [lin_row(index)]})
                    answer: Any = response.json()
                    status = response.status_code
                except httpx.HTTPError as exc:
                    status, answer = -1, repr(exc)
                self.results[index].append((started, time.monotonic(), status, answer))

    def count(self) -> int:
        return sum(len(r) for r in self.results)

    def all(self) -> list[tuple[float, float, int, Any]]:
        return [item for thread in self.results for item in thread]


def test_hot_swap_under_load(server: Server) -> None:
    with server.client() as client:
        assert client.post("/api/v1/models/lin/versions/1/activate").status_code == 200
        assert client.post(URL, json={"rows": [lin_row()]}).json()["version"] == 1
        with Load(server, URL) as load:
            wait_for(lambda: load.count() >= 60, 30, "requests before the swap")
            assert client.post("/api/v1/models/lin/versions/2/activate").status_code == 200
            swapped_at = time.monotonic()
            before = load.count()
            wait_for(lambda: load.count() >= before + 60, 30, "requests after the swap")
        # another process activates (this test process, straight in the metadata DB): seen within the
        # refresh interval (0.5 s), without restarting anything
        ctx = open_context(Settings(home=server.home))
        try:
            activate_version(ctx, "lin", 1)
        finally:
            ctx.close()
        changed = time.monotonic()
        wait_for(lambda: client.post(URL, json={"rows": [lin_row()]}).json()["version"] == 1, 5,
                 "the other process's activation")
        assert time.monotonic() - changed < 1.5
    answers = load.all()
    assert [a for a in answers if a[2] != 200] == []  # zero failed requests
    for thread in load.results:
        versions = [a[3]["version"] for a in thread]
        assert versions == sorted(versions), "a thread saw the version go backwards"
        assert all(a[3]["version"] == 2 for a in thread if a[0] > swapped_at), "a request after the swap got v1"
    assert {a[3]["version"] for a in answers} == {1, 2}
    assert all(a[3]["model"] == "lin" for a in answers)


@pytest.fixture
def slow_server(home: Path) -> Iterator[Server]:
    ctx = open_context(Settings(home=home))
    try:
        fs = ", ".join(f"f{i}" for i in range(10))
        create_model(ctx, "slow", ModelSpec(source="pts", code=SLOW_CODE, train_sql=f"select {fs}, y from points",
                                            predict_sql=f"select {fs} from points"))
        train_now(ctx, "slow")
    finally:
        ctx.close()
    srv = start_server(home, {"SOFTQUERY_SERVING_WORKERS": "1"})
    try:
        yield srv
    finally:
        stop_server(srv)


def _worker_pid(client: httpx.Client) -> int | None:
    workers = client.get("/api/v1/serving/workers").json()["workers"]
    running = [w for w in workers if w.get("state") == "running" and w.get("loaded")]
    return running[0]["pid"] if running else None


# A SIGKILL takes effect, and the pool notices the closed socket, a little after os.kill returns:
# a request sent in that moment was handed to the dying worker and rightly fails with 503.
NOTICE = 0.05


def test_killed_worker_fails_in_flight_requests_with_503_then_recovers(slow_server: Server) -> None:
    url = "/api/v1/models/slow/predict"
    with slow_server.client() as client:
        assert client.post(url, json={"rows": [lin_row()]}).status_code == 200
        pid = wait_for(lambda: _worker_pid(client), 10, "a serving worker with slow loaded")
        with Load(slow_server, url, threads=4) as load:
            wait_for(lambda: load.count() >= 4, 30, "requests in flight")
            os.kill(pid, signal.SIGKILL)
            killed_at = time.monotonic()
            wait_for(lambda: any(a[2] == 200 and a[0] > killed_at + NOTICE for a in load.all()), 30,
                     "a request answered after the kill")
        new_pid = wait_for(lambda: _worker_pid(client), 10, "a restarted serving worker")
        assert new_pid != pid
        assert client.get("/api/v1/health").status_code == 200
    answers = load.all()
    failed = [a for a in answers if a[2] != 200]
    assert failed, "no request was in flight when the worker was killed"
    for started, _ended, status, body in failed:
        assert status == 503 and started < killed_at + NOTICE, (status, body)
        assert body["error"]["code"] == "serving_worker_failed"
        assert "SIGKILL" in body["error"]["message"] and "retry" in body["error"]["message"]
    assert all(a[2] == 200 for a in answers if a[0] > killed_at + NOTICE)


def test_tampered_artifact_is_refused_and_the_server_stays_up(server: Server) -> None:
    db = server.home / "softquery.db"
    conn = sqlite3.connect(db)
    try:
        with conn:
            (version_id,) = conn.execute(
                "select v.id from versions v join models m on m.id = v.model_id "
                "where m.name = 'lin' and v.version = 1").fetchone()
            data = conn.execute("select data from artifacts where version_id = ?", (version_id,)).fetchone()[0]
            flipped = bytes(data[:-20]) + bytes(b ^ 0xFF for b in data[-20:])
            conn.execute("update artifacts set data = ? where version_id = ?", (flipped, version_id))
    finally:
        conn.close()
    with server.client() as client:
        response = client.post(URL + "?version=1", json={"rows": [lin_row()]})
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "artifact_tampered"
        assert "Version 1 of model 'lin' failed its integrity check" in error["message"]
        assert client.get("/api/v1/health").status_code == 200
        good = client.post(URL, json={"rows": [lin_row()]})
        assert good.status_code == 200 and good.json()["version"] == 2
        assert client.post(URL + "?version=1", json={"rows": [lin_row()]}).status_code == 409
    assert server.process.poll() is None


def test_least_recently_used_version_is_unloaded(home: Path) -> None:
    ctx = open_context(Settings(home=home, serving_workers=1, serving_max_versions=2))
    try:
        with TestClient(create_app(ctx, None), raise_server_exceptions=False) as client:
            client.headers.update(authkit.bearer(ctx))

            def loaded() -> list[tuple[str, int]]:
                (worker,) = client.get("/api/v1/serving/workers").json()["workers"]
                return [(v["model"], v["version"]) for v in worker["loaded"]]

            first = client.post(URL + "?version=1", json={"rows": [lin_row()]}).json()
            client.post(URL, json={"rows": [lin_row()]})
            assert loaded() == [("lin", 1), ("lin", 2)]
            client.post(URL + "?version=1", json={"rows": [lin_row()]})  # v1 is now the most recent
            assert client.post("/api/v1/models/pj/predict", json={"rows": [{"features": [0.1] * 11}]}).status_code == 200
            assert loaded() == [("lin", 1), ("pj", 1)]  # v2, least recently used, was unloaded
            again = client.post(URL + "?version=1", json={"rows": [lin_row()]}).json()
            assert_predictions_equal(again, first)
            assert client.post(URL, json={"rows": [lin_row()]}).json()["version"] == 2  # loaded again
            assert loaded() == [("lin", 1), ("lin", 2)]
    finally:
        ctx.close()
