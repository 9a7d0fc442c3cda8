"""The supplier portal's pages, and the buyer's answers to a supplier's proposals.

A supplier user (bound to one supplier) lands on `/portal`: its purchase orders, newest first,
and its scorecard. On an order's page it acknowledges the order or proposes other quantities
or dates, posts a ship notice (carrier, tracking, each line's lot and expiry) or confirms a
drop-ship delivery with its tracking. The buyer sees proposals on the purchase order's page
and accepts or rejects them there. Every form posts to a page route that calls the same
service as the API; a refusal is shown beside its field and the form keeps what was typed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from leanstock.domain.access import Actor
from leanstock.domain.errors import DomainError, InvalidInput, NotFound
from leanstock.domain.orders import PurchaseStatus
from leanstock.domain.orders.proposals import PROPOSABLE, ProposedLine
from leanstock.domain.orders.purchasing import RECEIVABLE, SHIPPABLE
from leanstock.domain.orders.ship_notices import NoticeLine
from leanstock.entrypoints.api import access
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.forms import Form, read_form
from leanstock.entrypoints.web.render import done_banner, htmx, render
from leanstock.services import purchasing, supplier_portal

router = APIRouter(include_in_schema=False)
PAGE = 50

Supplier = Annotated[Actor, permit("purchase:acknowledge")]


def _done(request: Request, target: str) -> Response:
    if htmx(request):
        return Response(status_code=204, headers={"HX-Location": target})
    return RedirectResponse(target, status_code=303)


@router.get("/portal")
def portal(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:read")],
    offset: int = 0,
) -> Response:
    """A supplier's home: its purchase orders (open ones first to act on) and its scorecard."""
    page = purchasing.list_purchase_orders(uow, None, None, PAGE, max(offset, 0))
    waiting = supplier_portal.list_proposals(uow, "pending", 1, 0).total
    return render(
        request,
        "portal/index.html",
        {"page": page, "waiting": waiting, "query": "", "act_on": {s.value for s in SHIPPABLE}},
    )


def _order_context(
    uow: UowDep, actor: Actor, number: str, values: dict[str, str] | None = None
) -> dict[str, Any]:
    view = access.purchase_order(uow, actor, number)
    order = access.purchase_out(uow, actor, view)
    status = PurchaseStatus(view.status)
    open_lines = [ln for ln in order.lines if ln.outstanding > 0]
    return {
        "order": order,
        "open_lines": open_lines,
        "can_answer": status in PROPOSABLE,
        "pending": any(p.status == "pending" for p in order.proposals),
        "can_ship": status in SHIPPABLE
        and view.drop_ship_customer is None
        and any(ln.shipped_quantity < (ln.confirmed_quantity or ln.quantity) for ln in view.lines),
        "can_deliver": view.drop_ship_customer is not None
        and status in RECEIVABLE
        and bool(open_lines),
        "values": values or {},
        "error": None,
        "form": "",
        "done": "",
    }


@router.get("/portal/orders/{number}")
def portal_order(number: str, request: Request, uow: UowDep, actor: Supplier) -> Response:
    context = _order_context(uow, actor, number)
    context["done"] = done_banner(request)
    return render(request, "portal/order.html", context)


def _lines(form: Form, view: purchasing.PurchaseOrderView, what: str) -> list[ProposedLine]:
    """Per line the quantity and date typed (an empty line: as ordered)."""
    found = []
    for line in view.lines:
        n = line.line_no
        raw_qty = form.optional(f"{what}_qty_{n}")
        quantity = form.decimal(f"{what}_qty_{n}", f"quantity on line {n}") if raw_qty else None
        when = form.day(f"{what}_date_{n}", f"date on line {n}")
        if quantity is not None or when is not None:
            found.append(ProposedLine(n, quantity, when))
    return found


async def _act(
    request: Request,
    uow: UowDep,
    actor: Actor,
    number: str,
    form_name: str,
    done: str,
    action: Any,
) -> Response:
    form = await read_form(request)
    try:
        view = access.purchase_order(uow, actor, number)
        action(form, view)
    except DomainError as error:
        if isinstance(error, NotFound) and error.kind == "purchase order":
            raise
        context = _order_context(uow, actor, number, form.values)
        context.update(error=error, form=form_name)
        return render(request, "portal/order.html", context, 422 if _bad_input(error) else 409)
    return _done(request, f"/portal/orders/{number}?done={done}")


def _bad_input(error: DomainError) -> bool:
    return isinstance(error, InvalidInput | NotFound)


