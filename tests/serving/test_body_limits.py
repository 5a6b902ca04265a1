"""Online predictions keep their own body limit (SOFTQUERY_SERVING_MAX_BODY_BYTES, 16 MB):
the 1 MB limit of every other request (SOFTQUERY_MAX_BODY_BYTES) does not cut them."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from tests.api.conftest import assert_envelope
from tests.serving.conftest import lin_row

from softquery.sql.online_select import parse_select

MB = 1024 * 1024
URL = "/api/v1/models/lin/predict"
SEED_SQL = "select pj(vec_dense(features)) as p1 "
SEED_DATA = '[{"features":[ 0.045, 8.8, 1.001, 45.0, 7.0, 170.0, 0.27, 0.45, 0.36, 3.0, 20.7 ]}]'


def padded(body: object, size: int) -> bytes:
    """``body`` as JSON of ``size`` bytes (whitespace inside: the same request to a JSON reader)."""
    text = json.dumps(body).encode()
    return text[:1] + b" " * (size - len(text)) + text[1:]


def test_online_predictions_accept_bodies_up_to_their_own_limit(client: TestClient) -> None:
    small = client.post(URL, json={"rows": [lin_row()]})
    assert small.status_code == 200, small.text
    big = client.post(URL, content=padded({"rows": [lin_row()]}, 3 * MB),
                      headers={"content-type": "application/json"})
    assert big.status_code == 200, big.text
    assert big.json()["predictions"] == small.json()["predictions"]
    # MLSQL's form: 1.3 MB in two fields (Starlette's form parser allows 1 MB per field)
    form = urlencode({"sql": SEED_SQL + " " * (700 * 1024), "data": SEED_DATA + " " * (700 * 1024),
                      "dataType": "row"})
    assert len(form) > 1.3 * MB
    mlsql = client.post("/model/predict", content=form,
                        headers={"content-type": "application/x-www-form-urlencoded"})
    assert mlsql.status_code == 200, mlsql.text
    # the same 3 MB anywhere else is refused
    error = assert_envelope(client.post("/api/v1/code/check", content=padded({"code": "x = 1"}, 3 * MB),
                                        headers={"content-type": "application/json"}), 413, "payload_too_large")
    assert "SOFTQUERY_MAX_BODY_BYTES" in error["message"]


def test_online_predictions_over_their_own_limit_get_413(client: TestClient) -> None:
    too_big = padded({"rows": [lin_row()]}, 16 * MB + 1)
    error = assert_envelope(client.post(URL, content=too_big, headers={"content-type": "application/json"}),
                            413, "payload_too_large")
    assert "larger than 16,777,216 bytes (SOFTQUERY_SERVING_MAX_BODY_BYTES)" in error["message"]
    form = urlencode({"sql": SEED_SQL, "data": SEED_DATA + " " * (16 * MB), "dataType": "row"})
    error = assert_envelope(client.post("/model/predict", content=form,
                                        headers={"content-type": "application/x-www-form-urlencoded"}),
                            413, "payload_too_large")
    assert "SOFTQUERY_SERVING_MAX_BODY_BYTES" in error["message"]


def test_mlsql_reads_a_long_statement_in_linear_time() -> None:
    """The 1 MB an MLSQL field may hold: its tokenizer once rescanned a run of spaces from
    every position in it (minutes of one core, blocking the server's event loop)."""
    started = time.monotonic()
    (call,) = parse_select(SEED_SQL + " " * MB)
    assert call.model == "pj" and call.alias == "p1"
    assert time.monotonic() - started < 5
