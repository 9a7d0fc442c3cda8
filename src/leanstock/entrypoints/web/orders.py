"""Purchase orders, sales orders and plans: lists, order pages and their actions.

An action posts a form to a page route that calls the same service (and the same binding
checks, `entrypoints/api/access.py`) as the API. A refusal from the service is shown on the
page, beside its field where it names one, and the form keeps what was typed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from leanstock.domain.access import Actor
from leanstock.domain.errors import DomainError, InvalidInput, NotFound
from leanstock.domain.orders import PurchaseStatus, SalesStatus
from leanstock.domain.orders.purchasing import RECEIVABLE, RejectTo
from leanstock.entrypoints.api import access
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.forms import Form, read_form
from leanstock.entrypoints.web.render import done_banner, htmx, render
from leanstock.services import catalog, orders, planning, purchasing

router = APIRouter(include_in_schema=False)
PAGE = 50
ZERO = Decimal(0)


def _done(request: Request, target: str) -> Response:
    """After an action: the order page again (HTMX follows `HX-Location` without a reload)."""
    if htmx(request):
        return Response(status_code=204, headers={"HX-Location": target})
    return RedirectResponse(target, status_code=303)


# Purchase orders


@router.get("/purchase-orders")
def purchase_orders(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:read")],
    status: str = "",
    supplier: str = "",
    offset: int = 0,
) -> Response:
    statuses = [s.value for s in PurchaseStatus]
    wanted = supplier.strip() or None
    if actor.supplier is not None:
        wanted = actor.supplier
    page = purchasing.list_purchase_orders(
        uow, status if status in statuses else None, wanted, PAGE, max(offset, 0)
    )
    context = {
        "page": page,
        "status": status,
        "supplier": supplier,
        "statuses": statuses,
        "query": urlencode({"status": status, "supplier": supplier}),
    }
    template = "purchase/_results.html" if htmx(request) else "purchase/index.html"
    return render(request, template, context)


def _purchase_context(
    uow: UowDep, actor: Actor, view: purchasing.PurchaseOrderView
) -> dict[str, Any]:
    order = access.purchase_out(uow, actor, view)
    receivable = view.status in {s.value for s in RECEIVABLE} and any(
        ln.outstanding > 0 for ln in view.lines
    )
    lines = [ln for ln in order.lines if actor.sees_location(ln.location)]
    return {
        "order": order,
        "lines": lines,
        "receivable": receivable and actor.can("purchase:receive"),
        "reject_to": [r.value for r in RejectTo],
    }


@router.get("/purchase-orders/{number}")
def purchase_order(
    number: str, request: Request, uow: UowDep, actor: Annotated[Actor, permit("purchase:read")]
) -> Response:
    view = access.purchase_order(uow, actor, number)
    context = _purchase_context(uow, actor, view)
    context.update(values={}, error=None, done=done_banner(request))
    return render(request, "purchase/show.html", context)


def _receipt_lines(form: Form, view: purchasing.PurchaseOrderView) -> list[purchasing.ReceiptLine]:
    lines = []
    for line in view.lines:
        n = line.line_no
        if not (form.optional(f"qty_{n}") or form.optional(f"rejected_{n}")):
            continue
        quantity = form.decimal(f"qty_{n}", f"quantity received on line {n}", default=ZERO)
        rejected = form.decimal(f"rejected_{n}", f"quantity rejected on line {n}", default=ZERO)
        where = form.values.get(f"rejected_to_{n}", RejectTo.QUARANTINE.value)
        if where not in {r.value for r in RejectTo}:
            raise InvalidInput(
                "Send rejects to quarantine or back to the supplier.", f"rejected_to_{n}"
            )
        lines.append(
            purchasing.ReceiptLine(
                n,
                quantity,
                rejected,
                RejectTo(where),
                form.optional(f"lot_{n}"),
                form.day(f"expires_{n}", f"expiry date on line {n}"),
            )
        )
    if not lines:
        first = next((ln.line_no for ln in view.lines if ln.outstanding > 0), 1)
        raise InvalidInput("Enter the quantity received on at least one line.", f"qty_{first}")
    return lines


@router.post("/purchase-orders/{number}/receive")
async def receive_purchase_order(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:receive")],
) -> Response:
    """Receive a delivery at the back door: quantities, lots and expiry dates, rejects."""
    form = await read_form(request)
    view = access.purchase_order(uow, actor, number)
    try:
        lines = _receipt_lines(form, view)
        access.check_receipt(uow, actor, number, [ln.line_no for ln in lines])
        purchasing.receive(
            uow, number, lines, received_on=form.day("received_on", "date"), actor=actor.name
        )
    except DomainError as error:
        context = _purchase_context(uow, actor, view)
        context.update(values=form.values, error=error, done="")
        status = 404 if isinstance(error, NotFound) else 422
        if htmx(request):
            return render(request, "purchase/_receive.html", context, status)
        return render(request, "purchase/show.html", context, status)
    return _done(request, f"/purchase-orders/{number}?done=received")


@router.post("/purchase-orders/{number}/release")
def release_purchase_order(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:release")],
) -> Response:
    purchasing.release(uow, number, actor=actor.name)
    return _done(request, f"/purchase-orders/{number}?done=released")


# Sales orders


@router.get("/sales-orders")
def sales_orders(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("sales:read")],
    status: str = "",
    customer: str = "",
    customer_code: str = "",
    offset: int = 0,
) -> Response:
    """The sales orders; `customer` matches the name as ordered, `customer_code` the
    customer record's orders (the customer page links here with it)."""
    statuses = [s.value for s in SalesStatus]
    page = orders.list_orders(
        uow,
        status if status in statuses else None,
        customer.strip() or None,
        PAGE,
        max(offset, 0),
        customer_code.strip() or None,
    )
    shown = {"status": status, "customer": customer}
    context = {
        "page": page,
        "status": status,
        "customer": customer,
        "customer_code": customer_code.strip(),
        "statuses": statuses,
        "query": urlencode(shown | ({"customer_code": customer_code} if customer_code else {})),
    }
    template = "sales/_results.html" if htmx(request) else "sales/index.html"
    return render(request, template, context)


