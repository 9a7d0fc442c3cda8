"""Stocktakes for people: the list with a form to open a count, and the count page where lines
are counted, then posted or cancelled. The same services, permissions and location checks as
`/api/v1/stocktakes`; an open blind count shows the books only to those with
`blind_count:read`.

A refusal is shown beside the form that caused it, which keeps what was typed.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leanstock.domain.access import Actor
from leanstock.domain.errors import DomainError, NotFound
from leanstock.domain.stocktake import StocktakeStatus
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.forms import read_form
from leanstock.entrypoints.web.orders import _done
from leanstock.entrypoints.web.render import done_banner, render
from leanstock.services import catalog
from leanstock.services.stock import stocktakes
from leanstock.services.stock.stocktakes import CountEntry

router = APIRouter(include_in_schema=False)
PAGE = 50
BLIND = "blind_count:read"
Reader = Annotated[Actor, permit("stock:read")]
Writer = Annotated[Actor, permit("stock:write")]


def _status(error: DomainError) -> int:
    return 404 if isinstance(error, NotFound) and error.field == "stocktake" else 422


def _index(
    request: Request,
    uow: UowDep,
    actor: Actor,
    status: str,
    offset: int,
    values: dict[str, str],
    error: DomainError | None,
    code: int = 200,
) -> Response:
    statuses = [s.value for s in StocktakeStatus]
    page = stocktakes.list_stocktakes(
        uow, status if status in statuses else None, None, PAGE, max(offset, 0)
    )
    locations = [
        loc.code
        for loc in catalog.list_locations(uow, 200, 0, physical=True).items
        if actor.sees_location(loc.code)
    ]
    context: dict[str, Any] = {
        "page": page,
        "status": status,
        "statuses": statuses,
        "query": urlencode({"status": status}),
        "locations": locations,
        "values": values,
        "error": error,
    }
    return render(request, "stocktakes/index.html", context, code)


@router.get("/stocktakes")
def stocktakes_page(
    request: Request, uow: UowDep, actor: Reader, status: str = "", offset: int = 0
) -> Response:
    return _index(request, uow, actor, status, offset, {}, None)


@router.post("/stocktakes")
async def start_stocktake(request: Request, uow: UowDep, actor: Writer) -> Response:
    """Open a count at a location: every item or one category, frozen and blind as ticked."""
    form = await read_form(request)
    try:
        location = form.text("location", "location")
        actor.require_location(location)
        view = stocktakes.start_stocktake(
            uow,
            location,
            category=form.optional("category"),
            freeze=form.optional("freeze") is not None,
            blind=form.optional("blind") is not None,
            actor=actor.name,
        )
    except DomainError as error:
        code = 409 if error.title.startswith("Conflict") else 422
        return _index(request, uow, actor, "", 0, form.values, error, code)
    return _done(request, f"/stocktakes/{view.number}")


def _page(
    request: Request,
    actor: Actor,
    view: stocktakes.StocktakeView,
    values: dict[str, str],
    error: DomainError | None,
    status: int = 200,
) -> Response:
    open_here = view.status == StocktakeStatus.OPEN.value and actor.sees_location(view.location)
    context = {
        "st": view,
        "done": done_banner(request) if error is None else "",
        "values": values,
        "error": error,
        "can_count": open_here and actor.can("stock:write"),
    }
    return render(request, "stocktakes/show.html", context, status)


@router.get("/stocktakes/{number}")
def stocktake_page(number: str, request: Request, uow: UowDep, actor: Reader) -> Response:
    view = stocktakes.get_stocktake(uow, number, show_expected=actor.can(BLIND))
    return _page(request, actor, view, {}, None)


@router.post("/stocktakes/{number}/lines")
async def count_line(number: str, request: Request, uow: UowDep, actor: Writer) -> Response:
    """Count one line (a line counted again keeps the last count)."""
    form = await read_form(request)
    try:
        entry = CountEntry(
            form.text("sku", "item's SKU"),
            form.decimal("counted", "counted quantity"),
            lot=form.optional("lot"),
        )
        stocktakes.enter_counts(uow, number, [entry], actor=actor.name)
    except DomainError as error:
        view = stocktakes.get_stocktake(uow, number, show_expected=actor.can(BLIND))
        return _page(request, actor, view, form.values, error, _status(error))
    return _done(request, f"/stocktakes/{number}?done=counted")


@router.post("/stocktakes/{number}/post")
async def post_stocktake(number: str, request: Request, uow: UowDep, actor: Writer) -> Response:
    """Post every counted difference as one adjustment with reason `count`."""
    try:
        stocktakes.post_stocktake(uow, number, actor=actor.name)
    except DomainError as error:
        view = stocktakes.get_stocktake(uow, number, show_expected=actor.can(BLIND))
        return _page(request, actor, view, {}, error, 409)
    return _done(request, f"/stocktakes/{number}?done=posted")


@router.post("/stocktakes/{number}/cancel")
async def cancel_stocktake(number: str, request: Request, uow: UowDep, actor: Writer) -> Response:
    stocktakes.cancel_stocktake(uow, number, actor=actor.name)
    return _done(request, f"/stocktakes/{number}?done=cancelled")
