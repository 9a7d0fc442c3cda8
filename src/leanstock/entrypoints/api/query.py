"""Unknown query parameters are refused, as unknown body fields are.

A mistyped filter (`?categroy=cakes`, `?bogus=1`) would otherwise be ignored, and the answer
(everything, or a default) would look like the answer to the question asked.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

_known: dict[int, frozenset[str]] = {}


def _parameters(route: APIRoute) -> frozenset[str]:
    """The query parameters a route (with its dependencies) declares, by their names in the URL."""
    found = _known.get(id(route))
    if found is None:
        found = frozenset(_names(route.dependant))
        _known[id(route)] = found
    return found


def _names(dependant: Dependant) -> list[str]:
    names = [p.alias for p in dependant.query_params]
    for sub in dependant.dependencies:
        names.extend(_names(sub))
    return names


API = "/api/"


async def reject_unknown_query(request: Request) -> None:
    """422 naming each query parameter an API route does not take, and those it does. (The
    web pages are for people and read some parameters themselves; they are left alone.)"""
    route = request.scope.get("route")
    if (
        not isinstance(route, APIRoute)
        or not request.query_params
        or not request.url.path.startswith(API)
    ):
        return
    known = _parameters(route)
    unknown = sorted(set(request.query_params.keys()) - known)
    if unknown:
        takes = ", ".join(sorted(known)) if known else "none"
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"Unknown query parameter; this endpoint takes: {takes}.",
                    "type": "unknown_query_parameter",
                }
                for name in unknown
            ]
        )
