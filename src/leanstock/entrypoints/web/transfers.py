"""Transfer orders: the list and the order page, shipped at the source and received at the
target, through the same services and location checks as `/api/v1/transfer-orders`."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leanstock.domain.access import Actor
from leanstock.domain.errors import DomainError, NotFound
from leanstock.domain.orders.transfers import TransferStatus
from leanstock.entrypoints.api import access
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.forms import read_form
from leanstock.entrypoints.web.orders import _done
from leanstock.entrypoints.web.render import render
from leanstock.services import transfers

router = APIRouter(include_in_schema=False)
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
    return render(request, "transfers/index.html", context)


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
        "done": request.query_params.get("done", "") if error is None else "",
        "values": values,
        "error": error,
        "can_ship": view.status == TransferStatus.RELEASED.value
        and actor.can("transfer:execute")
        and actor.sees_location(view.source),
        "can_receive": view.status == TransferStatus.IN_TRANSIT.value
        and actor.can("transfer:execute")
        and actor.sees_location(view.target),
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
