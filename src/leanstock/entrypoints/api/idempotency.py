"""`Idempotency-Key` on POST: the same key and body replay the first response.

The first request with a key claims it (an INSERT that only one concurrent request can win),
runs, and stores its response; a retry with the same key and body gets that response again,
waiting while the first is still running; the same key with another body is a 422. Keys are
kept for `LEANSTOCK_IDEMPOTENCY_HOURS` (24 by default). A 5xx is not stored, so a retry after
a failure runs again.
"""

from __future__ import annotations

import asyncio
import hashlib

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leanstock.adapters.db.idempotency import IdempotencyStore, Stored
from leanstock.entrypoints.api.problems import problem

HEADER = "Idempotency-Key"
WAIT_SECONDS = 30.0


def _replay(stored: Stored) -> Response:
    return Response(
        stored.body or b"",
        status_code=stored.status_code or 200,
        media_type=stored.content_type,
        headers={"Idempotent-Replayed": "true"},
    )


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
        if key is None:
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= 200:
            await problem(422, "Invalid request", f"{HEADER} must be 1-200 characters.")(
                scope, receive, send
            )
            return
        store: IdempotencyStore = scope["app"].state.idempotency
        body = await request.body()
        # Until keys get a principal scope of their own, the principal is part of the
        # fingerprint: another principal's key is "used with another request", never replayed.
        actor = scope.get("state", {}).get("actor")
        principal = (actor.email if actor is not None else "").encode()
        fingerprint = hashlib.sha256(
            b"\n".join([principal, scope["path"].encode(), body])
        ).hexdigest()
        stored = await run_in_threadpool(store.claim, key, fingerprint)
        if stored is not None:
            response = await self._answer_retry(store, key, fingerprint, stored)
            await response(scope, receive, send)
            return

        sent_body = False

        async def replay_body() -> Message:
            nonlocal sent_body
            if sent_body:
                return await receive()
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            await run_in_threadpool(store.forget, key)
            raise
        content = b"".join(chunks)
        if status >= 500:
            await run_in_threadpool(store.forget, key)
        else:
            content_type = dict(headers).get(b"content-type", b"").decode() or None
            await run_in_threadpool(store.complete, key, status, content_type, content)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _answer_retry(
        self, store: IdempotencyStore, key: str, fingerprint: str, stored: Stored
    ) -> Response:
        if stored.fingerprint != fingerprint:
            return problem(
                422,
                "Idempotency key reused",
                f"{HEADER} {key!r} was first used with another request; use a new key for a "
                "different request.",
                [{"field": HEADER, "message": "used before with another request"}],
            )
        waited = 0.0
        current: Stored | None = stored
        while current is not None and current.status_code is None and waited < WAIT_SECONDS:
            await asyncio.sleep(0.02)
            waited += 0.02
            current = await run_in_threadpool(store.get, key)
        if current is None:
            return problem(
                409, "Retry", "The first request with this key failed; send the request again."
            )
        if current.status_code is None:
            return problem(
                409,
                "Still in progress",
                f"The first request with {HEADER} {key!r} is still running.",
            )
        return _replay(current)
