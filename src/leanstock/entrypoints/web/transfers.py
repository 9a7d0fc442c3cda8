"""Transfer orders: the list, a new order, and the order page (shipped at the source, received at
the target, cancelled before it ships), through the same services and location checks as
`/api/v1/transfer-orders`."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leanstock.domain.access import Actor
from leanstock.domain.errors import DomainError, InvalidInput, NotFound
from leanstock.domain.orders.transfers import TRANSFER_DAYS, TransferStatus
from leanstock.entrypoints.api import access
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.forms import read_form
from leanstock.entrypoints.web.orders import _done
from leanstock.entrypoints.web.render import done_banner, htmx, refused, render
from leanstock.services import catalog, transfers

router = APIRouter(include_in_schema=False)
UNSHIPPED = (TransferStatus.DRAFT.value, TransferStatus.RELEASED.value)
PAGE = 50


@router.get("/transfer-orders")
def transfer_orders(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("transfer:read")],
    status: str = "",
    offset: int = 0,
) -> Response:
    statuses = [s.value for s in TransferStatus]
    page = transfers.list_transfer_orders(
        uow, status if status in statuses else None, PAGE, max(offset, 0)
    )
    context = {
        "page": page,
        "status": status,
        "statuses": statuses,
        "query": urlencode({"status": status}),
    }
    template = "transfers/_results.html" if htmx(request) else "transfers/index.html"
    return render(request, template, context)


FIELDS = ("sku", "source", "target", "quantity", "expected_date")


def _new_context(
    uow: UowDep, actor: Actor, values: dict[str, str], error: DomainError | None
) -> dict[str, Any]:
    locations = [
        loc.code
        for loc in catalog.list_locations(uow, 200, 0, physical=True).items
        if actor.sees_location(loc.code)
    ]
    return {
        "values": values,
        "error": error,
        "locations": locations,
        "fields": FIELDS,
        "transfer_days": TRANSFER_DAYS,
    }


@router.get("/transfer-orders/new")
def new_transfer_order(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("transfer:write")]
) -> Response:
    return render(request, "transfers/new.html", _new_context(uow, actor, {}, None))


@router.post("/transfer-orders/new")
async def create_transfer_order(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("transfer:write")]
) -> Response:
    """A draft transfer; its quantity is reserved at the source at once (refused when the
    source has not that much available)."""
    form = await read_form(request)
    try:
        sku = form.text("sku", "item's SKU")
        source = form.text("source", "location it leaves")
        actor.require_location(source, "source")
        target = form.text("target", "location it goes to")
        quantity = form.decimal("quantity", "quantity")
        view = transfers.create_transfer_order(
            uow,
            sku,
            source,
            target,
            quantity,
            expected_date=form.day("expected_date", "expected date"),
            actor=actor.name,
        )
    except DomainError as error:
        if error.field not in FIELDS:
            # Not enough available at the source: said beside the quantity asked for.
            error = InvalidInput(error.detail, "quantity") if error.field is None else error
        context = _new_context(uow, actor, form.values, error)
        return render(request, "transfers/new.html", context, refused(error))
    return _done(request, f"/transfer-orders/{view.number}?done=created")


def _page(
    request: Request,
    actor: Actor,
    view: transfers.TransferOrderView,
    values: dict[str, str],
    error: DomainError | None,
    status: int = 200,
) -> Response:
    context = {
        "order": view,
        "done": done_banner(request) if error is None else "",
        "values": values,
        "error": error,
        "can_ship": view.status in UNSHIPPED
        and actor.can("transfer:execute")
        and actor.sees_location(view.source),
        "can_receive": view.status == TransferStatus.IN_TRANSIT.value
        and actor.can("transfer:execute")
        and actor.sees_location(view.target),
        "can_cancel": view.status in UNSHIPPED and actor.can("transfer:write"),
    }
    return render(request, "transfers/show.html", context, status)


@router.get("/transfer-orders/{number}")
def transfer_order(
    number: str, request: Request, uow: UowDep, actor: Annotated[Actor, permit("transfer:read")]
) -> Response:
    return _page(request, actor, transfers.get_transfer_order(uow, number), {}, None)


@router.post("/transfer-orders/{number}/ship")
def ship_transfer_order(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("transfer:execute")],
) -> Response:
    """Send the goods on their way (source → in transit)."""
    access.check_transfer(uow, actor, number, "source")
    transfers.ship_transfer(uow, number, actor=actor.name)
    return _done(request, f"/transfer-orders/{number}?done=shipped")


@router.post("/transfer-orders/{number}/receive")
async def receive_transfer_order(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("transfer:execute")],
) -> Response:
    """Receive at the target: all that was shipped, or what arrived (the rest is written off)."""
    form = await read_form(request)
    access.check_transfer(uow, actor, number, "target")
    try:
        typed = form.optional("quantity")
        quantity = form.decimal("quantity", "quantity that arrived") if typed else None
        transfers.receive_transfer(uow, number, quantity, actor=actor.name)
    except DomainError as error:
        view = transfers.get_transfer_order(uow, number)
        status = 404 if isinstance(error, NotFound) else 422
        return _page(request, actor, view, form.values, error, status)
    return _done(request, f"/transfer-orders/{number}?done=received")


@router.post("/transfer-orders/{number}/cancel")
def cancel_transfer_order(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("transfer:write")],
) -> Response:
    """Cancel a transfer not yet shipped: the source's reservation goes back."""
    transfers.cancel_transfer(uow, number, actor=actor.name)
    return _done(request, f"/transfer-orders/{number}?done=cancelled")
