"""Schemathesis against /openapi.json: zero 5xx, and every response matches the document.

Authenticated as an admin with a full-scope API token, on a fresh home with the demo
loaded (and ``house_quality`` trained, so online predictions reach a serving worker).
The executor is the fake one: train and batch-predict operations only queue runs.
Deterministic (``derandomize``) and bounded (``MAX_EXAMPLES`` per operation and generation
mode, no shrinking): valid requests and invalid ones (which must get a 4xx, never a 5xx).

Every operation of the document is exercised; nothing is excluded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests import authkit
from tests.api.conftest import train_now
from tests.security.world import CLI_MODEL, World, build_world

MAX_EXAMPLES = int(os.environ.get("SOFTQUERY_FUZZ_EXAMPLES", "5"))  # more for a deeper local run
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection,
          ignored_auth]


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("fuzz"))
    train_now(built.ctx, CLI_MODEL)
    try:
        yield built
    finally:
        built.ctx.close()


@pytest.fixture(scope="module")
def fuzz_client(fuzz_world: World) -> Iterator[TestClient]:
    with fuzz_world.client() as client:  # starts the app's lifespan (serving workers) once
        client.headers.update(authkit.bearer(fuzz_world.ctx))
        yield client


@pytest.fixture(scope="module")
def auth(fuzz_client: TestClient) -> dict[str, str]:
    return {"Authorization": fuzz_client.headers["Authorization"]}


@pytest.fixture(scope="module")
def api_schema(fuzz_client: TestClient) -> Any:
    document = fuzz_client.get("/openapi.json")  # needs the bearer token like everything else
    assert document.status_code == 200, document.text
    loaded = schemathesis.openapi.from_dict(document.json())
    loaded.app = fuzz_client.app  # calls go straight to the ASGI app
    # Unknown query parameters are ignored (as by every web framework), not refused; and the
    # credentials are ours (sent with every call), not generated: missing and bad credentials
    # are covered route by route in test_unauthenticated.py.
    loaded.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)
    # A generated body over SOFTQUERY_MAX_BODY_BYTES (a string far over its maxLength) is refused
    # with 413 before it is read: a rejection like 422, documented on every operation with a body.
    rejection = loaded.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return loaded


def _operations(api_schema: Any) -> list[Any]:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30
    return operations


def _fuzz(operation: Any, mode: GenerationMode, auth: dict[str, str], seen: set[int]) -> None:
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        seen.add(case.call_and_validate(headers=auth, checks=CHECKS).status_code)

    run()


# ``schemathesis.pytest.from_fixture`` (one test per operation) fails on pytest 9
# (``'Function' object has no attribute '_nodeid'`` in schemathesis/pytest/lazy.py), so each
# test below runs every operation itself and reports all failing operations at once.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_api_matches_its_schema(api_schema: Any, auth: dict[str, str], mode: GenerationMode) -> None:
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}
    for operation in _operations(api_schema):
        label = f"{operation.method.upper()} {operation.path}"

        try:
            _fuzz(operation, mode, auth, statuses.setdefault(label, set()))
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                failures.append(f"{label}: no valid request can be generated")
            # negative mode: an operation without parameters or body has nothing to break
        except Exception as exc:  # noqa: BLE001 - collected, reported together below
            failures.append(f"{label}: {exc}")
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
    refused = {k: v for k, v in statuses.items() if v & {401, 403}}
    assert not refused, f"the admin's token was refused: {refused}"
    if mode is GenerationMode.POSITIVE:
        succeeded = {k for k, v in statuses.items() if any(200 <= s < 300 for s in v)}
        assert {"GET /api/v1/models", "GET /api/v1/runs", "GET /api/v1/sources"} <= succeeded, statuses


def test_the_document_declares_bearer_auth(fuzz_client: TestClient) -> None:
    """So Swagger's Authorize button and schema-based clients know how to log in."""
    document = fuzz_client.get("/openapi.json").json()
    schemes = document.get("components", {}).get("securitySchemes", {})
    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values()), schemes
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path == "/api/v1/health":
                assert not operation.get("security"), "health needs no login"
                continue
            assert operation.get("security"), f"{method.upper()} {path} declares no security"
            assert "401" in operation["responses"], f"{method.upper()} {path} does not document 401"
