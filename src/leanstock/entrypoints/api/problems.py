"""Every error as `application/problem+json` (RFC 9457), in one place."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from leanstock.domain.errors import (
    AlreadyExists,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from leanstock.entrypoints.api.batch_schemas import field_errors
from leanstock.entrypoints.web import render as web

PROBLEM = "application/problem+json"
log = logging.getLogger("leanstock.api")


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def refused(error: DomainError) -> JSONResponse:
    """The answer to a request refused before it reaches a route: 401, 403 or 429."""
    status = _STATUS.get(type(error), 400)
    errors = [{"field": error.field, "message": error.detail}] if error.field else None
    return problem(status, error.title, error.detail, errors, _headers(error))


_STATUS: dict[type[DomainError], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    TooManyAttempts: 429,
}


def _headers(error: DomainError) -> dict[str, str] | None:
    if isinstance(error, NotAuthenticated):
        return {"WWW-Authenticate": 'Bearer realm="leanstock"'}
    if isinstance(error, TooManyAttempts):
        return {"Retry-After": str(error.retry_after)}
    return None


def _status(request: Request, error: DomainError) -> int:
    if type(error) in _STATUS:
        return _STATUS[type(error)]
    if isinstance(error, NotFound):
        # A missing resource named in the URL is a 404; one named in a request body makes the
        # body invalid.
        if request.method in ("GET", "DELETE") or str(error.key) in request.url.path.split("/"):
            return 404
        return 422
    if isinstance(error, AlreadyExists | Conflict):
        return 409
    if isinstance(error, InvalidInput):
        return 422
    return 400


def body_problem(error: DomainError) -> dict[str, Any]:
    """The problem (RFC 9457) of a refusal of something named in a request body, such as one
    document of a batch: as `install` answers it, with a missing object a 422."""
    if type(error) in _STATUS:
        status = _STATUS[type(error)]
    elif isinstance(error, AlreadyExists | Conflict):
        status = 409
    elif isinstance(error, InvalidInput | NotFound):
        status = 422
    else:
        status = 400
    errors = getattr(error, "errors", None)
    if errors is None and error.field:
        errors = [{"field": error.field, "message": error.detail}]
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": error.title,
        "status": status,
        "detail": error.detail,
    }
    if errors:
        body["errors"] = errors
    return body


def _allowed(request: Request) -> str:
    """Every method the path takes, over all its routes (Starlette's 405 names those of the
    first route that matched the path only)."""
    return ", ".join(
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    )


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def install(app: FastAPI) -> None:
    """Problems for the API; on the web app's pages the same message as a page (web.error_page)."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        if web.is_web(request.url.path):
            return web.error_page(request, _status(request, error), error.detail)
        errors = [{"field": error.field, "message": error.detail}] if error.field else None
        return problem(_status(request, error), error.title, error.detail, errors, _headers(error))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        errors: list[dict[str, Any]] = list(field_errors(error.errors()))
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if web.is_web(request.url.path):
            return web.error_page(request, 422, detail)
        return problem(422, "Invalid request", detail, errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if web.is_web(request.url.path):
            detail = "There is no such page." if error.status_code == 404 else str(error.detail)
            return web.error_page(request, error.status_code, detail)
        title = {
            400: "Unreadable request",
            404: "Not found",
            405: "Method not allowed",
        }.get(error.status_code, "Error")
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = _allowed(request)
        return problem(error.status_code, title, str(error.detail), headers=headers or None)

    @app.exception_handler(Exception)
    async def bug(request: Request, error: Exception) -> Response:
        # Logged, with the request's id and route, by entrypoints.api.observability.
        if web.is_web(request.url.path):
            return web.error_page(request, 500, "Something went wrong on our side.")
        return problem(
            500, "Internal error", "Something went wrong on our side; it has been logged."
        )
