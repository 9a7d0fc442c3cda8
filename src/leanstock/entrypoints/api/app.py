"""The FastAPI application: `/api/v1`, OpenAPI at `/docs`, problems for every error.

Every route but health, sign-in and the docs needs a principal (`security.py`); each declares
the permission it needs (`deps.permit`). The app refuses to start on a database without an
active owner, so a fresh install is never an open one.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from anyio import to_thread
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.params import Depends as DependsParam
from sqlalchemy import Engine
from starlette.routing import BaseRoute

from leanstock import __version__
from leanstock.adapters.db.engine import make_engine
from leanstock.adapters.db.idempotency import IdempotencyStore
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.config import Settings, get_settings
from leanstock.entrypoints import logs, web
from leanstock.entrypoints.api import bounds, health, problems
from leanstock.entrypoints.api import docs as offline_docs
from leanstock.entrypoints.api import openapi as api_document
from leanstock.entrypoints.api.idempotency import IdempotencyMiddleware
from leanstock.entrypoints.api.observability import ObservabilityMiddleware, watch_pool
from leanstock.entrypoints.api.query import reject_unknown_query
from leanstock.entrypoints.api.routes import (
    accounts,
    audit,
    catalog,
    customers,
    data,
    edi,
    forecasts,
    insight,
    kpis,
    lots,
    plans,
    quarantine,
    scorecards,
    stock,
    stocktakes,
    supplier_portal,
    valuation,
    webhooks,
)
from leanstock.entrypoints.api.routes import orders as order_routes
from leanstock.entrypoints.api.security import (
    PREFIX,
    AuthenticationMiddleware,
    GuardMiddleware,
)
from leanstock.services.accounts import NO_OWNER, has_owner


class NoOwner(RuntimeError):
    """Refuse to serve a database nobody owns."""


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """An app on `engine`, or on one made from the settings when it starts."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = engine is None
        # One worker thread per pooled connection: a request beyond that waits in the event
        # loop instead of holding a thread that waits for a connection.
        to_thread.current_default_thread_limiter().total_tokens = settings.pool_size
        app.state.engine = engine or make_engine(settings.database_url, settings.pool_size)
        watch_pool(app.state.engine)
        if not has_owner(UnitOfWork(app.state.engine)):
            if owned:
                app.state.engine.dispose()
            raise NoOwner(NO_OWNER)
        app.state.idempotency = IdempotencyStore(
            app.state.engine, timedelta(hours=settings.idempotency_hours)
        )
        try:
            yield
        finally:
            if owned:
                app.state.engine.dispose()

    docs = settings.docs
    app = FastAPI(
        title="Leanstock",
        version=__version__,
        summary="Just-in-time inventory management",
        lifespan=lifespan,
        # Swagger UI and ReDoc come from the package (offline_docs), not FastAPI's CDN pages.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        dependencies=_dependencies(),
    )
    app.state.settings = settings
    if engine is not None:
        app.state.engine = engine
        app.state.idempotency = IdempotencyStore(
            engine, timedelta(hours=settings.idempotency_hours)
        )
    problems.install(app)
    api_document.install(app)
    if docs:
        offline_docs.install(app)
    # Outermost last: Guard (request id, headers, body limit) → Observability (access log,
    # metrics, /metrics) → CORS → Authentication → Idempotency (keyed per principal) → routes.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(AuthenticationMiddleware, settings=settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(ObservabilityMiddleware, settings=settings)
    app.add_middleware(GuardMiddleware, settings=settings)
    _add_routes(app)

    return app


def _dependencies() -> list[DependsParam]:
    """What every request is checked for before its route runs (unknown query parameters,
    parameters past what the databases hold)."""
    return [Depends(reject_unknown_query), Depends(bounds.refuse_bad_parameters)]


# The routes every app of this process shares (see `_add_routes`).
_ROUTES: list[BaseRoute] = []
_ROUTES_MADE = threading.Lock()


def _add_routes(app: FastAPI) -> None:
    """The API's routers and the web app's pages, under the app's own docs routes.

    FastAPI works out how to call a route (its dependencies, parameters and models) on the
    first request that reaches the route's router, for each app, and keeps it on the included
    router. The table is the same for every app this process makes (the settings are read
    per request from `request.app.state`), so it is built once and shared: a server builds one
    app, but the test suite builds hundreds, and without this each paid about half a second of
    route building on its first request to a page.

    The table is built on an app of its own that holds nothing else (no engine, no settings):
    each included router keeps the app it was included in, and the first real app of the
    process, kept that way, would never be freed (tests/e2e/test_app_lifecycle.py).
    """
    with _ROUTES_MADE:
        if not _ROUTES:
            # The routes take the app's dependencies when included: the same ones as each app's.
            # No OpenAPI document, so no docs routes of its own: only what is included.
            builder = FastAPI(dependencies=_dependencies(), openapi_url=None)
            _include_routers(builder)
            _ROUTES.extend(builder.router.routes)
    app.router.routes.extend(_ROUTES)


def _include_routers(app: FastAPI) -> None:
    app.include_router(health.router, prefix=PREFIX)
    app.include_router(accounts.router, prefix=PREFIX)
    app.include_router(audit.router, prefix=PREFIX)
    app.include_router(catalog.router, prefix=PREFIX)
    app.include_router(customers.router, prefix=PREFIX)
    app.include_router(stock.router, prefix=PREFIX)
    app.include_router(valuation.router, prefix=PREFIX)
    app.include_router(quarantine.router, prefix=PREFIX)
    app.include_router(stocktakes.router, prefix=PREFIX)
    app.include_router(lots.router, prefix=PREFIX)
    app.include_router(order_routes.router, prefix=PREFIX)
    app.include_router(forecasts.router, prefix=PREFIX)
    app.include_router(plans.router, prefix=PREFIX)
    app.include_router(scorecards.router, prefix=PREFIX)
    app.include_router(supplier_portal.router, prefix=PREFIX)
    app.include_router(insight.router, prefix=PREFIX)
    app.include_router(kpis.router, prefix=PREFIX)
    app.include_router(data.router, prefix=PREFIX)
    app.include_router(webhooks.router, prefix=PREFIX)
    app.include_router(edi.router, prefix=PREFIX)
    web.install(app)


def serve_app() -> FastAPI:
    """Factory for `uvicorn --factory leanstock.entrypoints.api.app:serve_app`: the app, with
    this process's logs set up as the settings say (JSON lines by default)."""
    settings = get_settings()
    logs.configure(settings)
    return create_app(settings)
