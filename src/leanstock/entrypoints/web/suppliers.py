"""Suppliers: the list with each one's measured delivery performance (the ranking), and the
supplier page with its terms, items and scorecard, from the same services as the API.

A supplier user reads only its own supplier's page (its scorecard: `scorecard:read`), like
`GET /api/v1/suppliers/{code}/scorecard`; the terms and the list need `supplier:read`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from leanstock.domain.access import Actor
from leanstock.domain.errors import NotFound
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.render import render
from leanstock.services import catalog, scorecards
from leanstock.services.paging import MAX_PAGE

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/suppliers")
def suppliers(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("scorecard:read")]
) -> Response:
    """Every supplier, best on time in full first; a supplier user goes to its own page."""
    if not actor.can("supplier:read"):
        if actor.supplier is None:
            raise NotFound("page", "/suppliers", "path")
        return RedirectResponse(f"/suppliers/{actor.supplier}", status_code=303)
    cards = scorecards.ranking(uow)
    names = {s.code: s for s in catalog.list_suppliers(uow, MAX_PAGE, 0).items}
    context = {"cards": cards, "names": names, "standard": scorecards.Standard()}
    return render(request, "suppliers/index.html", context)


@router.get("/suppliers/{code}")
def supplier_page(
    code: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("scorecard:read")],
    offset: int = 0,
) -> Response:
    """Terms and items (to who may read suppliers) and the scorecard: overall, month by month
    and per item, with the reasons when it is below the standard."""
    if not actor.sees_supplier(code):
        raise NotFound("supplier", code, "code")
    supplier = catalog.get_supplier(uow, code)
    terms = None
    if actor.can("supplier:read"):
        terms = catalog.list_supplier_items(uow, PAGE, max(offset, 0), supplier=supplier.code)
    card = scorecards.scorecard(uow, supplier.code)
    context = {
        "supplier": supplier,
        "page": terms,
        "card": card,
        "by_item": {row["sku"]: row for row in card.items},
        "standard": scorecards.Standard(),
        "query": "",
    }
    return render(request, "suppliers/show.html", context)
