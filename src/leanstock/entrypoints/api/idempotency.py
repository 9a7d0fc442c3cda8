"""`Idempotency-Key` on POST: the same key and request replay the first response.

The key's record and the request's writes commit in one transaction (after Stripe's design,
"Implementing Stripe-like Idempotency Keys in Postgres", Brandur Leach, 2017, with the whole
request as one atomic phase):

1. The key is inserted in a new transaction (`IdempotencyStore.claim`). A concurrent request
   with the same key waits there for the first one's transaction to end.
2. The route runs with every unit of work joined to that transaction
   (`adapters.db.uow.one_transaction`); its commits only release savepoints.
3. The response is stored under the key in the same transaction, which then commits.

A crash before step 3's commit leaves neither the key nor the work, so a retry runs afresh; a
crash after it leaves both, so a retry gets the committed answer. No key is ever stuck "in
progress". A 5xx is not stored: its transaction rolls back, and a retry runs again.

Requests are compared by a fingerprint of the principal, the path and the query, and the
body's canonical JSON (parsed, keys sorted, no whitespace; numbers as written), so a retry
that differs only in whitespace or key order is the same request. Keys are kept for
`LEANSTOCK_IDEMPOTENCY_HOURS` (24 by default).

A web form (a page's post, not the API) carries its key in the hidden `idempotency_key`
field instead, new each time the page is drawn: a double-clicked submit makes one order, and
the second click gets the first one's answer (a redirect is kept with its target).

The request runs on a worker thread of its own, with its own event loop, from the claim to
the commit: while its transaction holds locks, it never waits for a thread that requests
blocked on those locks may be holding.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

from anyio import to_thread
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leanstock.adapters.db.idempotency import IdempotencyStore, Stored
from leanstock.adapters.db.uow import is_retryable, one_transaction
from leanstock.entrypoints.api import test_hooks
from leanstock.entrypoints.api.problems import problem
from leanstock.entrypoints.api.security import body_again

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
FORM = "application/x-www-form-urlencoded"
# A stored redirect: its body is the target, sent again in this header (by status).
REDIRECT = "text/uri-list"


class _Number(str):
    """A JSON number as written: `1.0` and `1` stay two different requests."""


def canonical_json(body: bytes) -> bytes | None:
    """The body as canonical JSON (keys sorted, no whitespace), or None when it is not JSON."""
    try:
        value = json.loads(body, parse_float=_Number, parse_int=_Number, parse_constant=_Number)
    except ValueError:
        return None
    return _canonical(value).encode()


def _canonical(value: Any) -> str:
    if isinstance(value, _Number):
        return str.__str__(value)
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(
                f"{json.dumps(key, ensure_ascii=False)}:{_canonical(item)}"
                for key, item in sorted(value.items())
            )
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def fingerprint(principal: str, scope: Scope, body: bytes) -> str:
    content = canonical_json(body)
    parts = [
        principal.encode(),
        scope["path"].encode(),
        scope.get("query_string", b""),
        b"json" if content is not None else b"bytes",
        content if content is not None else body,
    ]
    return hashlib.sha256(b"\n".join(parts)).hexdigest()


def _replay(stored: Stored) -> Response:
    if stored.content_type == REDIRECT:
        target = (stored.body or b"").decode()
        header = "HX-Location" if stored.status_code == 204 else "Location"
        return Response(
            status_code=stored.status_code or 303,
            headers={header: target, "Idempotent-Replayed": "true"},
        )
    return Response(
        stored.body or b"",
        status_code=stored.status_code or 200,
        media_type=stored.content_type,
        headers={"Idempotent-Replayed": "true"},
    )


class _Captured:
    """The route's response, held back until its transaction is committed."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []

    @property
    def content_type(self) -> str | None:
        if self.target is not None:
            return REDIRECT
        return dict(self.headers).get(b"content-type", b"").decode() or None

    @property
    def target(self) -> bytes | None:
        """Where a redirect (or HTMX's `HX-Location`) sends the browser, if it is one."""
        found = dict(self.headers)
        if 300 <= self.status < 400:
            return found.get(b"location")
        if self.status == 204:
            return found.get(b"hx-location")
        return None

    @property
    def body(self) -> bytes:
        target = self.target
        return target if target is not None else b"".join(self.chunks)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))


