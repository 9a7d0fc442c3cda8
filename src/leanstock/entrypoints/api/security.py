"""What every request passes through before any route: a request id and the request context,
security headers, a body size limit, authentication and CSRF protection.

Two pure ASGI middlewares, outermost first:

- `GuardMiddleware` gives each request an id (`X-Request-ID`, echoed back), opens the request
  context the audit trail reads (`domain.access.current()`), refuses bodies over
  `max_body_bytes` (413) and adds the security headers to every response.
- `AuthenticationMiddleware` finds the principal: `Authorization: Bearer <token>`, else the
  session cookie. Every path but `PUBLIC_PATHS` needs one (401 otherwise). A state-changing
  request made with the cookie must carry the session's CSRF token in `X-CSRF-Token`
  (synchronizer token pattern) in the `X-CSRF-Token` header or, for a form post of the web
  app, in its `csrf_token` field; an `Origin`, when sent, must be this host (403 otherwise).
  On the web app's pages (every path outside the API and its docs) a request without a
  principal is sent to the sign-in page, and a refusal is a page, not JSON.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leanstock.adapters.auth.credentials import same
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.config import Settings
from leanstock.domain.access import Actor, RequestContext, acting, current
from leanstock.domain.errors import DomainError, Forbidden, NotAuthenticated, TooManyAttempts
from leanstock.entrypoints.api.problems import problem, refused
from leanstock.entrypoints.web import render as web
from leanstock.services import signin

PREFIX = "/api/v1"
PUBLIC_PATHS = frozenset(
    {
        *web.PUBLIC,
        f"{PREFIX}/health",
        f"{PREFIX}/auth/login",
        f"{PREFIX}/auth/logout",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
    }
)
# The docs' scripts and styles, vendored in the package (entrypoints/api/docs.py).
PUBLIC_PREFIXES = ("/docs/assets/", *web.PUBLIC_PREFIXES)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
FORM = "application/x-www-form-urlencoded"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"same-origin",
    b"cross-origin-opener-policy": b"same-origin",
    b"cross-origin-resource-policy": b"same-origin",
    b"cache-control": b"no-store",
}
_API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc from the package's own assets: an inline start-up script, inline
# styles, data: images and (ReDoc) a blob: worker; nothing from another host.
_DOCS_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
    b"frame-ancestors 'none'"
)
# Uploads of files to import may be bigger than other requests (`max_import_bytes`).
IMPORTS_PATH = f"{PREFIX}/imports/"
_DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
# The web app: its own scripts, styles and images only; no inline script or style.
_WEB_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    b"frame-ancestors 'none'"
)


def _csp(path: str) -> bytes:
    if path in _DOCS_PATHS:
        return _DOCS_CSP
    return _WEB_CSP if web.is_web(path) else _API_CSP


def cookie_name(settings: Settings) -> str:
    """`__Host-` pins a secure cookie to this host and path `/` (RFC 6265bis §4.1.3.2)."""
    return "__Host-leanstock_session" if settings.cookie_secure else "leanstock_session"


def client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0])[:64] if client else None


class _TooLarge(Exception):
    pass


class GuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limit = settings.max_body_bytes
        self.import_limit = max(settings.max_import_bytes, settings.max_body_bytes)
        self.hsts = (
            f"max-age={settings.hsts_seconds}; includeSubDomains".encode()
            if settings.hsts_seconds
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        extra = {b"x-request-id": request_id.encode()}
        extra[b"content-security-policy"] = _csp(scope["path"])
        if self.hsts is not None:
            extra[b"strict-transport-security"] = self.hsts

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [
                    (name, value)
                    for name, value in (*_HEADERS.items(), *extra.items())
                    if name not in present
                ]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        context = RequestContext(request_id=request_id, address=client_address(scope))
        with acting(context):
            length = headers.get("content-length")
            limit = self.import_limit if scope["path"].startswith(IMPORTS_PATH) else self.limit
            if length is not None and (not length.isdigit() or int(length) > limit):
                await self._too_large(scope, receive, send_with_headers)
                return
            if length is None and "chunked" in headers.get("transfer-encoding", "").lower():
                try:
                    receive = await self._buffered(receive, limit)
                except _TooLarge:
                    await self._too_large(scope, receive, send_with_headers)
                    return
            await self.app(scope, receive, send_with_headers)

    async def _buffered(self, receive: Receive, limit: int) -> Receive:
        """Read a body of unknown length up to the limit, then hand it on as one message."""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
            more = message.get("more_body", False)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        return replay

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.import_limit if scope["path"].startswith(IMPORTS_PATH) else self.limit
        response = problem(
            413,
            "Request too large",
            f"The request body is over {limit} bytes; send less at a time.",
        )
        await response(scope, receive, send)


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.cookie = cookie_name(settings)
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.allowed_origins = {o.rstrip("/") for o in settings.cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            actor, csrf = await self._authenticate(request)
            if csrf is not None and scope["method"] not in SAFE_METHODS:
                receive = await self._check_csrf(request, csrf)
        except DomainError as error:
            response = self._refused(request, error)
            if isinstance(error, NotAuthenticated) and self.cookie in request.cookies:
                forget_cookie(response, self.cookie)
            await response(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        state["actor"] = actor
        state["csrf_token"] = csrf
        current().actor = actor
        await self.app(scope, receive, send)

    async def _authenticate(self, request: Request) -> tuple[Actor, str | None]:
        uow = UnitOfWork(request.app.state.engine)
        authorization = request.headers.get("authorization")
        if authorization is not None:
            scheme, _, secret = authorization.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise NotAuthenticated("Send the API token as `Authorization: Bearer <token>`.")
            # One query (and, once a minute, the last-use stamp): no transaction around it.
            reading = UnitOfWork(request.app.state.engine, autocommit=True)
            return await run_in_threadpool(signin.token, reading, secret.strip()), None
        session_id = request.cookies.get(self.cookie)
        if session_id:
            found = await run_in_threadpool(signin.session, uow, session_id, self.idle)
            return found.actor, found.csrf_token
        raise NotAuthenticated("Sign in, or send an API token as `Authorization: Bearer <token>`.")

    def _refused(self, request: Request, error: DomainError) -> Response:
        path = request.url.path
        if not web.is_web(path):
            return refused(error)
        if isinstance(error, NotAuthenticated):
            target = "/login" if path == "/" else f"/login?next={quote(path, safe='/')}"
            if web.htmx(request):
                return Response(status_code=401, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        status = 429 if isinstance(error, TooManyAttempts) else 403
        return web.error_page(request, status, error.detail)

    async def _check_csrf(self, request: Request, csrf: str) -> Receive:
        """A state-changing request with the session cookie must prove it came from our own
        pages: the session's CSRF token, which another site cannot read, in a header or (a
        web form's post) in the form's `csrf_token` field. Answers the request's body stream,
        replayed when the form was read here."""
        receive = request.receive
        sent = request.headers.get(CSRF_HEADER.lower(), "")
        if not sent and request.headers.get("content-type", "").startswith(FORM):
            body = await request.body()
            fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            sent = fields.get(CSRF_FIELD, "")
            receive = body_again(body)
        if not sent or not same(sent, csrf):
            raise Forbidden(
                f"This request needs the {CSRF_HEADER} header with the token from sign-in "
                "(or from GET /api/v1/me). On a page, reload it and try again."
            )
        origin = request.headers.get("origin")
        if (
            origin
            and origin.rstrip("/") not in self.allowed_origins
            and urlsplit(origin).netloc != request.headers.get("host", "")
        ):
            raise Forbidden("This request came from another site.")
        return receive


def body_again(body: bytes) -> Receive:
    """The request body again, for the app after a middleware has read it (this one, and the
    idempotency middleware)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def forget_cookie(response: Response, name: str) -> None:
    response.delete_cookie(
        name, path="/", secure=name.startswith("__Host-"), httponly=True, samesite="lax"
    )
