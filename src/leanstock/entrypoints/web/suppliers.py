"""Suppliers: the list with each one's measured delivery performance (the ranking), and the
supplier page with its terms, items and scorecard, from the same services as the API.

A supplier user reads only its own supplier's page (its scorecard: `scorecard:read`), like
`GET /api/v1/suppliers/{code}/scorecard`; the terms and the list need `supplier:read`.

Both pages judge a bounded window of receipts, the last `months` months (6 unless chosen:
3, 6, 12, 24, or all), which the database filters before anything is read: the figures are
those of the API's scorecard with `since` = the window's first day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from leanstock.domain.access import Actor
from leanstock.domain.errors import NotFound
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.render import render
from leanstock.services import catalog, scorecards, supplier_standard
from leanstock.services.paging import MAX_PAGE

router = APIRouter(include_in_schema=False)
PAGE = 50
WINDOWS = (3, 6, 12, 24, 0)  # months; 0: everything ever received
DEFAULT_MONTHS = 6


def window(months: int) -> tuple[int, date | None]:
    """The chosen window (an unknown choice is the default) and its first day."""
    chosen = months if months in WINDOWS else DEFAULT_MONTHS
    if chosen == 0:
        return 0, None
    return chosen, datetime.now(UTC).date() - timedelta(days=round(chosen * 365 / 12))


@router.get("/suppliers")
def suppliers(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("scorecard:read")],
    months: int = DEFAULT_MONTHS,
) -> Response:
    """Every supplier, best on time in full first; a supplier user goes to its own page."""
    if not actor.can("supplier:read"):
        if actor.supplier is None:
            raise NotFound("page", "/suppliers", "path")
        return RedirectResponse(f"/suppliers/{actor.supplier}", status_code=303)
    chosen, since = window(months)
    cards = scorecards.ranking(uow, since)
    names = {s.code: s for s in catalog.list_suppliers(uow, MAX_PAGE, 0).items}
    context = {
        "cards": cards,
        "names": names,
        "standard": supplier_standard.get_standard(uow),
        "months": chosen,
        "since": since,
        "windows": WINDOWS,
    }
    return render(request, "suppliers/index.html", context)


@router.get("/suppliers/{code}")
def supplier_page(
    code: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("scorecard:read")],
    offset: int = 0,
    months: int = DEFAULT_MONTHS,
) -> Response:
    """Terms and items (to who may read suppliers) and the scorecard: overall, month by month
    and per item, with the reasons when it is below the standard."""
    if not actor.sees_supplier(code):
        raise NotFound("supplier", code, "code")
    supplier = catalog.get_supplier(uow, code)
    terms = None
    if actor.can("supplier:read"):
        terms = catalog.list_supplier_items(uow, PAGE, max(offset, 0), supplier=supplier.code)
    chosen, since = window(months)
    card = scorecards.scorecard(uow, supplier.code, since)
    context = {
        "months": chosen,
        "since": since,
        "windows": WINDOWS,
        "supplier": supplier,
        "page": terms,
        "card": card,
        "by_item": {row["sku"]: row for row in card.items},
        "standard": supplier_standard.get_standard(uow),
        "query": "",
    }
    return render(request, "suppliers/show.html", context)
