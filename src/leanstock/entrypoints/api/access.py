"""Object bindings checked at the door, where a route names the object.

A supplier user sees only its own supplier's purchase orders; another supplier's answers
exactly as a missing one (404, same words). A warehouse user limited to some locations acts
only there; elsewhere answers as a location that does not exist. These checks read the object
before the change (its supplier and locations never change afterwards, so reading first is
safe) through the request's unit of work, which sees only the principal's rows
(`Actor.visibility`): an object elsewhere is not found. Lists are narrowed the same way, in
the repositories.
"""

from __future__ import annotations

from collections.abc import Iterable

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Actor, Role
from leanstock.domain.errors import Forbidden
from leanstock.entrypoints.api.order_schemas import PurchaseOrderOut
from leanstock.services import orders, production, purchasing, supplier_portal, transfers


def _bound(actor: Actor) -> bool:
    return actor.role is Role.SUPPLIER or actor.locations is not None


def purchase_order(uow: UnitOfWork, actor: Actor, number: str) -> purchasing.PurchaseOrderView:
    """The purchase order if the actor may see it; `NotFound` as for a missing one if not
    (the unit of work reads only the actor's supplier's and locations' orders)."""
    return purchasing.get_purchase_order(uow, number)


def check_purchase_order(uow: UnitOfWork, actor: Actor, number: str) -> None:
    if actor.role is Role.SUPPLIER:
        purchase_order(uow, actor, number)


def purchase_out(
    uow: UnitOfWork, actor: Actor, view: purchasing.PurchaseOrderView
) -> PurchaseOrderOut:
    """The order as the actor may read it, with what came from the supplier about it
    (proposals, ship notices, deliveries, invoices): a supplier does not see which of our
    customers' orders its lines are pegged to."""
    out = PurchaseOrderOut.model_validate(
        {**view.__dict__, **supplier_portal.channel(uow, view.number).__dict__},
    )
    if actor.role is Role.SUPPLIER:
        for line in out.lines:
            line.pegged_to = []
    return out


def check_receipt(uow: UnitOfWork, actor: Actor, number: str, lines: Iterable[int]) -> None:
    """Who may post a delivery against a purchase order: receiving staff at the lines'
    locations; a supplier only for its own drop-ship orders (goods it took to the customer)."""
    if not _bound(actor) and actor.can("purchase:receive"):
        return
    view = purchase_order(uow, actor, number)
    if not actor.can("purchase:receive"):
        if view.drop_ship_customer is None:
            raise Forbidden(
                "A supplier confirms deliveries of drop-ship orders only; receiving "
                "this order is for our warehouse."
            )
        return
    at = {ln.line_no: ln.location for ln in view.lines}
    for line in lines:
        if line in at:
            actor.require_location(at[line], "lines")


def check_sales_shipment(
    uow: UnitOfWork, actor: Actor, number: str, lines: Iterable[int] | None
) -> None:
    if actor.locations is None:
        return
    view = orders.get_order(uow, number)
    wanted = set(lines) if lines is not None else None
    for line in view.lines:
        if (wanted is None and line.reserved > 0) or (
            wanted is not None and line.line_no in wanted
        ):
            actor.require_location(line.location, "lines")


def check_production(uow: UnitOfWork, actor: Actor, number: str) -> None:
    if actor.locations is not None:
        actor.require_location(production.get_production_order(uow, number).location)


def check_transfer(uow: UnitOfWork, actor: Actor, number: str, end: str) -> None:
    """A transfer ships at its source and is received at its target."""
    if actor.locations is not None:
        view = transfers.get_transfer_order(uow, number)
        actor.require_location(view.source if end == "source" else view.target, end)
