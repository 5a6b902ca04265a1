"""Online prediction with API tokens: predict-scope tokens, and revocation seen by a running server."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from tests import authkit
from tests.api.conftest import assert_envelope
from tests.serving.conftest import Server, lin_row, wait_for

from softquery.config import Settings
from softquery.domain.accounts import Role, TokenScope
from softquery.services import tokens
from softquery.services.context import ServiceContext, open_context

URL = "/api/v1/models/lin/predict"


def test_predict_scope_token_calls_only_its_models(client: TestClient, ctx: ServiceContext) -> None:
    only_lin = authkit.bearer(ctx, "scorer", Role.VIEWER, scope=TokenScope.PREDICT, models=["lin"])
    answer = client.post(URL, json={"rows": [lin_row()]}, headers=only_lin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["model"] == "lin" and len(answer.json()["predictions"]) == 1
    error = assert_envelope(client.post("/api/v1/models/pj/predict", json={"rows": [{"features": [0.1] * 11}]},
                                        headers=only_lin), 403, "forbidden")
    assert "lin" in error["message"]
    mlsql = client.post("/model/predict", data={"sql": "select pj(vec_dense(features)) as p", "dataType": "row",
                                                "data": '[{"features": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, '
                                                        '0.9, 1.0, 1.1]}]'}, headers=only_lin)
    assert mlsql.status_code == 403, mlsql.text
    assert "pj" in mlsql.json()["error"]["message"]
    # a token limited to pj may call pj through MLSQL too (the route checks the names it parses)
    only_pj = authkit.bearer(ctx, "scorer", Role.VIEWER, scope=TokenScope.PREDICT, models=["pj"])
    allowed = client.post("/model/predict", data={"sql": "select pj(vec_dense(features)) as p", "dataType": "row",
                                                  "data": '[{"features": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, '
                                                          '0.9, 1.0, 1.1]}]'}, headers=only_pj)
    assert allowed.status_code == 200, allowed.text
    assert list(allowed.json()[0]) == ["p"]
    assert_envelope(client.get("/api/v1/models/lin/versions", headers=only_lin), 403, "forbidden")
    assert_envelope(client.post("/api/v1/models/lin/versions/1/activate", headers=only_lin), 403, "forbidden")
    # the admin's client still predicts everything
    assert client.post("/api/v1/models/pj/predict", json={"rows": [{"features": [0.1] * 11}]}).status_code == 200


def test_a_running_server_refuses_strangers_and_revoked_tokens(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as stranger:
        refused = stranger.post(URL, json={"rows": [lin_row()]})
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert refused.json()["error"]["code"] == "unauthenticated"
        assert stranger.get("/api/v1/health").status_code == 200
    ctx = open_context(Settings(home=server.home))
    try:
        new = tokens.create_token(ctx, "admin", scope=TokenScope.PREDICT, models=["lin"])
        with server.client(headers={"Authorization": f"Bearer {new.token}"}) as scorer:
            assert scorer.post(URL, json={"rows": [lin_row()]}).status_code == 200
            assert scorer.get("/api/v1/models").status_code == 403
            tokens.revoke_token(ctx, new.info.id)  # in this process, straight in the metadata DB
            # the server trusts its cached lookup for at most serving_refresh_seconds (0.5 s)
            wait_for(lambda: scorer.post(URL, json={"rows": [lin_row()]}).status_code == 401, 5,
                     "the server to refuse the revoked token")
    finally:
        ctx.close()
