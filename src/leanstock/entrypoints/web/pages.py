"""Signing in and out, Today, items and stock: pages over the same services as the API.

Each route declares the permission it needs with `permit(...)`, like the API's; a page asked
for by HTMX (`HX-Request`) gets only the part that changes.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from leanstock.domain.access import Actor
from leanstock.domain.catalog import ItemKind
from leanstock.domain.errors import DomainError, InvalidInput, NotFound, TooManyAttempts
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.security import client_address, cookie_name, forget_cookie
from leanstock.entrypoints.web.forms import read_form
from leanstock.entrypoints.web.render import htmx, render
from leanstock.services import (
    attention,
    catalog,
    forecasting,
    insight,
    item_list,
    kpis,
    queries,
    signin,
    stock,
)
from leanstock.services.paging import MAX_PAGE

router = APIRouter(include_in_schema=False)
PAGE = 50


def home_of(actor: Actor) -> str:
    """Where a user lands: Today, or (a supplier) its portal."""
    return "/" if actor.can("stock:read") else "/portal"


def own_location(actor: Actor, location: str | None) -> str | None:
    """A warehouse user limited to some locations reads one of them (its first by default)."""
    if location is None and actor.locations is not None:
        return sorted(actor.locations)[0]
    return location


def _safe_next(target: str) -> str:
    """Only a path on this site: never `//other.host` or a full URL."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


# Signing in and out


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "email": "", "error": ""})


@router.post("/login")
async def login(request: Request, uow: UowDep) -> Response:
    """Sign in with the form: the same service, throttling and audit as the API's sign-in."""
    form = await read_form(request)
    email = form.values.get("email", "").strip()
    target = _safe_next(form.values.get("next", "/"))
    settings = request.app.state.settings
    try:
        if not email or not form.values.get("password"):
            raise InvalidInput("Enter your email and password.", "email")
        signed = signin.login(
            uow,
            email,
            form.values["password"],
            client_address(request.scope),
            timedelta(hours=settings.session_absolute_hours),
            timedelta(minutes=settings.session_idle_minutes),
        )
    except DomainError as error:
        status = 401
        if isinstance(error, TooManyAttempts):
            status = 429
        elif isinstance(error, InvalidInput):
            status = 422
        context = {"next": target, "email": email, "error": error.detail}
        return render(request, "login.html", context, status)
    previous = request.cookies.get(cookie_name(settings))
    if previous:
        signin.logout(uow, previous)
    if target == "/" and not signed.actor.can("stock:read"):
        target = home_of(signed.actor)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        cookie_name(settings),
        signed.session_id,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/logout", dependencies=[permit("account:self")])
def logout(request: Request, uow: UowDep) -> Response:
    """End the session (the middleware has checked its CSRF token) and forget the cookie."""
    name = cookie_name(request.app.state.settings)
    session_id = request.cookies.get(name)
    if session_id:
        signin.logout(uow, session_id)
    response = RedirectResponse("/login", status_code=303)
    forget_cookie(response, name)
    return response


# Today


@router.get("/")
def today(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("account:read")]
) -> Response:
    if not actor.can("stock:read"):
        return RedirectResponse(home_of(actor), status_code=303)
    location = own_location(actor, None)
    found = attention.today(uow, location=location)
    return render(request, "today.html", {"t": found, "location": location})


@router.get("/today/kpis")
def today_kpis(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("plan:read")]
) -> Response:
    """Today's KPI tiles and monthly chart (loaded after the page: a report first brings the
    cost snapshot up to date, and a backdated move makes that a rebuild,
    `services/kpi_snapshot.py`)."""
    location = own_location(actor, None)
    report = kpis.kpis(uow, months=12, location=location)
    window = report.window[0] if report.window else None
    series = {
        "months": [f.period for f in report.history],
        "tied_up": [float(f.money_tied_up) for f in report.history],
        "fill_rate": [None if f.fill_rate is None else float(f.fill_rate) for f in report.history],
    }
    return render(
        request,
        "_kpis.html",
        {"k": window, "report": report, "series": json.dumps(series), "location": location},
    )


# Items


