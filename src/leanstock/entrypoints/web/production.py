"""Production orders: the list, a new order, and the order page with its bill of materials and
its life cycle (release → start → produce, partly or all → close; cancel before it starts),
through the same services, permissions and location checks as `/api/v1/production-orders`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leanstock.domain.access import Actor
from leanstock.domain.errors import DomainError, InvalidInput, NotFound
from leanstock.domain.orders.production import ProductionStatus
from leanstock.entrypoints.api import access
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.forms import Form, read_form
from leanstock.entrypoints.web.orders import _done
from leanstock.entrypoints.web.render import done_banner, htmx, refused, render
from leanstock.services import catalog, production

router = APIRouter(include_in_schema=False)
PAGE = 50
FIELDS = ("sku", "quantity", "location", "due_date")
PRODUCE_FIELDS = ("quantity", "lot", "expires_on", "conversion_cost")


@router.get("/production-orders")
def production_orders(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("production:read")],
    status: str = "",
    offset: int = 0,
) -> Response:
    statuses = [s.value for s in ProductionStatus]
    page = production.list_production_orders(
        uow, status if status in statuses else None, PAGE, max(offset, 0)
    )
    context = {
        "page": page,
        "status": status,
        "statuses": statuses,
        "query": urlencode({"status": status}),
    }
    template = "production/_results.html" if htmx(request) else "production/index.html"
    return render(request, template, context)


def _new_context(
    uow: UowDep, actor: Actor, values: dict[str, str], error: DomainError | None
) -> dict[str, Any]:
    locations = [
        loc.code
        for loc in catalog.list_locations(uow, 200, 0, physical=True).items
        if actor.sees_location(loc.code)
    ]
    return {"values": values, "error": error, "locations": locations, "fields": FIELDS}


@router.get("/production-orders/new")
def new_production_order(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("production:write")]
) -> Response:
    return render(request, "production/new.html", _new_context(uow, actor, {}, None))


@router.post("/production-orders/new")
async def create_production_order(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("production:write")]
) -> Response:
    """A draft order: its bill of materials is exploded, the components reserved or pulled."""
    form = await read_form(request)
    try:
        sku = form.text("sku", "item to make")
        quantity = form.decimal("quantity", "quantity to make")
        location = form.text("location", "location")
        actor.require_location(location)
        view = production.create_production_order(
            uow,
            sku,
            quantity,
            location,
            due_date=form.day("due_date", "due date"),
            actor=actor.name,
        )
    except DomainError as error:
        context = _new_context(uow, actor, form.values, error)
        return render(request, "production/new.html", context, refused(error))
    return _done(request, f"/production-orders/{view.number}?done=created")


def _page(
    request: Request,
    uow: UowDep,
    actor: Actor,
    view: production.ProductionOrderView,
    values: dict[str, str],
    error: DomainError | None,
    status: int = 200,
) -> Response:
    try:
        bom: production.BomView | None = production.get_bom(uow, view.sku)
    except NotFound:
        bom = None
    here = actor.sees_location(view.location)
    state = ProductionStatus(view.status)
    execute = actor.can("production:execute") and here
    context = {
        "order": view,
        "bom": bom,
        "done": done_banner(request) if error is None else "",
        "values": values,
        "error": error,
        "can_release": state is ProductionStatus.DRAFT and actor.can("production:release"),
        "can_start": state is ProductionStatus.RELEASED and execute,
        "can_produce": state is ProductionStatus.IN_PROGRESS and execute,
        "can_close": state in (ProductionStatus.IN_PROGRESS, ProductionStatus.COMPLETED)
        and execute,
        "can_cancel": state in (ProductionStatus.DRAFT, ProductionStatus.RELEASED)
        and actor.can("production:write"),
    }
    return render(request, "production/show.html", context, status)


@router.get("/production-orders/{number}")
def production_order(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("production:read")],
) -> Response:
    view = production.get_production_order(uow, number)
    return _page(request, uow, actor, view, {}, None)


@router.post("/production-orders/{number}/release")
def release_production_order(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("production:release")],
) -> Response:
    production.release_production(uow, number, actor=actor.name)
    return _done(request, f"/production-orders/{number}?done=released")


@router.post("/production-orders/{number}/start")
def start_production_order(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("production:execute")],
) -> Response:
    """Issue the components to work in progress (refused, nothing moved, while one is short)."""
    access.check_production(uow, actor, number)
    production.start_production_order(uow, number, actor=actor.name)
    return _done(request, f"/production-orders/{number}?done=started")


def _produce(uow: UowDep, actor: Actor, number: str, form: Form) -> None:
    quantity = form.decimal("quantity", "quantity made")
    typed_cost = form.optional("conversion_cost")
    cost = form.decimal("conversion_cost", "conversion cost") if typed_cost else None
    production.produce(
        uow,
        number,
        quantity,
        lot=form.optional("lot"),
        expires_on=form.day("expires_on", "expiry date"),
        actor=actor.name,
        conversion_cost=cost,
    )


@router.post("/production-orders/{number}/produce")
async def produce(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("production:execute")],
) -> Response:
    """Report finished goods (part of the order, or the rest of it), with their lot."""
    form = await read_form(request)
    access.check_production(uow, actor, number)
    try:
        _produce(uow, actor, number, form)
    except DomainError as error:
        # A refusal naming no field of this form (too many made, say) is shown beside the
        # quantity, the one the user typed it into.
        shown = error if error.field in PRODUCE_FIELDS else InvalidInput(error.detail, "quantity")
        view = production.get_production_order(uow, number)
        return _page(request, uow, actor, view, form.values, shown, refused(error))
    return _done(request, f"/production-orders/{number}?done=reported")


@router.post("/production-orders/{number}/close")
def close_production_order(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("production:execute")],
) -> Response:
    """Close a started order: unused components go back to its location."""
    access.check_production(uow, actor, number)
    production.close_production(uow, number, actor=actor.name)
    return _done(request, f"/production-orders/{number}?done=closed")


@router.post("/production-orders/{number}/cancel")
def cancel_production_order(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("production:write")],
) -> Response:
    """Cancel an order not started: component reservations go back, pulled supply shrinks."""
    production.cancel_production(uow, number, reason="cancelled on the web", actor=actor.name)
    return _done(request, f"/production-orders/{number}?done=cancelled")