NEW_LINES = 5


def _new_order_context(uow: UowDep, values: dict[str, str], error: Any) -> dict[str, Any]:
    locations = [loc.code for loc in catalog.list_locations(uow, 200, 0, physical=True).items]
    return {
        "values": values,
        "error": error,
        "rows": range(1, NEW_LINES + 1),
        "locations": locations,
    }


@router.get("/sales-orders/new")
def new_sales_order(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("sales:write")]
) -> Response:
    return render(request, "sales/new.html", _new_order_context(uow, {}, None))


@router.post("/sales-orders/new")
async def place_sales_order(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("sales:write")]
) -> Response:
    """Place an order from the form (optionally confirming it at once)."""
    form = await read_form(request)
    try:
        customer, customer_code = form.optional("customer"), form.optional("customer_code")
        if customer is None and customer_code is None:
            raise InvalidInput(
                "Name the customer: pick a customer record, or type a name for a walk-in sale.",
                "customer",
            )
        lines = []
        for n in range(1, NEW_LINES + 1):
            sku = form.optional(f"sku_{n}")
            if sku is None:
                continue
            lines.append(
                orders.NewLine(
                    sku,
                    form.decimal(f"qty_{n}", f"quantity on line {n}"),
                    form.optional(f"location_{n}"),
                    form.day(f"requested_{n}", f"requested date on line {n}"),
                )
            )
        if not lines:
            raise InvalidInput("Add at least one line: an item's SKU and a quantity.", "sku_1")
        view = orders.place_order(
            uow,
            customer,
            lines,
            location=form.optional("location"),
            confirm=form.values.get("confirm") == "1",
            actor=actor.name,
            customer_code=customer_code,
        )
    except DomainError as error:
        context = _new_order_context(uow, form.values, error)
        return render(request, "sales/new.html", context, 422)
    return _done(request, f"/sales-orders/{view.number}?done=placed")


@router.get("/sales-orders/{number}")
def sales_order(
    number: str, request: Request, uow: UowDep, actor: Annotated[Actor, permit("sales:read")]
) -> Response:
    view = orders.get_order(uow, number)
    context = {
        "order": view,
        "done": done_banner(request),
        "can_confirm": view.status == SalesStatus.DRAFT.value and actor.can("sales:write"),
        "can_ship": any(ln.reserved > 0 for ln in view.lines) and actor.can("sales:ship"),
        "can_cancel": view.status
        in (
            SalesStatus.DRAFT.value,
            SalesStatus.CONFIRMED.value,
            SalesStatus.PARTIALLY_SHIPPED.value,
        )
        and actor.can("sales:write"),
    }
    return render(request, "sales/show.html", context)