@router.get("/items")
def items(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("catalog:read")],
    q: str = "",
    category: str = "",
    kind: str = "",
    classes: str = "",
    sort: str = "sku",
    dir: str = "asc",
    offset: int = 0,
) -> Response:
    """The items, searched, filtered and sorted (`services/item_list.py`), each with its
    barcode, stock, available and days of cover, and, for a role that reads plans, its ABC
    class; with `classes`, also its XYZ class, demand class and stock health with a suggested
    action (`services/insight.classify_items`, as `GET /api/v1/classification`)."""
    plans = actor.can("plan:read")
    filters = _item_filters(q, category, kind)
    page = item_list.item_rows(
        uow,
        PAGE,
        max(offset, 0),
        sort=sort,
        descending=dir == "desc",
        classes=plans,
        **filters,
    )
    classed: dict[str, dict[str, Any]] | None = None
    if classes and plans:
        frame = insight.classify_items(uow, datetime.now(UTC).date())
        classed = {str(r["sku"]): r for r in frame.iter_rows(named=True)}
    shown = {"q": q, "category": category, "kind": kind} | ({"classes": 1} if classes else {})
    ordering = {} if (sort, dir) == ("sku", "asc") else {"sort": sort, "dir": dir}
    context = {
        "page": page,
        "q": q,
        "category": category,
        "kind": kind,
        "kinds": [k.value for k in ItemKind],
        "classes": classes,
        "classed": classed,
        "plans": plans,
        "sort": sort,
        "dir": "desc" if dir == "desc" else "asc",
        "filters": urlencode(shown),
        "query": urlencode(shown | ordering),
    }
    template = "items/_results.html" if htmx(request) else "items/index.html"
    return render(request, template, context)


def _item_filters(q: str, category: str, kind: str) -> dict[str, Any]:
    chosen = ItemKind(kind) if kind in {k.value for k in ItemKind} else None
    return {"search": q.strip() or None, "category": category.strip() or None, "kind": chosen}


def _as_text(value: str) -> str:
    """A text cell a spreadsheet will not run: one starting with =, +, -, @, a tab or a carriage
    return gets a leading apostrophe (OWASP's advice for CSV files opened in Excel or Calc), so an
    item named "=HYPERLINK(...)" shows as text instead of becoming a live formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


ITEM_COLUMNS = ["sku", "name", "barcode", "category", "abc_class", "stock", "available"]


@router.get("/items.csv")
def items_csv(
    uow: UowDep,
    actor: Annotated[Actor, permit("catalog:read")],
    q: str = "",
    category: str = "",
    kind: str = "",
    sort: str = "sku",
    dir: str = "asc",
) -> Response:
    """The items the list shows (same search, filters and order), all pages, as CSV, with the
    list's figures (the ABC class for a role that reads plans)."""
    plans = actor.can("plan:read")
    out = io.StringIO()
    writer = csv.writer(out)
    columns = [*ITEM_COLUMNS, "days_of_cover", "kind", "policy", "unit", "unit_cost"]
    writer.writerow([*columns, "lot_tracked", "shelf_life_days", "active"])
    offset = 0
    while True:
        page = item_list.item_rows(
            uow,
            MAX_PAGE,
            offset,
            sort=sort,
            descending=dir == "desc",
            classes=plans,
            **_item_filters(q, category, kind),
        )
        for row in page.items:
            item = row.item
            writer.writerow(
                [
                    _as_text(item.sku),
                    _as_text(item.name),
                    _as_text(row.barcode or ""),
                    _as_text(item.category),
                    row.abc_class or "",
                    row.stock,
                    row.available,
                    "" if row.days_of_cover is None else row.days_of_cover,
                    item.kind.value,
                    item.policy.value,
                    item.unit,
                    item.unit_cost,
                    item.lot_tracked,
                    item.shelf_life_days or "",
                    item.active,
                ]
            )
        offset += MAX_PAGE
        if offset >= page.total:
            break
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="items.csv"'},
    )


@router.get("/items/options")
def item_options(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("catalog:read")], q: str = ""
) -> Response:
    """Up to 20 active items matching `q` as `<option>`s: the autocomplete of a SKU field.
    HTMX sends the field under its own name (`sku`, `sku_3`), so any such value is the search."""
    typed = q or next(
        (v for k, v in request.query_params.items() if k == "sku" or k.startswith("sku_")), ""
    )
    found = catalog.list_items(uow, 20, 0, search=typed.strip() or None, active=True).items
    return render(request, "items/_options.html", {"items": found})


@router.get("/items/{sku}")
def item_page(
    sku: str, request: Request, uow: UowDep, actor: Annotated[Actor, permit("catalog:read")]
) -> Response:
    item = catalog.get_item(uow, sku)
    context: dict[str, Any] = {"item": item, "location": None, "stock": [], "lots": []}
    context["moves"], context["moves_total"] = [], 0
    context["has_forecast"] = False
    if actor.can("stock:read"):
        location = own_location(actor, None)
        context["location"] = location
        context["stock"] = queries.stock(uow, sku, location, 100, 0).items
        if item.lot_tracked:
            context["lots"] = queries.lots(uow, sku, location)
        total = queries.moves(uow, sku, location, limit=1).total
        recent = queries.moves(uow, sku, location, limit=25, offset=max(total - 25, 0))
        context["moves"] = list(reversed(recent.items))
        context["moves_total"] = total
    if actor.can("forecast:read"):
        context["has_forecast"] = _forecast(uow, sku) is not None
    context["terms"] = (
        catalog.list_supplier_items(uow, 50, 0, sku=sku).items if actor.can("supplier:read") else []
    )
    return render(request, "items/show.html", context)