def _web_form(scope: Scope, request: Request) -> bool:
    """A form posted by a page of the web app (not the API's)."""
    from leanstock.entrypoints.web.render import is_web

    kind = request.headers.get("content-type", "")
    return kind.startswith(FORM) and is_web(scope["path"])


class IdempotencyMiddleware:
    """Pure ASGI middleware: requests without the header pass straight through at no cost."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        key = request.headers.get(HEADER)
        if key is None and _web_form(scope, request):
            body = await request.body()
            fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            key = fields.get(FORM_FIELD) or None
            receive = body_again(body)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= 200:
            await problem(422, "Invalid request", f"{HEADER} must be 1-200 characters.")(
                scope, receive, send
            )
            return
        store: IdempotencyStore = scope["app"].state.idempotency
        hook = test_hooks.hook(scope)
        body = await request.body()
        # Until keys get a principal scope of their own, the principal is part of the
        # fingerprint: another principal's key is "used with another request", never replayed.
        actor = scope.get("state", {}).get("actor")
        print_ = fingerprint(actor.email if actor is not None else "", scope, body)
        outcome = await to_thread.run_sync(self._once, store, key, print_, scope, body, hook)
        if isinstance(outcome, Response):
            await outcome(scope, receive, send)
            return
        start = {"type": "http.response.start", "status": outcome.status}
        await send({**start, "headers": outcome.headers})
        await send({"type": "http.response.body", "body": b"".join(outcome.chunks)})

    def _once(
        self,
        store: IdempotencyStore,
        key: str,
        print_: str,
        scope: Scope,
        body: bytes,
        hook: test_hooks.Hook | None,
    ) -> Response | _Captured:
        """Claim the key, run the request in the claim's transaction, store the answer and
        commit; or answer from what is stored. Runs on a worker thread."""
        try:
            claimed = store.claim(key, print_)
        except DBAPIError as error:
            if not is_retryable(error):
                raise
            return problem(
                409,
                "Still in progress",
                f"The first request with {HEADER} {key!r} is still running; send this one "
                "again in a moment.",
                headers={"Retry-After": "1"},
            )
        if isinstance(claimed, Stored):
            return self._answer_stored(key, print_, claimed)
        with claimed:
            captured = asyncio.run(self._run(claimed, scope, body))
            if captured.status >= 500:
                claimed.rollback()
                return captured
            store.complete(claimed, key, captured.status, captured.content_type, captured.body)
            test_hooks.before_commit(hook)
            claimed.commit()
            test_hooks.after_commit(hook)
        return captured

    async def _run(self, connection: Connection, scope: Scope, body: bytes) -> _Captured:
        sent_body = False
        never = asyncio.Event()

        async def receive() -> Message:
            nonlocal sent_body
            if sent_body:
                # The body has been read; the client stays connected until the answer.
                await never.wait()
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}

        captured = _Captured()
        with one_transaction(connection):
            await self.app(scope, receive, captured.send)
        return captured

    def _answer_stored(self, key: str, print_: str, stored: Stored) -> Response:
        if stored.fingerprint != print_:
            return problem(
                422,
                "Idempotency key reused",
                f"{HEADER} {key!r} was first used with another request (another body, path "
                "or principal); use a new key for a different request, or send the first "
                "request's body again to get its answer.",
                [{"field": HEADER, "message": "used before with another request"}],
            )
        if stored.status_code is None:
            # Only a key claimed by a version before keys and work committed together.
            return problem(
                409,
                "Outcome unknown",
                f"The first request with {HEADER} {key!r} was interrupted before this "
                "server's version; check whether its change was made, then use a new key.",
            )
        return _replay(stored)
