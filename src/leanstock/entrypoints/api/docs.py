"""Interactive API docs (Swagger UI at /docs, ReDoc at /redoc) served from the package.

FastAPI's own pages load their scripts from a CDN, so they are blank without internet. Here
the assets are vendored in `static/docs/` (swagger-ui-dist 5, Apache-2.0; redoc 2, MIT; each
with its licence, see NOTICE) and served at /docs/assets, so the docs work offline.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static" / "docs"
ASSETS_URL = "/docs/assets"
FAVICON = f"{ASSETS_URL}/swagger-ui/favicon-32x32.png"


def install(app: FastAPI) -> None:
    """Add /docs, /docs/oauth2-redirect, /redoc and their assets; create the app with
    `docs_url=None, redoc_url=None` so FastAPI's CDN pages are not added too.

    The pages are module functions that read the app from the request, not closures made per
    app: FastAPI caches what it learns of each endpoint function in process-wide caches (4,096
    entries), so a closure per app would keep every app of the process alive, with its engine
    and that engine's compiled SQL (a test session makes an app per client)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    app.get("/docs", include_in_schema=False)(swagger_ui)
    app.get("/docs/oauth2-redirect", include_in_schema=False)(swagger_ui_redirect)
    app.get("/redoc", include_in_schema=False)(redoc)


def _title(app: FastAPI) -> str:
    return f"{app.title} {app.version}"


def swagger_ui(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{_title(app)} — API docs",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=FAVICON,
        oauth2_redirect_url="/docs/oauth2-redirect",
        # No call to the public validator service: the spec never leaves the server.
        swagger_ui_parameters={"validatorUrl": None},
    )


def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


def redoc(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    return get_redoc_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{_title(app)} — API reference",
        redoc_js_url=f"{ASSETS_URL}/redoc/redoc.standalone.js",
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    )