def _forecast(uow: UowDep, sku: str) -> list[dict[str, Any]] | None:
    try:
        _, rows = forecasting.item_forecast(uow, sku)
    except NotFound:
        return None
    return rows or None


@router.get("/items/{sku}/chart.json")
def item_chart(
    sku: str, uow: UowDep, actor: Annotated[Actor, permit("stock:read")]
) -> JSONResponse:
    """The item page's chart: weekly shipments and the forecast (summed over locations),
    with its 80% and 95% quantiles (the stock that covers demand 4 and 19 times in 20)."""
    history = queries.weekly_shipped(uow, sku)
    forecast: dict[str, dict[str, float]] = {}
    if actor.can("forecast:read"):
        for row in _forecast(uow, sku) or []:
            key = row["ds"].isoformat()
            point = forecast.setdefault(key, {"forecast": 0.0, "q80": 0.0, "q95": 0.0})
            quantiles = row.get("quantiles") or {}
            point["forecast"] += float(row["forecast"])
            point["q80"] += float(quantiles.get("q80") or row["forecast"])
            point["q95"] += float(quantiles.get("q95") or row["forecast"])
    return JSONResponse(
        {
            "history": [
                {"week": h["week"].isoformat(), "shipped": float(h["shipped"])} for h in history
            ],
            "forecast": [{"ds": ds, **values} for ds, values in sorted(forecast.items())],
        }
    )


# Stock


@router.get("/stock")
def stock_page(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("stock:read")],
    sku: str = "",
    location: str = "",
    short: str = "",
    offset: int = 0,
) -> Response:
    where = own_location(actor, location.strip() or None)
    if where is not None:
        actor.require_location(where)
    page = queries.stock_page(
        uow, sku.strip() or None, where, PAGE, max(offset, 0), short_only=bool(short)
    )
    locations = [
        loc.code
        for loc in catalog.list_locations(uow, 200, 0, physical=True).items
        if actor.sees_location(loc.code)
    ]
    query = urlencode({"sku": sku, "location": location, "short": short})
    context = {
        "page": page,
        "sku": sku,
        "location": where or "",
        "short": short,
        "locations": locations,
        "query": query,
    }
    template = "stock/_results.html" if htmx(request) else "stock/index.html"
    return render(request, template, context)


@router.get("/stock/count")
def count_sheet(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("stock:write")],
    location: str = "",
    sku: str = "",
    offset: int = 0,
) -> Response:
    """A count sheet for one location: each row is counted and booked on its own."""
    locations = [
        loc.code
        for loc in catalog.list_locations(uow, 200, 0, physical=True).items
        if actor.sees_location(loc.code)
    ]
    where = location.strip() or (locations[0] if locations else "")
    actor.require_location(where)
    page = queries.stock_page(uow, sku.strip() or None, where, PAGE, max(offset, 0))
    context = {
        "page": page,
        "location": where,
        "locations": locations,
        "sku": sku,
        "query": urlencode({"location": where, "sku": sku}),
    }
    template = "stock/_count_rows.html" if htmx(request) else "stock/count.html"
    return render(request, template, context)


@router.post("/stock/count")
async def count_row(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("stock:write")]
) -> Response:
    """Book one counted quantity (the difference goes to or from `adjustment`); the row
    comes back with the new figures, or with the problem and what was typed."""
    form = await read_form(request)
    sku = form.values.get("sku", "")
    location = form.values.get("location", "")
    context: dict[str, Any] = {"values": form.values, "error": None, "done": False}
    status = 200
    try:
        actor.require_location(location)
        counted = form.decimal("counted", "counted quantity")
        stock.count(uow, sku, location, counted, lot=form.optional("lot"), reference="count sheet")
        context["done"] = True
    except DomainError as error:
        context["error"] = error
        status = 404 if isinstance(error, NotFound) else 422
    rows = queries.stock_page(uow, sku, location, 1, 0).items if sku and location else []
    context["r"] = (
        rows[0]
        if rows
        else {
            "sku": sku,
            "location": location,
            "on_hand": None,
            "reserved": None,
            "available": None,
            "unit": "",
        }
    )
    return render(request, "stock/_count_row.html", context, status)
