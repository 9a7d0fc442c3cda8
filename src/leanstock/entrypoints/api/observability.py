"""What each request leaves behind for the people who run Leanstock: a log line and metrics,
and `/metrics` for Prometheus.

`ObservabilityMiddleware` sits just inside `GuardMiddleware` (so the request id and the
context are set) and times every request. After the response it knows the route that served
it (its template, `/api/v1/items/{sku}`, never the raw path, so the metrics' labels stay few)
and the principal, and it

- writes one access log record (`leanstock.access`; logs.py makes it a JSON line), and
- counts the request and observes its latency (`leanstock_http_requests_total`,
  `leanstock_http_request_duration_seconds`, by method, route and status).

It answers `GET /metrics` itself, before authentication: the Prometheus text format, for
loopback clients only unless `LEANSTOCK_METRICS` says otherwise or the request carries
`LEANSTOCK_METRICS_TOKEN` (config.py). Besides the request metrics it reports the database
pool (checked-out connections and size, kept by pool events), and, read from the database when
scraped, the outbox backlog and the ledger operations posted by kind: the ledger is
append-only (migration 0015), so its count only grows, a true Prometheus counter whichever
process is scraped.

Under `leanstock serve --workers N` each worker is a process of its own; the serve command
sets `PROMETHEUS_MULTIPROC_DIR` so that the counters of all workers are summed
(prometheus_client's multiprocess mode) whichever worker answers the scrape.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event, func, select
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leanstock.adapters.auth.credentials import same
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.order_tables import outbox
from leanstock.config import Settings
from leanstock.domain.access import current
from leanstock.entrypoints.api.problems import problem

METRICS_PATH = "/metrics"
access = logging.getLogger("leanstock.access")
errors = logging.getLogger("leanstock.api")
log = logging.getLogger("leanstock.metrics")
_MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "leanstock_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "leanstock_http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its response, by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
POOL_SIZE = Gauge(
    "leanstock_db_pool_size",
    "Database connections an API process may hold (its pool's size; summed over processes).",
    multiprocess_mode="livesum",
)
POOL_CHECKED_OUT = Gauge(
    "leanstock_db_pool_checked_out",
    "Database connections in use by requests now (summed over the API processes).",
    multiprocess_mode="livesum",
)


def route_of(scope: Scope) -> str:
    """The template of the route that served the request (`unmatched` when none did): FastAPI
    keeps the full one (the router's prefix and the route's path) in its effective route
    context; Starlette's `route` has the route's own path."""
    effective = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(effective, "path", None) or getattr(scope.get("route"), "path", None)
    return str(path) if path else "unmatched"


def watch_pool(engine: Engine) -> None:
    """Keep the pool gauges in step with the engine's pool (once per engine)."""
    if getattr(engine, "_leanstock_watched", False):
        return
    engine._leanstock_watched = True  # type: ignore[attr-defined]
    size = getattr(engine.pool, "size", None)
    if callable(size):
        POOL_SIZE.set(size())

    @event.listens_for(engine, "checkout")
    def _checkout(*_: Any) -> None:
        POOL_CHECKED_OUT.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(*_: Any) -> None:
        POOL_CHECKED_OUT.dec()


class LedgerCollector(Collector):
    """Read when scraped: the outbox backlog and the ledger operations posted, by kind."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Any]:
        try:
            with self.engine.connect() as db:
                backlog, oldest = db.execute(
                    select(func.count(), func.min(outbox.c.created_at)).where(
                        outbox.c.published_at.is_(None)
                    )
                ).one()
                kinds = db.execute(
                    select(t.operations.c.kind, func.count()).group_by(t.operations.c.kind)
                ).all()
        except Exception:  # a scrape reports what it can; health says why the database is away
            log.warning("Metrics could not read the database", exc_info=True)
            return
        yield GaugeMetricFamily(
            "leanstock_outbox_backlog", "Outbox events not yet published.", value=backlog
        )
        age = 0.0
        if oldest is not None:
            created = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
            age = max((datetime.now(UTC) - created).total_seconds(), 0.0)
        yield GaugeMetricFamily(
            "leanstock_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox event (0 when there is none).",
            value=age,
        )
        operations = CounterMetricFamily(
            "leanstock_ledger_operations",
            "Stock operations posted to the ledger, by kind (counted in the database).",
            labels=["kind"],
        )
        for kind, count in sorted(kinds):
            operations.add_metric([str(kind)], count)
        yield operations


def exposition(engine: Engine) -> bytes:
    """The metrics in the Prometheus text format: this process's (or, in multiprocess mode,
    all workers'), then what is read from the database."""
    if os.environ.get(_MULTIPROCESS):
        workers = CollectorRegistry()
        MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        own = generate_latest(workers)
    else:
        own = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(LedgerCollector(engine))
    return own + generate_latest(database)


def _loopback(scope: Scope) -> bool:
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.access_log = settings.access_log
        self.metrics = settings.metrics
        token = settings.metrics_token
        self.token = token.get_secret_value() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH:
            await self._metrics(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except Exception:
            errors.exception(
                "Unhandled error on %s %s",
                scope["method"],
                scope["path"],
                extra={"route": route_of(scope)},
            )
            raise
        finally:
            seconds = time.perf_counter() - started
            method, route = scope["method"], route_of(scope)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(seconds)
            if self.access_log:
                context = current()
                access.info(
                    "%s %s %d",
                    method,
                    route,
                    status,
                    extra={
                        "method": method,
                        "route": route,
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                        "client": context.address,
                        "actor": context.actor.name if context.actor else None,
                    },
                )

    def _allowed(self, scope: Scope) -> bool:
        if self.token is not None:
            sent = Headers(scope=scope).get("authorization", "")
            scheme, _, secret = sent.partition(" ")
            if scheme.lower() == "bearer" and same(secret.strip(), self.token):
                return True
        if self.metrics == "open":
            return True
        return self.metrics == "local" and _loopback(scope)

    async def _metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.metrics == "off" and self.token is None:
            response: Response = problem(404, "Not found", "Metrics are turned off here.")
        elif scope["method"] not in ("GET", "HEAD"):
            response = problem(405, "Method not allowed", "Read the metrics with GET.")
        elif not self._allowed(scope):
            response = problem(
                403,
                "Forbidden",
                "Metrics are answered to this host's own scraper only "
                "(LEANSTOCK_METRICS=local), or to a request with the metrics token "
                "(Authorization: Bearer <LEANSTOCK_METRICS_TOKEN>).",
            )
        else:
            from starlette.concurrency import run_in_threadpool

            body = await run_in_threadpool(exposition, scope["app"].state.engine)
            response = Response(body, media_type=CONTENT_TYPE_LATEST)
        await response(scope, receive, send)
