"""EDI out: released purchase orders of trading partners as 850s, each sent once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from leanstock.adapters.edi import sets as x12sets
from leanstock.adapters.edi import x12
from leanstock.domain.edi import (
    unit_code,
)
from leanstock.domain.errors import NotFound
from leanstock.domain.events import Changed
from leanstock.domain.orders import PurchaseOrder
from leanstock.services.edi.partners import our_ids
from leanstock.services.edi.partners import stamp as _stamp
from leanstock.services.ports import UnitOfWork
from leanstock.services.retry import retrying


@dataclass(frozen=True)
class Outbound:
    """An interchange to send: a file name, its text, and the orders in it."""

    supplier: str
    control: int
    name: str
    text: str
    orders: list[str]


@retrying
def outbound(
    uow: UnitOfWork, *, actor: str = "system", now: datetime | None = None
) -> list[Outbound]:
    """Every released purchase order of a trading partner not yet sent, as one interchange of
    850s per partner; each order is marked sent with it (sent once)."""
    moment = now or datetime.now(UTC)
    written: list[Outbound] = []
    with uow.acting(actor):
        ours = our_ids(uow)
        for supplier_id, partner in uow.edi.partners():
            ids = uow.edi.unsent_orders(supplier_id)
            if not ids:
                continue
            bodies: list[tuple[str, list[str]]] = []
            numbers: list[str] = []
            for order_id in ids:
                order, _ = uow.purchasing.get(order_id)
                bodies.append(
                    ("850", x12sets.purchase_order(_order_out(uow, order, moment.date())))
                )
                numbers.append(order.number)
            control = uow.edi.next_control()
            envelope = x12.Envelope(
                ours.qualifier,
                ours.interchange_id,
                partner.qualifier,
                partner.interchange_id,
                control,
                ours.group_id,
                partner.group_id,
            )
            text = x12.write(envelope, "PO", bodies, _stamp(moment))
            logged = uow.edi.add_interchange(
                "out",
                supplier_id,
                f"{control:09d}",
                "sent",
                hashlib.sha256(text.encode()).hexdigest(),
                text,
                None,
                [],
                [f"850 {n}" for n in numbers],
                actor,
            )
            uow.edi.mark_sent(ids, logged)
            for number in numbers:
                uow.record(
                    Changed(
                        subject=number, verb="edi_send", values={"interchange": f"{control:09d}"}
                    )
                )
            name = f"850_{partner.supplier}_{control:09d}.x12".replace("/", "_")
            written.append(Outbound(partner.supplier, control, name, text, numbers))
        uow.commit()
    return written


def _order_out(uow: UnitOfWork, order: PurchaseOrder, today: date) -> x12sets.OrderOut:
    lines = []
    for line in order.lines:
        if line.quantity <= 0:
            continue
        item = uow.catalog.item(line.sku).value
        try:
            supplier_sku = uow.catalog.supplier_item(order.supplier, line.sku).supplier_sku
        except NotFound:
            supplier_sku = None
        lines.append(
            x12sets.OrderLineOut(
                line.line_no,
                line.sku,
                item.name,
                line.quantity,
                unit_code(item.unit, line.sku),
                line.price,
                line.expected_date,
                supplier_sku,
            )
        )
    if order.drop_ship_customer is not None:
        ship_to, name = "CUSTOMER", order.drop_ship_customer
    else:
        ship_to = order.lines[0].location
        name = uow.catalog.location(ship_to).value.name
    ordered = order.ordered_at.date() if order.ordered_at else today
    return x12sets.OrderOut(order.number, ordered, ship_to, name, tuple(lines))
