"""The KPIs page: the KPIs of a window (now) and month by month, with charts, per company,
category, location or item, from the same service as `GET /api/v1/kpis` and under the same
rules (`plan:read`; a user limited to some locations reads one of them)."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leanstock.domain.access import Actor
from leanstock.domain.errors import InvalidInput
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.pages import own_location
from leanstock.entrypoints.web.render import htmx, render
from leanstock.services import catalog, kpis
from leanstock.services.kpis import Figures, KpiReport

router = APIRouter(include_in_schema=False)
PAGE = 50
MONTHS = (3, 6, 12, 24, 36)


def _number(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number (got {text!r}).", name) from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be from {low} to {high} (got {value}).", name)
    return value


def series(history: list[Figures]) -> str:
    """The charts' numbers, month by month, as the page's script reads them."""

    def floats(name: str) -> list[float | None]:
        out: list[float | None] = []
        for f in history:
            value = getattr(f, name)
            out.append(None if value is None else float(value))
        return out

    return json.dumps(
        {
            "months": [f.period for f in history],
            "tied_up": floats("money_tied_up"),
            "stock_value": floats("stock_value"),
            "carrying_cost": floats("carrying_cost"),
            "scrap_cost": floats("scrap_cost"),
            "fill_rate": floats("fill_rate"),
            "cycle_service": floats("cycle_service"),
            "wape": floats("wape"),
        }
    )


@router.get("/kpis")
def kpis_page(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("plan:read")],
    group_by: str = "company",
    months: str = "12",
    sku: str = "",
    category: str = "",
    location: str = "",
    offset: str = "0",
) -> Response:
    """The company's (or the filter's) KPIs now and month by month, with charts; grouped by
    category, location or item, a table of the groups (largest money tied up first)."""
    where = own_location(actor, location.strip() or None)
    if where is not None:
        actor.require_location(where)
    span = _number(months, "months", 1, kpis.MAX_MONTHS)
    start = _number(offset or "0", "offset", 0, 1_000_000)
    chosen_sku, chosen_category = sku.strip() or None, category.strip() or None
    total: KpiReport = kpis.kpis(
        uow, months=span, sku=chosen_sku, category=chosen_category, location=where
    )
    groups: KpiReport | None = None
    if group_by != "company":
        groups = kpis.kpis(
            uow,
            group_by=group_by,
            months=span,
            sku=chosen_sku,
            category=chosen_category,
            location=where,
            limit=PAGE,
            offset=start,
        )
    locations = [
        loc.code
        for loc in catalog.list_locations(uow, 200, 0, physical=True).items
        if actor.sees_location(loc.code)
    ]
    context = {
        "total": total,
        "k": total.window[0] if total.window else None,
        "groups": groups,
        "series": series(total.history),
        "group_by": group_by,
        "months": span,
        "month_choices": sorted({*MONTHS, span}),
        "sku": sku.strip(),
        "category": category.strip(),
        "location": where or "",
        "locations": locations,
        "can_choose_all": actor.locations is None,
        "query": urlencode(
            {
                "group_by": group_by,
                "months": span,
                "sku": sku.strip(),
                "category": category.strip(),
                "location": where or "",
            }
        ),
        "page": {
            "offset": start,
            "limit": PAGE,
            "total": groups.total if groups else 0,
        },
    }
    template = "kpis/_report.html" if htmx(request) else "kpis/index.html"
    return render(request, template, context)