@router.post("/sales-orders/{number}/confirm")
def confirm_sales_order(
    number: str, request: Request, uow: UowDep, actor: Annotated[Actor, permit("sales:write")]
) -> Response:
    orders.confirm_order(uow, number, actor=actor.name)
    return _done(request, f"/sales-orders/{number}?done=confirmed")


@router.post("/sales-orders/{number}/ship")
def ship_sales_order(
    number: str, request: Request, uow: UowDep, actor: Annotated[Actor, permit("sales:ship")]
) -> Response:
    """Ship everything reserved for the order."""
    access.check_sales_shipment(uow, actor, number, None)
    orders.ship_order(uow, number, None, actor=actor.name)
    return _done(request, f"/sales-orders/{number}?done=shipped")


@router.post("/sales-orders/{number}/lines/{line}/ship")
async def ship_sales_line(
    number: str,
    line: int,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("sales:ship")],
) -> Response:
    """Ship part (or all) of what is reserved for one line."""
    form = await read_form(request)
    quantity = form.decimal("quantity", f"quantity to ship on line {line}")
    access.check_sales_shipment(uow, actor, number, [line])
    orders.ship_order(uow, number, {line: quantity}, actor=actor.name)
    return _done(request, f"/sales-orders/{number}?done=shipped")


@router.post("/sales-orders/{number}/lines/{line}/cancel")
def cancel_sales_line(
    number: str,
    line: int,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("sales:write")],
) -> Response:
    """Cancel one line; the supply it pulled shrinks or gets a change request."""
    orders.cancel_line(uow, number, line, actor=actor.name)
    return _done(request, f"/sales-orders/{number}?done=changed")


@router.post("/sales-orders/{number}/cancel")
def cancel_sales_order(
    number: str, request: Request, uow: UowDep, actor: Annotated[Actor, permit("sales:write")]
) -> Response:
    orders.cancel_order(uow, number, reason="cancelled on the web", actor=actor.name)
    return _done(request, f"/sales-orders/{number}?done=cancelled")


# Plans


@router.get("/plans")
def plans(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("plan:read")],
    offset: int = 0,
) -> Response:
    page = planning.list_plans(uow, 20, max(offset, 0))
    return render(request, "plans/index.html", {"page": page, "query": ""})


@router.get("/plans/{run_id}")
def plan(
    run_id: int, request: Request, uow: UowDep, actor: Annotated[Actor, permit("plan:read")]
) -> Response:
    run = planning.get_plan(uow, run_id)
    groups: dict[str, list[Any]] = {}
    for line in run.lines:
        groups.setdefault(line.supplier or line.source or line.kind, []).append(line)
    context = {
        "run": run,
        "groups": sorted(groups.items()),
        "done": done_banner(request),
        "can_edit": run.status == "draft" and actor.can("plan:edit"),
        "can_approve": run.status == "draft" and actor.can("plan:approve"),
        "can_release": run.status == "approved" and actor.can("plan:release"),
    }
    return render(request, "plans/show.html", context)


@router.post("/plans/{run_id}/lines/{line_id}")
async def edit_plan_line(
    run_id: int,
    line_id: int,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("plan:edit")],
) -> Response:
    """Change a suggested quantity (0 drops the line)."""
    form = await read_form(request)
    planning.edit_plan_line(uow, run_id, line_id, form.decimal("quantity", "quantity"))
    return _done(request, f"/plans/{run_id}?done=edited")


@router.post("/plans/{run_id}/approve")
def approve_plan(
    run_id: int, request: Request, uow: UowDep, actor: Annotated[Actor, permit("plan:approve")]
) -> Response:
    planning.approve_plan(uow, run_id)
    return _done(request, f"/plans/{run_id}?done=approved")


@router.post("/plans/{run_id}/release")
def release_plan(
    run_id: int, request: Request, uow: UowDep, actor: Annotated[Actor, permit("plan:release")]
) -> Response:
    planning.release_plan(uow, run_id, actor=actor.name)
    return _done(request, f"/plans/{run_id}?done=released")