@router.post("/portal/orders/{number}/acknowledge")
async def acknowledge(number: str, request: Request, uow: UowDep, actor: Supplier) -> Response:
    """Confirm the order: as ordered, or with the quantities and dates typed per line."""

    def run(form: Form, view: purchasing.PurchaseOrderView) -> None:
        typed = {ln.line_no: (ln.quantity, ln.delivery_date) for ln in _lines(form, view, "ack")}
        lines = {ln.line_no: typed.get(ln.line_no, (None, None)) for ln in view.lines}
        supplier_portal.acknowledge(uow, number, lines, actor=actor.name)

    return await _act(request, uow, actor, number, "ack", "acknowledged", run)


@router.post("/portal/orders/{number}/propose")
async def propose(number: str, request: Request, uow: UowDep, actor: Supplier) -> Response:
    """Propose other quantities or dates; the buyer accepts or rejects."""

    def run(form: Form, view: purchasing.PurchaseOrderView) -> None:
        lines = _lines(form, view, "prop")
        if not lines:
            first = view.lines[0].line_no if view.lines else 1
            raise InvalidInput(
                "Enter another quantity or date on at least one line.", f"prop_qty_{first}"
            )
        supplier_portal.propose(uow, number, lines, form.optional("note"), actor=actor.name)

    return await _act(request, uow, actor, number, "prop", "proposed", run)


@router.post("/portal/orders/{number}/ship-notice")
async def ship_notice(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:ship_notice")],
) -> Response:
    """Announce a shipment: per line the quantity, lot and expiry; carrier and tracking."""

    def run(form: Form, view: purchasing.PurchaseOrderView) -> None:
        lines = []
        for line in view.lines:
            n = line.line_no
            if not form.optional(f"ship_qty_{n}"):
                continue
            lines.append(
                NoticeLine(
                    n,
                    form.decimal(f"ship_qty_{n}", f"quantity shipped on line {n}"),
                    form.optional(f"ship_lot_{n}"),
                    form.day(f"ship_expires_{n}", f"expiry date on line {n}"),
                )
            )
        if not lines:
            first = view.lines[0].line_no if view.lines else 1
            raise InvalidInput("Enter what ships on at least one line.", f"ship_qty_{first}")
        supplier_portal.post_ship_notice(
            uow,
            number,
            lines,
            expected_date=form.day("expected_date", "expected arrival date"),
            shipped_on=form.day("shipped_on", "ship date"),
            carrier=form.optional("carrier"),
            tracking=form.optional("tracking"),
            actor=actor.name,
        )

    return await _act(request, uow, actor, number, "ship", "shipped", run)


@router.post("/portal/orders/{number}/deliver")
async def deliver(
    number: str,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:deliver")],
) -> Response:
    """Confirm a drop-ship delivery to the customer, with the carrier and tracking number."""

    def run(form: Form, view: purchasing.PurchaseOrderView) -> None:
        lines = [
            supplier_portal.DropShipDelivery(
                ln.line_no,
                form.decimal(f"deliver_qty_{ln.line_no}", f"quantity on line {ln.line_no}"),
            )
            for ln in view.lines
            if form.optional(f"deliver_qty_{ln.line_no}")
        ]
        supplier_portal.confirm_drop_ship(
            uow,
            number,
            lines,
            carrier=form.values.get("carrier", ""),
            tracking=form.values.get("tracking", ""),
            delivered_on=form.day("delivered_on", "delivery date"),
            actor=actor.name,
        )

    return await _act(request, uow, actor, number, "deliver", "delivered", run)


# The buyer's answers, on the purchase order's own page


@router.post("/purchase-orders/{number}/proposals/{proposal_id}/accept")
async def accept(
    number: str,
    proposal_id: int,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:write")],
) -> Response:
    await read_form(request)
    supplier_portal.accept(uow, number, proposal_id, actor=actor.name)
    return _done(request, f"/purchase-orders/{number}?done=updated: proposal accepted")


@router.post("/purchase-orders/{number}/proposals/{proposal_id}/reject")
async def reject(
    number: str,
    proposal_id: int,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:write")],
) -> Response:
    form = await read_form(request)
    supplier_portal.reject(
        uow, number, proposal_id, form.values.get("reason", ""), actor=actor.name
    )
    return _done(request, f"/purchase-orders/{number}?done=updated: proposal rejected")


@router.post("/purchase-orders/{number}/ship-notices/{notice_id}/receive")
async def receive_notice(
    number: str,
    notice_id: int,
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("purchase:receive")],
) -> Response:
    """Receive everything a ship notice announced, with its lots and expiry dates."""
    await read_form(request)
    view = access.purchase_order(uow, actor, number)
    access.check_receipt(uow, actor, number, [ln.line_no for ln in view.lines])
    supplier_portal.receive_ship_notice(uow, number, notice_id, actor=actor.name)
    return _done(request, f"/purchase-orders/{number}?done=received")
