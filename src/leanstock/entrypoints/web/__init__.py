"""The web app: server-rendered pages (Jinja2) with HTMX, over the same services as the API.

Served by the same application as the API (`leanstock serve`, `leanstock demo`) at `/`. Its
scripts and styles are vendored in `static/` (HTMX, uPlot; see NOTICE), never from a CDN.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from leanstock.entrypoints.web.render import STATIC


def install(app: FastAPI) -> None:
    """Mount the static files and add the pages."""
    from leanstock.entrypoints.web import (
        customers,
        forecasts,
        imports,
        kpis,
        orders,
        pages,
        portal,
        production,
        settings,
        stockmoves,
        stocktakes,
        suppliers,
        transfers,
    )

    app.mount("/static", StaticFiles(directory=STATIC), name="web-static")
    app.include_router(pages.router)
    app.include_router(stockmoves.router)
    app.include_router(stocktakes.router)
    app.include_router(transfers.router)
    app.include_router(production.router)
    app.include_router(settings.router)
    app.include_router(orders.router)
    app.include_router(customers.router)
    app.include_router(portal.router)
    app.include_router(suppliers.router)
    app.include_router(forecasts.router)
    app.include_router(kpis.router)
    app.include_router(imports.router)
