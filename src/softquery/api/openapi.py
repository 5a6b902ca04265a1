"""The OpenAPI document: a bearer security scheme on every protected operation, and the
error envelope as the documented body of every error (401, 403, 413 where there is a body,
422, and the default).

Which operations are protected is read from the routes themselves: one that carries an
``allow(...)`` dependency needs credentials; one marked ``public()`` does not. So the
document cannot drift from what the server enforces, and schema-based fuzzers know how
to authenticate.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from softquery.http.error_envelope import ErrorEnvelope
from softquery.http.route_policies import Allow, policy_of

SCHEME = "bearer"
_CONVERTER = re.compile(r"\{(\w+):\w+\}")
ENVELOPE_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
BEARER: dict[str, Any] = {
    "type": "http", "scheme": "bearer", "bearerFormat": "sq_…",
    "description": "An API token (`softquery token create`, or POST /api/v1/tokens). Web sessions use the "
                   "HttpOnly cookie from the login page plus an X-CSRF-Token header on changes.",
}
ERRORS: dict[str, str] = {
    "401": "Not logged in, or the API token is unknown, expired or revoked (`WWW-Authenticate: Bearer`).",
    "403": "Logged in, but this role or token scope may not do this.",
}

TOO_LARGE = ("The request body is larger than SOFTQUERY_MAX_BODY_BYTES (online predictions: "
             "SOFTQUERY_SERVING_MAX_BODY_BYTES); refused before it is read.")


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ENVELOPE_REF}}}


def _protected(dependant: Dependant | None) -> bool:
    """Whether an ``allow(...)`` sits anywhere in the route's dependency tree."""
    pending = list(dependant.dependencies) if dependant is not None else []
    while pending:
        sub = pending.pop()
        if isinstance(policy_of(sub.call), Allow):
            return True
        pending.extend(sub.dependencies)
    return False


def protected_operations(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every endpoint that needs credentials (included routers flattened)."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and _protected(getattr(context, "dependant", None)):
            # as the document writes paths: without converters ({path:path} is {path})
            path = _CONVERTER.sub(r"{\1}", str(context.path))
            found.update((method.lower(), path) for method in context.methods or ())
    return found


def build_openapi(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {}))
    schemas["ErrorEnvelope"] = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.pop("HTTPValidationError", None)  # our 422 is the envelope (details.problems), not FastAPI's
    schemas.pop("ValidationError", None)
    components.setdefault("securitySchemes", {})[SCHEME] = BEARER
    protected = protected_operations(app)
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.setdefault("default", _error("Any other error, in the one error envelope."))
            if "requestBody" in operation:
                responses.setdefault("413", _error(TOO_LARGE))
            for status, response in responses.items():
                if status == "default" or status[0] in "45":  # FastAPI's 422 body is not ours
                    response["content"] = {"application/json": {"schema": ENVELOPE_REF}}
            if (method, path) in protected:
                operation["security"] = [{SCHEME: []}]
                for status, description in ERRORS.items():
                    responses.setdefault(status, _error(description))
                responses["401"].setdefault("headers", {"WWW-Authenticate": {
                    "schema": {"type": "string"}, "description": 'Bearer realm="softquery"'}})
    return spec


def install_openapi(app: FastAPI) -> None:
    """``app.openapi()`` builds the document above once and keeps it."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
