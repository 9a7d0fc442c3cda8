"""The OpenAPI document, made true: every status code and content type a route can answer.

FastAPI documents what a route returns and a 422 in its own shape; the API answers every
error as `application/problem+json` (`problems.py`) and, before any route, the middlewares
may refuse a request (`security.py`: 401, 403, 413). So each operation gets, in one place:

- 422 (the body, a parameter or an unknown query parameter is invalid), as a problem;
- 413 (the body is over the size limit): every operation, as the guard reads no route;
- 401 and 403 (no principal, or one without the permission): every operation but the public
  ones (`security.PUBLIC_PATHS`);
- 404 (a resource named in the path, or a filter naming one, does not exist): likewise;
- 409 (a conflict: the state forbids it, it exists already, an idempotency key is still in
  flight): every operation that changes something;
- 401 (a wrong password): sign-in; 429 (too many failed attempts): sign-in and a
  change of one's own password;
- 400 (a body that cannot be read as text): every operation that takes a body.

Each path and query parameter states the text and date bounds (`bounds.document`). A method a
path does not declare answers 405 with an `Allow` header (Starlette), as a problem.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from leanstock.entrypoints.api import bounds
from leanstock.entrypoints.api.problems import PROBLEM
from leanstock.entrypoints.api.security import PREFIX, PUBLIC_PATHS

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457): what went wrong and how to fix it.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Each field at fault and what is wrong with it.",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

_WHY = {
    "400": "The body could not be read (it is not UTF-8 text, or not the form it claims).",
    "401": "Not signed in: no API token or session, or one that is not valid.",
    "403": "The principal's role or token may not do this.",
    "404": "Something the request names does not exist (or is not the principal's to see).",
    "409": "A conflict with the current state: not enough stock, a transition the object's "
    "status forbids, something that exists already, or a request with the same "
    "Idempotency-Key still running.",
    "413": "The request body is over the size limit.",
    "422": "The request is invalid: each field at fault is named in `errors`.",
    "429": "Too many failed attempts; wait the seconds in Retry-After.",
}
_READS = frozenset({"get", "head", "options"})


def _problem(status: str) -> dict[str, Any]:
    return {
        "description": _WHY[status],
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


_LOGIN = f"{PREFIX}/auth/login"
# Where a password is checked, failures are throttled (services/signin.py).
_THROTTLED = frozenset({_LOGIN, f"{PREFIX}/me/password"})


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    found = ["413", "422"]
    if "requestBody" in operation:
        found.append("400")
    if path not in PUBLIC_PATHS:
        found += ["401", "403", "404"]
        if method not in _READS:
            found.append("409")
    if path == _LOGIN:
        found.append("401")
    if path in _THROTTLED:
        found.append("429")
    return sorted(found)


# The last document built: what it was built from, the routes (kept alive, so their ids stay
# theirs) and the document (see `document`).
_last: tuple[tuple[Any, ...], tuple[APIRoute, ...], dict[str, Any]] | None = None
_building = threading.Lock()


def api_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every API route of `routes`, inside the routers they include:
    FastAPI 0.165 keeps an included router's routes on that router (`original_router`), with
    their paths under its prefix, not on the app's top-level list."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        else:
            included = getattr(route, "original_router", None)
            if included is not None:
                context = getattr(route, "include_context", None)
                inner = prefix + str(getattr(context, "prefix", "") or "")
                yield from api_routes(included.routes, inner)


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of `app`, with the errors every operation can answer.

    Building it takes about a CPU-second (pydantic's schemas of every model). It is built from
    the app's title, version, summary and description and its routes in the schema, which are
    the same route objects in every app of this process (`app._add_routes`): an app with the
    same ones gets a copy of the document built last rather than building it again. A server
    builds one app; the test suite builds hundreds, and a dozen of them serve the document.
    """
    global _last
    if app.openapi_schema is not None:
        return app.openapi_schema
    routes = tuple(r for _, r in api_routes(app.routes) if r.include_in_schema)
    key = (app.title, app.version, app.summary, app.description, tuple(map(id, routes)))
    with _building:
        if _last is None or _last[0] != key:
            _last = (key, routes, _build(app))
        app.openapi_schema = copy.deepcopy(_last[2])
    return app.openapi_schema


def _build(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                bounds.document(parameter.get("schema", {}))
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                responses[status] = _problem(status)
    return spec


def install(app: FastAPI) -> None:
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
