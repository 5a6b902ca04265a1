"""Every route of the app, with the permission policy it declares (for the security tests).

``app_routes(app)`` walks ``app.routes`` through included routers (FastAPI keeps them
nested as ``_IncludedRouter``; ``fastapi.routing.iter_route_contexts`` flattens them with
the prefixes and router-level dependencies applied) and returns every endpoint with its
methods, full path and the ``Allow``/``Public`` objects found in its dependency tree.
Anything that is not an endpoint (mounts, plain Starlette routes) is returned separately.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from softquery.http.route_policies import Allow, Public, policy_of
from softquery.web.error_pages import PageRoute

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class RouteInfo:
    methods: tuple[str, ...]
    path: str
    page: bool  # an HTML page (errors as pages) rather than a JSON API route
    policies: tuple[Allow | Public, ...]
    route: BaseRoute
    dependant: Dependant | None  # with the router-level dependencies of every enclosing router

    @property
    def label(self) -> str:
        return f"{'|'.join(self.methods)} {self.path}"

    @property
    def public(self) -> bool:
        return len(self.policies) == 1 and isinstance(self.policies[0], Public)

    @property
    def policy(self) -> Allow | Public:
        assert len(self.policies) == 1, self.label
        return self.policies[0]

    def requests(self) -> Iterator[tuple[str, str]]:
        """(method, path) for each method of the route."""
        for method in self.methods:
            yield method, self.path


def dependency_calls(dependant: Dependant | None) -> list[Any]:
    """Every dependency callable in the tree (repeats included)."""
    calls: list[Any] = []
    pending = list(dependant.dependencies) if dependant is not None else []
    while pending:
        sub = pending.pop()
        calls.append(sub.call)
        pending.extend(sub.dependencies)
    return calls


def _policies(dependant: Dependant | None) -> list[Allow | Public]:
    return [p for p in map(policy_of, dependency_calls(dependant)) if p is not None]


def app_routes(app: FastAPI) -> tuple[list[RouteInfo], list[BaseRoute]]:
    """(every endpoint, every other route object such as mounts)."""
    endpoints: list[RouteInfo] = []
    others: list[BaseRoute] = []
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        if not isinstance(original, APIRoute):
            others.append(original)
            continue
        dependant: Dependant | None = getattr(context, "dependant", None)
        endpoints.append(RouteInfo(
            methods=tuple(sorted(context.methods or ())), path=str(context.path),
            page=isinstance(original, PageRoute), policies=tuple(_policies(dependant)),
            route=original, dependant=dependant))
    return endpoints, others


def fill_path(path: str, values: Mapping[str, str]) -> str:
    """``/models/{name}/versions/{number}`` with plausible values.

    ``values`` is looked up as ``"<collection>.<param>"`` first (the path segment before
    the parameter, e.g. ``sources.name``), then ``"<param>"``; unknown parameters get ``1``.
    """
    parts = path.split("/")
    for index, part in enumerate(parts):
        match = _PARAM.fullmatch(part)
        if match is None:
            continue
        param = match.group(1)
        collection = parts[index - 1] if index > 0 else ""
        parts[index] = values.get(f"{collection}.{param}", values.get(param, "1"))
    return "/".join(parts)


def describe(routes: list[RouteInfo]) -> str:
    return "\n".join(f"  {r.label}: {', '.join(map(repr, r.policies)) or 'NO POLICY'}" for r in routes)


def json_body(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
